/* An event-driven echo server with epoll(7): one process, one thread, any number of clients, and no
 * call that blocks except epoll_wait. The TypeScript twin is echo-epoll.ts: the same system calls in
 * the same order.
 *
 * Every socket is non-blocking. The listening socket is readable when connections wait: accept them
 * all, until EAGAIN. A connection is readable: read until EAGAIN, writing each chunk back. When the
 * kernel takes only part of a chunk (the client is not reading, its window is full), keep the rest,
 * stop reading that client (its data waits in the kernel, which slows the client down: no unbounded
 * buffer here) and wait for EPOLLOUT; once the rest is written, wait for EPOLLIN again.
 *
 * Prints the port it listens on, then one line per connection closed.
 *
 *   cc -o echo-epoll echo-epoll.c && ./echo-epoll [PORT]     (PORT 0: the kernel chooses; 7007 by default)
 */
#define _GNU_SOURCE /* accept4 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_EVENTS 64
#define BUF_SIZE 65536
#define MAX_FDS 65536 /* the connection table is indexed by descriptor */

struct conn {
    int fd;
    char *pending;       /* bytes read but not written back yet (NULL: none) */
    size_t off, len;     /* what is left of them: pending[off..len) */
    long long echoed;    /* bytes written back in all */
    int waits;           /* how many times the kernel pushed back and we waited for EPOLLOUT */
};

static int ep;
static struct conn *conns[MAX_FDS];
static char buf[BUF_SIZE];

static void close_conn(struct conn *c, const char *why) {
    printf("connection %d closed (%s): %lld bytes echoed, %d waits for EPOLLOUT\n", c->fd, why, c->echoed, c->waits);
    conns[c->fd] = NULL;
    close(c->fd); /* the kernel removes it from the epoll set when its last descriptor goes */
    free(c->pending);
    free(c);
}

/* Wait for `events` on the connection: EPOLLIN while it has nothing pending, EPOLLOUT while it has. */
static int want(struct conn *c, unsigned events) {
    struct epoll_event ev = {.events = events, .data.fd = c->fd};
    return epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Write back what is pending, until it is all written or the kernel says EAGAIN. */
static void flush(struct conn *c) {
    while (c->off < c->len) {
        ssize_t w = write(c->fd, c->pending + c->off, c->len - c->off);
        if (w < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return; /* still full: EPOLLOUT will come */
            close_conn(c, strerror(errno));
            return;
        }
        c->off += w;
        c->echoed += w;
    }
    free(c->pending);
    c->pending = NULL;
    c->off = c->len = 0;
    want(c, EPOLLIN);
}

/* Read until EAGAIN, writing each chunk back; keep what the kernel did not take, and stop reading. */
static void serve(struct conn *c) {
    for (;;) {
        ssize_t n = read(c->fd, buf, sizeof buf);
        if (n == 0) {
            close_conn(c, "end of file");
            return;
        }
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return; /* all read: EPOLLIN will say when there is more */
            close_conn(c, strerror(errno));
            return;
        }
        ssize_t w = write(c->fd, buf, n);
        if (w < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                close_conn(c, strerror(errno));
                return;
            }
            w = 0;
        }
        c->echoed += w;
        if (w < n) {
            c->pending = malloc(n - w);
            memcpy(c->pending, buf + w, n - w);
            c->off = 0;
            c->len = n - w;
            c->waits++;
            want(c, EPOLLOUT);
            return;
        }
    }
}

int main(int argc, char *argv[]) {
    int port = argc > 1 ? atoi(argv[1]) : 7007;
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN); /* a client gone: write fails with EPIPE instead of killing the server */

    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (lfd < 0) { perror("socket"); return EXIT_FAILURE; }
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0) { perror("bind"); return EXIT_FAILURE; }
    if (listen(lfd, SOMAXCONN) < 0) { perror("listen"); return EXIT_FAILURE; }
    socklen_t len = sizeof addr;
    getsockname(lfd, (struct sockaddr *)&addr, &len);
    printf("echo server listening on port %d\n", ntohs(addr.sin_port));

    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) { perror("epoll_create1"); return EXIT_FAILURE; }
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0) { perror("epoll_ctl"); return EXIT_FAILURE; }

    struct epoll_event events[MAX_EVENTS];
    for (;;) {
        int n = epoll_wait(ep, events, MAX_EVENTS, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            perror("epoll_wait");
            return EXIT_FAILURE;
        }
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;
            if (fd == lfd) {
                /* Accept every waiting connection, until EAGAIN. */
                for (;;) {
                    int cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (cfd < 0) {
                        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
                        if (errno == ECONNABORTED) continue;
                        perror("accept4"); /* EMFILE…: try again at the next EPOLLIN */
                        break;
                    }
                    if (cfd >= MAX_FDS) { close(cfd); continue; }
                    struct conn *c = calloc(1, sizeof *c);
                    c->fd = cfd;
                    conns[cfd] = c;
                    struct epoll_event cev = {.events = EPOLLIN, .data.fd = cfd};
                    epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &cev);
                }
                continue;
            }
            struct conn *c = conns[fd];
            if (c == NULL) continue;
            /* EPOLLIN while nothing is pending, EPOLLOUT while something is; EPOLLERR and EPOLLHUP come
             * either way, and the read or write then says what happened. */
            if (c->pending != NULL) flush(c);
            else serve(c);
        }
    }
}
