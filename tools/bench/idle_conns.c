/* Idle keep-alive client connections for tools/bench.sh (memory per idle connection).
 *
 * usage: idle_conns PORT COUNT RELEASE_FILE MAX_HOLD_SECONDS
 * Opens COUNT connections to 127.0.0.1:PORT one after the other, sends one GET / on each and reads
 * its whole response (Content-Length framing), so every connection is past its first request and
 * idle in keep-alive. Then prints "ready N" (N = connections that got a 200) and holds them until
 * RELEASE_FILE exists or MAX_HOLD_SECONDS pass, prints "open M" (M = those the server had not
 * closed meanwhile) and exits. Exit status 1 when any connection failed.
 *
 * build: cc -O2 -o idle_conns idle_conns.c
 */
#define _GNU_SOURCE
#include "load_common.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* One request on fd; 1 when a complete 200 response was read. */
static int one_request(int fd, int port) {
  char req[128];
  int n = snprintf(req, sizeof req, "GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n", port);
  if (send(fd, req, (size_t)n, MSG_NOSIGNAL) != n) return 0;
  char buf[8192];
  size_t have = 0;
  long body_len = -1;
  size_t header_end = 0;
  for (int reads = 0; reads < 64; ++reads) {
    ssize_t got = recv(fd, buf + have, sizeof buf - 1 - have, 0);
    if (got <= 0) return 0;
    have += (size_t)got;
    buf[have] = '\0';
    if (!header_end) {
      char* end = strstr(buf, "\r\n\r\n");
      if (!end) continue;
      header_end = (size_t)(end - buf) + 4;
      for (char* line = strstr(buf, "\r\n"); line && line < end; line = strstr(line + 2, "\r\n")) {
        if (strncasecmp(line + 2, "Content-Length:", 15) == 0) body_len = strtol(line + 17, NULL, 10);
      }
      if (body_len < 0) return 0;
    }
    if (have >= header_end + (size_t)body_len) return strncmp(buf, "HTTP/1.1 200", 12) == 0;
    if (have >= sizeof buf - 1) return 0;
  }
  return 0;
}

int main(int argc, char** argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: idle_conns PORT COUNT RELEASE_FILE MAX_HOLD_SECONDS\n");
    return 2;
  }
  int port = atoi(argv[1]);
  int count = atoi(argv[2]);
  const char* release = argv[3];
  double hold = atof(argv[4]);
  if (port <= 0 || count <= 0 || hold <= 0) return 2;

  raise_fd_limit();
  int* fds = calloc((size_t)count, sizeof *fds);
  if (!fds) return 1;
  int ok = 0;
  for (int i = 0; i < count; ++i) {
    fds[i] = connect_loopback(port, 5);
    if (fds[i] < 0) { perror("connect"); break; }
    if (!one_request(fds[i], port)) { fprintf(stderr, "idle_conns: request %d failed\n", i + 1); break; }
    ++ok;
  }
  hold_and_report(fds, ok, hold, release);
  for (int i = 0; i < count; ++i)
    if (fds[i] > 0) close(fds[i]);
  free(fds);
  return ok == count ? 0 : 1;
}
