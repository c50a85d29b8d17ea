#include "fuse_ops.h"

#include <sys/stat.h>
#include <sys/statvfs.h>

#include <cerrno>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "hubfs/core/logging.h"
#include "hubfs/fs/errno_map.h"
#include "hubfs/fs/filesystem.h"

namespace hubfs::fuse {
namespace {

fs::Filesystem& Fs(fuse_req_t req) { return *static_cast<fs::Filesystem*>(fuse_req_userdata(req)); }

// Replies with the errno for `status`. Failures a user must hear about (I/O, integrity,
// permission) are logged here, once, with the operation and inode.
void ReplyError(fuse_req_t req, const char* op, fuse_ino_t ino, const Status& status) {
  int err = fs::ErrnoFor(status);
  if (err != ENOENT && err != EINVAL) {
    HUBFS_LOG_ERROR("{} {}: {} (errno {})", op, Fs(req).PathOf(ino), status.ToString(), err);
    Fs(req).RecordError(op, ino, status);  // for /.hubfs/errors and the errors_total metric
  }
  fuse_reply_err(req, err);
}

// Runs `body`, which computes a result and replies; an exception escaping it (which the core does
// not throw on purpose) still yields exactly one reply, as long as `body` had not replied yet.
// Bodies therefore reply only as their very last step.
template <typename Body>
void Dispatch(fuse_req_t req, const char* op, fuse_ino_t ino, Body&& body) {
  try {
    body();
  } catch (const std::bad_alloc&) {
    HUBFS_LOG_ERROR("{} inode {}: out of memory", op, ino);
    fuse_reply_err(req, ENOMEM);
  } catch (const std::exception& e) {
    HUBFS_LOG_ERROR("{} inode {}: internal error: {}", op, ino, e.what());
    fuse_reply_err(req, EIO);
  } catch (...) {
    HUBFS_LOG_ERROR("{} inode {}: unknown internal error", op, ino);
    fuse_reply_err(req, EIO);
  }
}

struct stat ToStat(const fs::Attr& a) {
  struct stat st {};
  st.st_ino = a.ino;
  st.st_mode = a.mode;
  st.st_nlink = a.nlink;
  st.st_size = static_cast<off_t>(a.size);
  st.st_uid = a.uid;
  st.st_gid = a.gid;
  st.st_blksize = 1 << 20;
  st.st_blocks = static_cast<blkcnt_t>((a.size + 511) / 512);
  st.st_mtim.tv_sec = a.mtime;
  st.st_ctim.tv_sec = a.mtime;
  st.st_atim.tv_sec = a.mtime;
  return st;
}

void OnLookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  Dispatch(req, "lookup", parent, [&] {
    fs::Filesystem& fs = Fs(req);
    auto attr = fs.Lookup(parent, name);
    fuse_entry_param e{};
    if (!attr) {
      if (!attr.error().IsNotFound()) return ReplyError(req, "lookup", parent, attr.error());
      // A negative entry: the kernel remembers the miss for negative_timeout seconds.
      e.ino = 0;
      e.entry_timeout = fs.options().negative_timeout;
      fuse_reply_entry(req, &e);
      return;
    }
    e.ino = attr->ino;
    e.attr = ToStat(*attr);
    e.attr_timeout = attr->timeout;
    e.entry_timeout = attr->timeout;
    if (fuse_reply_entry(req, &e) != 0) fs.Forget(attr->ino, 1);  // the kernel did not take it
  });
}

void OnForget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup) {
  Fs(req).Forget(ino, nlookup);
  fuse_reply_none(req);
}

void OnForgetMulti(fuse_req_t req, size_t count, fuse_forget_data* forgets) {
  for (size_t i = 0; i < count; ++i) Fs(req).Forget(forgets[i].ino, forgets[i].nlookup);
  fuse_reply_none(req);
}

void OnGetAttr(fuse_req_t req, fuse_ino_t ino, fuse_file_info*) {
  Dispatch(req, "getattr", ino, [&] {
    auto attr = Fs(req).GetAttr(ino);
    if (!attr) return ReplyError(req, "getattr", ino, attr.error());
    struct stat st = ToStat(*attr);
    fuse_reply_attr(req, &st, attr->timeout);
  });
}

void OnReadLink(fuse_req_t req, fuse_ino_t ino) {
  Dispatch(req, "readlink", ino, [&] {
    auto target = Fs(req).ReadLink(ino);
    if (!target) return ReplyError(req, "readlink", ino, target.error());
    fuse_reply_readlink(req, target->c_str());
  });
}

void OnReadDir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info*) {
  Dispatch(req, "readdir", ino, [&] {
    std::vector<char> buf(size);
    size_t used = 0;
    Status s = Fs(req).ReadDir(ino, static_cast<uint64_t>(off),
                               [&](const fs::DirEntry& entry, uint64_t next) {
      struct stat st {};
      st.st_ino = entry.ino;
      st.st_mode = entry.mode;
      size_t need = fuse_add_direntry(req, buf.data() + used, size - used, entry.name.c_str(),
                                      &st, static_cast<off_t>(next));
      if (need > size - used) return false;
      used += need;
      return true;
    });
    if (!s.ok()) return ReplyError(req, "readdir", ino, s);
    fuse_reply_buf(req, buf.data(), used);
  });
}

// Folders change only when a refresh swaps the tree, which invalidates them (FuseMount::
// Invalidate): the kernel may cache their listings across opendir.
void OnOpenDir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  Dispatch(req, "opendir", ino, [&] {
    auto attr = Fs(req).GetAttr(ino);
    if (!attr) return ReplyError(req, "opendir", ino, attr.error());
    if (!S_ISDIR(attr->mode)) return ReplyError(req, "opendir", ino, Status::InvalidArgument("not a folder"));
    fi->cache_readdir = 1;
    fi->keep_cache = 1;
    fuse_reply_open(req, fi);
  });
}

// readdir with attributes: saves `ls -l` a lookup per entry. Each entry counts one lookup, as
// the kernel takes a reference for it. Sizes a hub does not publish are not asked for here.
void OnReadDirPlus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info*) {
  Dispatch(req, "readdirplus", ino, [&] {
    fs::Filesystem& fs = Fs(req);
    std::vector<char> buf(size);
    size_t used = 0;
    std::vector<fuse_ino_t> counted;  // entries sent with a lookup reference
    // If the reply does not reach the kernel (or this handler throws), it took no references.
    struct Unsent {
      fs::Filesystem& fs;
      std::vector<fuse_ino_t>& counted;
      bool sent = false;
      ~Unsent() {
        if (!sent) for (fuse_ino_t i : counted) fs.Forget(i, 1);
      }
    } unsent{fs, counted};
    Status s = fs.ReadDir(ino, static_cast<uint64_t>(off), [&](const fs::DirEntry& entry, uint64_t next) {
      fuse_entry_param e{};
      const bool dots = entry.name == "." || entry.name == "..";
      e.attr.st_ino = entry.ino;
      e.attr.st_mode = entry.mode;
      if (!dots) {
        auto attr = fs.Lookup(ino, entry.name, /*learn_size=*/false);
        if (!attr) return true;  // vanished meanwhile: skip it
        if (attr->size_unknown) {
          // Only the name: e.ino = 0 tells the kernel to LOOKUP it when it needs attributes,
          // which learns the size; an attribute with size 0 would be cached and shown.
          fs.Forget(attr->ino, 1);
        } else {
          e.ino = attr->ino;
          e.attr = ToStat(*attr);
          e.attr_timeout = attr->timeout;
          e.entry_timeout = attr->timeout;
        }
      }
      size_t need = fuse_add_direntry_plus(req, buf.data() + used, size - used, entry.name.c_str(), &e,
                                           static_cast<off_t>(next));
      if (need > size - used) {
        if (e.ino != 0) fs.Forget(e.ino, 1);  // not sent: the kernel takes no reference
        return false;
      }
      if (e.ino != 0) counted.push_back(e.ino);
      used += need;
      return true;
    });
    if (!s.ok()) return ReplyError(req, "readdirplus", ino, s);
    unsent.sent = fuse_reply_buf(req, buf.data(), used) == 0;
  });
}

void OnOpen(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  Dispatch(req, "open", ino, [&] {
    if ((fi->flags & O_ACCMODE) != O_RDONLY) return ReplyError(req, "open", ino, Status::PermissionDenied("read-only"));
    auto opened = Fs(req).Open(ino);
    if (!opened) return ReplyError(req, "open", ino, opened.error());
    fi->fh = opened->handle;
    fi->keep_cache = opened->keep_cache ? 1 : 0;
    fi->direct_io = opened->direct_io ? 1 : 0;
    if (fuse_reply_open(req, fi) != 0) Fs(req).Release(opened->handle);
  });
}

void OnRead(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) {
  Dispatch(req, "read", ino, [&] {
    // Not std::vector: zero-filling up to 1 MiB per request that is overwritten anyway showed in
    // profiles of warm reads.
    std::unique_ptr<char[]> buf(new char[size]);
    auto n = Fs(req).Read(fi->fh, static_cast<uint64_t>(off), size, buf.get());
    if (!n) return ReplyError(req, "read", ino, n.error());
    fuse_reply_buf(req, buf.get(), *n);
  });
}

void OnRelease(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
  Fs(req).Release(fi->fh);
  fuse_reply_err(req, 0);
}

void OnStatFs(fuse_req_t req, fuse_ino_t) {
  Dispatch(req, "statfs", 0, [&] {
    struct statvfs st {};
    st.f_bsize = 4096;
    st.f_frsize = 4096;
    st.f_files = Fs(req).Stats().nodes;
    st.f_namemax = 255;
    fuse_reply_statfs(req, &st);
  });
}

// Replies to getxattr/listxattr: the size when the caller asks for it (size 0), ERANGE when its
// buffer is too small, else the bytes.
void ReplyXattr(fuse_req_t req, const std::string& value, size_t size) {
  if (size == 0) {
    fuse_reply_xattr(req, value.size());
  } else if (value.size() > size) {
    fuse_reply_err(req, ERANGE);
  } else {
    fuse_reply_buf(req, value.data(), value.size());
  }
}

void OnGetXattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size) {
  Dispatch(req, "getxattr", ino, [&] {
    auto value = Fs(req).GetXattr(ino, name);
    if (!value) return (void)fuse_reply_err(req, fs::ErrnoForXattr(value.error()));
    ReplyXattr(req, *value, size);
  });
}

void OnListXattr(fuse_req_t req, fuse_ino_t ino, size_t size) {
  Dispatch(req, "listxattr", ino, [&] {
    auto names = Fs(req).ListXattr(ino);
    if (!names) return (void)fuse_reply_err(req, fs::ErrnoForXattr(names.error()));
    std::string joined;
    for (const auto& n : *names) joined.append(n).push_back('\0');
    ReplyXattr(req, joined, size);
  });
}

// Model files are read in large sequential sweeps: ask for 1 MiB requests (the kernel caps them
// at its max_pages, 256 pages since Linux 4.20) and up to 16 MiB of readahead. The kernel sets
// the mount's bdi read_ahead_kb to the smaller of what it had and this, so announcing less would
// undo the mount command's raise (it raises read_ahead_kb before INIT when it runs as root).
void OnInit(void*, fuse_conn_info* conn) {
  conn->max_write = 1u << 20;  // libfuse derives the request size (max_pages) from it
  conn->max_readahead = 16u << 20;
  // Readahead of a 16 MiB window is 16 requests of 1 MiB; the default of 12 requests in flight
  // (then the kernel throttles) would leave the daemon idle between batches.
  conn->max_background = 64;
  conn->congestion_threshold = 48;
  conn->want |= FUSE_CAP_ASYNC_READ;
  // Symlink targets change only with a refresh, which invalidates them.
  if (conn->capable & FUSE_CAP_CACHE_SYMLINKS) conn->want |= FUSE_CAP_CACHE_SYMLINKS;
  // readdirplus when the kernel thinks it pays (ls -l), plain readdir otherwise.
  if (conn->capable & FUSE_CAP_READDIRPLUS) conn->want |= FUSE_CAP_READDIRPLUS | FUSE_CAP_READDIRPLUS_AUTO;
}

fuse_lowlevel_ops MakeOperations() {
  fuse_lowlevel_ops ops{};
  ops.lookup = OnLookup;
  ops.forget = OnForget;
  ops.forget_multi = OnForgetMulti;
  ops.getattr = OnGetAttr;
  ops.readlink = OnReadLink;
  ops.readdir = OnReadDir;
  ops.opendir = OnOpenDir;
  ops.readdirplus = OnReadDirPlus;
  ops.open = OnOpen;
  ops.read = OnRead;
  ops.release = OnRelease;
  ops.statfs = OnStatFs;
  ops.getxattr = OnGetXattr;
  ops.listxattr = OnListXattr;
  ops.init = OnInit;
  return ops;
}

}  // namespace

const fuse_lowlevel_ops& Operations() {
  static const fuse_lowlevel_ops ops = MakeOperations();
  return ops;
}

}  // namespace hubfs::fuse
