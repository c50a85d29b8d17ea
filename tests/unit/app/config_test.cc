#include "hubfs/app/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace hubfs::app {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr char kOrigin[] = "/etc/hubfs/test.toml";

// Sets (or unsets, with nullopt) an environment variable for the lifetime of the object.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      ::setenv(name, value->c_str(), 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// A private temporary folder, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "hubfs-config-test-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }
  std::string Write(const std::string& relative, const std::string& text) const {
    std::filesystem::path p = std::filesystem::path(path_) / relative;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p.string();
  }

 private:
  std::string path_;
};

Config MustParse(const std::string& text) {
  auto c = ParseConfig(text, kOrigin);
  EXPECT_TRUE(c.ok()) << c.error().ToString();
  return c.ok() ? *c : Config{};
}

// The error message for `text`, which must fail with kInvalidArgument.
std::string ErrorOf(const std::string& text) {
  auto c = ParseConfig(text, kOrigin);
  if (c.ok()) return "<parsed without error>";
  EXPECT_EQ(c.error().code(), Code::kInvalidArgument) << c.error().ToString();
  return c.error().message();
}

TEST(ParseConfigTest, FullExample) {
  const Config c = MustParse(R"(# hubfs configuration
cache_dir = "/var/cache/hubfs"
metadata_ttl = "10m"
log_file = "/var/log/hubfs.log"
log_level = "debug"

[[hub]]
type = "onnx"
name = "onnx"
repo = "onnx/models:main"
raw_base = "https://raw.githubusercontent.com"
media_base = "https://media.githubusercontent.com/media"

[[hub]]
type = "onnx"
name = "mirror"
repo = "me/zoo:771185265efbdc049fb223bd68ab1aeb1aecde76"
raw_base = "http://127.0.0.1:8080/raw/"
media_base = "http://127.0.0.1:8080/media"
)");
  EXPECT_EQ(c.source, kOrigin);
  EXPECT_EQ(c.cache_dir, "/var/cache/hubfs");
  EXPECT_EQ(c.metadata_ttl, 600);
  EXPECT_EQ(c.log_file, "/var/log/hubfs.log");
  EXPECT_EQ(c.log_level, log::Level::kDebug);
  ASSERT_EQ(c.hubs.size(), 2u);

  EXPECT_EQ(c.hubs[0].type, "onnx");
  EXPECT_EQ(c.hubs[0].name, "onnx");
  EXPECT_EQ(c.hubs[0].onnx.name, "onnx");
  EXPECT_EQ(c.hubs[0].onnx.repo.owner, "onnx");
  EXPECT_EQ(c.hubs[0].onnx.repo.name, "models");
  EXPECT_EQ(c.hubs[0].onnx.repo.ref, "main");

  EXPECT_EQ(c.hubs[1].name, "mirror");
  EXPECT_EQ(c.hubs[1].onnx.name, "mirror");
  EXPECT_EQ(c.hubs[1].onnx.repo.owner, "me");
  EXPECT_EQ(c.hubs[1].onnx.repo.name, "zoo");
  EXPECT_EQ(c.hubs[1].onnx.repo.ref, "771185265efbdc049fb223bd68ab1aeb1aecde76");
  EXPECT_EQ(c.hubs[1].onnx.raw_base, "http://127.0.0.1:8080/raw/");
  EXPECT_EQ(c.hubs[1].onnx.media_base, "http://127.0.0.1:8080/media");
}

// The public ONNX Model Hub as the first hub.
void ExpectPublicOnnxHub(const Config& c) {
  ASSERT_GE(c.hubs.size(), 1u);
  const HubConfig& hub = c.hubs[0];
  EXPECT_EQ(hub.type, "onnx");
  EXPECT_EQ(hub.name, "onnx");
  EXPECT_EQ(hub.onnx.name, "onnx");
  EXPECT_EQ(hub.onnx.repo.owner, "onnx");
  EXPECT_EQ(hub.onnx.repo.name, "models");
  EXPECT_EQ(hub.onnx.repo.ref, "main");
  EXPECT_EQ(hub.onnx.raw_base, "https://raw.githubusercontent.com");
  EXPECT_EQ(hub.onnx.media_base, "https://media.githubusercontent.com/media");
}

// The built-in hubs: the public ONNX Model Hub, and the Hugging Face Hub with no repos listed.
void ExpectBuiltInHubs(const Config& c) {
  ExpectPublicOnnxHub(c);
  ASSERT_EQ(c.hubs.size(), 2u);
  EXPECT_EQ(c.hubs[1].type, "hf");
  EXPECT_EQ(c.hubs[1].name, "hf");
  EXPECT_TRUE(c.hubs[1].hf.repos.empty());
}

TEST(ParseConfigTest, EmptyFileGivesDefaults) {
  const Config c = MustParse("");
  EXPECT_EQ(c.source, kOrigin);
  EXPECT_EQ(c.cache_dir, "");  // filled in by LoadConfig
  EXPECT_EQ(c.metadata_ttl, 600);
  EXPECT_EQ(c.log_file, "");
  EXPECT_EQ(c.log_level, log::Level::kInfo);
  ExpectBuiltInHubs(c);
}

TEST(ParseConfigTest, OptionsOnlyStillMountThePublicHub) {
  const Config c = MustParse("cache_dir = \"/data/cache\"\nmetadata_ttl = 30\n");
  EXPECT_EQ(c.cache_dir, "/data/cache");
  EXPECT_EQ(c.metadata_ttl, 30);
  ExpectBuiltInHubs(c);
}

TEST(ParseConfigTest, HubWithTypeAndRepoGetsDefaultNameAndBases) {
  const Config c = MustParse("[[hub]]\ntype = \"onnx\"\nrepo = \"onnx/models\"\n");
  ExpectPublicOnnxHub(c);
  EXPECT_EQ(c.hubs.size(), 1u);
}

TEST(ParseConfigTest, HubWithoutRepoIsAnError) {
  const std::string error = ErrorOf("\n[[hub]]\ntype = \"onnx\"\nraw_base = \"http://mirror\"\n");
  EXPECT_THAT(error, AllOf(HasSubstr(std::string(kOrigin) + ":2"), HasSubstr("'repo'")));
}

TEST(ParseConfigTest, UnknownTopLevelKeyNamesFileLineAndKey) {
  const std::string error = ErrorOf("cache_dir = \"/x\"\n\ncahce_ttl = \"5m\"\n");
  EXPECT_THAT(error, AllOf(HasSubstr(std::string(kOrigin) + ":3"), HasSubstr("cahce_ttl")));
}

TEST(ParseConfigTest, UnknownHubKeyNamesFileLineAndKey) {
  const std::string error = ErrorOf(R"(log_level = "info"
[[hub]]
type = "onnx"
name = "a"
repo = "o/a"
[[hub]]
type = "onnx"
name = "b"
mediabase = "https://x"
)");
  EXPECT_THAT(error, AllOf(HasSubstr(std::string(kOrigin) + ":9"), HasSubstr("mediabase"),
                           HasSubstr("#2")));
}

TEST(ParseConfigTest, UnknownHubType) {
  const std::string error = ErrorOf("[[hub]]\nname = \"hf\"\ntype = \"huggingface\"\n");
  EXPECT_THAT(error, AllOf(HasSubstr(std::string(kOrigin) + ":3"), HasSubstr("huggingface")));
}

TEST(ParseConfigTest, HubWithoutTypeIsAnError) {
  const std::string error = ErrorOf("[[hub]]\nname = \"x\"\n");
  EXPECT_THAT(error, AllOf(HasSubstr(kOrigin), HasSubstr("'type'")));
}

TEST(ParseConfigTest, HubTypeMustBeAString) {
  EXPECT_THAT(ErrorOf("[[hub]]\ntype = 1\n"), AllOf(HasSubstr(":2"), HasSubstr("'type'")));
}

TEST(ParseConfigTest, DuplicateHubNames) {
  const std::string error = ErrorOf(R"([[hub]]
type = "onnx"
name = "zoo"
repo = "me/zoo"
[[hub]]
type = "onnx"
name = "zoo"
repo = "me/zoo"
)");
  EXPECT_THAT(error, AllOf(HasSubstr(kOrigin), HasSubstr("'zoo'")));
}

TEST(ParseConfigTest, DuplicateDefaultHubNames) {
  // Both hubs are named after their type.
  const std::string error = ErrorOf(
      "[[hub]]\ntype = \"onnx\"\nrepo = \"a/b\"\n[[hub]]\ntype = \"onnx\"\nrepo = \"c/d\"\n");
  EXPECT_THAT(error, HasSubstr("'onnx'"));
}

TEST(ParseConfigTest, BadHubNames) {
  for (const char* name : {"", ".", "..", "a/b", "tab\\there"}) {
    const std::string text = std::string("[[hub]]\ntype = \"onnx\"\nname = \"") + name + "\"\n";
    EXPECT_THAT(ErrorOf(text), HasSubstr("'name'")) << name;
  }
}

TEST(ParseConfigTest, BadRepoNamesTheLine) {
  const std::string error = ErrorOf("[[hub]]\ntype = \"onnx\"\nrepo = \"models\"\n");
  EXPECT_THAT(error, AllOf(HasSubstr(std::string(kOrigin) + ":3"), HasSubstr("'models'")));
  EXPECT_THAT(ErrorOf("[[hub]]\ntype = \"onnx\"\nrepo = \"onnx/..\"\n"), HasSubstr(":3"));
  EXPECT_THAT(ErrorOf("[[hub]]\ntype = \"onnx\"\nrepo = \"a:b\"\n"), HasSubstr(":3"));
}

TEST(ParseConfigTest, RepoWithRefAndExtraParts) {
  const Config c = MustParse("[[hub]]\ntype = \"onnx\"\nrepo = \"o/n/extra:dev\"\n");
  ASSERT_EQ(c.hubs.size(), 1u);
  EXPECT_EQ(c.hubs[0].onnx.repo.owner, "o");
  EXPECT_EQ(c.hubs[0].onnx.repo.name, "n");
  EXPECT_EQ(c.hubs[0].onnx.repo.ref, "dev");
}

TEST(ParseConfigTest, BaseUrlsMustBeHttp) {
  for (const char* key : {"raw_base", "media_base"}) {
    for (const char* url :
         {"ftp://example.com", "file:///etc", "example.com/raw", "", "httpx://a"}) {
      const std::string text =
          std::string("[[hub]]\ntype = \"onnx\"\nrepo = \"o/n\"\n") + key + " = \"" + url + "\"\n";
      EXPECT_THAT(ErrorOf(text), AllOf(HasSubstr(std::string(kOrigin) + ":4"), HasSubstr(key)))
          << key << " = " << url;
    }
  }
  EXPECT_TRUE(
      ParseConfig("[[hub]]\ntype = \"onnx\"\nrepo = \"o/n\"\nraw_base = \"http://h\"\n", kOrigin)
          .ok());
  EXPECT_TRUE(
      ParseConfig("[[hub]]\ntype = \"onnx\"\nrepo = \"o/n\"\nmedia_base = \"https://h\"\n", kOrigin)
          .ok());
}

TEST(ParseConfigTest, MetadataTtl) {
  struct Case {
    const char* value;
    int64_t seconds;
  };
  const Case good[] = {{"\"10m\"", 600}, {"\"0s\"", 0},    {"\"90\"", 90},   {"45", 45},
                       {"0", 0},         {"\"2h\"", 7200}, {"\"1d\"", 86400}};
  for (const Case& c : good) {
    auto config = ParseConfig(std::string("metadata_ttl = ") + c.value + "\n", kOrigin);
    ASSERT_TRUE(config.ok()) << c.value << ": " << config.error().ToString();
    EXPECT_EQ(config->metadata_ttl, c.seconds) << c.value;
  }
}

TEST(ParseConfigTest, BadMetadataTtl) {
  for (const char* value :
       {"\"abc\"", "-5", "\"-5s\"", "\"1.5h\"", "1.5", "true", "\"\"", "\"10 m\"", "[1]"}) {
    const std::string error = ErrorOf(std::string("\nmetadata_ttl = ") + value + "\n");
    EXPECT_THAT(error, AllOf(HasSubstr(std::string(kOrigin) + ":2"), HasSubstr("metadata_ttl")))
        << value;
  }
}

TEST(ParseConfigTest, LogLevels) {
  const std::pair<const char*, log::Level> levels[] = {{"debug", log::Level::kDebug},
                                                       {"info", log::Level::kInfo},
                                                       {"warn", log::Level::kWarn},
                                                       {"error", log::Level::kError}};
  for (const auto& [text, level] : levels) {
    const Config c = MustParse(std::string("log_level = \"") + text + "\"\n");
    EXPECT_EQ(c.log_level, level) << text;
  }
}

TEST(ParseConfigTest, BadLogLevel) {
  for (const char* value : {"\"verbose\"", "\"\"", "2", "\"INFO \""}) {
    EXPECT_THAT(ErrorOf(std::string("log_level = ") + value + "\n"),
                AllOf(HasSubstr(std::string(kOrigin) + ":1"), HasSubstr("log_level")))
        << value;
  }
}

TEST(ParseConfigTest, LogTargetAndSyslogSocket) {
  Config c = MustParse("");
  EXPECT_EQ(c.log_target, log::Target::kAuto);
  EXPECT_EQ(c.syslog_socket, "/dev/log");
  c = MustParse("log_target = \"syslog\"\nsyslog_socket = \"/run/systemd/journal/dev-log\"\n");
  EXPECT_EQ(c.log_target, log::Target::kSyslog);
  EXPECT_EQ(c.syslog_socket, "/run/systemd/journal/dev-log");
  EXPECT_EQ(MustParse("log_target = \"file\"\nlog_file = \"/var/log/hubfs.log\"\n").log_target, log::Target::kFile);
  EXPECT_EQ(MustParse("log_target = \"auto\"\nlog_file = \"/var/log/hubfs.log\"\n").log_file, "/var/log/hubfs.log");
  const std::string described = DescribeConfig(c);
  EXPECT_THAT(described, HasSubstr("log_target = \"syslog\"\n"));
  EXPECT_THAT(described, HasSubstr("syslog_socket = \"/run/systemd/journal/dev-log\"\n"));
}

TEST(ParseConfigTest, BadLogTargetOrSyslogSocket) {
  for (const char* value : {"\"journal\"", "\"\"", "1", "\"Syslog\""}) {
    EXPECT_THAT(ErrorOf(std::string("\nlog_target = ") + value + "\n"),
                AllOf(HasSubstr(std::string(kOrigin) + ":2"), HasSubstr("'log_target' must be one of auto, stderr, file, syslog")))
        << value;
  }
  // A log_file the target never writes is a mistake.
  EXPECT_THAT(ErrorOf("log_file = \"/var/log/hubfs.log\"\nlog_target = \"syslog\"\n"),
              AllOf(HasSubstr(std::string(kOrigin) + ":1"), HasSubstr("'log_file' is set, but log_target = \"syslog\"")));
  EXPECT_THAT(ErrorOf("log_target = \"stderr\"\nlog_file = \"x.log\"\n"), HasSubstr("log_target = \"stderr\""));
  for (const std::string& value : {std::string("\"dev/log\""), std::string("\"\""), std::string("3"),
                                  "\"/" + std::string(120, 'x') + "\""}) {
    EXPECT_THAT(ErrorOf("syslog_socket = " + value + "\n"), HasSubstr("syslog_socket")) << value;
  }
}

TEST(ParseConfigTest, StringOptionsMustBeStrings) {
  EXPECT_THAT(ErrorOf("cache_dir = 5\n"), AllOf(HasSubstr(":1"), HasSubstr("cache_dir")));
  EXPECT_THAT(ErrorOf("log_file = false\n"), AllOf(HasSubstr(":1"), HasSubstr("log_file")));
  EXPECT_THAT(ErrorOf("[[hub]]\ntype = \"onnx\"\nname = 3\n"), HasSubstr("'name'"));
  EXPECT_THAT(ErrorOf("[[hub]]\ntype = \"onnx\"\nrepo = [\"a\"]\n"), HasSubstr("'repo'"));
}

TEST(ParseConfigTest, HubMustBeAnArrayOfTables) {
  EXPECT_THAT(ErrorOf("hub = \"onnx\"\n"), AllOf(HasSubstr(":1"), HasSubstr("[[hub]]")));
  EXPECT_THAT(ErrorOf("hub = [1, 2]\n"), HasSubstr("[[hub]]"));
  EXPECT_THAT(ErrorOf("[hub]\ntype = \"onnx\"\n"), HasSubstr("[[hub]]"));
}

TEST(ParseConfigTest, SyntaxErrorNamesFileAndLine) {
  const std::string error = ErrorOf("cache_dir = \"/x\"\nlog_level = \n");
  EXPECT_THAT(error, HasSubstr(std::string(kOrigin) + ":2"));
}

TEST(ParseDurationTest, Table) {
  struct Case {
    const char* text;
    std::optional<int64_t> seconds;
  };
  const Case cases[] = {
      {"90", 90},
      {"90s", 90},
      {"0", 0},
      {"0s", 0},
      {"10m", 600},
      {"2h", 7200},
      {"1d", 86400},
      {"007", 7},
      {"999999999999", 999999999999},
      {"999999999999d", 999999999999LL * 86400},
      {"", std::nullopt},
      {"s", std::nullopt},
      {"m", std::nullopt},
      {"abc", std::nullopt},
      {"-5", std::nullopt},
      {"-5s", std::nullopt},
      {"1.5h", std::nullopt},
      {"10M", std::nullopt},
      {"10ms", std::nullopt},
      {"1w", std::nullopt},
      {" 10m", std::nullopt},
      {"10 m", std::nullopt},
      {"10m ", std::nullopt},
      {"+5", std::nullopt},
      {"1e3", std::nullopt},
      {"1000000000000", std::nullopt},  // 13 digits: refuses rather than risking overflow
      {"5ss", std::nullopt},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ParseDuration(c.text), c.seconds) << '"' << c.text << '"';
  }
}

TEST(DefaultCacheDirTest, HonoursXdgCacheHome) {
  ScopedEnv xdg("XDG_CACHE_HOME", "/xdg/cache");
  ScopedEnv home("HOME", "/home/someone");
  EXPECT_EQ(DefaultCacheDir(), "/xdg/cache/hubfs");
}

TEST(DefaultCacheDirTest, FallsBackToHomeWhenXdgIsUnsetOrEmpty) {
  ScopedEnv home("HOME", "/home/someone");
  {
    ScopedEnv xdg("XDG_CACHE_HOME", std::nullopt);
    EXPECT_EQ(DefaultCacheDir(), "/home/someone/.cache/hubfs");
  }
  {
    ScopedEnv xdg("XDG_CACHE_HOME", "");
    EXPECT_EQ(DefaultCacheDir(), "/home/someone/.cache/hubfs");
  }
}

TEST(LoadConfigTest, ReadsTheFileAndFillsTheCacheDirFromXdg) {
  TempDir dir;
  const std::string path = dir.Write("hubfs.toml", "metadata_ttl = \"1h\"\n");
  ScopedEnv xdg("XDG_CACHE_HOME", dir.path() + "/cache");
  auto c = LoadConfig(path);
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  EXPECT_EQ(c->source, path);
  EXPECT_EQ(c->metadata_ttl, 3600);
  EXPECT_EQ(c->cache_dir, dir.path() + "/cache/hubfs");
  ExpectBuiltInHubs(*c);
}

TEST(LoadConfigTest, ExplicitCacheDirWins) {
  TempDir dir;
  const std::string path = dir.Write("hubfs.toml", "cache_dir = \"/srv/hubfs\"\n");
  ScopedEnv xdg("XDG_CACHE_HOME", "/xdg/cache");
  auto c = LoadConfig(path);
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  EXPECT_EQ(c->cache_dir, "/srv/hubfs");
}

TEST(LoadConfigTest, ErrorsNameTheFile) {
  TempDir dir;
  const std::string path = dir.Write("bad.toml", "\n\nbogus = 1\n");
  auto c = LoadConfig(path);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code(), Code::kInvalidArgument);
  EXPECT_THAT(c.error().message(), AllOf(HasSubstr(path + ":3"), HasSubstr("bogus")));
}

TEST(LoadConfigTest, MissingFileIsAReadableError) {
  TempDir dir;
  const std::string path = dir.path() + "/does-not-exist.toml";
  auto c = LoadConfig(path);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code(), Code::kInvalidArgument);
  EXPECT_THAT(c.error().message(), HasSubstr(path));
  EXPECT_THAT(c.error().message(), HasSubstr("cannot read"));
}

TEST(LoadConfigTest, DirectoryIsAnErrorNotTheDefaults) {
  TempDir dir;
  auto c = LoadConfig(dir.path());
  ASSERT_FALSE(c.ok()) << "loaded '" << c->source << "' from a directory";
  EXPECT_EQ(c.error().code(), Code::kInvalidArgument);
  EXPECT_THAT(c.error().message(), HasSubstr(dir.path()));
}

TEST(LoadConfigTest, EmptyPathFindsTheUserConfigUnderXdgConfigHome) {
  TempDir dir;
  const std::string path = dir.Write("config/hubfs/config.toml", "log_level = \"warn\"\n");
  ScopedEnv config_home("XDG_CONFIG_HOME", dir.path() + "/config");
  ScopedEnv cache_home("XDG_CACHE_HOME", dir.path() + "/cache");
  auto c = LoadConfig("");
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  EXPECT_EQ(c->source, path);
  EXPECT_EQ(c->log_level, log::Level::kWarn);
  EXPECT_EQ(c->cache_dir, dir.path() + "/cache/hubfs");
}

TEST(LoadConfigTest, EmptyPathFindsTheUserConfigUnderHome) {
  TempDir dir;
  const std::string path = dir.Write(".config/hubfs/config.toml", "metadata_ttl = 5\n");
  ScopedEnv config_home("XDG_CONFIG_HOME", std::nullopt);
  ScopedEnv home("HOME", dir.path());
  auto c = LoadConfig("");
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  EXPECT_EQ(c->source, path);
  EXPECT_EQ(c->metadata_ttl, 5);
}

TEST(LoadConfigTest, EmptyPathWithoutAnyFileUsesBuiltInDefaults) {
  if (std::filesystem::exists("/etc/hubfs/config.toml")) {
    GTEST_SKIP() << "/etc/hubfs/config.toml exists on this machine";
  }
  TempDir dir;
  ScopedEnv config_home("XDG_CONFIG_HOME", dir.path());
  ScopedEnv cache_home("XDG_CACHE_HOME", dir.path() + "/cache");
  auto c = LoadConfig("");
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  EXPECT_EQ(c->source, "built-in defaults");
  EXPECT_EQ(c->cache_dir, dir.path() + "/cache/hubfs");
  EXPECT_EQ(c->metadata_ttl, 600);
  ExpectBuiltInHubs(*c);
}

// ---- digits and mindspore hubs ---------------------------------------------------------------

TEST(ParseConfigTest, HubfsFolderNameIsReserved) {
  EXPECT_THAT(ErrorOf("[[hub]]\ntype = \"onnx\"\nname = \".hubfs\"\nrepo = \"a/b\"\n"),
              AllOf(HasSubstr(":1"), HasSubstr("reserved")));
}

TEST(ParseConfigTest, DigitsHubWithUrlsAndNames) {
  Config c = MustParse(
      "[[hub]]\ntype = \"digits\"\nurls = [\"http://a/store/\", \"https://b/5.0\"]\nnames = [\"nv\"]\n"
      "verification = \"lazy\"\n");
  ASSERT_EQ(c.hubs.size(), 1u);
  const HubConfig& hub = c.hubs[0];
  EXPECT_EQ(hub.type, "digits");
  EXPECT_EQ(hub.name, "digits");
  EXPECT_EQ(hub.digits.name, "digits");
  ASSERT_EQ(hub.digits.stores.size(), 2u);
  EXPECT_EQ(hub.digits.stores[0].url, "http://a/store/");
  EXPECT_EQ(hub.digits.stores[0].name, "nv");
  EXPECT_EQ(hub.digits.stores[1].name, "") << "derived later from the URL";
  EXPECT_EQ(hub.verification, fs::Verification::kLazy);
}

TEST(ParseConfigTest, DigitsHubErrorsNameTheLine) {
  EXPECT_THAT(ErrorOf("[[hub]]\ntype = \"digits\"\nurls = \"http://a/\"\n"),
              AllOf(HasSubstr(":3"), HasSubstr("'urls' must be an array of strings")));
  EXPECT_THAT(ErrorOf("[[hub]]\ntype = \"digits\"\nurls = [\"ftp://a/\"]\n"),
              AllOf(HasSubstr(":3"), HasSubstr("ftp://a/")));
  EXPECT_THAT(ErrorOf("[[hub]]\ntype = \"digits\"\nurls = [\"http://a/\"]\nnames = [\"x\", \"y\"]\n"),
              AllOf(HasSubstr(":4"), HasSubstr("more entries than 'urls'")));
  EXPECT_THAT(ErrorOf("[[hub]]\ntype = \"digits\"\nrepo = \"a/b\"\n"),
              AllOf(HasSubstr(":3"), HasSubstr("unknown key 'repo'")));
}

TEST(ParseConfigTest, MindSporeHubDefaultsAndBranches) {
  Config c = MustParse("[[hub]]\ntype = \"mindspore\"\n");
  ASSERT_EQ(c.hubs.size(), 1u);
  EXPECT_EQ(c.hubs[0].name, "mindspore");
  EXPECT_EQ(c.hubs[0].mindspore.git_url, "https://gitee.com/mindspore/hub.git");
  EXPECT_EQ(c.hubs[0].mindspore.branches, std::vector<std::string>{"master"});
  c = MustParse("[[hub]]\ntype = \"mindspore\"\nname = \"ms\"\ngit_url = \"http://127.0.0.1:1/hub.git\"\n"
                "branches = [\"master\", \"r1.3\"]\n");
  EXPECT_EQ(c.hubs[0].mindspore.name, "ms");
  EXPECT_EQ(c.hubs[0].mindspore.git_url, "http://127.0.0.1:1/hub.git");
  EXPECT_EQ(c.hubs[0].mindspore.branches, (std::vector<std::string>{"master", "r1.3"}));
  EXPECT_THAT(ErrorOf("[[hub]]\ntype = \"mindspore\"\nbranches = []\n"),
              AllOf(HasSubstr(":3"), HasSubstr("at least one branch")));
}

TEST(DigitsEnvironmentTest, AddsStoresToTheFirstDigitsHubOrCreatesOne) {
  Config c = MustParse("[[hub]]\ntype = \"onnx\"\nrepo = \"onnx/models\"\n");
  ASSERT_TRUE(AddDigitsStoresFromEnvironment("http://x/store, https://y/5.0,", &c).ok());
  ASSERT_EQ(c.hubs.size(), 2u);
  EXPECT_EQ(c.hubs[1].type, "digits");
  EXPECT_EQ(c.hubs[1].name, "digits");
  ASSERT_EQ(c.hubs[1].digits.stores.size(), 2u);
  EXPECT_EQ(c.hubs[1].digits.stores[1].url, "https://y/5.0");

  Config d = MustParse("[[hub]]\ntype = \"digits\"\nname = \"stores\"\nurls = [\"http://a/\"]\n");
  ASSERT_TRUE(AddDigitsStoresFromEnvironment("http://b/", &d).ok());
  ASSERT_EQ(d.hubs.size(), 1u);
  EXPECT_EQ(d.hubs[0].digits.stores.size(), 2u);
  EXPECT_TRUE(AddDigitsStoresFromEnvironment("", &d).ok());
  EXPECT_EQ(d.hubs[0].digits.stores.size(), 2u);
  auto bad = AddDigitsStoresFromEnvironment("not a url", &d);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.message(), HasSubstr("DIGITS_MODEL_STORE_URL"));
}

TEST(LoadConfigTest, DigitsHubWithoutStoresIsAnError) {
  TempDir dir;
  const std::string path = dir.Write("hubfs.toml", "[[hub]]\ntype = \"digits\"\n");
  ScopedEnv stores("DIGITS_MODEL_STORE_URL", std::nullopt);
  auto c = LoadConfig(path);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.error().message(), AllOf(HasSubstr(path), HasSubstr("no stores")));
  ScopedEnv set("DIGITS_MODEL_STORE_URL", "http://127.0.0.1:9/store/");
  auto with_env = LoadConfig(path);
  ASSERT_TRUE(with_env.ok()) << with_env.error().ToString();
  EXPECT_EQ(with_env->hubs[0].digits.stores.size(), 1u);
}

}  // namespace
}  // namespace hubfs::app

namespace hubfs::app {
namespace {

TEST(HfConfigTest, ParsesItsKeysAndNamesBadOnes) {
  auto c = ParseConfig(R"([[hub]]
type = "hf"
endpoint = "http://127.0.0.1:9000"
token = "hf_abc"
hf_cache = ""
repos = ["onnxmodelzoo/mnist", "datasets/org/data@v1"]
)", "t.toml");
  ASSERT_TRUE(c) << c.error().ToString();
  const HubConfig& hub = c->hubs.at(0);
  EXPECT_EQ(hub.name, "hf");
  EXPECT_EQ(hub.hf.endpoint, "http://127.0.0.1:9000");
  EXPECT_EQ(hub.hf.token, "hf_abc");
  EXPECT_EQ(hub.hf.hf_cache, "");
  EXPECT_EQ(hub.hf.repos.size(), 2u);
  const std::string described = DescribeConfig(*c);
  EXPECT_EQ(described.find("hf_abc"), std::string::npos) << described;
  EXPECT_NE(described.find("token = \"(set, not shown)\""), std::string::npos);

  auto bad = ParseConfig("[[hub]]\ntype = \"hf\"\nrepos = [\"no-slash\"]\n", "t.toml");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("t.toml:3"), std::string::npos) << bad.error().message();
  EXPECT_FALSE(ParseConfig("[[hub]]\ntype = \"hf\"\nendpoint = \"ftp://x\"\n", "t.toml"));
  EXPECT_FALSE(ParseConfig("[[hub]]\ntype = \"hf\"\nhf_cache = \"relative\"\n", "t.toml"));
  EXPECT_FALSE(ParseConfig("[[hub]]\ntype = \"hf\"\nrepo = \"a/b\"\n", "t.toml"));
}

TEST(HfConfigTest, EnvironmentFillsWhatTheFileLeftUnset) {
  TempDir dir;
  dir.Write("token", "hf_from_file\n");
  std::map<std::string, std::string> env = {{"HF_HOME", dir.path()}, {"HF_ENDPOINT", "http://mirror.test/"}};
  auto lookup = [&](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  Config c = *ParseConfig("[[hub]]\ntype = \"hf\"\n[[hub]]\ntype = \"hf\"\nname = \"own\"\n"
                          "endpoint = \"http://own.test\"\ntoken = \"hf_own\"\nhf_cache = \"/x\"\n",
                          "t.toml");
  ASSERT_TRUE(ApplyHfEnvironment(lookup, &c).ok());
  EXPECT_EQ(c.hubs[0].hf.endpoint, "http://mirror.test");
  EXPECT_EQ(c.hubs[0].hf.token, "hf_from_file");
  EXPECT_EQ(c.hubs[0].hf.token_file, dir.path() + "/token");  // mount warns when others can read it
  EXPECT_EQ(c.hubs[1].hf.token_file, "");
  EXPECT_EQ(c.hubs[0].hf.hf_cache, dir.path() + "/hub");
  EXPECT_EQ(c.hubs[1].hf.endpoint, "http://own.test") << "the file wins over the environment";
  EXPECT_EQ(c.hubs[1].hf.token, "hf_own");
  EXPECT_EQ(c.hubs[1].hf.hf_cache, "/x");

  env = {{"HOME", "/home/u"}, {"HF_TOKEN", "hf_env"}, {"HF_HUB_CACHE", "/cache/hub"}};
  Config d = *ParseConfig("[[hub]]\ntype = \"hf\"\n", "t.toml");
  ASSERT_TRUE(ApplyHfEnvironment(lookup, &d).ok());
  EXPECT_EQ(d.hubs[0].hf.endpoint, "https://huggingface.co");
  EXPECT_EQ(d.hubs[0].hf.token, "hf_env");
  EXPECT_EQ(d.hubs[0].hf.token_file, "");
  EXPECT_EQ(d.hubs[0].hf.hf_cache, "/cache/hub");

  env = {{"HOME", "/home/u"}};
  Config e = *ParseConfig("[[hub]]\ntype = \"hf\"\n", "t.toml");
  ASSERT_TRUE(ApplyHfEnvironment(lookup, &e).ok());
  EXPECT_FALSE(e.hubs[0].hf.token);
  EXPECT_EQ(e.hubs[0].hf.hf_cache, "/home/u/.cache/huggingface/hub");

  env = {{"HF_ENDPOINT", "huggingface.co"}};
  Config f = *ParseConfig("[[hub]]\ntype = \"hf\"\n", "t.toml");
  EXPECT_FALSE(ApplyHfEnvironment(lookup, &f).ok());
}

}  // namespace
}  // namespace hubfs::app
