/* Many connections, C reference: --conns concurrent loopback connections, each doing 64-byte
 * ping-pong, served and driven by one epoll loop per process (level-triggered, non-blocking sockets).
 *   c server --conns C             echoes on every connection; exits when all have closed
 *   c client --port P --conns C --n K [--warmup W] [--quick]
 *     every connection does W round trips, then (timed, all at once) K more; round trips/s overall. */
#include "../common.h"
#include <fcntl.h>
#include <sys/epoll.h>

static void nonblock(int fd) {
  if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) die("fcntl");
}

static int server(struct opts o) {
  raise_nofile();
  int srv = tcp_listener(4096);
  nonblock(srv);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = srv};
  epoll_ctl(ep, EPOLL_CTL_ADD, srv, &ev);
  struct epoll_event evs[256];
  unsigned char buf[4096];
  long accepted = 0, closed = 0, echoed = 0;
  while (closed < o.conns) {
    int k = epoll_wait(ep, evs, 256, -1);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) die("epoll_wait");
    for (int i = 0; i < k; i++) {
      int fd = evs[i].data.fd;
      if (fd == srv) {
        int c;
        while ((c = accept4(srv, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
          nodelay(c);
          struct epoll_event ce = {.events = EPOLLIN, .data.fd = c};
          epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce);
          accepted++;
        }
        continue;
      }
      ssize_t n = read(fd, buf, sizeof buf);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (n <= 0) {
        close(fd); /* also leaves the epoll set */
        closed++;
        continue;
      }
      /* The peer waits for this echo before sending more: its socket buffer has room for it. */
      if (write(fd, buf, (size_t)n) != n) die("write");
      echoed += n;
    }
  }
  close(srv);
  printf("RESULT {\"accepted\":%ld,\"echoed\":%ld}\n", accepted, echoed / MSG);
  return 0;
}

struct conn {
  int fd;
  uint32_t seq;
  long left;
  size_t have;
  unsigned char in[MSG], out[MSG];
};

static int ok = 1;

static void send_next(struct conn *c) {
  fill_message(c->out, c->seq);
  if (write(c->fd, c->out, MSG) != MSG) die("write");
}

/* Runs every connection through `rounds` round trips; returns when all are done. */
static void run(int ep, struct conn *cs, long conns, long rounds, int quick) {
  long busy = 0;
  for (long i = 0; i < conns; i++) {
    cs[i].left = rounds;
    if (rounds > 0) {
      send_next(&cs[i]);
      busy++;
    }
  }
  struct epoll_event evs[256];
  while (busy > 0) {
    int k = epoll_wait(ep, evs, 256, -1);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) die("epoll_wait");
    for (int i = 0; i < k; i++) {
      struct conn *c = evs[i].data.ptr;
      ssize_t n = read(c->fd, c->in + c->have, MSG - c->have);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (n <= 0) die("read");
      c->have += (size_t)n;
      if (c->have < MSG) continue;
      c->have = 0;
      if (!check_message(c->in, c->seq, quick)) ok = 0;
      c->seq++;
      if (--c->left == 0) busy--;
      else send_next(c);
    }
  }
}

static int client(struct opts o) {
  raise_nofile();
  struct conn *cs = calloc((size_t)o.conns, sizeof *cs);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  for (long i = 0; i < o.conns; i++) {
    cs[i].fd = tcp_connect(o.port);
    nodelay(cs[i].fd);
    nonblock(cs[i].fd);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &cs[i]};
    epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev);
  }
  run(ep, cs, o.conns, o.warmup, o.quick);
  double start = now_ms();
  run(ep, cs, o.conns, o.n, o.quick);
  double elapsed = now_ms() - start;
  for (long i = 0; i < o.conns; i++) close(cs[i].fd);
  printf("RESULT {\"rate\":%.1f,\"conns\":%ld,\"n\":%ld,\"verified\":%s}\n", o.conns * o.n / (elapsed / 1000),
         o.conns, o.conns * o.n, ok ? "true" : "false");
  return ok ? 0 : 1;
}

int main(int argc, char **argv) {
  struct opts o = parse_args(argc, argv);
  if (strcmp(o.role, "server") == 0) return server(o);
  if (strcmp(o.role, "client") == 0) return client(o);
  fprintf(stderr, "usage: %s server --conns C | client --port P --conns C --n K\n", argv[0]);
  return 2;
}
