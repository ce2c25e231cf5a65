// SQLite's C API (Debian: libsqlite3-dev).
#pragma once
#include <sqlite3.h>

/// Binds a copy of `text` (SQLITE_TRANSIENT, which Swift cannot import).
static inline int ga_sqlite3_bind_text(sqlite3_stmt *stmt, int index, const char *text, int length) {
  return sqlite3_bind_text(stmt, index, text, length, SQLITE_TRANSIENT);
}

/// Binds a copy of `blob` (SQLITE_TRANSIENT).
static inline int ga_sqlite3_bind_blob(sqlite3_stmt *stmt, int index, const void *blob, int length) {
  return sqlite3_bind_blob(stmt, index, blob, length, SQLITE_TRANSIENT);
}

/// Turns off SQLite's memory-usage statistics before the library initializes:
/// with them on, every sqlite3_malloc and sqlite3_free takes one process-wide
/// mutex that the writer and reader threads contend on. Returns SQLITE_MISUSE
/// if SQLite was already initialized (then it changes nothing).
static inline int ga_sqlite3_disable_memstatus(void) {
  return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static int ga_sqlite3_store_wal_frames(void *frames, sqlite3 *db, const char *name, int count) {
  (void)db; (void)name;
  *(int *)frames = count;
  return SQLITE_OK;
}

/// After each commit on `db`, stores the number of frames in its WAL into
/// `*frames` (read on the committing thread only). Replaces automatic
/// checkpoints on `db`: the caller checkpoints from another connection.
static inline void ga_sqlite3_track_wal_frames(sqlite3 *db, int *frames) {
  sqlite3_wal_hook(db, ga_sqlite3_store_wal_frames, frames);
}

/// Removes the hook installed by ga_sqlite3_track_wal_frames (before its counter is freed).
static inline void ga_sqlite3_untrack_wal_frames(sqlite3 *db) {
  sqlite3_wal_hook(db, 0, 0);
}
