// Unit tests exercise warning paths on purpose; only errors reach the test output.
// HUBFS_TEST_LOG=debug shows everything.
#include <cstdlib>

#include "hubfs/core/logging.h"

namespace {

const bool kQuietLogs = [] {
  hubfs::log::Level level = hubfs::log::Level::kError;
  if (const char* env = std::getenv("HUBFS_TEST_LOG")) hubfs::log::ParseLevel(env, &level);
  hubfs::log::SetLevel(level);
  return true;
}();

}  // namespace
