// The floor for RPC latency: a raw loopback TCP ping-pong with blocking
// sockets, one client thread and one server thread, the same request and
// response sizes as a Health.Check call. Prints p50/p99 latency in µs and
// round trips per second as JSON.
//   usage: pingpong REQUEST_BYTES RESPONSE_BYTES ITERATIONS [CONCURRENCY]
// Environment:
//   PINGPONG_FORK=1        run the server in a child process (like a real
//                          client and server) instead of a thread;
//   PINGPONG_CPUS=C,S      pin the client to CPU C and the server to CPU S.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int request_size, response_size, iterations, port;

static void read_full(int fd, char *buf, int n) {
  int got = 0;
  while (got < n) {
    ssize_t r = recv(fd, buf + got, n - got, 0);
    if (r <= 0) { perror("recv"); exit(1); }
    got += (int)r;
  }
}

static void *server_conn(void *arg) {
  int fd = (int)(long)arg;
  char buf[65536];
  for (;;) {
    int got = 0;
    while (got < request_size) {
      ssize_t r = recv(fd, buf + got, request_size - got, 0);
      if (r <= 0) { close(fd); return NULL; }
      got += (int)r;
    }
    if (send(fd, buf, response_size, MSG_NOSIGNAL) != response_size) { close(fd); return NULL; }
  }
}

static void *server(void *arg) {
  int lfd = (int)(long)arg;
  for (;;) {
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0) return NULL;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    pthread_t t;
    pthread_create(&t, NULL, server_conn, (void *)(long)fd);
    pthread_detach(t);
  }
}

static void pin(int cpu) {
  if (cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) perror("sched_setaffinity");
}

static int client_cpu = -1, server_cpu = -1;

static void *pinned_server(void *arg) {
  pin(server_cpu);
  return server(arg);
}

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

struct client_arg { double *lat; int n; };

static void *client(void *p) {
  struct client_arg *arg = p;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in addr = {0};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) { perror("connect"); exit(1); }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  char buf[65536];
  memset(buf, 7, sizeof buf);
  for (int i = 0; i < arg->n; i++) {
    double t0 = now_us();
    send(fd, buf, request_size, MSG_NOSIGNAL);
    read_full(fd, buf, response_size);
    arg->lat[i] = now_us() - t0;
  }
  close(fd);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 4) { fprintf(stderr, "usage: pingpong REQ RESP ITER [CONC]\n"); return 1; }
  request_size = atoi(argv[1]);
  response_size = atoi(argv[2]);
  iterations = atoi(argv[3]);
  int concurrency = argc > 4 ? atoi(argv[4]) : 1;
  int lfd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in addr = {0};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(lfd, (struct sockaddr *)&addr, sizeof addr);
  listen(lfd, 512);
  socklen_t len = sizeof addr;
  getsockname(lfd, (struct sockaddr *)&addr, &len);
  port = ntohs(addr.sin_port);
  const char *cpus = getenv("PINGPONG_CPUS");
  if (cpus) sscanf(cpus, "%d,%d", &client_cpu, &server_cpu);
  const char *fork_env = getenv("PINGPONG_FORK");
  pid_t child = 0;
  if (fork_env && atoi(fork_env)) {
    child = fork();
    if (child == 0) {
      pin(server_cpu);
      server((void *)(long)lfd);
      _exit(0);
    }
    close(lfd);
  } else {
    pthread_t st;
    pthread_create(&st, NULL, pinned_server, (void *)(long)lfd);
  }
  pin(client_cpu);
  int per = iterations / concurrency;
  double *lat = malloc(sizeof(double) * per * concurrency);
  pthread_t *threads = malloc(sizeof(pthread_t) * concurrency);
  struct client_arg *args = malloc(sizeof(struct client_arg) * concurrency);
  // Warm-up.
  struct client_arg warm = {malloc(sizeof(double) * 1000), 1000};
  client(&warm);
  double t0 = now_us();
  for (int c = 0; c < concurrency; c++) {
    args[c].lat = lat + c * per;
    args[c].n = per;
    pthread_create(&threads[c], NULL, client, &args[c]);
  }
  for (int c = 0; c < concurrency; c++) pthread_join(threads[c], NULL);
  double elapsed = now_us() - t0;
  int n = per * concurrency;
  qsort(lat, n, sizeof(double), cmp);
  if (child > 0) {
    kill(child, SIGTERM);
    waitpid(child, NULL, 0);
  }
  printf("{\"count\":%d,\"p50_us\":%.2f,\"p99_us\":%.2f,\"rps\":%.0f}\n", n, lat[n / 2], lat[(int)(n * 0.99)], n / (elapsed / 1e6));
  return 0;
}
