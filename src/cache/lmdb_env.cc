#include "lmdb_env.h"

namespace hubfs::cache {

Status LmdbError(int rc, std::string_view what) {
  std::string msg = std::string(what) + ": " + mdb_strerror(rc);
  if (rc == MDB_MAP_FULL) return Status::ResourceExhausted(msg);
  if (rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND || rc == MDB_INVALID) return Status::DataLoss(msg);
  return Status::IoError(msg);
}

Result<LmdbEnv> LmdbEnv::Open(const std::string& path, size_t map_size, unsigned max_dbs) {
  MDB_env* env = nullptr;
  int rc = mdb_env_create(&env);
  if (rc != 0) return LmdbError(rc, "mdb_env_create");
  LmdbEnv owned(env);
  if ((rc = mdb_env_set_mapsize(env, map_size)) != 0) return LmdbError(rc, "mdb_env_set_mapsize");
  if ((rc = mdb_env_set_maxdbs(env, max_dbs)) != 0) return LmdbError(rc, "mdb_env_set_maxdbs");
  if ((rc = mdb_env_set_maxreaders(env, 512)) != 0) return LmdbError(rc, "mdb_env_set_maxreaders");
  if ((rc = mdb_env_open(env, path.c_str(), MDB_NOTLS | MDB_NOSYNC, 0600)) != 0) {
    return LmdbError(rc, "opening LMDB index " + path);
  }
  // Readers left behind by processes that died (kill -9) would pin old pages forever.
  int dead = 0;
  mdb_reader_check(env, &dead);
  return owned;
}

Status LmdbEnv::Sync() {
  int rc = mdb_env_sync(env_, 1);
  return rc == 0 ? Status() : LmdbError(rc, "mdb_env_sync");
}

Result<LmdbTxn> LmdbTxn::Begin(MDB_env* env, bool read_only) {
  MDB_txn* txn = nullptr;
  int rc = mdb_txn_begin(env, nullptr, read_only ? MDB_RDONLY : 0, &txn);
  if (rc != 0) return LmdbError(rc, "mdb_txn_begin");
  return LmdbTxn(txn);
}

Status LmdbTxn::Commit() {
  MDB_txn* txn = txn_;
  txn_ = nullptr;
  int rc = mdb_txn_commit(txn);
  return rc == 0 ? Status() : LmdbError(rc, "mdb_txn_commit");
}

Result<std::optional<std::string>> LmdbTxn::Get(MDB_dbi dbi, std::string_view key) {
  MDB_val k{key.size(), const_cast<char*>(key.data())};
  MDB_val v{};
  int rc = mdb_get(txn_, dbi, &k, &v);
  if (rc == MDB_NOTFOUND) return std::optional<std::string>();
  if (rc != 0) return LmdbError(rc, "mdb_get");
  return std::optional<std::string>(std::string(static_cast<const char*>(v.mv_data), v.mv_size));
}

Status LmdbTxn::Put(MDB_dbi dbi, std::string_view key, std::string_view value) {
  MDB_val k{key.size(), const_cast<char*>(key.data())};
  MDB_val v{value.size(), const_cast<char*>(value.data())};
  int rc = mdb_put(txn_, dbi, &k, &v, 0);
  return rc == 0 ? Status() : LmdbError(rc, "mdb_put");
}

Status LmdbTxn::Delete(MDB_dbi dbi, std::string_view key) {
  MDB_val k{key.size(), const_cast<char*>(key.data())};
  int rc = mdb_del(txn_, dbi, &k, nullptr);
  if (rc == 0 || rc == MDB_NOTFOUND) return Status();
  return LmdbError(rc, "mdb_del");
}

}  // namespace hubfs::cache

namespace hubfs::cache {

Status LmdbTxn::ForEachWithPrefix(
    MDB_dbi dbi, std::string_view prefix,
    const std::function<bool(std::string_view, std::string_view)>& visit) {
  MDB_cursor* cursor = nullptr;
  int rc = mdb_cursor_open(txn_, dbi, &cursor);
  if (rc != 0) return LmdbError(rc, "mdb_cursor_open");
  struct Closer {
    MDB_cursor* c;
    ~Closer() { mdb_cursor_close(c); }
  } closer{cursor};
  MDB_val k{prefix.size(), const_cast<char*>(prefix.data())};
  MDB_val v{};
  rc = mdb_cursor_get(cursor, &k, &v, prefix.empty() ? MDB_FIRST : MDB_SET_RANGE);
  while (rc == 0) {
    std::string_view key(static_cast<const char*>(k.mv_data), k.mv_size);
    if (key.substr(0, prefix.size()) != prefix) break;
    if (!visit(key, std::string_view(static_cast<const char*>(v.mv_data), v.mv_size))) break;
    rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT);
  }
  if (rc != 0 && rc != MDB_NOTFOUND) return LmdbError(rc, "mdb_cursor_get");
  return Status();
}

}  // namespace hubfs::cache
