/* TCP bulk transfer, C reference: the server writes --bytes in 64 KiB chunks and closes; the client
 * reads into one reused 64 KiB buffer until end of file and reports GB/s from first byte to EOF.
 * Byte i of the stream is i % 251, checked by the client with --quick. */
#include "../common.h"

static int server(struct opts o) {
  int srv = tcp_listener(16);
  int fd = accept4(srv, NULL, NULL, SOCK_CLOEXEC);
  if (fd < 0) die("accept");
  static unsigned char pat[CHUNK + PERIOD];
  for (size_t i = 0; i < sizeof pat; i++) pat[i] = (unsigned char)(i % PERIOD);
  long sent = 0;
  while (sent < o.bytes) {
    long len = o.bytes - sent < CHUNK ? o.bytes - sent : CHUNK;
    ssize_t n = write(fd, pat + sent % PERIOD, (size_t)len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) die("write");
    sent += n;
  }
  close(fd);
  close(srv);
  printf("RESULT {\"sent\":%ld}\n", sent);
  return 0;
}

static int client(struct opts o) {
  int fd = tcp_connect(o.port);
  static unsigned char buf[CHUNK];
  long got = 0;
  int ok = 1;
  double start = 0;
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) die("read");
    if (n == 0) break;
    if (got == 0) start = now_ms();
    if (o.quick) {
      long p = got % PERIOD;
      for (ssize_t i = 0; i < n; i++, p = p + 1 == PERIOD ? 0 : p + 1)
        if (buf[i] != p) ok = 0;
    }
    got += n;
  }
  double elapsed = now_ms() - start;
  close(fd);
  if (got != o.bytes) ok = 0;
  printf("RESULT {\"rate\":%.4f,\"bytes\":%ld,\"ms\":%.3f,\"verified\":%s}\n", got / (elapsed / 1000) / 1e9, got,
         elapsed, ok ? "true" : "false");
  return ok ? 0 : 1;
}

int main(int argc, char **argv) {
  struct opts o = parse_args(argc, argv);
  if (strcmp(o.role, "server") == 0) return server(o);
  if (strcmp(o.role, "client") == 0) return client(o);
  fprintf(stderr, "usage: %s server --bytes B | client --port P --bytes B\n", argv[0]);
  return 2;
}
