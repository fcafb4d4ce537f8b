#include "helpers.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mptcp.h"
#include "recv-fd.h"

static struct sockaddr_in loopback(uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sin;
}

static int listen_with(int proto, int backlog, uint16_t *port)
{
	int fd = socket(AF_INET, SOCK_STREAM, proto);
	cr_assert(fd >= 0, "socket(proto %d): %s", proto, strerror(errno));
	struct sockaddr_in sin = loopback(0);
	socklen_t len = sizeof(sin);
	cr_assert(bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	cr_assert(listen(fd, backlog) == 0);
	cr_assert(getsockname(fd, (struct sockaddr *)&sin, &len) == 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

int listen_loopback(int proto, uint16_t *port)
{
	return listen_with(proto, 16, port);
}

static int connect_loopback(uint16_t port, bool wait)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, IPPROTO_TCP);
	cr_assert(fd >= 0);
	struct sockaddr_in sin = loopback(port);
	int rc = connect(fd, (struct sockaddr *)&sin, sizeof(sin));
	cr_assert(rc == 0 || errno == EINPROGRESS);
	if (wait) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		cr_assert(poll(&p, 1, 2000) == 1, "filler did not connect");
	}
	return fd;
}

void blackhole_open(struct blackhole *b)
{
	/* backlog 0 holds one connection; the one after it completes the
	 * handshake but overflows, and from then on SYNs are dropped. */
	b->listener = listen_with(IPPROTO_TCP, 0, &b->port);
	b->fillers[0] = connect_loopback(b->port, true);
	b->fillers[1] = connect_loopback(b->port, false);
	snprintf(b->port_text, sizeof(b->port_text), "%u", b->port);
	usleep(50 * 1000);
}

void blackhole_close(struct blackhole *b)
{
	close(b->fillers[0]);
	close(b->fillers[1]);
	close(b->listener);
}

uint16_t refused_port(void)
{
	uint16_t port;
	int fd = listen_with(IPPROTO_TCP, 1, &port);
	close(fd);
	return port;
}

struct addrinfo *loopback_addrs(const uint16_t *ports, size_t n)
{
	struct addrinfo *head = NULL, **tail = &head;
	for (size_t i = 0; i < n; i++) {
		struct addrinfo *ai = calloc(1, sizeof(*ai));
		struct sockaddr_in *sin = calloc(1, sizeof(*sin));
		cr_assert(ai && sin);
		*sin = loopback(ports[i]);
		ai->ai_family = AF_INET;
		ai->ai_socktype = SOCK_STREAM;
		ai->ai_protocol = IPPROTO_TCP;
		ai->ai_addr = (struct sockaddr *)sin;
		ai->ai_addrlen = sizeof(*sin);
		*tail = ai;
		tail = &ai->ai_next;
	}
	return head;
}

void free_loopback_addrs(struct addrinfo *list)
{
	while (list) {
		struct addrinfo *next = list->ai_next;
		free(list->ai_addr);
		free(list);
		list = next;
	}
}

static void read_all(int fd, char *buf, size_t size)
{
	size_t used = 0;
	ssize_t n;
	while (used + 1 < size && (n = read(fd, buf + used, size - 1 - used)) > 0)
		used += (size_t)n;
	buf[used] = '\0';
}

void run_connector(struct run *r, const char *const argv[])
{
	const char *bin = getenv("MPTCP_FDPASS_BIN");
	cr_assert(bin, "MPTCP_FDPASS_BIN is not set (meson sets it)");
	int sp[2], err[2];
	cr_assert(socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0);
	cr_assert(pipe(err) == 0);

	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		dup2(sp[1], STDIN_FILENO);
		dup2(sp[1], STDOUT_FILENO);
		dup2(err[1], STDERR_FILENO);
		close(sp[0]);
		close(sp[1]);
		close(err[0]);
		close(err[1]);
		size_t n = 0;
		while (argv[n])
			n++;
		const char *args[n + 2];
		args[0] = bin;
		memcpy(args + 1, argv, (n + 1) * sizeof(*argv));
		execv(bin, (char *const *)args);
		_exit(127);
	}
	close(sp[1]);
	close(err[1]);
	read_all(err[0], r->err, sizeof(r->err));
	close(err[0]);
	int status;
	cr_assert(waitpid(pid, &status, 0) == pid);
	r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	r->passed_fd = recv_fd(sp[0], 0);
	close(sp[0]);
}

size_t count_lines(const char *text)
{
	size_t n = 0;
	for (; *text; text++)
		n += *text == '\n';
	return n;
}
