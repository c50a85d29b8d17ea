#include "block_sinks.h"

#include <cinttypes>
#include <cstdio>
#include <cstdlib>

namespace hubfs::fs {

Status CheckRangeResponse(const net::HttpResponse& head, uint64_t first, uint64_t last,
                          uint64_t total, const std::string& url) {
  if (head.status == 200 && first == 0 && last + 1 == total) return Status();  // whole file
  if (head.status != 206) {
    return Status::DataLoss("GET " + url + " (bytes " + std::to_string(first) + "-" +
                            std::to_string(last) + "): expected HTTP 206, got " +
                            std::to_string(head.status) +
                            (head.status == 200 ? " (the server ignores Range requests)" : ""));
  }
  auto range = head.Header("Content-Range");
  uint64_t a = 0, b = 0;
  char total_text[32] = {0};
  const bool parsed =
      range && std::sscanf(range->c_str(), "bytes %" SCNu64 "-%" SCNu64 "/%31s", &a, &b, total_text) == 3;
  const std::string server_total = parsed ? total_text : "";
  if (parsed && server_total != "*" && server_total != std::to_string(total)) {
    const uint64_t size = std::strtoull(server_total.c_str(), nullptr, 10);
    return Status::DataLoss("GET " + url + ": the server's file is " + server_total +
                            " bytes, the hub publishes " + std::to_string(total) +
                            (size < 1024 ? " (a Git LFS pointer? media_base must name the LFS media host, "
                                           "not the raw host)"
                                         : " (has the file changed on the server?)"));
  }
  if (!parsed || a != first || b != last) {
    return Status::DataLoss("GET " + url + ": Content-Range '" + range.value_or("") +
                            "' does not match bytes " + std::to_string(first) + "-" +
                            std::to_string(last) + "/" + std::to_string(total) +
                            " (has the file changed on the server?)");
  }
  return Status();
}

}  // namespace hubfs::fs
