/* What the bench's C load helpers (idle_conns.c, tls_load.c) share: a monotonic clock, the file
 * limit, a loopback connection with send and receive timeouts, and holding idle connections
 * until released. Header-only so that each helper stays one `cc` command. */
#ifndef GATEWAYD_BENCH_LOAD_COMMON_H
#define GATEWAYD_BENCH_LOAD_COMMON_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void raise_fd_limit(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

/* A TCP connection to 127.0.0.1:port with TCP_NODELAY; -1 when it fails. */
static int connect_loopback(int port, int timeout_s) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  struct timeval tv = {.tv_sec = timeout_s};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr*)&addr, sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* Prints "ready READY", holds the connections until RELEASE exists or HOLD seconds pass, then
 * prints "open M": how many of the first READY the server had not closed meanwhile. */
static void hold_and_report(const int* fds, int ready, double hold, const char* release) {
  printf("ready %d\n", ready);
  fflush(stdout);
  double deadline = now_s() + hold;
  while (now_s() < deadline && access(release, F_OK) != 0) usleep(20000);
  int open_n = 0;
  for (int i = 0; i < ready; ++i) {
    char c;
    if (recv(fds[i], &c, 1, MSG_PEEK | MSG_DONTWAIT) < 0) ++open_n; /* EAGAIN: idle, not closed */
  }
  printf("open %d\n", open_n);
  fflush(stdout);
}

#endif
