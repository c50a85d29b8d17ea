// Times as text, the same everywhere they are shown (.hubfs/errors, hubfs status, hubfs info).
#pragma once

#include <cstdint>
#include <string>

namespace hubfs {

// "2024-05-01T12:00:00Z": seconds since the epoch, in UTC.
std::string UtcTimestamp(int64_t seconds_since_epoch);

}  // namespace hubfs
