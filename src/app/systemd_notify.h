// Readiness for systemd's Type=notify services (packaging/hubfs@.service), without libsystemd:
// one datagram to the socket named by $NOTIFY_SOCKET, as sd_notify(3) describes. Without that
// variable (not started by systemd) nothing is sent.
#pragma once

#include <string>

namespace hubfs::app {

// Sends `state` (newline-separated assignments such as "READY=1\nSTATUS=...") to
// $NOTIFY_SOCKET; returns false when the variable is unset or the datagram could not be sent.
bool NotifySystemd(const std::string& state);

}  // namespace hubfs::app
