/* The course's concurrent TCP echo server ("serveur d'écho simultané"), restored: one process per
 * client with fork(); the child prints what its client sends until end of file, the parent goes back
 * to accept. The TypeScript twin is echo-fork.ts: the same system calls in the same order.
 *
 * Restored: the lines the course's listing lost (the child's call to echo_client, the parent's close of
 * the accepted socket, the braces). Added: an optional PORT argument (default 15000, as in the course).
 * Left as the course has it: no waitpid, so each finished child stays a zombie until the server exits
 * (../echo-fork-reap.ts reaps them).
 *
 *   cc -o echo-fork echo-fork.c && ./echo-fork [PORT]
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#define BUF_SIZE (1024)

/* Connection handler, run in the child after fork(): prints everything the client sends, until end of
 * file. sd = the socket connected to the client. */
int echo_client(int sd) {
    int result = 0;
    char buf[BUF_SIZE + 1] = {0};
    ssize_t n_read;
    while (0 < (n_read = read(sd, buf, BUF_SIZE))) {
        buf[n_read] = '\0';
        printf("%s\n", buf);
    }
    if (0 > n_read) {
        perror("read() failed");
        result = -1;
    } else {
        fprintf(stderr, "The other side orderly shut down the connection.\n");
    }
    return result;
}

int main(int argc, char *argv[]) {
    /* Create a listening socket */
    int listening_socket = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    if (listening_socket == -1) {
        perror("socket() failed");
        return EXIT_FAILURE;
    }

    /* Bind it to port 15000 (or PORT), on every address (sin_addr is 0: INADDR_ANY). */
    unsigned short listening_port = argc > 1 ? (unsigned short)atoi(argv[1]) : 15000;
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(listening_port);
    socklen_t sock_len = sizeof(addr);
    if (0 > (bind(listening_socket, (const struct sockaddr *)&addr, sock_len))) {
        perror("bind() failed");
        return EXIT_FAILURE;
    }

    /* Start listening */
    if (0 > listen(listening_socket, 0)) {
        perror("listen() failed");
        return EXIT_FAILURE;
    }

    /* Accept new connections, fork a new process for each and handle the connection there, while the
     * parent waits for the next connection. */
    int accepted_socket = 0;
    while (0 < (accepted_socket = accept(listening_socket, (struct sockaddr *)&addr, &sock_len))) {
        pid_t pid_child = fork();
        if (0 > pid_child) {
            perror("fork() failed");
            return EXIT_FAILURE;
        } else if (0 == pid_child) {
            /* inside the forked child */
            close(listening_socket); /* the child does not need it */
            echo_client(accepted_socket);
            return EXIT_SUCCESS;
        }
        /* Inside the parent: descriptors are reference counted, so the parent closes its copy of the
         * client's socket (the client sees end of file when the child closes the last one). */
        close(accepted_socket);
    }
    if (0 > accepted_socket) {
        perror("accept() failed");
        return EXIT_FAILURE;
    }
    return EXIT_SUCCESS;
}
