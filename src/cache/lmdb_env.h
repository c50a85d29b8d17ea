// Private RAII wrappers over LMDB, returning Status. MDB_val views never leave src/cache/:
// callers copy what they need before the transaction ends.
//
// The environment is opened with MDB_NOTLS: read transactions are tied to the transaction object,
// not the thread, so FUSE worker threads can each hold one without exhausting reader slots. It
// is opened with MDB_NOSYNC: commits do not fsync (see cache.h for why that is safe here); Sync()
// flushes.
#pragma once

#include <lmdb.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "hubfs/core/result.h"

namespace hubfs::cache {

Status LmdbError(int rc, std::string_view what);

class LmdbEnv {
 public:
  static Result<LmdbEnv> Open(const std::string& path, size_t map_size, unsigned max_dbs);
  LmdbEnv(LmdbEnv&& other) noexcept : env_(other.env_) { other.env_ = nullptr; }
  LmdbEnv& operator=(LmdbEnv&&) = delete;
  LmdbEnv(const LmdbEnv&) = delete;
  ~LmdbEnv() {
    if (env_) mdb_env_close(env_);
  }
  MDB_env* get() const { return env_; }
  Status Sync();

 private:
  explicit LmdbEnv(MDB_env* env) : env_(env) {}
  MDB_env* env_;
};

// A transaction; aborted in the destructor unless committed.
class LmdbTxn {
 public:
  static Result<LmdbTxn> Begin(MDB_env* env, bool read_only);
  LmdbTxn(LmdbTxn&& other) noexcept : txn_(other.txn_) { other.txn_ = nullptr; }
  LmdbTxn& operator=(LmdbTxn&&) = delete;
  LmdbTxn(const LmdbTxn&) = delete;
  ~LmdbTxn() {
    if (txn_) mdb_txn_abort(txn_);
  }
  // Clears the handle before committing, so a failed commit is never aborted twice.
  Status Commit();
  MDB_txn* get() const { return txn_; }

  Result<std::optional<std::string>> Get(MDB_dbi dbi, std::string_view key);
  Status Put(MDB_dbi dbi, std::string_view key, std::string_view value);
  // OK also when the key did not exist.
  Status Delete(MDB_dbi dbi, std::string_view key);
  // Calls `visit(key, value)` for every key starting with `prefix`, in key order, until it
  // returns false. Views are valid only during the call.
  Status ForEachWithPrefix(MDB_dbi dbi, std::string_view prefix,
                           const std::function<bool(std::string_view, std::string_view)>& visit);

 private:
  explicit LmdbTxn(MDB_txn* txn) : txn_(txn) {}
  MDB_txn* txn_;
};

}  // namespace hubfs::cache
