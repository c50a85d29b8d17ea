// `hubfs mount`: checks everything that can be checked before forking, so most mistakes are
// reported by the command the user typed; then (unless --foreground) forks a daemon that builds
// the filesystem, mounts, and tells the waiting parent "ready" or why it failed through a pipe.
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>
#include <string>

#include "hubfs/app/commands.h"
#include "hubfs/app/config.h"
#include "hubfs/cache/cache.h"
#include "hubfs/core/logging.h"
#include "hubfs/fs/read_engine.h"
#include "hubfs/fs/document_cache.h"
#include "hubfs/fs/filesystem.h"
#include "hubfs/fs/remote_sizes.h"
#include "hubfs/fuse/fuse_mount.h"
#include "hubfs/core/names.h"
#include "hubfs/hubs/digits/digits_hub.h"
#include "hubfs/hubs/mindspore/mindspore_hub.h"
#include "hubfs/hubs/onnx/onnx_hub.h"
#include "hubfs/net/git/git_mirror.h"
#include "hubfs/net/curl_http_client.h"
#include "cache_dir.h"
#include "cache_importer.h"
#include "control_socket.h"
#include "daemon_status.h"
#include "hub_factory.h"
#include "mount_table.h"
#include "systemd_notify.h"
#include "invalidator.h"
#include "ticker.h"

namespace hubfs::app {
namespace {

// Carries the daemon's start-up outcome to the waiting parent: one line, "OK" or the error.
class ReadyPipe {
 public:
  ReadyPipe() = default;
  ~ReadyPipe() { Close(); }
  Status Create() {
    if (::pipe2(fds_, O_CLOEXEC) != 0) return Status::FromErrno(errno, "pipe");
    return Status();
  }
  void Report(const std::string& line) {
    if (fds_[1] < 0) return;
    std::string msg = line + "\n";
    ssize_t ignored = ::write(fds_[1], msg.data(), msg.size());
    (void)ignored;
    ::close(fds_[1]);
    fds_[1] = -1;
  }
  std::string Wait() {
    ::close(fds_[1]);
    fds_[1] = -1;
    std::string text;
    char buf[512];
    ssize_t n;
    while ((n = ::read(fds_[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
      if (n > 0) text.append(buf, static_cast<size_t>(n));
    }
    while (!text.empty() && text.back() == '\n') text.pop_back();
    return text;
  }
  void CloseReadEnd() {
    if (fds_[0] >= 0) ::close(fds_[0]);
    fds_[0] = -1;
  }
  void Close() {
    CloseReadEnd();
    if (fds_[1] >= 0) ::close(fds_[1]);
    fds_[1] = -1;
  }

 private:
  int fds_[2] = {-1, -1};
};

Result<std::string> Absolute(const std::string& path, const char* what) {
  char resolved[PATH_MAX];
  if (!::realpath(path.c_str(), resolved)) {
    return Status::InvalidArgument(std::string(what) + " " + path + ": " + std::strerror(errno));
  }
  return std::string(resolved);
}

// Everything that can be wrong before we fork.
Status Preflight(const std::string& mountpoint) {
  struct stat st {};
  if (::stat(mountpoint.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Status::InvalidArgument("mount point " + mountpoint + " is not a folder");
  }
  if (auto fstype = MountedFsType(mountpoint)) {
    return Status::FailedPrecondition("mount point " + mountpoint + " is busy: " + *fstype +
                                      " is already mounted there (hubfs umount " + mountpoint + ")");
  }
  if (::access("/dev/fuse", R_OK | W_OK) != 0) {
    return Status::FailedPrecondition(std::string("/dev/fuse is not usable: ") + std::strerror(errno) +
                                      " (load the fuse module; in a container add --device /dev/fuse)");
  }
  return Status();
}

// The mount's components, in construction order; members are destroyed in reverse, which is
// the shutdown order: FUSE session, filesystem, read engine (joins its workers), hubs,
// documents, cache, HTTP. The control socket and the periodic refresh use the filesystem and
// the mount, so they stop first.
struct Daemon {
  ~Daemon() {
    refresher.reset();
    control.reset();
    invalidator.reset();
  }
  net::CurlGlobal curl_global;
  std::unique_ptr<net::CurlHttpClient> http;
  std::unique_ptr<HubTransport> transport;  // credentials and local caches over `http`
  std::unique_ptr<cache::Cache> cache;
  ImportCounters import_counters;  // for /.hubfs/stats, even while nothing imports
  std::unique_ptr<fs::CachedDocumentSource> documents;
  std::unique_ptr<fs::RemoteSizes> sizes;
  std::vector<std::unique_ptr<net::GitRepository>> repositories;  // git-listed hubs' mirrors
  std::vector<std::unique_ptr<hubs::Hub>> hubs;
  std::unique_ptr<fs::ReadEngine> engine;
  std::unique_ptr<fs::ArchiveViews> archives;
  std::unique_ptr<fs::Filesystem> filesystem;
  std::unique_ptr<CacheImporter> importer;  // reads the filesystem's listings: stops before it
  std::unique_ptr<fuse::FuseMount> mount;
  std::atomic<bool> mounted{false};  // `mount` is set: the control thread may use it
  std::unique_ptr<ControlServer> control;
  std::unique_ptr<Ticker> refresher;
  std::unique_ptr<Invalidator> invalidator;  // what lookups of new names changed
  DaemonFacts facts;  // for hubfs status
};

// Lists the named hubs (all when empty) again, swaps in the new tree and tells the kernel what
// changed. `ask_servers`: hubfs refresh (ask now); otherwise the metadata TTL decides.
nlohmann::json RefreshNow(Daemon& d, const std::vector<std::string>& names, bool ask_servers) {
  const auto started = std::chrono::steady_clock::now();
  auto result = d.filesystem->Refresh(names, hubs::ListOptions{.refresh = ask_servers});
  if (!result) {
    // "unknown_hub" lets `hubfs refresh HUB` (without --mount) pass over mounts without that hub.
    nlohmann::json reply{{"ok", false}, {"error", result.error().message()}};
    if (result.error().IsNotFound()) reply["code"] = "unknown_hub";
    return reply;
  }
  d.mount->Invalidate(*result);
  // New listings may name files the clients' caches hold.
  const auto& changed = result->changes;
  if (d.importer && (ask_servers || changed.added + changed.removed + changed.changed > 0)) d.importer->Schedule();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  std::string hub_list;
  for (const auto& h : result->hubs) hub_list += (hub_list.empty() ? "" : ", ") + h;
  const auto& c = result->changes;
  std::string message = "refreshed " + hub_list + " in " + std::to_string(ms) + " ms: " +
                        std::to_string(c.added) + " added, " + std::to_string(c.removed) + " removed, " +
                        std::to_string(c.changed) + " changed";
  if (ask_servers || c.added + c.removed + c.changed > 0) HUBFS_LOG_INFO("{}", message);
  nlohmann::json reply{{"ok", result->errors.empty()}, {"message", message}};
  if (!result->errors.empty()) {
    std::string errors;
    for (const auto& e : result->errors) errors += (errors.empty() ? "" : "; ") + e;
    reply["error"] = "could not list " + errors + " (the last listing stays in use)";
  }
  return reply;
}

// What hubfs status shows (daemon_status.h); reads state only, never waits for a download.
nlohmann::json StatusNow(Daemon& d) {
  return DescribeDaemon(d.facts, *d.filesystem, *d.engine, static_cast<int64_t>(std::time(nullptr)));
}

nlohmann::json HandleControl(Daemon& d, const nlohmann::json& request) {
  const std::string op = request.value("op", "");
  if (op == "status") return StatusNow(d);
  if (op == "refresh") {
    std::vector<std::string> names;
    if (request.contains("hubs") && request["hubs"].is_array()) {
      for (const auto& h : request["hubs"]) {
        if (h.is_string()) names.push_back(h.get<std::string>());
      }
    }
    return RefreshNow(d, names, /*ask_servers=*/true);
  }
  return {{"ok", false}, {"error", "unknown request '" + op + "'"}};
}

Status Start(Daemon& d, const Config& config, const MountArgs& args, const std::string& mountpoint) {
  net::CurlHttpClient::Options http_options;
  // A transfer that stalls longer than a reader would wait is useless, and it holds an engine
  // worker (and delays unmounting) until it gives up.
  http_options.stall_timeout = std::max(std::chrono::seconds(1), std::chrono::duration_cast<std::chrono::seconds>(
                                                                     std::chrono::milliseconds(config.read_timeout_ms)));
  d.http = std::make_unique<net::CurlHttpClient>(http_options);
  d.transport = std::make_unique<HubTransport>(config, *d.http);
  cache::CacheOptions cache_options;
  cache_options.size_limit = ResolveCacheSize(config.cache_size, config.cache_dir);
  HUBFS_LOG_INFO("cache {}: limit {} MiB", config.cache_dir, cache_options.size_limit >> 20);
  auto cache = cache::Cache::Open(config.cache_dir, cache_options);
  if (!cache) return cache.error().WithContext("opening the cache " + config.cache_dir);
  d.cache = std::move(cache).value();
  d.documents = std::make_unique<fs::CachedDocumentSource>(d.transport->client(), *d.cache, config.metadata_ttl);
  d.sizes = std::make_unique<fs::RemoteSizes>(d.transport->client(), *d.cache, config.metadata_ttl);
  // Started before the filesystem, which shows its address; it answers only once mounted.
  auto control = ControlServer::Start([&d](const nlohmann::json& request) {
    if (!d.mounted.load()) return nlohmann::json{{"ok", false}, {"error", "the mount is still starting"}};
    return HandleControl(d, request);
  });
  if (!control) return control.error().WithContext("starting the control socket");
  d.control = std::move(control).value();
  d.facts = DaemonFacts{::getpid(), static_cast<int64_t>(std::time(nullptr)), mountpoint, config.source,
                        config.metadata_ttl, {}};
  for (const HubConfig& hub : config.hubs) d.facts.hub_types[hub.name] = hub.type;
  std::vector<hubs::Hub*> hubs;
  fs::FsOptions fs_options;
  for (const HubConfig& hub : config.hubs) {
    HUBFS_ASSIGN_OR_RETURN(auto mirror, OpenHubMirror(config, hub));
    net::GitRepository* git = mirror.get();
    if (mirror) d.repositories.push_back(std::move(mirror));
    d.hubs.push_back(MakeHub(config, hub, *d.documents, git));
    hubs.push_back(d.hubs.back().get());
    fs_options.verification.push_back(hub.verification.value_or(config.verification));
  }
  fs::ReadEngineOptions engine_options;
  engine_options.read_timeout = std::chrono::milliseconds(config.read_timeout_ms);
  d.engine = std::make_unique<fs::ReadEngine>(d.transport->client(), *d.cache, engine_options);
  fs_options.uid = ::getuid();
  fs_options.gid = ::getgid();
  fs_options.control_address = d.control->address();
  fs_options.config_text = DescribeConfig(config);
  fs_options.extra_stats = [&d] { return ImportStatsText(d.import_counters); };
  fs_options.by_framework = config.by_framework;
  d.filesystem = std::make_unique<fs::Filesystem>(hubs, *d.engine, fs_options, d.sizes.get());
  if (config.archives.views) {
    d.archives = std::make_unique<fs::ArchiveViews>(*d.engine, config.archives.limits);
    d.filesystem->SetArchiveViews(d.archives.get());
  }
  if (config.import_caches && config.import_dirs && !config.import_dirs->empty()) {
    std::string dirs;
    for (const std::string& dir : *config.import_dirs) dirs += (dirs.empty() ? "" : ", ") + dir;
    HUBFS_LOG_INFO("import: files of the hubs' clients' caches are imported from {}", dirs);
    d.importer = std::make_unique<CacheImporter>(
        *d.cache, *config.import_dirs, [&d] { return d.filesystem->PublishedObjects(); }, d.import_counters);
  }
  d.filesystem->Load();
  if (d.importer) d.importer->Schedule();  // in the background: the mount does not wait
  fuse::MountOptions mount_options;
  mount_options.mountpoint = mountpoint;
  mount_options.fuse_options = args.fuse_options;
  mount_options.debug = args.debug;
  auto mount = fuse::FuseMount::Mount(*d.filesystem, mount_options);
  if (!mount) return mount.error();
  d.mount = std::move(mount).value();
  d.invalidator = std::make_unique<Invalidator>([&d](const fs::RefreshResult& r) { d.mount->Invalidate(r); });
  d.filesystem->SetChangeListener([&d](const fs::RefreshResult& r) {
    if (d.invalidator) d.invalidator->Post(r);
    if (d.importer) d.importer->Schedule();  // a repository looked up for the first time
  });
  d.mounted = true;
  // Listings older than metadata_ttl are revalidated (and changes shown) while mounted, not
  // only at the next mount; revalidation is a conditional request, cheap when nothing changed.
  // metadata_ttl = 0 means "ask at every mount", not "poll the hubs every few seconds".
  if (config.metadata_ttl > 0) {
    const auto period = std::chrono::seconds(std::max<int64_t>(config.metadata_ttl, 5));
    d.refresher = std::make_unique<Ticker>(period, [&d] { RefreshNow(d, {}, /*ask_servers=*/false); });
  }
  return Status();
}

// Creates the cache folder and its parents (a fresh account has no ~/.cache), or checks that an
// existing one is the daemon's own and private (cache_dir.h).
Status MakeCacheDir(const std::string& dir) {
  std::string note;
  HUBFS_RETURN_IF_ERROR(PrepareCacheDir(dir, &note));
  if (!note.empty()) std::fprintf(stderr, "hubfs mount: %s\n", note.c_str());
  return Status();
}

// Command-line settings win over the configuration file.
Status ApplyOverrides(const MountArgs& args, Config* config) {
  // libfuse applies ro/rw in order, so a later rw would make the mount writable for the kernel.
  for (const std::string& option : args.fuse_options) {
    if (option == "rw") return Status::InvalidArgument("-o rw: hubfs mounts are always read-only");
  }
  if (!args.cache_size.empty()) {
    auto size = ParseSize(args.cache_size);
    if (!size) return Status::InvalidArgument("--cache-size " + args.cache_size + ": use e.g. 20G, 512M or 50%");
    config->cache_size = *size;
  }
  if (!args.verification.empty()) {
    auto v = ParseVerification(args.verification);
    if (!v) return Status::InvalidArgument("--verification must be strict or lazy");
    config->verification = *v;
    for (HubConfig& hub : config->hubs) hub.verification.reset();
  }
  return Status();
}

// The kernel reads ahead at most read_ahead_kb of the mount's bdi (128 KiB by default for FUSE),
// far less than a model loader's sweep wants. Only root may raise it; others keep the default.
void RaiseReadahead(const std::string& mountpoint) {
  constexpr const char* kReadaheadKb = "16384";
  if (::geteuid() != 0) return;
  auto mount = FindMount(mountpoint);
  if (!mount) return;
  const std::string path = "/sys/class/bdi/" + mount->device + "/read_ahead_kb";
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0 || ::write(fd, kReadaheadKb, std::strlen(kReadaheadKb)) < 0) {
    HUBFS_LOG_WARN("could not raise {} to {}: {}", path, kReadaheadKb, std::strerror(errno));
  } else {
    HUBFS_LOG_INFO("readahead of {} raised to {} KiB", mountpoint, kReadaheadKb);
  }
  if (fd >= 0) ::close(fd);
}

void DetachStdio(bool keep_stderr) {
  int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null < 0) return;
  ::dup2(null, STDIN_FILENO);
  ::dup2(null, STDOUT_FILENO);
  if (!keep_stderr) ::dup2(null, STDERR_FILENO);
  if (null > STDERR_FILENO) ::close(null);
}

bool IsSocket(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode);
}

// Where the mount logs (docs/configuration.md, log_target).
struct LogChoice {
  log::Target target = log::Target::kStderr;  // never kAuto
  std::string file;                           // kFile
  std::string where;                          // for "see ..." in messages
};

LogChoice FileLog(const Config& config) {
  LogChoice c;
  c.target = log::Target::kFile;
  c.file = !config.log_file.empty() ? config.log_file : config.cache_dir + "/hubfs.log";
  c.where = c.file;
  return c;
}

LogChoice ChooseLog(const Config& config, bool foreground) {
  LogChoice c;
  switch (config.log_target) {
    case log::Target::kAuto:
      // Foreground: stderr, as before log_target existed, unless log_file names a file.
      // Detached: an explicit log_file, else syslog when its socket exists, else the cache's file.
      if (!config.log_file.empty()) c.target = log::Target::kFile;
      else if (foreground) c.target = log::Target::kStderr;
      else c.target = IsSocket(config.syslog_socket) ? log::Target::kSyslog : log::Target::kFile;
      break;
    default:
      c.target = config.log_target;
  }
  if (c.target == log::Target::kFile) return FileLog(config);
  c.where = c.target == log::Target::kSyslog ? "the syslog or journal: journalctl -t hubfs" : "the daemon's stderr";
  return c;
}

}  // namespace

int RunMount(const MountArgs& args) {
  // A peer that goes away (the waiting parent, a server) must give EPIPE, not kill the daemon.
  std::signal(SIGPIPE, SIG_IGN);
  auto config = LoadConfig(args.config_path);
  if (!config) {
    std::fprintf(stderr, "hubfs mount: %s\n", config.error().message().c_str());
    return 1;
  }
  if (!args.cache_dir.empty()) config->cache_dir = args.cache_dir;
  if (Status s = ApplyOverrides(args, &*config); !s.ok()) {
    std::fprintf(stderr, "hubfs mount: %s\n", s.message().c_str());
    return 1;
  }
  // Relative paths mean "from here"; the daemon works from "/", so resolve them now.
  std::error_code ec;
  config->cache_dir = std::filesystem::absolute(config->cache_dir, ec).lexically_normal();
  if (!config->log_file.empty()) {
    config->log_file = std::filesystem::absolute(config->log_file, ec).lexically_normal();
  }
  auto mountpoint = Absolute(args.mountpoint, "mount point");
  Status pre = mountpoint ? Preflight(*mountpoint) : mountpoint.error();
  if (pre.ok()) pre = MakeCacheDir(config->cache_dir);
  // The log opens before the fork, so a bad log_file or an unreachable syslog socket is reported
  // by this command, and the detached daemon inherits the open file or socket.
  LogChoice log_choice = ChooseLog(*config, args.foreground);
  Status syslog_failed;  // auto: the socket exists but cannot be reached, so the file it is
  if (pre.ok() && log_choice.target == log::Target::kSyslog) {
    pre = log::LogToSyslog(config->syslog_socket);
    if (!pre.ok() && config->log_target == log::Target::kAuto) {
      syslog_failed = pre;
      log_choice = FileLog(*config);
      pre = Status();
    }
  }
  if (pre.ok() && log_choice.target == log::Target::kFile) pre = log::LogToFile(log_choice.file);
  if (!pre.ok()) {
    std::fprintf(stderr, "hubfs mount: %s\n", pre.message().c_str());
    return 1;
  }
  log::SetLevel(config->log_level);
  if (!syslog_failed.ok()) HUBFS_LOG_WARN("{}; logging to {} instead", syslog_failed.message(), log_choice.file);

  ReadyPipe ready;
  if (!args.foreground) {
    if (Status s = ready.Create(); !s.ok()) {
      std::fprintf(stderr, "hubfs mount: %s\n", s.message().c_str());
      return 1;
    }
    log::Flush();
    pid_t pid = ::fork();
    if (pid < 0) {
      std::fprintf(stderr, "hubfs mount: fork: %s\n", std::strerror(errno));
      return 1;
    }
    if (pid > 0) {
      std::string outcome = ready.Wait();
      if (outcome == "OK") return 0;
      if (outcome.empty()) outcome = "the daemon exited during start-up (see " + log_choice.where + ")";
      std::fprintf(stderr, "hubfs mount: %s\n", outcome.c_str());
      ::waitpid(pid, nullptr, WNOHANG);
      return 1;
    }
    ready.CloseReadEnd();
    ::setsid();
    if (::chdir("/") != 0) {
      // Not fatal: every path we use is absolute.
    }
  }

  HUBFS_LOG_INFO("hubfs {} mounting {} hub(s) from {} at {}, cache {}", HUBFS_VERSION,
                 config->hubs.size(), config->source, *mountpoint, config->cache_dir);
  // A token file the Hugging Face client wrote is often 0644. It is not hubfs' configuration (whose
  // secrets must be private, config_secrets.h), so say it rather than refuse to mount.
  for (const HubConfig& hub : config->hubs) {
    struct stat st {};
    if (!hub.hf.token_file.empty() && ::stat(hub.hf.token_file.c_str(), &st) == 0 && (st.st_mode & (S_IRGRP | S_IROTH))) {
      HUBFS_LOG_WARN("hub {}: the token file {} can be read by other users; chmod 600 {}", hub.name,
                     hub.hf.token_file, hub.hf.token_file);
    }
  }
  Daemon daemon;
  Status started = Start(daemon, *config, args, *mountpoint);
  if (!started.ok()) {
    HUBFS_LOG_ERROR("mount failed: {}", started.ToString());
    if (args.foreground) std::fprintf(stderr, "hubfs mount: %s\n", started.message().c_str());
    ready.Report(started.message());
    return 1;
  }
  HUBFS_LOG_INFO("mounted at {}", *mountpoint);
  RaiseReadahead(*mountpoint);
  NotifySystemd("READY=1\nSTATUS=mounted at " + *mountpoint);  // a Type=notify service is up
  if (!args.foreground) {
    ready.Report("OK");
    // log_target = "stderr" keeps the stderr the daemon was started with (a supervisor's pipe).
    DetachStdio(/*keep_stderr=*/log_choice.target == log::Target::kStderr);
  }
  Status served = daemon.mount->Serve();
  HUBFS_LOG_INFO("unmounting {}", *mountpoint);
  NotifySystemd("STOPPING=1");
  if (!served.ok()) {
    HUBFS_LOG_ERROR("{}", served.ToString());
    return 1;
  }
  return 0;
}

int RunUmount(const std::string& path) {
  auto mountpoint = Absolute(path, "mount point");
  if (!mountpoint) {
    std::fprintf(stderr, "hubfs umount: %s\n", mountpoint.error().message().c_str());
    return 1;
  }
  auto fstype = MountedFsType(*mountpoint);
  if (!fstype || *fstype != "fuse.hubfs") {
    std::fprintf(stderr, "hubfs umount: %s is not a hubfs mount point\n", mountpoint->c_str());
    return 1;
  }
  pid_t pid = ::fork();
  if (pid == 0) {
    ::execlp("fusermount3", "fusermount3", "-u", mountpoint->c_str(), static_cast<char*>(nullptr));
    std::fprintf(stderr, "hubfs umount: cannot run fusermount3: %s\n", std::strerror(errno));
    ::_exit(127);
  }
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "hubfs umount: unmounting %s failed (is a process still using it?)\n",
                 mountpoint->c_str());
    return 1;
  }
  return 0;
}

}  // namespace hubfs::app
