// The baseline for durable writes: single-row SQLite transactions, one at a
// time, in WAL mode with synchronous=FULL — one fsync per commit — on the
// disk under test. Prints commits per second as JSON.
//   usage: sqlite-commit DB_PATH COUNT
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: sqlite-commit DB COUNT\n"); return 1; }
  sqlite3 *db;
  if (sqlite3_open(argv[1], &db) != SQLITE_OK) { fprintf(stderr, "open failed\n"); return 1; }
  sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v BLOB);", 0, 0, 0);
  sqlite3_stmt *insert;
  sqlite3_prepare_v2(db, "INSERT INTO t (v) VALUES (randomblob(200))", -1, &insert, 0);
  int count = atoi(argv[2]);
  double start = now_s();
  for (int i = 0; i < count; i++) {
    sqlite3_exec(db, "BEGIN", 0, 0, 0);
    sqlite3_step(insert);
    sqlite3_reset(insert);
    sqlite3_exec(db, "COMMIT", 0, 0, 0);
  }
  double elapsed = now_s() - start;
  printf("{\"commits\":%d,\"seconds\":%.3f,\"commits_per_second\":%.0f}\n", count, elapsed, count / elapsed);
  sqlite3_finalize(insert);
  sqlite3_close(db);
  return 0;
}
