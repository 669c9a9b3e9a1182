/* The course's TCP daytime client, restored: connect, read until end of file, print. The TypeScript
 * twin is daytime-client.ts.
 *
 * Fixed: the course reads MAXLINE bytes into buffer[MAXLINE] and then writes buffer[nread] = 0, one byte
 * past the end when a read fills the buffer; it reads MAXLINE - 1. Added: a usage line when the address
 * is missing (inet_pton would read through a NULL pointer) and an optional PORT (default 13).
 *
 *   cc -o daytime-client daytime-client.c && ./daytime-client 127.0.0.1 [PORT]
 */
#include <unistd.h>      /* unix standard library */
#include <arpa/inet.h>   /* IP addresses manipulation utilities */
#include <netinet/in.h>  /* sockaddr_in structure definition */
#include <sys/socket.h>  /* berkeley socket library */
#include <stdio.h>       /* standard I/O library */
#include <string.h>      /* memset */
#include <stdlib.h>      /* exit */

#define MAXLINE 1024

int main(int argc, char *argv[]) {
    int sock_fd;
    int nread;
    struct sockaddr_in serv_add;
    char buffer[MAXLINE];

    if (argc < 2) {
        fprintf(stderr, "usage: %s ADDRESS [PORT]\n", argv[0]);
        return 2;
    }
    /* socket creation: the third parameter should be IPPROTO_TCP but 0 is an accepted value */
    sock_fd = socket(AF_INET, SOCK_STREAM, 0);

    /* address initialization */
    memset(&serv_add, 0, sizeof(serv_add));     /* init the server address */
    serv_add.sin_family = AF_INET;              /* address type is IPV4 */
    serv_add.sin_port = htons(argc > 2 ? atoi(argv[2]) : 13); /* daytime port is 13 */

    /* using inet_pton to build address */
    inet_pton(AF_INET, argv[1], &serv_add.sin_addr);

    /* connect to the server */
    connect(sock_fd, (struct sockaddr *)&serv_add, sizeof(serv_add));

    /* read daytime from server */
    while ((nread = read(sock_fd, buffer, MAXLINE - 1)) > 0) {
        buffer[nread] = 0;
        if (fputs(buffer, stdout) == EOF) { /* write daytime on stdout */
            perror("fputs error");
            return -1;
        }
    }
    return 0;
}
