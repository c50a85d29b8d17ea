// LibGit2Repository against source repositories built with the git CLI in a temp dir and
// fetched through file:// URLs, plus loopback servers for the network failure modes.
#include "hubfs/net/git/git_mirror.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "testing/loopback_http_server.h"
#include "testing/temp_dir.h"

namespace hubfs::net {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// The git CLI must not read the developer's configuration, and libgit2 must not use a proxy
// (these tests only ever talk to 127.0.0.1 and local files).
class GitCliEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    ::setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
    ::setenv("GIT_CONFIG_GLOBAL", "/dev/null", 1);
    ::setenv("GIT_AUTHOR_NAME", "hubfs test", 1);
    ::setenv("GIT_AUTHOR_EMAIL", "test@hubfs.invalid", 1);
    ::setenv("GIT_COMMITTER_NAME", "hubfs test", 1);
    ::setenv("GIT_COMMITTER_EMAIL", "test@hubfs.invalid", 1);
    ::setenv("no_proxy", "*", 1);
  }
};
[[maybe_unused]] ::testing::Environment* const kGitCliEnvironment =
    ::testing::AddGlobalTestEnvironment(new GitCliEnvironment);

// Runs a shell command; returns its stdout, failing the test on a non-zero exit.
std::string Sh(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) {
    ADD_FAILURE() << "popen failed: " << command;
    return out;
  }
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) out.append(buf, n);
  const int status = ::pclose(pipe);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << command << "\n" << out;
  return out;
}

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream(path, std::ios::binary) << content;
}

// A non-bare source repository with branches master and r1.3.
class SourceRepo {
 public:
  // One shell script, so building the repository costs one popen.
  explicit SourceRepo(std::string dir) : dir_(std::move(dir)) {
    Sh("set -e; git init -q -b master " + dir_ + " && cd " + dir_ +
       " && mkdir -p mshub_res/assets/mindspore/1.6 tools"
       " && printf '# hub\\n' > README.md"
       " && printf -- '---\\nmodel: a\\n---\\n' > mshub_res/assets/mindspore/1.6/alexnet_cifar10.md"
       " && printf -- '---\\nmodel: l\\n---\\n' > mshub_res/assets/mindspore/1.6/lenet_mnist.md"
       " && printf '#!/bin/sh\\n' > tools/check.sh && chmod +x tools/check.sh"
       " && ln -s README.md link && git add -A"
       // A submodule entry (gitlink): listed by git ls-tree, never by ListFiles.
       " && git update-index --add --cacheinfo"
       " 160000,1111111111111111111111111111111111111111,vendor"
       " && git commit -q -m one"
       " && git checkout -q -b r1.3 && printf 'old layout\\n' > old.md && git add old.md"
       " && git commit -q -m r13 && git checkout -q master");
  }

  std::string Url() const { return "file://" + dir_; }
  const std::string& dir() const { return dir_; }

  std::string Git(const std::string& args) const { return Sh("git " + args); }
  std::string Tip(const std::string& branch) const {
    return Trimmed(Git("-C " + dir_ + " rev-parse " + branch));
  }
  void Commit(const std::string& path, const std::string& content) const {
    WriteFile(dir_ + "/" + path, content);
    Git("-C " + dir_ + " add " + path);
    Git("-C " + dir_ + " commit -q -m add-" + path);
  }
  // What ListFiles must return: `git ls-tree -r -l`, regular files only, in its order.
  std::vector<GitFile> ExpectedFiles(const std::string& branch) const {
    std::istringstream lines(Git("-C " + dir_ + " ls-tree -r -l " + branch));
    std::vector<GitFile> files;
    std::string mode, type, id, size, path;
    while (lines >> mode >> type >> id >> size && std::getline(lines >> std::ws, path)) {
      if (mode == "100644" || mode == "100755") files.push_back({path, id, std::stoull(size)});
    }
    return files;
  }

 private:
  std::string dir_;
};

std::vector<std::string> Paths(const std::vector<GitFile>& files) {
  std::vector<std::string> paths;
  for (const auto& f : files) paths.push_back(f.path);
  return paths;
}

// A TCP port on 127.0.0.1 that refuses connections (bound, never listening, then closed).
int ClosedPort() {
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(s, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(s);
  return ntohs(addr.sin_port);
}

class GitMirrorTest : public ::testing::Test {
 protected:
  GitMirrorTest() : source_(tmp_.Sub("source")) {}

  GitMirrorOptions Options(std::string url, std::vector<std::string> branches = {"master",
                                                                                 "r1.3"}) {
    return GitMirrorOptions{std::move(url), tmp_.Sub("cache/mirror"), std::move(branches),
                            milliseconds(5000)};
  }
  std::unique_ptr<LibGit2Repository> OpenMirror(GitMirrorOptions options) {
    auto repo = LibGit2Repository::Open(std::move(options));
    EXPECT_TRUE(repo.ok()) << repo.status().ToString();
    return repo.ok() ? std::move(*repo) : nullptr;
  }

  test::TempDir tmp_;
  SourceRepo source_;
};

TEST_F(GitMirrorTest, MirrorsBranchesAndListsRegularFilesInTreeOrder) {
  auto mirror = OpenMirror(Options(source_.Url()));
  ASSERT_NE(mirror, nullptr);
  auto fetched = mirror->Fetch(0);
  ASSERT_TRUE(fetched.ok()) << fetched.status().ToString();
  EXPECT_FALSE(fetched->stale);
  EXPECT_GT(fetched->fetched_at, 0);

  EXPECT_EQ(*mirror->BranchTip("master"), source_.Tip("master"));
  EXPECT_EQ(*mirror->BranchTip("r1.3"), source_.Tip("r1.3"));

  auto files = mirror->ListFiles("master", "");
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  EXPECT_EQ(Paths(*files), (std::vector<std::string>{
                               "README.md", "mshub_res/assets/mindspore/1.6/alexnet_cifar10.md",
                               "mshub_res/assets/mindspore/1.6/lenet_mnist.md",
                               "tools/check.sh"}));  // no symlink "link", no submodule "vendor"
  const auto expected = source_.ExpectedFiles("master");
  ASSERT_EQ(files->size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ((*files)[i].blob_id, expected[i].blob_id) << expected[i].path;
    EXPECT_EQ((*files)[i].size, expected[i].size) << expected[i].path;
  }
  EXPECT_EQ(Paths(*mirror->ListFiles("r1.3", "")).size(), 5u);  // + old.md
}

TEST_F(GitMirrorTest, ListsBelowAPrefix) {
  auto mirror = OpenMirror(Options(source_.Url()));
  ASSERT_TRUE(mirror->Fetch(0).ok());
  const std::vector<std::string> md = {"mshub_res/assets/mindspore/1.6/alexnet_cifar10.md",
                                       "mshub_res/assets/mindspore/1.6/lenet_mnist.md"};
  EXPECT_EQ(Paths(*mirror->ListFiles("master", "mshub_res/assets")), md);
  EXPECT_EQ(Paths(*mirror->ListFiles("master", "mshub_res/assets/")), md);
  EXPECT_EQ(mirror->ListFiles("master", "nope").status().code(), Code::kNotFound);
  EXPECT_EQ(mirror->ListFiles("master", "README.md").status().code(), Code::kNotFound);
}

TEST_F(GitMirrorTest, ReadsBlobsWithinTheirLimit) {
  auto mirror = OpenMirror(Options(source_.Url()));
  ASSERT_TRUE(mirror->Fetch(0).ok());
  auto files = mirror->ListFiles("master", "");
  ASSERT_TRUE(files.ok());
  const GitFile& readme = (*files)[0];
  ASSERT_EQ(readme.path, "README.md");

  EXPECT_EQ(*mirror->ReadBlob(readme.blob_id, 1024), "# hub\n");
  EXPECT_EQ(*mirror->ReadBlob(readme.blob_id, readme.size), "# hub\n");
  EXPECT_EQ(mirror->ReadBlob(readme.blob_id, readme.size - 1).status().code(),
            Code::kResourceExhausted);
  EXPECT_EQ(mirror->ReadBlob(std::string(40, 'a'), 1024).status().code(), Code::kNotFound);
  EXPECT_EQ(mirror->ReadBlob("xyz", 1024).status().code(), Code::kInvalidArgument);
  // A commit id is not a blob.
  EXPECT_EQ(mirror->ReadBlob(source_.Tip("master"), 1024).status().code(), Code::kNotFound);
}

TEST_F(GitMirrorTest, FetchSeesNewCommitsAndSkipsWhileFresh) {
  auto mirror = OpenMirror(Options(source_.Url()));
  auto first = mirror->Fetch(0);
  ASSERT_TRUE(first.ok());
  const std::string old_tip = source_.Tip("master");
  source_.Commit("new.md", "new\n");

  // Fresh: no fetch, not even from another object on the same mirror (another process).
  auto skipped = mirror->Fetch(3600);
  ASSERT_TRUE(skipped.ok());
  EXPECT_EQ(skipped->fetched_at, first->fetched_at);
  EXPECT_EQ(*mirror->BranchTip("master"), old_tip);
  auto other = OpenMirror(Options(source_.Url()));
  EXPECT_EQ(other->Fetch(3600)->fetched_at, first->fetched_at);
  EXPECT_EQ(*other->BranchTip("master"), old_tip);

  // max_age 0 always fetches; the reader handle sees the new objects and refs.
  auto again = mirror->Fetch(0);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_FALSE(again->stale);
  EXPECT_EQ(*mirror->BranchTip("master"), source_.Tip("master"));
  auto files = mirror->ListFiles("master", "");
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->size(), 5u);
  const GitFile& added = (*files)[3];  // tree order: README.md, mshub_res/..., new.md, tools/...
  ASSERT_EQ(added.path, "new.md");
  EXPECT_EQ(*mirror->ReadBlob(added.blob_id, 100), "new\n");
  // Another handle (another process) sees the new ref and finds the new pack.
  EXPECT_EQ(*other->BranchTip("master"), source_.Tip("master"));
  EXPECT_EQ(*other->ReadBlob(added.blob_id, 100), "new\n");
}

TEST_F(GitMirrorTest, UnreachableRemoteWithoutMirrorIsAnError) {
  auto mirror = OpenMirror(
      Options("http://127.0.0.1:" + std::to_string(ClosedPort()) + "/mindspore/hub.git"));
  auto fetched = mirror->Fetch(0);
  ASSERT_FALSE(fetched.ok());
  EXPECT_EQ(fetched.status().code(), Code::kUnavailable) << fetched.status().ToString();
  EXPECT_NE(fetched.status().message().find("127.0.0.1"), std::string::npos);
  EXPECT_EQ(mirror->BranchTip("master").status().code(), Code::kNotFound);

  auto missing = OpenMirror(Options("file://" + tmp_.Sub("no-such-repo")));
  EXPECT_FALSE(missing->Fetch(0).ok());
}

TEST_F(GitMirrorTest, UnreachableRemoteWithMirrorIsStale) {
  int64_t fetched_at = 0;
  {
    auto mirror = OpenMirror(Options(source_.Url()));
    fetched_at = mirror->Fetch(0)->fetched_at;
  }
  auto offline = OpenMirror(
      Options("http://127.0.0.1:" + std::to_string(ClosedPort()) + "/mindspore/hub.git"));
  auto fetched = offline->Fetch(0);
  ASSERT_TRUE(fetched.ok()) << fetched.status().ToString();
  EXPECT_TRUE(fetched->stale);
  EXPECT_EQ(fetched->fetched_at, fetched_at);
  EXPECT_NE(fetched->stale_reason.find("Unavailable"), std::string::npos) << fetched->stale_reason;
  EXPECT_EQ(*offline->BranchTip("master"), source_.Tip("master"));
  EXPECT_EQ(offline->ListFiles("master", "")->size(), 4u);
}

TEST_F(GitMirrorTest, StalledServerFailsWithinTheTimeout) {
  test::LoopbackHttpServer server;
  ASSERT_TRUE(server.ok());
  // Headers never come (info/refs is the first request of smart HTTP).
  server.Serve("/hub.git/info/refs", {.delay = std::chrono::hours(1)});
  auto options = Options(server.Url("/hub.git"));
  options.timeout = milliseconds(200);
  auto mirror = OpenMirror(options);
  const auto start = Clock::now();
  auto fetched = mirror->Fetch(0);
  const auto took = Clock::now() - start;
  ASSERT_FALSE(fetched.ok());
  EXPECT_EQ(fetched.status().code(), Code::kDeadlineExceeded) << fetched.status().ToString();
  EXPECT_LT(took, milliseconds(1500));
  EXPECT_GE(took, milliseconds(150));
}

TEST_F(GitMirrorTest, ServerStallingMidBodyFailsWithinTheTimeout) {
  // A well-formed start of a smart-HTTP ref advertisement, then a pkt-line that never ends.
  const std::string kAdvertisementStart = "001e# service=git-upload-pack\n0000" "0fa0";
  test::LoopbackHttpServer server;
  ASSERT_TRUE(server.ok());
  server.Serve("/hub.git/info/refs",
               {.headers = {{"Content-Type", "application/x-git-upload-pack-advertisement"}},
                .body = kAdvertisementStart + std::string(4000, 'x'),
                .stall_after = kAdvertisementStart.size() + 10});
  auto options = Options(server.Url("/hub.git"));
  options.timeout = milliseconds(200);
  auto mirror = OpenMirror(options);
  const auto start = Clock::now();
  auto fetched = mirror->Fetch(0);
  ASSERT_FALSE(fetched.ok());
  EXPECT_EQ(fetched.status().code(), Code::kDeadlineExceeded) << fetched.status().ToString();
  EXPECT_LT(Clock::now() - start, milliseconds(1500));
}

TEST_F(GitMirrorTest, UnknownBranch) {
  auto mirror = OpenMirror(Options(source_.Url(), {"master", "r9.9"}));
  auto fetched = mirror->Fetch(0);
  ASSERT_TRUE(fetched.ok()) << fetched.status().ToString();  // master was fetched
  EXPECT_EQ(mirror->BranchTip("r9.9").status().code(), Code::kNotFound);
  EXPECT_EQ(mirror->ListFiles("r9.9", "").status().code(), Code::kNotFound);
  // r1.3 exists upstream but is not configured, so it is not mirrored.
  EXPECT_EQ(mirror->BranchTip("r1.3").status().code(), Code::kNotFound);
  EXPECT_EQ(mirror->BranchTip("bad..name").status().code(), Code::kInvalidArgument);

  auto invalid = LibGit2Repository::Open(Options(source_.Url(), {"master", "a b"}));
  EXPECT_EQ(invalid.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(LibGit2Repository::Open(Options(source_.Url(), {})).status().code(),
            Code::kInvalidArgument);
}

TEST_F(GitMirrorTest, WaitsForAnotherProcessLockThenReportsStale) {
  auto mirror = OpenMirror(Options(source_.Url()));
  ASSERT_TRUE(mirror->Fetch(0).ok());
  auto options = Options(source_.Url());
  options.timeout = milliseconds(200);
  auto impatient = OpenMirror(options);
  ASSERT_NE(impatient, nullptr);
  // Another process holds the fetch lock for longer than our timeout.
  int fd = ::open(tmp_.Sub("cache/mirror/hubfs-fetch.lock").c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX), 0);
  auto fetched = impatient->Fetch(0);
  ::close(fd);
  ASSERT_TRUE(fetched.ok()) << fetched.status().ToString();
  EXPECT_TRUE(fetched->stale);
  EXPECT_NE(fetched->stale_reason.find("DeadlineExceeded"), std::string::npos);
}

TEST_F(GitMirrorTest, ConcurrentFetchesAndReadsOnOneMirror) {
  auto a = OpenMirror(Options(source_.Url()));
  auto b = OpenMirror(Options(source_.Url()));  // stands for a second process
  ASSERT_TRUE(a->Fetch(0).ok());
  source_.Commit("more.md", "more\n");
  std::vector<std::thread> threads;
  std::vector<Result<GitFetchResult>> results(4, Status::Internal("not run"));
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] { results[i] = (i % 2 == 0 ? a : b)->Fetch(0); });
  }
  threads.emplace_back([&] {
    for (int i = 0; i < 20; ++i) EXPECT_TRUE(a->ListFiles("master", "").ok());
  });
  for (auto& t : threads) t.join();
  for (const auto& r : results) {
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_FALSE(r->stale) << r->stale_reason;
  }
  EXPECT_EQ(*a->BranchTip("master"), source_.Tip("master"));
  EXPECT_EQ(*b->BranchTip("master"), source_.Tip("master"));
}

}  // namespace
}  // namespace hubfs::net
