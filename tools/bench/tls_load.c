/* Load for tools/bench/tls_bench.sh: idle TLS connections, and WebSocket echo messages.
 *
 * usage: tls_load idle PORT COUNT RELEASE_FILE MAX_HOLD_SECONDS
 *   Opens COUNT TLS connections to 127.0.0.1:PORT (SNI localhost, no certificate check) one after
 *   the other, sends one GET / on each and reads its response, so every connection is past its
 *   handshake and first request and idle in keep-alive. Prints "ready N", holds them until
 *   RELEASE_FILE exists or MAX_HOLD_SECONDS pass, prints "open M" (those the server had not
 *   closed) and exits; status 1 when any failed.
 * usage: tls_load ws PORT CONNECTIONS WARMUP_SECONDS SECONDS MESSAGE_BYTES
 *   Opens CONNECTIONS plain connections, upgrades each with GET /ws (Connection: Upgrade,
 *   Upgrade: websocket; a 101 is expected), then each sends a message and waits for all of it to
 *   come back before sending the next (one in flight per connection), for WARMUP_SECONDS and then
 *   SECONDS counted. Prints "messages N seconds S errors E". Raw bytes: the echo backend sees no
 *   WebSocket framing, nor does a proxy care.
 *
 * build: cc -O2 -o tls_load tls_load.c -lssl -lcrypto
 */
#define _GNU_SOURCE
#include "load_common.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>

/* One GET / over TLS; 1 when a complete 200 with a Content-Length body was read. */
static int tls_request(SSL* ssl, int port) {
  char req[128];
  int n = snprintf(req, sizeof req, "GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n", port);
  if (SSL_write(ssl, req, n) != n) return 0;
  char buf[8192];
  size_t have = 0, header_end = 0;
  long body_len = -1;
  for (int reads = 0; reads < 64; ++reads) {
    int got = SSL_read(ssl, buf + have, (int)(sizeof buf - 1 - have));
    if (got <= 0) return 0;
    have += (size_t)got;
    buf[have] = '\0';
    if (!header_end) {
      char* end = strstr(buf, "\r\n\r\n");
      if (!end) continue;
      header_end = (size_t)(end - buf) + 4;
      for (char* line = strstr(buf, "\r\n"); line && line < end; line = strstr(line + 2, "\r\n"))
        if (strncasecmp(line + 2, "Content-Length:", 15) == 0) body_len = strtol(line + 17, NULL, 10);
      if (body_len < 0) return 0;
    }
    if (have >= header_end + (size_t)body_len) return strncmp(buf, "HTTP/1.1 200", 12) == 0;
    if (have >= sizeof buf - 1) return 0;
  }
  return 0;
}

static int idle_main(int port, int count, const char* release, double hold) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
  int* fds = calloc((size_t)count, sizeof *fds);
  SSL** ssls = calloc((size_t)count, sizeof *ssls);
  if (!fds || !ssls) return 1;
  int ok = 0;
  for (int i = 0; i < count; ++i) {
    fds[i] = connect_loopback(port, 5);
    if (fds[i] < 0) { perror("connect"); break; }
    ssls[i] = SSL_new(ctx);
    SSL_set_tlsext_host_name(ssls[i], "localhost");
    SSL_set_fd(ssls[i], fds[i]);
    if (SSL_connect(ssls[i]) != 1 || !tls_request(ssls[i], port)) {
      fprintf(stderr, "tls_load: connection %d failed\n", i + 1);
      break;
    }
    ++ok;
  }
  hold_and_report(fds, ok, hold, release);
  for (int i = 0; i < count; ++i) {
    if (ssls[i]) SSL_free(ssls[i]);
    if (fds[i] > 0) close(fds[i]);
  }
  SSL_CTX_free(ctx);
  return ok == count ? 0 : 1;
}

struct ws_conn {
  int fd;
  size_t sent, received;  /* of the message in flight */
};

/* Sends what is left of the message in flight; -1 on an error. */
static int ws_send(struct ws_conn* c, const char* message, size_t size) {
  while (c->sent < size) {
    ssize_t n = send(c->fd, message + c->sent, size - c->sent, MSG_NOSIGNAL);
    if (n < 0) return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
    c->sent += (size_t)n;
  }
  return 0;
}

static int ws_main(int port, int conns, double warmup, double seconds, size_t size) {
  char* message = malloc(size);
  char* sink = malloc(65536);
  struct ws_conn* c = calloc((size_t)conns, sizeof *c);
  if (!message || !sink || !c) return 1;
  for (size_t i = 0; i < size; ++i) message[i] = (char)('a' + i % 26);
  const char* upgrade = "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  int ep = epoll_create1(EPOLL_CLOEXEC);
  for (int i = 0; i < conns; ++i) {
    c[i].fd = connect_loopback(port, 5);
    if (c[i].fd < 0) { perror("connect"); return 1; }
    size_t length = strlen(upgrade);
    if (send(c[i].fd, upgrade, length, MSG_NOSIGNAL) != (ssize_t)length) return 1;
    char head[4096];
    size_t have = 0;
    char* end = NULL;
    while (!(end = memmem(head, have, "\r\n\r\n", 4))) {
      ssize_t got = recv(c[i].fd, head + have, sizeof head - have, 0);
      if (got <= 0) { fprintf(stderr, "tls_load: no answer to the upgrade\n"); return 1; }
      have += (size_t)got;
    }
    if (strncmp(head, "HTTP/1.1 101", 12) != 0) { fprintf(stderr, "tls_load: not a 101: %.40s\n", head); return 1; }
    if (end + 4 != head + have) { fprintf(stderr, "tls_load: bytes after the 101\n"); return 1; }
    struct timeval none = {0};
    setsockopt(c[i].fd, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof none);
    setsockopt(c[i].fd, SOL_SOCKET, SO_SNDTIMEO, &none, sizeof none);
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (unsigned)i};
    epoll_ctl(ep, EPOLL_CTL_ADD, c[i].fd, &ev);
    if (ws_send(&c[i], message, size) != 0) return 1;
  }
  const double start = now_s();
  const double counted_from = start + warmup, end_at = counted_from + seconds;
  long messages = 0, errors = 0;
  struct epoll_event events[256];
  for (double t = now_s(); t < end_at; t = now_s()) {
    int n = epoll_wait(ep, events, 256, 100);
    for (int e = 0; e < n; ++e) {
      struct ws_conn* k = &c[events[e].data.u32];
      for (;;) {
        ssize_t got = recv(k->fd, sink, 65536, MSG_DONTWAIT);
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        if (got <= 0) { ++errors; epoll_ctl(ep, EPOLL_CTL_DEL, k->fd, NULL); break; }
        k->received += (size_t)got;
        if (k->received >= size) {
          if (k->received > size) ++errors;  /* more back than was sent */
          if (now_s() >= counted_from) ++messages;
          k->sent = k->received = 0;
          if (ws_send(k, message, size) != 0) ++errors;
        }
      }
      if (k->sent < size && ws_send(k, message, size) != 0) ++errors;
    }
  }
  printf("messages %ld seconds %.3f errors %ld\n", messages, now_s() - counted_from, errors);
  for (int i = 0; i < conns; ++i) close(c[i].fd);
  return errors == 0 ? 0 : 1;
}

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  raise_fd_limit();
  if (argc == 6 && strcmp(argv[1], "idle") == 0) {
    return idle_main(atoi(argv[2]), atoi(argv[3]), argv[4], atof(argv[5]));
  }
  if (argc == 7 && strcmp(argv[1], "ws") == 0) {
    return ws_main(atoi(argv[2]), atoi(argv[3]), atof(argv[4]), atof(argv[5]), (size_t)atol(argv[6]));
  }
  fprintf(stderr, "usage: tls_load idle PORT COUNT RELEASE_FILE MAX_HOLD_SECONDS\n"
                  "       tls_load ws PORT CONNECTIONS WARMUP_SECONDS SECONDS MESSAGE_BYTES\n");
  return 2;
}
