// libpq, PostgreSQL's C client library (Debian: libpq-dev; pkg-config libpq).
#pragma once
#include <libpq-fe.h>
#include <poll.h>

/// Waits up to `timeout_ms` for `socket` to become readable; returns poll's result.
static inline int ga_pq_wait_readable(int socket, int timeout_ms) {
  struct pollfd fd = { .fd = socket, .events = POLLIN, .revents = 0 };
  return poll(&fd, 1, timeout_ms);
}

static void ga_pq_ignore_notice(void *argument, const char *message) { (void)argument; (void)message; }

/// Drops the server's notices and warnings (libpq prints them on standard
/// error by default); errors still reach the caller through results.
static inline void ga_pq_quiet(PGconn *connection) {
  PQsetNoticeProcessor(connection, ga_pq_ignore_notice, NULL);
}
