#include "testing/archive_writer.h"

#include <archive.h>
#include <archive_entry.h>

#include <memory>
#include <stdexcept>

namespace hubfs::testing {

std::string WriteArchive(const std::string& format, const std::vector<ArchiveItem>& items) {
  std::vector<char> buffer(size_t{64} << 20);
  size_t used = 0;
  std::unique_ptr<struct archive, int (*)(struct archive*)> owner(archive_write_new(), archive_write_free);
  struct archive* a = owner.get();
  if (format == "zip") {
    archive_write_set_format_zip(a);
  } else {
    archive_write_set_format_pax_restricted(a);
    if (format == "tar.gz") archive_write_add_filter_gzip(a);
  }
  if (archive_write_open_memory(a, buffer.data(), buffer.size(), &used) != ARCHIVE_OK) {
    throw std::runtime_error(archive_error_string(a));
  }
  for (const ArchiveItem& item : items) {
    if (format == "zip") {
      if (item.stored) {
        archive_write_zip_set_compression_store(a);
      } else {
        archive_write_zip_set_compression_deflate(a);
      }
    }
    std::unique_ptr<archive_entry, void (*)(archive_entry*)> entry(archive_entry_new(), archive_entry_free);
    archive_entry* e = entry.get();
    archive_entry_set_pathname(e, item.name.c_str());
    archive_entry_set_mtime(e, 1700000000, 0);
    switch (item.type) {
      case ArchiveItem::kFile:
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, static_cast<la_int64_t>(item.content.size()));
        break;
      case ArchiveItem::kDir:
        archive_entry_set_filetype(e, AE_IFDIR);
        archive_entry_set_perm(e, 0755);
        break;
      case ArchiveItem::kSymlink:
        archive_entry_set_filetype(e, AE_IFLNK);
        archive_entry_set_perm(e, 0777);
        archive_entry_set_symlink(e, item.link.c_str());
        break;
      case ArchiveItem::kHardlink:
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_hardlink(e, item.link.c_str());
        archive_entry_set_size(e, 0);
        break;
    }
    if (archive_write_header(a, e) != ARCHIVE_OK) throw std::runtime_error(archive_error_string(a));
    if (item.type == ArchiveItem::kFile && !item.content.empty()) {
      archive_write_data(a, item.content.data(), item.content.size());
    }
  }
  archive_write_close(a);
  return std::string(buffer.data(), used);
}

}  // namespace hubfs::testing
