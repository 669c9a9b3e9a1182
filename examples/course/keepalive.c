/* The course's keepalive example, restored: the process forks; the child is a client that connects
 * and waits for the server to go away, the parent the server that accepts it, turns TCP keepalive on
 * with short timers (idle 1 s, interval 1 s, 10 probes) and waits for a signal. Watch the probes with
 * `tcpdump -n -i lo port 12345`. The TypeScript twin is keepalive.ts.
 *
 * Restored: the setsockopt( calls the listing lost inside check(...), the braces, the child's wait (a
 * read that returns 0 when the server's socket goes) and the parent's pause(). Fixed: `struct sockaddr_in
 * addr` was not zeroed (sin_zero held stack bytes); inet_pton returns 0, not -1, for a bad address, so
 * the check is `== 1`. Added: an optional PORT after the address (default 12345, as in the course).
 *
 *   cc -o keepalive keepalive.c && ./keepalive 127.0.0.1 [PORT]
 */
#include <unistd.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <signal.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#define check(expr) if (!(expr)) { perror(#expr); kill(0, SIGTERM); }

void enable_keepalive(int sock) {
    int yes = 1;
    check(setsockopt(sock, SOL_SOCKET, SO_KEEPALIVE, &yes, sizeof(int)) != -1);

    int idle = 1;
    check(setsockopt(sock, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(int)) != -1);

    int interval = 1;
    check(setsockopt(sock, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof(int)) != -1);

    int maxpkt = 10;
    check(setsockopt(sock, IPPROTO_TCP, TCP_KEEPCNT, &maxpkt, sizeof(int)) != -1);
}

int main(int argc, char **argv) {
    check(argc == 2 || argc == 3);

    struct sockaddr_in addr;
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons(argc == 3 ? atoi(argv[2]) : 12345);
    check(inet_pton(AF_INET, argv[1], &addr.sin_addr) == 1);

    int server = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    check(server != -1);

    int yes = 1;
    check(setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(int)) != -1);

    check(bind(server, (struct sockaddr *)&addr, sizeof(addr)) != -1);
    check(listen(server, 1) != -1);

    if (fork() == 0) {
        int client = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
        check(client != -1);
        check(connect(client, (struct sockaddr *)&addr, sizeof(addr)) != -1);
        char c;
        read(client, &c, 1); /* 0 (end of file) when the server's socket is closed */
    } else {
        int client = accept(server, NULL, NULL);
        check(client != -1);
        enable_keepalive(client);
        pause(); /* until a signal ends the process */
    }
    return 0;
}
