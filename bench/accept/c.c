/* Connection cycle, C reference: the client does socket/connect, waits for end of file and closes;
 * the server does accept/close. One cycle at a time, --warmup untimed then --n timed; connections/s. */
#include "../common.h"

static int server(struct opts o) {
  int srv = tcp_listener(511);
  long total = o.warmup + o.n, accepted = 0;
  for (; accepted < total; accepted++) {
    int fd = accept4(srv, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) die("accept");
    close(fd);
  }
  close(srv);
  printf("RESULT {\"accepted\":%ld}\n", accepted);
  return 0;
}

static int client(struct opts o) {
  int ok = 1;
  double start = 0;
  char c;
  for (long i = 0; i < o.warmup + o.n; i++) {
    if (i == o.warmup) start = now_ms();
    int fd = tcp_connect(o.port);
    ssize_t n = read(fd, &c, 1); /* 0: the server accepted and closed */
    if (n != 0) ok = 0;
    close(fd);
  }
  double elapsed = now_ms() - start;
  printf("RESULT {\"rate\":%.1f,\"n\":%ld,\"verified\":%s}\n", o.n / (elapsed / 1000), o.n, ok ? "true" : "false");
  return ok ? 0 : 1;
}

int main(int argc, char **argv) {
  struct opts o = parse_args(argc, argv);
  if (strcmp(o.role, "server") == 0) return server(o);
  if (strcmp(o.role, "client") == 0) return client(o);
  fprintf(stderr, "usage: %s server --n N | client --port P --n N\n", argv[0]);
  return 2;
}
