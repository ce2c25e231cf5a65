// Thin shims over the Linux system calls the transport needs, with prefixed
// names (the swift-nio way): epoll, eventfd, sockets, TCP options.
#pragma once
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <errno.h>

/// epoll event bits as plain integers.
static const uint32_t ga_epollin = EPOLLIN;
static const uint32_t ga_epollout = EPOLLOUT;
static const uint32_t ga_epollerr = EPOLLERR;
static const uint32_t ga_epollhup = EPOLLHUP;
static const uint32_t ga_epollrdhup = EPOLLRDHUP;

/// Creates an epoll instance (close-on-exec).
int ga_epoll_create(void);
/// Adds, modifies (op = EPOLL_CTL_ADD/MOD/DEL) the interest of `fd` with `events`, tagging it with
/// `data` (the event loop's registration id, never the fd: a reused fd number cannot match it).
int ga_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data);
/// Waits for events; fills parallel arrays of registration data and event bits; returns the count or -1.
int ga_epoll_wait(int epfd, uint64_t *data, uint32_t *events, int max, int timeout_ms);
/// EPOLL_CTL_* values.
int ga_epoll_ctl_add(void);
int ga_epoll_ctl_mod(void);
int ga_epoll_ctl_del(void);

/// A non-blocking, close-on-exec eventfd.
int ga_eventfd(void);
/// Adds 1 to an eventfd.
int ga_eventfd_signal(int fd);
/// Drains an eventfd.
void ga_eventfd_drain(int fd);

/// Creates a non-blocking IPv4/IPv6 TCP socket (close-on-exec).
int ga_tcp_socket(int family);
/// Accepts a connection as a non-blocking, close-on-exec socket; writes the peer's address as text.
int ga_accept(int fd, char *peer, size_t peer_len);
/// Sends without raising SIGPIPE; returns bytes sent or -1 (errno set).
ssize_t ga_send(int fd, const void *buf, size_t len);
/// Receives; returns bytes, 0 at end of stream, or -1 (errno set).
ssize_t ga_recv(int fd, void *buf, size_t len);
/// Half-closes a socket: no more sends (the peer reads end of stream), receiving continues.
int ga_shutdown_write(int fd);
/// Sets TCP_NODELAY.
int ga_set_nodelay(int fd);
/// Sets SO_REUSEADDR.
int ga_set_reuseaddr(int fd);
/// Binds `host:port` (numeric IPv4/IPv6 address) and listens; returns the socket or -1.
int ga_listen(const char *host, int port, int backlog, int *bound_port);
/// Starts a non-blocking connect to numeric `host:port`; returns the socket, or -1. `*in_progress` is set when EINPROGRESS.
int ga_connect(const char *host, int port, int *in_progress);
/// Reads SO_ERROR of a socket.
int ga_socket_error(int fd);
/// The current thread's errno.
int ga_errno(void);
/// Whether `host` is a numeric IPv4 or IPv6 address (no lookup needed).
int ga_is_numeric_host(const char *host);
/// Resolves a host name (blocking getaddrinfo: call it off the Swift concurrency pool) to a numeric address (first IPv4, else IPv6); returns 0 on success.
int ga_resolve(const char *host, char *out, size_t out_len);
/// Ignores SIGPIPE process-wide.
void ga_ignore_sigpipe(void);
/// Names the calling thread (at most 15 bytes are kept).
void ga_set_thread_name(const char *name);
