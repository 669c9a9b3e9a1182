/* The course's UDP server excerpt ("Extrait de serveur UDP") in its "Programme entier" skeleton: bind,
 * receive one datagram and its sender, print the sender's address and the datagram, answer "hello" to
 * the sender. The TypeScript twin is udp-server.ts.
 *
 * Fixed: the course passes `sizeof(addr)` where recvfrom wants a pointer to a socklen_t holding it (a
 * compiler error, or a crash); the addresses need the (struct sockaddr *) cast. DESIRED_ADDRESS is
 * 127.0.0.1. Added: an optional PORT (default 3500).
 *
 *   cc -o udp-server udp-server.c && ./udp-server [PORT]
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define DESIRED_ADDRESS "127.0.0.1"
#define DESIRED_PORT 3500
#define BUFSIZE 512

int main(int argc, char *argv[]) {
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(argc > 1 ? atoi(argv[1]) : DESIRED_PORT);
    addr.sin_addr.s_addr = inet_addr(DESIRED_ADDRESS);

    int sock = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
    if (sock == -1) {
        perror("Socket creation error");
        return EXIT_FAILURE;
    }
    if (bind(sock, (struct sockaddr *)&addr, sizeof(addr)) == -1) {
        perror("Bind error");
        return EXIT_FAILURE;
    }

    char buf[BUFSIZE];
    socklen_t addrlen = sizeof(addr);
    ssize_t readden = recvfrom(sock, buf, BUFSIZE, 0, (struct sockaddr *)&addr, &addrlen);
    if (readden > 0) {
        printf("Client with IP %s sent datagram\n", inet_ntoa(addr.sin_addr));
        fflush(stdout);
        write(STDOUT_FILENO, buf, readden);
    }
    sendto(sock, "hello", 5, 0, (struct sockaddr *)&addr, sizeof(addr));
    return EXIT_SUCCESS;
}
