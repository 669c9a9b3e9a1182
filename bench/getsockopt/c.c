/* Per-call overhead, C reference: getsockopt(SOL_SOCKET, SO_TYPE) in a loop -> ns per call, the cost of
 * the system call itself. c run --n N [--warmup W] */
#include "../common.h"

int main(int argc, char **argv) {
  struct opts o = parse_args(argc, argv);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  int ok = 1, v;
  socklen_t len;
  for (long i = 0; i < o.warmup; i++) {
    len = sizeof v;
    getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len);
  }
  double start = now_ms();
  for (long i = 0; i < o.n; i++) {
    len = sizeof v;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len) < 0) die("getsockopt");
    if (v != SOCK_STREAM) ok = 0;
  }
  double elapsed = now_ms() - start;
  close(fd);
  printf("RESULT {\"rate\":%.2f,\"n\":%ld,\"verified\":%s}\n", elapsed * 1e6 / o.n, o.n, ok ? "true" : "false");
  return ok ? 0 : 1;
}
