/*
 * A stand-in for revokd in the harness self-test: started by the pytest
 * fixtures exactly as they start revokd (`serve --config F --listen
 * 127.0.0.1:PORT`), it answers GET /readyz with 200 so the fixture sees it
 * ready, and on any other request reads freed memory. AddressSanitizer then
 * reports and ends the process: the fixture must fail the test that started
 * it, although the test's own assertions pass.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int listen_on(const char *spec)
{
	const char *colon = strrchr(spec, ':');
	struct sockaddr_in a = { .sin_family = AF_INET };
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);

	if (!colon || fd < 0)
		return -1;
	a.sin_port = htons((unsigned short)atoi(colon + 1));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, 16))
		return -1;
	return fd;
}

int main(int argc, char **argv)
{
	const char *ready = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
	const char *spec = NULL;
	int fd;

	for (int i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], "--listen"))
			spec = argv[i + 1];
	if (!spec || (fd = listen_on(spec)) < 0) {
		fprintf(stderr, "asan_server: usage: asan_server serve --listen ADDR:PORT\n");
		return 2;
	}
	for (;;) {
		char req[4096] = { 0 };
		int c = accept(fd, NULL, NULL);

		if (c < 0)
			continue;
		if (read(c, req, sizeof req - 1) > 0 && !strncmp(req, "GET /readyz ", 12)) {
			if (write(c, ready, strlen(ready)) < 0)
				perror("write");
			close(c);
			continue;
		}
		char *p = malloc(16);
		strcpy(p, "freed");
		free(p);
		volatile char x = p[0]; /* the deliberate use after free */
		(void)x;
		close(c);
	}
}
