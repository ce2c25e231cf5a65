// The framing limit: an epoll server that does nothing but the GuestAccess
// wire framing (docs/PROTOCOL.md §2-§4, §13). It sends its preface, checks
// the client's, reads frames, answers every request MESSAGE (END_STREAM)
// with the 26 bytes of a SERVING Health.Check reply (MESSAGE `08 01` +
// empty TRAILERS) on the same call id, answers PING with its ACK, ignores
// HEADERS and CANCEL, and writes everything one read produced in one send.
// No method routing, no protobuf decoding: the cost of a call at its floor,
// the yardstick for the throughput rows of Scripts/bench-rpc.
//   usage: framing-server [PORT]      (0 or none: any free port)
// Prints "listening on 127.0.0.1:PORT" once ready; runs until killed.
// Environment: FRAMING_CPU=N pins the server to CPU N.
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
#include <unistd.h>

static const unsigned char preface[8] = {'G', 'A', 'R', 'P', 1, 0, 0, 0};

struct conn {
  int fd;
  int preface_seen;            // bytes of the client preface read so far
  unsigned char *in;           // an incomplete frame carried to the next read
  size_t in_len, in_cap;
  unsigned char *out;          // output the socket did not take yet
  size_t out_len, out_cap;
  int watching_out;            // EPOLLOUT is in the interest set
};

static void die(const char *what) { perror(what); exit(1); }

static void reserve(unsigned char **buf, size_t *cap, size_t need) {
  if (need <= *cap) return;
  size_t n = *cap ? *cap : 4096;
  while (n < need) n *= 2;
  *buf = realloc(*buf, n);
  if (!*buf) die("realloc");
  *cap = n;
}

static void put(struct conn *c, const void *bytes, size_t n) {
  reserve(&c->out, &c->out_cap, c->out_len + n);
  memcpy(c->out + c->out_len, bytes, n);
  c->out_len += n;
}

static uint32_t be32(const unsigned char *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

static void reply(struct conn *c, const unsigned char *call_id) {
  unsigned char r[26] = {0, 0, 0, 2, 2, 0, 0, 0, 0, 0, 0, 0, 8, 1, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0};
  memcpy(r + 8, call_id, 4);
  memcpy(r + 22, call_id, 4);
  put(c, r, sizeof r);
}

// Handles the complete frames in [p, p+n); returns the bytes consumed, or -1 on a violation.
static long frames(struct conn *c, const unsigned char *p, size_t n) {
  size_t off = 0;
  while (n - off >= 12) {
    const unsigned char *h = p + off;
    uint32_t len = be32(h);
    if (h[6] || h[7] || h[4] < 1 || h[4] > 6 || len > (16u << 20)) return -1;
    if (n - off - 12 < len) break;
    if (h[4] == 2 && (h[5] & 1)) {
      reply(c, h + 8);
    } else if (h[4] == 5 && !(h[5] & 1) && len == 8) {
      unsigned char ack[20];
      memcpy(ack, h, 20);
      ack[5] = 1;
      put(c, ack, sizeof ack);
    }
    off += 12 + len;
  }
  return (long)off;
}

static int flush(struct conn *c) {
  size_t sent = 0;
  while (sent < c->out_len) {
    ssize_t w = send(c->fd, c->out + sent, c->out_len - sent, MSG_NOSIGNAL);
    if (w > 0) { sent += (size_t)w; continue; }
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    return -1;
  }
  memmove(c->out, c->out + sent, c->out_len - sent);
  c->out_len -= sent;
  return 0;
}

static void drop(int ep, struct conn *c) {
  epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  free(c->in);
  free(c->out);
  free(c);
}

static int readable(int ep, struct conn *c, unsigned char *buf, size_t cap) {
  for (;;) {
    ssize_t r = recv(c->fd, buf, cap, 0);
    if (r == 0) return -1;
    if (r < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
    const unsigned char *p = buf;
    size_t n = (size_t)r;
    while (c->preface_seen < 8 && n > 0) {
      if (*p != preface[c->preface_seen]) return -1;
      c->preface_seen++, p++, n--;
    }
    if (c->in_len > 0) {
      // Complete the carried frame with this read, then go on in place.
      reserve(&c->in, &c->in_cap, c->in_len + n);
      memcpy(c->in + c->in_len, p, n);
      c->in_len += n;
      long used = frames(c, c->in, c->in_len);
      if (used < 0) return -1;
      memmove(c->in, c->in + used, c->in_len - (size_t)used);
      c->in_len -= (size_t)used;
    } else {
      long used = frames(c, p, n);
      if (used < 0) return -1;
      if ((size_t)used < n) {
        reserve(&c->in, &c->in_cap, n - (size_t)used);
        memcpy(c->in, p + used, n - (size_t)used);
        c->in_len = n - (size_t)used;
      }
    }
    if ((size_t)r < cap) break;
  }
  if (flush(c) < 0) return -1;
  if (c->out_len && !c->watching_out) {
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
    c->watching_out = 1;
  }
  return 0;
}

int main(int argc, char **argv) {
  int port = argc > 1 ? atoi(argv[1]) : 0;
  const char *cpu = getenv("FRAMING_CPU");
  if (cpu && *cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(atoi(cpu), &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) die("sched_setaffinity");
  }
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) != 0) die("bind");
  if (listen(lfd, 1024) != 0) die("listen");
  socklen_t len = sizeof addr;
  getsockname(lfd, (struct sockaddr *)&addr, &len);
  printf("listening on 127.0.0.1:%d\n", ntohs(addr.sin_port));
  fflush(stdout);
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
  static unsigned char buf[65536];
  struct epoll_event events[256];
  for (;;) {
    int n = epoll_wait(ep, events, 256, -1);
    if (n < 0 && errno == EINTR) continue;
    for (int i = 0; i < n; i++) {
      struct conn *c = events[i].data.ptr;
      if (!c) {
        int fd;
        while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
          setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          struct conn *nc = calloc(1, sizeof *nc);
          nc->fd = fd;
          put(nc, preface, sizeof preface);
          if (flush(nc) < 0) { close(fd); free(nc->out); free(nc); continue; }
          struct epoll_event cev = {.events = EPOLLIN, .data.ptr = nc};
          epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev);
        }
        continue;
      }
      if (events[i].events & EPOLLOUT) {
        if (flush(c) < 0) { drop(ep, c); continue; }
        if (!c->out_len) {
          c->watching_out = 0;
          struct epoll_event cev = {.events = EPOLLIN, .data.ptr = c};
          epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &cev);
        }
      }
      if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        if (readable(ep, c, buf, sizeof buf) < 0) drop(ep, c);
      }
    }
  }
}
