/* TCP ping-pong, C reference: 64-byte messages with TCP_NODELAY, one round trip at a time.
 *   c server              accepts one connection, echoes 64-byte messages until end of file
 *   c client --port P --n N [--warmup W] [--quick]   N timed round trips after W untimed ones */
#include "../common.h"

static int server(void) {
  int srv = tcp_listener(16);
  int fd = accept4(srv, NULL, NULL, SOCK_CLOEXEC);
  if (fd < 0) die("accept");
  nodelay(fd);
  unsigned char buf[MSG];
  long echoed = 0;
  while (read_exactly(fd, buf, MSG) == MSG) {
    write_all(fd, buf, MSG);
    echoed++;
  }
  close(fd);
  close(srv);
  printf("RESULT {\"echoed\":%ld}\n", echoed);
  return 0;
}

static int client(struct opts o) {
  int fd = tcp_connect(o.port);
  nodelay(fd);
  unsigned char out[MSG], in[MSG];
  double *rtts = malloc(sizeof(double) * (size_t)o.n);
  int ok = 1;
  uint32_t seq = 0;
  for (long i = 0; i < o.warmup; i++, seq++) {
    fill_message(out, seq);
    write_all(fd, out, MSG);
    if (read_exactly(fd, in, MSG) != MSG || !check_message(in, seq, o.quick)) ok = 0;
  }
  double start = now_ms(), t = start;
  for (long i = 0; i < o.n; i++, seq++) {
    fill_message(out, seq);
    write_all(fd, out, MSG);
    if (read_exactly(fd, in, MSG) != MSG || !check_message(in, seq, o.quick)) ok = 0;
    double t2 = now_ms();
    rtts[i] = t2 - t;
    t = t2;
  }
  double elapsed = t - start;
  close(fd);
  print_rtt_result(rtts, o.n, elapsed, ok);
  return ok ? 0 : 1;
}

int main(int argc, char **argv) {
  struct opts o = parse_args(argc, argv);
  if (strcmp(o.role, "server") == 0) return server();
  if (strcmp(o.role, "client") == 0) return client(o);
  fprintf(stderr, "usage: %s server | client --port P --n N\n", argv[0]);
  return 2;
}
