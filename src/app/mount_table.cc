#include "mount_table.h"

#include <unistd.h>

#include <fstream>
#include <sstream>

namespace hubfs::app {
namespace {

bool IsOctal(char c) { return c >= '0' && c <= '7'; }

// mountinfo escapes space, tab, newline and backslash as \ooo octal.
std::string Unescape(const std::string& field) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size() && IsOctal(field[i + 1]) &&
        IsOctal(field[i + 2]) && IsOctal(field[i + 3])) {
      out.push_back(static_cast<char>((field[i + 1] - '0') * 64 + (field[i + 2] - '0') * 8 +
                                      (field[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(field[i]);
    }
  }
  return out;
}

}  // namespace

std::optional<MountEntry> FindMount(const std::string& path) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  std::optional<MountEntry> found;
  while (std::getline(in, line)) {
    // id parent major:minor root mountpoint options [optional fields] - fstype source superopts
    std::istringstream fields(line);
    std::string id, parent, dev, root, mountpoint;
    fields >> id >> parent >> dev >> root >> mountpoint;
    if (Unescape(mountpoint) != path) continue;
    std::string word;
    while (fields >> word && word != "-") {
    }
    std::string fstype;
    fields >> fstype;
    found = MountEntry{fstype, dev};  // the last entry wins: it is the one on top
  }
  return found;
}

std::vector<std::string> MountPointsOfType(const std::string& fstype) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  std::vector<std::string> found;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, dev, root, mountpoint, word, type;
    fields >> id >> parent >> dev >> root >> mountpoint;
    while (fields >> word && word != "-") {
    }
    fields >> type;
    if (type == fstype) found.push_back(Unescape(mountpoint));
  }
  return found;
}

std::vector<std::string> OwnMountPointsOfType(const std::string& fstype) {
  const uid_t me = ::getuid();
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  std::vector<std::string> found;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, dev, root, mountpoint, word, type, source, options;
    fields >> id >> parent >> dev >> root >> mountpoint;
    while (fields >> word && word != "-") {
    }
    fields >> type >> source >> options;
    if (type != fstype) continue;
    bool mine = me == 0;
    const std::string key = "user_id=" + std::to_string(me);
    for (size_t start = 0; !mine && start <= options.size();) {
      const size_t comma = options.find(',', start);
      mine = options.compare(start, comma == std::string::npos ? std::string::npos : comma - start, key) == 0;
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    if (mine) found.push_back(Unescape(mountpoint));
  }
  return found;
}

}  // namespace hubfs::app
