// Binary encoding of index records: a record-type byte, then fixed-width little-endian integers
// and length-prefixed strings. Decoding is defensive: a record that does not parse is kDataLoss
// (the caller drops it), never a crash.
#pragma once

#include <string>
#include <string_view>

#include "hubfs/cache/cache.h"

namespace hubfs::cache {

std::string EncodeBlobRecord(const BlobRecord& record);
Result<BlobRecord> DecodeBlobRecord(std::string_view bytes);

// Block records: a flags byte (bit 0: present) and the block's digest.
std::string EncodeBlockRecord(const BlockInfo& block);
Result<BlockInfo> DecodeBlockRecord(std::string_view bytes);

std::string EncodeDocRecord(const DocRecord& record);
Result<DocRecord> DecodeDocRecord(std::string_view bytes);

}  // namespace hubfs::cache
