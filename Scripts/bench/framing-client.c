// A pipelining GuestAccess client at the framing floor: keeps CONCURRENCY
// Health.Check calls in flight on each connection (frames exactly as
// docs/PROTOCOL.md §13: HEADERS with CallHeaders{method}, MESSAGE with
// END_STREAM and an empty request), starts a new call for every TRAILERS
// that comes back, and writes all the calls one read made room for in one
// send. One thread, epoll. Checks each reply (a MESSAGE `08 01` = SERVING
// then an empty TRAILERS = OK); anything else counts as an error.
//   usage: framing-client HOST:PORT CONCURRENCY SECONDS [CONNECTIONS] [WARMUP_SECONDS]
// Prints one JSON line: calls, errors, seconds, rps (calls/s after the warm-up).
// Environment: FRAMING_CPU=N pins the client to CPU N.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char method[] = "/guestaccess.v1.Health/Check";
#define METHOD_LEN (sizeof method - 1)
#define CALL_BYTES (12 + 2 + METHOD_LEN + 12)

struct conn {
  int fd;
  uint32_t next_id;
  int preface_seen;
  unsigned char in[1 << 16];   // an incomplete frame carried to the next read
  size_t in_len;
  unsigned char *out;
  size_t out_len, out_cap;
  int watching_out;
};

static long long calls, errors;
static int measuring;

static void die(const char *what) { perror(what); exit(1); }

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint32_t be32(const unsigned char *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static void put32(unsigned char *p, uint32_t v) { p[0] = v >> 24, p[1] = v >> 16, p[2] = v >> 8, p[3] = v; }

static void start_calls(struct conn *c, int count) {
  size_t need = c->out_len + (size_t)count * CALL_BYTES;
  if (need > c->out_cap) {
    c->out_cap = need * 2;
    c->out = realloc(c->out, c->out_cap);
    if (!c->out) die("realloc");
  }
  for (int i = 0; i < count; i++) {
    unsigned char *p = c->out + c->out_len;
    uint32_t id = c->next_id++;
    put32(p, 2 + METHOD_LEN), p[4] = 1, p[5] = 0, p[6] = 0, p[7] = 0, put32(p + 8, id);
    p[12] = 0x0a, p[13] = METHOD_LEN;
    memcpy(p + 14, method, METHOD_LEN);
    unsigned char *m = p + 14 + METHOD_LEN;
    put32(m, 0), m[4] = 2, m[5] = 1, m[6] = 0, m[7] = 0, put32(m + 8, id);
    c->out_len += CALL_BYTES;
  }
}

static int flush(int ep, struct conn *c) {
  size_t sent = 0;
  while (sent < c->out_len) {
    ssize_t w = send(c->fd, c->out + sent, c->out_len - sent, MSG_NOSIGNAL);
    if (w > 0) { sent += (size_t)w; continue; }
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    return -1;
  }
  memmove(c->out, c->out + sent, c->out_len - sent);
  c->out_len -= sent;
  int want = c->out_len > 0;
  if (want != c->watching_out) {
    struct epoll_event ev = {.events = EPOLLIN | (want ? EPOLLOUT : 0), .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
    c->watching_out = want;
  }
  return 0;
}

// Handles complete frames in [p, p+n); returns bytes consumed and the calls finished.
static size_t frames(const unsigned char *p, size_t n, int *finished) {
  size_t off = 0;
  while (n - off >= 12) {
    const unsigned char *h = p + off;
    uint32_t len = be32(h);
    if (len > sizeof(((struct conn *)0)->in) - 12) { fprintf(stderr, "frame of %u bytes\n", len); exit(1); }
    if (n - off - 12 < len) break;
    if (h[4] == 2) {
      if (len != 2 || h[12] != 8 || h[13] != 1) errors += measuring;
    } else if (h[4] == 3) {
      if (len != 0) errors += measuring;
      calls += measuring;
      (*finished)++;
    } else if (h[4] == 6) {
      fprintf(stderr, "GOAWAY from the server\n");
      exit(1);
    }
    off += 12 + len;
  }
  return off;
}

static int readable(int ep, struct conn *c) {
  static unsigned char buf[1 << 16];
  int finished = 0;
  for (;;) {
    ssize_t r = recv(c->fd, buf, sizeof buf, 0);
    if (r == 0) { fprintf(stderr, "server closed the connection\n"); return -1; }
    if (r < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      return -1;
    }
    const unsigned char *p = buf;
    size_t n = (size_t)r;
    while (c->preface_seen < 8 && n > 0) c->preface_seen++, p++, n--;
    if (c->in_len > 0) {
      size_t take = n < sizeof c->in - c->in_len ? n : sizeof c->in - c->in_len;
      memcpy(c->in + c->in_len, p, take);
      c->in_len += take;
      p += take, n -= take;
      size_t used = frames(c->in, c->in_len, &finished);
      memmove(c->in, c->in + used, c->in_len - used);
      c->in_len -= used;
      if (n > 0 && c->in_len > 0) { fprintf(stderr, "carry overflow\n"); exit(1); }
    }
    if (n > 0) {
      size_t used = frames(p, n, &finished);
      memcpy(c->in, p + used, n - used);
      c->in_len = n - used;
    }
    if ((size_t)r < sizeof buf) break;
  }
  if (finished) start_calls(c, finished);
  return flush(ep, c);
}

int main(int argc, char **argv) {
  if (argc < 4) { fprintf(stderr, "usage: %s HOST:PORT CONCURRENCY SECONDS [CONNECTIONS] [WARMUP_SECONDS]\n", argv[0]); return 2; }
  char host[256];
  snprintf(host, sizeof host, "%s", argv[1]);
  char *colon = strrchr(host, ':');
  if (!colon) { fprintf(stderr, "HOST:PORT expected\n"); return 2; }
  *colon = 0;
  int port = atoi(colon + 1), concurrency = atoi(argv[2]);
  double seconds = atof(argv[3]);
  int connections = argc > 4 ? atoi(argv[4]) : 1;
  double warmup = argc > 5 ? atof(argv[5]) : 0.5;
  const char *cpu = getenv("FRAMING_CPU");
  if (cpu && *cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(atoi(cpu), &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) die("sched_setaffinity");
  }
  int ep = epoll_create1(0);
  for (int i = 0; i < connections; i++) {
    struct conn *c = calloc(1, sizeof *c);
    c->next_id = 1;
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) { fprintf(stderr, "numeric IPv4 host expected\n"); return 2; }
    if (connect(c->fd, (struct sockaddr *)&addr, sizeof addr) != 0) die("connect");
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
    static const unsigned char preface[8] = {'G', 'A', 'R', 'P', 1, 0, 0, 0};
    c->out = malloc(CALL_BYTES * (size_t)concurrency + 8);
    c->out_cap = CALL_BYTES * (size_t)concurrency + 8;
    memcpy(c->out, preface, 8);
    c->out_len = 8;
    start_calls(c, concurrency);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
    if (flush(ep, c) < 0) die("send");
  }
  struct epoll_event events[64];
  double start = now_s(), measure_start = start + warmup, end = measure_start + seconds;
  for (;;) {
    double t = now_s();
    if (!measuring && t >= measure_start) measuring = 1, measure_start = t;
    if (t >= end) break;
    int n = epoll_wait(ep, events, 64, 100);
    for (int i = 0; i < n; i++) {
      struct conn *c = events[i].data.ptr;
      if (events[i].events & EPOLLOUT && flush(ep, c) < 0) die("send");
      if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR) && readable(ep, c) < 0) die("recv");
    }
  }
  double elapsed = now_s() - measure_start;
  printf("{\"calls\":%lld,\"errors\":%lld,\"seconds\":%.3f,\"rps\":%.0f,\"concurrency\":%d,\"connections\":%d}\n", calls, errors,
         elapsed, calls / elapsed, concurrency, connections);
  return errors ? 1 : 0;
}
