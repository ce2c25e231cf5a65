// Opens N client connections to a guestd, sends the connection preface on
// each and reads the server's preface, then holds them idle until stdin
// closes (or a line is read). Prints "ready N" once all are open.
//   usage: holdconns PORT N
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: holdconns PORT N\n"); return 1; }
  int port = atoi(argv[1]), n = atoi(argv[2]);
  static const unsigned char preface[8] = {'G', 'A', 'R', 'P', 1, 0, 0, 0};
  int *fds = calloc(n, sizeof(int));
  for (int i = 0; i < n; i++) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) { perror("connect"); return 2; }
    if (send(fd, preface, sizeof preface, MSG_NOSIGNAL) != sizeof preface) { perror("send"); return 2; }
    fds[i] = fd;
  }
  for (int i = 0; i < n; i++) {
    unsigned char got[8];
    int have = 0;
    while (have < 8) {
      ssize_t r = recv(fds[i], got + have, 8 - have, 0);
      if (r <= 0) { fprintf(stderr, "connection %d closed before the server preface\n", i); return 3; }
      have += (int)r;
    }
    if (memcmp(got, preface, 8) != 0) { fprintf(stderr, "bad server preface on %d\n", i); return 3; }
  }
  printf("ready %d\n", n);
  fflush(stdout);
  char line[16];
  (void)!fgets(line, sizeof line, stdin);
  for (int i = 0; i < n; i++) close(fds[i]);
  return 0;
}
