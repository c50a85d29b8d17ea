// `hubfs status [--mount MP] [--json]`: asks each running mount's daemon (control op "status",
// daemon_status.h) what it is doing and prints it. Daemons are found as `hubfs refresh` finds
// them: hubfs mounts in the mount table, their control socket in user.hubfs.control.
#include <climits>
#include <cstdlib>
#include <ostream>
#include <string>
#include <vector>

#include "control_socket.h"
#include "hubfs/app/commands.h"
#include "mount_table.h"
#include "status_text.h"
#include "xattr.h"

namespace hubfs::app {
namespace {

// Status only reads state; a daemon busy for longer (e.g. its control thread runs a refresh) is
// reported as not answering.
constexpr int kStatusTimeoutSeconds = 10;

Result<nlohmann::json> AskStatus(const std::string& mountpoint) {
  auto address = ReadXattr(mountpoint, "user.hubfs.control");
  if (!address) {
    return Status::Unavailable("cannot read its control address (" + address.error().message() + ")");
  }
  HUBFS_ASSIGN_OR_RETURN(nlohmann::json reply, CallControl(*address, {{"op", "status"}}, kStatusTimeoutSeconds));
  if (!reply.value("ok", false)) {
    const auto error = reply.find("error");
    return Status::Unavailable(error != reply.end() && error->is_string() ? error->get<std::string>()
                                                                          : "the daemon refused");
  }
  reply["mountpoint"] = mountpoint;  // as the mount table says, also when the daemon saw another path
  return reply;
}

}  // namespace

int RunStatus(const StatusArgs& args, std::ostream& out, std::ostream& err) {
  std::vector<std::string> mountpoints;
  if (!args.mount.empty()) {
    char resolved[PATH_MAX];
    if (!::realpath(args.mount.c_str(), resolved) || MountedFsType(resolved).value_or("") != "fuse.hubfs") {
      err << "hubfs status: " << args.mount << " is not a hubfs mount point\n";
      return 2;
    }
    mountpoints.push_back(resolved);
  } else {
    mountpoints = OwnMountPointsOfType("fuse.hubfs");
    if (mountpoints.empty()) {
      err << "hubfs status: no hubfs mount is running (start one with hubfs mount)\n";
      return 2;
    }
  }
  nlohmann::json all = nlohmann::json::array();
  int failures = 0;
  for (size_t i = 0; i < mountpoints.size(); ++i) {
    const std::string& mp = mountpoints[i];
    auto reply = AskStatus(mp);
    if (!reply) {
      ++failures;
      err << "hubfs status: " << mp << ": the daemon is not answering: " << reply.error().message() << "\n";
      if (args.json) {
        all.push_back({{"ok", false}, {"mountpoint", mp}, {"error", reply.error().message()}});
      } else {
        if (i > 0) out << "\n";
        PrintNotAnswering(mp, reply.error().message(), out);
      }
      continue;
    }
    if (args.json) {
      all.push_back(std::move(reply).value());
    } else {
      if (i > 0) out << "\n";
      PrintStatusText(*reply, out);
    }
  }
  if (args.json) out << all.dump(2) << "\n";
  return failures == 0 ? 0 : 1;
}

}  // namespace hubfs::app
