#include "app/status_text.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "app/daemon_status.h"
#include "hubfs/core/time_text.h"

namespace hubfs::app {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(StatusText, Durations) {
  EXPECT_EQ(FormatDuration(-3), "0s");
  EXPECT_EQ(FormatDuration(45), "45s");
  EXPECT_EQ(FormatDuration(750), "12m 30s");
  EXPECT_EQ(FormatDuration(7500), "2h 05m");
  EXPECT_EQ(FormatDuration(3 * 86400 + 4 * 3600 + 59), "3d 04h");
  EXPECT_EQ(UtcTimestamp(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(UtcTimestamp(1'700'000'000), "2023-11-14T22:13:20Z");
  EXPECT_EQ(LabelColumn("pinned"), "  pinned       ");
}

nlohmann::json SampleStatus() {
  return nlohmann::json::parse(R"({
    "ok": true, "mountpoint": "/models", "pid": 4242, "version": "0.1.0", "uptime_seconds": 125,
    "config_source": "/etc/hubfs/config.toml",
    "cache": {"dir": "/var/cache/hubfs", "used_bytes": 1048576, "reserved_bytes": 0, "limit_bytes": 4194304},
    "hubs": [{"name": "onnx", "type": "onnx", "entries": 120, "files": 80, "listed_at": 100,
              "age_seconds": 62, "stale": false, "error": ""},
             {"name": "digits", "type": "digits", "entries": 0, "files": 0, "listed_at": null,
              "age_seconds": null, "stale": true, "error": "HTTP 500"}],
    "open_files": 2, "fetches_in_flight": 1,
    "downloads": [{"path": "/onnx/a.onnx", "url": "http://127.0.0.1/a.onnx", "size": 2048,
                   "cached_bytes": 1024, "state": "partial", "readers": 1}],
    "counters": {"bytes_from_origin": 2048, "bytes_served": 4096, "reads": 5, "read_hits": 3,
                 "read_misses": 2, "verify_failures": 1, "fetch_failures": 0, "evictions": 0},
    "errors_total": 1,
    "errors": [{"at": 0, "op": "read", "path": "/onnx/bad.onnx", "source": "http://127.0.0.1/bad.onnx",
                "kind": "DataLoss", "message": "sha256 mismatch"}]
  })");
}

TEST(StatusText, PrintsEverySection) {
  std::ostringstream out;
  PrintStatusText(SampleStatus(), out);
  const std::string text = out.str();
  EXPECT_THAT(text, HasSubstr("/models\n"));
  EXPECT_THAT(text, HasSubstr("daemon       pid 4242, up 2m 05s (hubfs 0.1.0)"));
  EXPECT_THAT(text, HasSubstr("config       /etc/hubfs/config.toml"));
  EXPECT_THAT(text, HasSubstr("cache        /var/cache/hubfs: 1.0 MiB used of 4.0 MiB (25%)"));
  EXPECT_THAT(text, HasSubstr("hubs         onnx (onnx): 120 entries, 80 files, listed 1m 02s ago\n"));
  EXPECT_THAT(text, HasSubstr("digits (digits): 0 entries, 0 files, no listing, stale: HTTP 500"));
  EXPECT_THAT(text, HasSubstr("fetches      1 in flight"));
  EXPECT_THAT(text, HasSubstr("/onnx/a.onnx: 1.0 KiB of 2.0 KiB (50%), partial (http://127.0.0.1/a.onnx)"));
  EXPECT_THAT(text, HasSubstr("traffic      2.0 KiB from origin, 4.0 KiB served"));
  EXPECT_THAT(text, HasSubstr("reads        5: 3 hits, 2 misses"));
  EXPECT_THAT(text, HasSubstr("failures     1 verify, 0 fetch; 0 evictions"));
  EXPECT_THAT(text, HasSubstr("errors       1 since the mount; the last 1:"));
  EXPECT_THAT(text, HasSubstr("1970-01-01T00:00:00Z read /onnx/bad.onnx (http://127.0.0.1/bad.onnx): "
                              "DataLoss: sha256 mismatch"));
}

TEST(StatusText, MissingFieldsAndNoLimitStillPrint) {
  nlohmann::json status = {{"mountpoint", "/m"}, {"cache", {{"dir", "/c"}, {"limit_bytes", nullptr}}}};
  std::ostringstream out;
  PrintStatusText(status, out);
  EXPECT_THAT(out.str(), HasSubstr("0 B used of no limit"));
  EXPECT_THAT(out.str(), HasSubstr("hubs         none"));
  EXPECT_THAT(out.str(), HasSubstr("errors       none"));
  EXPECT_THAT(out.str(), Not(HasSubstr("the last")));
}

TEST(StatusText, NotAnswering) {
  std::ostringstream out;
  PrintNotAnswering("/m", "connection refused", out);
  EXPECT_EQ(out.str(), "/m\n  daemon       not answering: connection refused\n");
}

TEST(DaemonStatus, StaleWhenFailedMissingOrOld) {
  fs::HubStatus hub;
  hub.listed_at = 1000;
  EXPECT_FALSE(HubIsStale(hub, 600, 1000 + 1200));
  EXPECT_TRUE(HubIsStale(hub, 600, 1000 + 1201));
  hub.error = "HTTP 500";
  EXPECT_TRUE(HubIsStale(hub, 600, 1000));
  hub.error.clear();
  hub.listed_at = 0;
  EXPECT_TRUE(HubIsStale(hub, 600, 1000));
}

}  // namespace
}  // namespace hubfs::app
