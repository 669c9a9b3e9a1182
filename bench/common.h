/* common.h — what the C reference programs share with bench/common.mjs: the command line, the
 * `PORT n` / `RESULT {json}` lines bench/run.mjs reads, timing and the data patterns. Plain C as in a
 * networking course: blocking calls, error checks that exit. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MSG 64
#define CHUNK (64 * 1024)
#define PERIOD 251

struct opts {
  const char *role;
  long port, n, warmup, conns, bytes;
  int quick;
};

static struct opts parse_args(int argc, char **argv) {
  struct opts o = {argc > 1 ? argv[1] : "", 0, 0, 0, 0, 0, 0};
  for (int i = 2; i < argc; i++) {
    const char *k = argv[i] + 2;
    if (strcmp(k, "quick") == 0) { o.quick = 1; continue; }
    if (i + 1 >= argc) break;
    long v = atol(argv[++i]);
    if (strcmp(k, "port") == 0) o.port = v;
    else if (strcmp(k, "n") == 0) o.n = v;
    else if (strcmp(k, "warmup") == 0) o.warmup = v;
    else if (strcmp(k, "conns") == 0) o.conns = v;
    else if (strcmp(k, "bytes") == 0) o.bytes = v;
  }
  return o;
}

static void die(const char *what) {
  fprintf(stderr, "%s: %s\n", what, strerror(errno));
  exit(1);
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static struct sockaddr_in loopback(long port) {
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

/* Binds `fd` to 127.0.0.1 on a kernel-chosen port; returns the port. */
static int bind_loopback(int fd) {
  struct sockaddr_in a = loopback(0);
  if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) die("bind");
  socklen_t len = sizeof a;
  if (getsockname(fd, (struct sockaddr *)&a, &len) < 0) die("getsockname");
  return ntohs(a.sin_port);
}

/* Tells run.mjs where to connect: only once the socket can take a connection (or a datagram). */
static void announce(int port) {
  printf("PORT %d\n", port);
  fflush(stdout);
}

/* Binds `fd` and announces its port (a UDP socket receives from the moment it is bound). */
static void bind_announce(int fd) { announce(bind_loopback(fd)); }

/* A listening TCP socket, announced after listen(): a client told the port before then would be refused. */
static int tcp_listener(int backlog) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  int port = bind_loopback(fd);
  if (listen(fd, backlog) < 0) die("listen");
  announce(port);
  return fd;
}

static int tcp_connect(long port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  struct sockaddr_in a = loopback(port);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) die("connect");
  return fd;
}

static void nodelay(int fd) {
  int one = 1;
  if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0) die("setsockopt");
}

/* The course's read_from_socket / write_to_socket. */
static ssize_t read_exactly(int fd, void *buf, size_t n) {
  size_t done = 0;
  while (done < n) {
    ssize_t r = read(fd, (char *)buf + done, n - done);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) die("read");
    if (r == 0) break;
    done += (size_t)r;
  }
  return (ssize_t)done;
}

static void write_all(int fd, const void *buf, size_t n) {
  size_t done = 0;
  while (done < n) {
    ssize_t w = write(fd, (const char *)buf + done, n - done);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) die("write");
    done += (size_t)w;
  }
}

/* Ping-pong message `seq`: its sequence number, then a pattern derived from it (bench/common.mjs). */
static void fill_message(unsigned char *buf, uint32_t seq) {
  memcpy(buf, &seq, 4); /* little-endian hosts, as Buffer.writeUInt32LE */
  for (int i = 4; i < MSG; i++) buf[i] = (unsigned char)(seq + i);
}

static int check_message(const unsigned char *buf, uint32_t seq, int full) {
  uint32_t got;
  memcpy(&got, buf, 4);
  if (got != seq) return 0;
  if (full)
    for (int i = 4; i < MSG; i++)
      if (buf[i] != (unsigned char)(seq + i)) return 0;
  return 1;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Prints the ping-pong RESULT line from per-round-trip times in ms. */
static void print_rtt_result(double *rtts, long n, double elapsed_ms, int verified) {
  double sum = 0;
  for (long i = 0; i < n; i++) sum += rtts[i];
  qsort(rtts, (size_t)n, sizeof *rtts, cmp_double);
  long p = (long)(n * 0.99);
  if (p > n - 1) p = n - 1;
  printf("RESULT {\"rate\":%.1f,\"meanUs\":%.3f,\"p99Us\":%.3f,\"n\":%ld,\"verified\":%s}\n",
         n / (elapsed_ms / 1000), sum / n * 1000, rtts[p] * 1000, n, verified ? "true" : "false");
  fflush(stdout);
}

static void raise_nofile(void) {
  struct rlimit r;
  if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
  }
}
