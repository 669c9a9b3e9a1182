/* The course's TCP server excerpt ("Extrait de serveur TCP") in its "Programme entier" skeleton: bind to
 * DESIRED_ADDRESS:DESIRED_PORT, accept one client, print its address, send "hello", receive one message
 * and copy it to standard output. The TypeScript twin is tcp-server.ts; tcp-client.c is its peer.
 *
 * Fixed: the course sends and receives on `sock`, the listening socket, which fails (ENOTCONN on Linux);
 * they belong on `client_sock`, the connection accept returned. accept's 2nd argument needs the
 * (struct sockaddr *) cast; `else {readden > 0) {` was a syntax error. DESIRED_ADDRESS, which the course
 * leaves undefined, is 127.0.0.1. Added: an optional PORT (default 3500).
 *
 *   cc -o tcp-server tcp-server.c && ./tcp-server [PORT]
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
    addr.sin_port = htons(argc > 1 ? atoi(argv[1]) : DESIRED_PORT); /* short in network byte order */
    addr.sin_addr.s_addr = inet_addr(DESIRED_ADDRESS);

    int sock = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    if (sock == -1) {
        perror("Socket creation error");
        return EXIT_FAILURE;
    }
    if (bind(sock, (struct sockaddr *)&addr, sizeof(addr)) == -1) {
        perror("Bind error");
        return EXIT_FAILURE;
    }
    if (listen(sock, 1 /* length of connections queue */) == -1) {
        perror("Listen error");
        return EXIT_FAILURE;
    }

    socklen_t socklen = sizeof addr;
    int client_sock = accept(sock, (struct sockaddr *)&addr, &socklen); /* 2nd and 3rd argument may be NULL */
    if (client_sock == -1) {
        perror("Accept error");
        return EXIT_FAILURE;
    }
    printf("Client with IP %s connected\n", inet_ntoa(addr.sin_addr));
    fflush(stdout);

    char buf[BUFSIZE];
    if (send(client_sock, "hello", 5, 0) == -1) {
        perror("Send error");
        return EXIT_FAILURE;
    }
    ssize_t readden = recv(client_sock, buf, BUFSIZE, 0);
    if (readden < 0) {
        perror("Receive error");
        return EXIT_FAILURE;
    } else if (readden == 0) {
        fprintf(stderr, "Client orderly shut down the connection.\n");
    } else /* readden > 0 */ {
        if (readden < BUFSIZE)
            fprintf(stderr, "Received less bytes (%zd) then requested (%d).\n", readden, BUFSIZE);
        write(STDOUT_FILENO, buf, readden);
    }
    return EXIT_SUCCESS;
}
