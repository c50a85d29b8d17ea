#include "app/hub_browse.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>

#include "app/browse_cache.h"
#include "testing/temp_dir.h"

namespace hubfs::app {
namespace {

using ::testing::HasSubstr;
using ::testing::Optional;

hubs::Entry Generated(std::vector<std::string> path, std::string content) {
  hubs::Entry e;
  e.path = std::move(path);
  e.content = std::move(content);
  return e;
}

TEST(HubBrowseTest, FailureAboveFindsTheErrorFileOfTheFolderHoldingAPath) {
  hubs::Listing listing;
  listing.entries.push_back(
      Generated({"org", "broken", "ERROR.txt"}, "hubfs could not list org/broken:\n  why\n"));
  hubs::Entry remote = Generated({"org", "fine", "ERROR.txt"}, "");
  remote.remote =
      hubs::RemoteObject{"https://hub.test/org/fine/ERROR.txt", 1, std::nullopt};  // a real file
  listing.entries.push_back(remote);
  listing.entries.push_back(
      Generated({"storeC", "ERROR.txt"}, "The store could not be listed.\n\nURLs tried:\n"));
  EXPECT_THAT(FailureAbove(listing, {"org", "broken", "a", "b.txt"}),
              Optional(std::string("hubfs could not list org/broken: why")));
  EXPECT_THAT(FailureAbove(listing, {"org", "broken"}),
              Optional(std::string("hubfs could not list org/broken: why")));
  EXPECT_EQ(FailureAbove(listing, {"org"}),
            std::nullopt);  // the folder above: other repositories list
  EXPECT_EQ(FailureAbove(listing, {"org", "fine", "x"}), std::nullopt);
  EXPECT_EQ(FailureAbove(listing, {}), std::nullopt);
  EXPECT_THAT(FailureAbove(listing, {"storeC", "lenet"}),
              Optional(std::string("The store could not be listed. URLs tried:")));
}

// Sets an environment variable for the life of the object.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(BrowseCacheTest, TheConfiguredFolderWhenItIsOurs) {
  test::TempDir dir;
  std::string note = "stale";
  auto created = BrowseCacheDir(dir.Sub("a/../cache"), &note);
  ASSERT_TRUE(created.has_value()) << created.error().message();
  EXPECT_EQ(*created, dir.Sub("cache"));  // absolute and normalised, as a mount names it
  EXPECT_EQ(note, "");
  struct stat st {};
  ASSERT_EQ(::stat(created->c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  auto again = BrowseCacheDir(*created, &note);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*again, *created);
}

TEST(BrowseCacheTest, OurOwnFolderWhenTheConfiguredOneCannotBeUsed) {
  test::TempDir dir;
  std::ofstream(dir.Sub("file")) << "not a folder";
  ScopedEnv xdg("XDG_CACHE_HOME", dir.Sub("xdg"));
  std::string note;
  auto own = BrowseCacheDir(dir.Sub("file"), &note);
  ASSERT_TRUE(own.has_value()) << own.error().message();
  EXPECT_EQ(*own, dir.Sub("xdg/hubfs"));
  EXPECT_EQ(note, "the cache folder " + dir.Sub("file") +
                      " is not yours (it is not a folder): listings are cached in "
                      "your own " +
                      dir.Sub("xdg/hubfs"));

  // Neither can be used: an error naming both, and what to do.
  ScopedEnv blocked("XDG_CACHE_HOME", dir.Sub("file/below"));
  auto none = BrowseCacheDir(dir.Sub("file"), &note);
  ASSERT_FALSE(none.has_value());
  EXPECT_THAT(none.error().message(),
              HasSubstr("cannot use the cache folder " + dir.Sub("file") +
                        " (it is not a folder), nor your own " + dir.Sub("file/below/hubfs")));
  EXPECT_THAT(none.error().message(), HasSubstr("set XDG_CACHE_HOME to a folder you can write"));
}

}  // namespace
}  // namespace hubfs::app
