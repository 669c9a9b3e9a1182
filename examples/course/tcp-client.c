/* The course's TCP client excerpt ("Extrait de client TCP") in its "Programme entier" skeleton: connect
 * to DESIRED_ADDRESS:DESIRED_PORT, send "hello", receive one message and copy it to standard output.
 * The TypeScript twin is tcp-client.ts; tcp-server.c is its peer.
 *
 * Fixed: `if (send(sock, "hello", 5, 0); == -1)` was a syntax error; the message for a read of 0 says
 * the server, not the client, shut down. DESIRED_ADDRESS is 127.0.0.1. Added: an optional PORT.
 *
 *   cc -o tcp-client tcp-client.c && ./tcp-client [PORT]
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

    int sock = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    if (sock == -1) {
        perror("Socket creation error");
        return EXIT_FAILURE;
    }
    if (connect(sock, (struct sockaddr *)&addr, sizeof(addr)) == -1) {
        perror("Connection error");
        return EXIT_FAILURE;
    }

    char buf[BUFSIZE];
    if (send(sock, "hello", 5, 0) == -1) { /* write may be used too */
        perror("Send error");
        return EXIT_FAILURE;
    }
    ssize_t readden = recv(sock, buf, BUFSIZE, 0); /* read may be used too */
    if (readden < 0) {
        perror("Receive error");
        return EXIT_FAILURE;
    } else if (readden == 0) {
        fprintf(stderr, "Server orderly shut down the connection.\n");
    } else /* readden > 0 */ {
        if (readden < BUFSIZE)
            fprintf(stderr, "Received less bytes (%zd) then requested (%d).\n", readden, BUFSIZE);
        write(STDOUT_FILENO, buf, readden);
    }
    return EXIT_SUCCESS;
}
