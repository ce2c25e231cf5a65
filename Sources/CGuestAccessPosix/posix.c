#define _GNU_SOURCE
#include "CGuestAccessPosix.h"
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int ga_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int ga_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data) {
  struct epoll_event ev;
  memset(&ev, 0, sizeof ev);
  ev.events = events;
  ev.data.u64 = data;
  return epoll_ctl(epfd, op, fd, &ev);
}

int ga_epoll_wait(int epfd, uint64_t *data, uint32_t *events, int max, int timeout_ms) {
  struct epoll_event evs[256];
  if (max > 256) max = 256;
  int n;
  do {
    n = epoll_wait(epfd, evs, max, timeout_ms);
  } while (n < 0 && errno == EINTR);
  for (int i = 0; i < n; i++) {
    data[i] = evs[i].data.u64;
    events[i] = evs[i].events;
  }
  return n;
}

int ga_epoll_ctl_add(void) { return EPOLL_CTL_ADD; }
int ga_epoll_ctl_mod(void) { return EPOLL_CTL_MOD; }
int ga_epoll_ctl_del(void) { return EPOLL_CTL_DEL; }

int ga_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

int ga_eventfd_signal(int fd) {
  uint64_t one = 1;
  return (int)write(fd, &one, sizeof one);
}

void ga_eventfd_drain(int fd) {
  uint64_t value;
  while (read(fd, &value, sizeof value) > 0) {
  }
}

int ga_tcp_socket(int family) { return socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0); }

int ga_accept(int fd, char *peer, size_t peer_len) {
  struct sockaddr_storage addr;
  socklen_t len = sizeof addr;
  int client = accept4(fd, (struct sockaddr *)&addr, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (client < 0) return -1;
  char host[INET6_ADDRSTRLEN] = "?";
  int port = 0;
  if (addr.ss_family == AF_INET) {
    struct sockaddr_in *in = (struct sockaddr_in *)&addr;
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    port = ntohs(in->sin_port);
    snprintf(peer, peer_len, "%s:%d", host, port);
  } else if (addr.ss_family == AF_INET6) {
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&addr;
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
    port = ntohs(in6->sin6_port);
    snprintf(peer, peer_len, "[%s]:%d", host, port);
  } else {
    snprintf(peer, peer_len, "unknown");
  }
  return client;
}

ssize_t ga_send(int fd, const void *buf, size_t len) {
  ssize_t n;
  do {
    n = send(fd, buf, len, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  return n;
}

ssize_t ga_recv(int fd, void *buf, size_t len) {
  ssize_t n;
  do {
    n = recv(fd, buf, len, 0);
  } while (n < 0 && errno == EINTR);
  return n;
}

int ga_set_nodelay(int fd) {
  int one = 1;
  return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

int ga_set_reuseaddr(int fd) {
  int one = 1;
  return setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
}

static int fill_addr(const char *host, int port, struct sockaddr_storage *addr, socklen_t *len) {
  memset(addr, 0, sizeof *addr);
  struct sockaddr_in *in = (struct sockaddr_in *)addr;
  struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)addr;
  if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
    in->sin_family = AF_INET;
    in->sin_port = htons((uint16_t)port);
    *len = sizeof *in;
    return AF_INET;
  }
  if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons((uint16_t)port);
    *len = sizeof *in6;
    return AF_INET6;
  }
  errno = EINVAL;
  return -1;
}

int ga_listen(const char *host, int port, int backlog, int *bound_port) {
  struct sockaddr_storage addr;
  socklen_t len;
  int family = fill_addr(host, port, &addr, &len);
  if (family < 0) return -1;
  int fd = ga_tcp_socket(family);
  if (fd < 0) return -1;
  ga_set_reuseaddr(fd);
  if (bind(fd, (struct sockaddr *)&addr, len) < 0 || listen(fd, backlog) < 0) {
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
  }
  struct sockaddr_storage bound;
  socklen_t bound_len = sizeof bound;
  if (getsockname(fd, (struct sockaddr *)&bound, &bound_len) == 0) {
    *bound_port = bound.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&bound)->sin_port)
                                             : ntohs(((struct sockaddr_in6 *)&bound)->sin6_port);
  }
  return fd;
}

int ga_connect(const char *host, int port, int *in_progress) {
  struct sockaddr_storage addr;
  socklen_t len;
  int family = fill_addr(host, port, &addr, &len);
  if (family < 0) return -1;
  int fd = ga_tcp_socket(family);
  if (fd < 0) return -1;
  ga_set_nodelay(fd);
  *in_progress = 0;
  if (connect(fd, (struct sockaddr *)&addr, len) < 0) {
    if (errno == EINPROGRESS) {
      *in_progress = 1;
      return fd;
    }
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
  }
  return fd;
}

int ga_socket_error(int fd) {
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) return errno;
  return err;
}

int ga_errno(void) { return errno; }

int ga_resolve(const char *host, char *out, size_t out_len) {
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  int rc = getaddrinfo(host, NULL, &hints, &res);
  if (rc != 0 || res == NULL) return -1;
  struct addrinfo *pick = res;
  for (struct addrinfo *p = res; p; p = p->ai_next) {
    if (p->ai_family == AF_INET) { pick = p; break; }
  }
  const void *src = pick->ai_family == AF_INET ? (const void *)&((struct sockaddr_in *)pick->ai_addr)->sin_addr
                                               : (const void *)&((struct sockaddr_in6 *)pick->ai_addr)->sin6_addr;
  const char *ok = inet_ntop(pick->ai_family, src, out, (socklen_t)out_len);
  freeaddrinfo(res);
  return ok ? 0 : -1;
}

void ga_ignore_sigpipe(void) { signal(SIGPIPE, SIG_IGN); }

#include <pthread.h>
void ga_set_thread_name(const char *name) { pthread_setname_np(pthread_self(), name); }

int ga_shutdown_write(int fd) { return shutdown(fd, SHUT_WR); }

int ga_is_numeric_host(const char *host) {
  struct in6_addr addr;
  return inet_pton(AF_INET, host, &addr) == 1 || inet_pton(AF_INET6, host, &addr) == 1;
}
