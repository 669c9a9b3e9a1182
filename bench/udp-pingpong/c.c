/* UDP ping-pong, C reference: 64-byte datagrams, one round trip at a time.
 *   c server              echoes each datagram to its sender (recvfrom/sendto) until a 1-byte one
 *   c client --port P --n N [--warmup W] [--quick]   connect()ed socket: write/read */
#include "../common.h"

static int server(void) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  bind_announce(fd);
  static unsigned char buf[65536];
  long echoed = 0;
  for (;;) {
    struct sockaddr_storage from;
    socklen_t len = sizeof from;
    ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &len);
    if (n < 0) die("recvfrom");
    if (n == 1) break; /* the client's end marker */
    if (sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, len) < 0) die("sendto");
    echoed++;
  }
  close(fd);
  printf("RESULT {\"echoed\":%ld}\n", echoed);
  return 0;
}

static int client(struct opts o) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  struct sockaddr_in a = loopback(o.port);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) die("connect");
  unsigned char out[MSG], in[MSG + 1];
  double *rtts = malloc(sizeof(double) * (size_t)o.n);
  int ok = 1;
  uint32_t seq = 0;
  double start = 0, t = 0;
  for (long i = 0; i < o.warmup + o.n; i++, seq++) {
    if (i == o.warmup) start = t = now_ms();
    fill_message(out, seq);
    if (write(fd, out, MSG) != MSG) die("write");
    ssize_t n = read(fd, in, sizeof in);
    if (n < 0) die("read");
    if (n != MSG || !check_message(in, seq, o.quick)) ok = 0;
    if (i >= o.warmup) {
      double t2 = now_ms();
      rtts[i - o.warmup] = t2 - t;
      t = t2;
    }
  }
  double elapsed = t - start;
  for (int k = 0; k < 3; k++) write(fd, "x", 1); /* end marker, thrice in case one is dropped */
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
