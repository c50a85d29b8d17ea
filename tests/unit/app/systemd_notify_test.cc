// NotifySystemd: the readiness datagram of systemd's Type=notify (packaging/hubfs@.service).
#include "app/systemd_notify.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <string>

#include "testing/temp_dir.h"

namespace hubfs::app {
namespace {

// Sets or unsets an environment variable for the lifetime of the object.
class ScopedNotifySocket {
 public:
  explicit ScopedNotifySocket(std::optional<std::string> value) {
    if (const char* old = std::getenv("NOTIFY_SOCKET")) old_ = old;
    if (value) ::setenv("NOTIFY_SOCKET", value->c_str(), 1);
    else ::unsetenv("NOTIFY_SOCKET");
  }
  ~ScopedNotifySocket() {
    if (old_) ::setenv("NOTIFY_SOCKET", old_->c_str(), 1);
    else ::unsetenv("NOTIFY_SOCKET");
  }

 private:
  std::optional<std::string> old_;
};

TEST(SystemdNotifyTest, SendsTheStateToNotifySocket) {
  test::TempDir dir;
  const std::string path = dir.Sub("notify");
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  ASSERT_LT(path.size(), sizeof addr.sun_path);
  path.copy(addr.sun_path, path.size());
  ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0);
  {
    ScopedNotifySocket env(path);
    EXPECT_TRUE(NotifySystemd("READY=1\nSTATUS=mounted at /models"));
  }
  char buf[256];
  const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
  ::close(fd);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf, static_cast<size_t>(n)), "READY=1\nSTATUS=mounted at /models");
}

TEST(SystemdNotifyTest, NothingWithoutOrWithABadSocket) {
  {
    ScopedNotifySocket env(std::nullopt);
    EXPECT_FALSE(NotifySystemd("READY=1"));
  }
  {
    ScopedNotifySocket env(std::string("relative/path"));
    EXPECT_FALSE(NotifySystemd("READY=1"));
  }
  {
    ScopedNotifySocket env(std::string("/nonexistent/hubfs-notify"));
    EXPECT_FALSE(NotifySystemd("READY=1"));
  }
}

}  // namespace
}  // namespace hubfs::app
