// Secrets in a configuration file must be readable only by the daemon's user.
//
// A configuration that holds a credential (any key named `token`, in any table: the Hugging Face
// hub's `token` in a [[hub]], or one added later) is refused when its file mode lets the group
// or others read it, with an error that names the file, the line and the fix (chmod 600). A file
// without such a key may have any mode: hub URLs are not secrets.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "hubfs/core/status.h"

namespace hubfs::app {

// The key names that hold secrets.
bool IsSecretKey(std::string_view key);

// `text` is the content of `path`, whose st_mode is `mode`. Returns an InvalidArgument error
// naming `path` when the text holds a secret key and `mode` has S_IRGRP or S_IROTH. Text that is
// not valid TOML passes (the parser reports it).
Status CheckSecretsArePrivate(const std::string& path, mode_t mode, std::string_view text);

}  // namespace hubfs::app
