// `hubfs status` as text: the daemon's status reply (daemon_status.h) in aligned lines, one block
// per mount. Private to src/app/.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>

#include <nlohmann/json.hpp>

namespace hubfs::app {

// "45s", "12m 30s", "2h 05m", "3d 04h" (negative counts as 0).
std::string FormatDuration(int64_t seconds);

// The label column of status and info blocks: "  label" padded to 15 characters.
std::string LabelColumn(const char* label);

// Prints one mount's block from its status reply. Missing fields print as "?", so a reply of a
// newer or older daemon still prints.
void PrintStatusText(const nlohmann::json& status, std::ostream& out);

// Prints the block of a mount whose daemon did not answer.
void PrintNotAnswering(const std::string& mountpoint, const std::string& reason, std::ostream& out);

}  // namespace hubfs::app
