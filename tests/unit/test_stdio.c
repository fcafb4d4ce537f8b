/* The built program with every kind of stdin and stdout it may be given:
 * a socketpair end (ssh's ProxyUseFdpass), a pipe (ssh without it), a file,
 * /dev/null, a tty, a TCP socket (inetd, systemd Accept=yes), a listening
 * socket and a closed descriptor. Each combination has one expected outcome:
 * the connection passed on a socketpair end, an error for a listening
 * socket, a byte-exact relay otherwise; and the file status flags of every
 * descriptor it was given are the same afterwards. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "helpers.h"

enum kind { SOCKETPAIR, PIPE, FILE_, DEVNULL, TTY, TCP, LISTENING, CLOSED, KINDS };

static const char *const kind_names[KINDS] = {
	"socketpair", "pipe", "file", "/dev/null", "tty", "TCP socket",
	"listening socket", "closed",
};

/* How long to wait for what must happen: a hang detector, not a speed
 * bound (CI also runs this suite with the helper under valgrind). */
#define PATIENCE_MS 30000

#define UP "upward bytes"	/* what stdin holds; no newline: a tty adds none */
#define DOWN "downward bytes"	/* what the server sends */

/* One end of stdio as the test sees it. */
struct end {
	int child;	/* the descriptor the program gets (-1: closed) */
	int ours;	/* the other end, where the test writes or reads (-1: none) */
	int flags;	/* F_GETFL of `child` before the run */
	bool is_stdin;
};

static int tcp_pair(int *peer)
{
	uint16_t port;
	int l = listen_loopback(IPPROTO_TCP, &port);
	int c = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert(connect(c, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	*peer = accept(l, NULL, NULL);
	cr_assert(*peer >= 0);
	close(l);
	return c;
}

static int open_tty(int *master)
{
	*master = posix_openpt(O_RDWR | O_NOCTTY);
	cr_assert(*master >= 0 && grantpt(*master) == 0 && unlockpt(*master) == 0);
	int slave = open(ptsname(*master), O_RDWR | O_NOCTTY);
	cr_assert(slave >= 0);
	/* Line mode, so that ^D is an end of file; no echo into the output. */
	struct termios t;
	cr_assert(tcgetattr(slave, &t) == 0);
	t.c_lflag |= ICANON;
	t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	cr_assert(tcsetattr(slave, TCSANOW, &t) == 0);
	return slave;
}

static int temp_file(const char *content)
{
	int fd = open("/tmp", O_TMPFILE | O_RDWR, 0600);
	cr_assert(fd >= 0, "O_TMPFILE: %s", strerror(errno));
	size_t len = strlen(content);
	cr_assert(write(fd, content, len) == (ssize_t)len);
	cr_assert(lseek(fd, 0, SEEK_SET) == 0);
	return fd;
}

static void make_end(struct end *e, enum kind kind, bool is_stdin)
{
	int fds[2];
	*e = (struct end){ .child = -1, .ours = -1, .is_stdin = is_stdin };
	switch (kind) {
	case SOCKETPAIR:
		cr_assert(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
		e->child = fds[1];
		e->ours = fds[0];
		break;
	case PIPE:
		cr_assert(pipe(fds) == 0);
		e->child = is_stdin ? fds[0] : fds[1];
		e->ours = is_stdin ? fds[1] : fds[0];
		if (is_stdin) {
			cr_assert(write(e->ours, UP, strlen(UP)) == (ssize_t)strlen(UP));
			close(e->ours);
			e->ours = -1;
		}
		break;
	case FILE_:
		e->child = temp_file(is_stdin ? UP : "");
		e->ours = dup(e->child);
		break;
	case DEVNULL:
		e->child = open("/dev/null", is_stdin ? O_RDONLY : O_WRONLY);
		break;
	case TTY:
		e->child = open_tty(&e->ours);
		if (is_stdin) {
			static const char line[] = UP "\n\004";	/* a line, then ^D */
			cr_assert(write(e->ours, line, strlen(line)) == (ssize_t)strlen(line));
		}
		break;
	case TCP:
		e->child = tcp_pair(&e->ours);
		if (is_stdin) {
			cr_assert(write(e->ours, UP, strlen(UP)) == (ssize_t)strlen(UP));
			shutdown(e->ours, SHUT_WR);
		}
		break;
	case LISTENING: {
		e->child = socket(AF_UNIX, SOCK_STREAM, 0);
		sa_family_t family = AF_UNIX;	/* autobind: an abstract name */
		cr_assert(bind(e->child, (struct sockaddr *)&family, sizeof(family)) == 0);
		cr_assert(listen(e->child, 4) == 0);
		break;
	}
	case CLOSED:
	case KINDS:
		break;
	}
	e->flags = e->child >= 0 ? fcntl(e->child, F_GETFL) : -1;
}

/* What the upstream side must have received for a given stdin. */
static const char *expected_up(enum kind in)
{
	switch (in) {
	case PIPE:
	case FILE_:
	case TCP:
		return UP;
	case TTY:
		return UP "\n";
	default:
		return "";
	}
}

static bool delivers_down(enum kind out)
{
	return out == PIPE || out == FILE_ || out == TTY || out == TCP;
}

static size_t read_for(int fd, char *buf, size_t size, int timeout_ms, bool until_eof)
{
	size_t got = 0;
	while (got + 1 < size) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, timeout_ms) != 1)
			break;
		ssize_t n = read(fd, buf + got, size - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		if (!until_eof && got >= strlen(DOWN))
			break;
	}
	buf[got] = '\0';
	return got;
}

struct combo {
	enum kind in, out;
};

ParameterizedTestParameters(stdio, every_stdin_with_every_stdout)
{
	static struct combo combos[KINDS * KINDS];
	for (int i = 0; i < KINDS; i++)
		for (int o = 0; o < KINDS; o++)
			combos[i * KINDS + o] = (struct combo){ (enum kind)i, (enum kind)o };
	return cr_make_param_array(struct combo, combos, KINDS * KINDS);
}

ParameterizedTest(struct combo *c, stdio, every_stdin_with_every_stdout)
{
	const char *bin = getenv("MPTCP_FDPASS_BIN");
	cr_assert(bin);
	uint16_t port;
	int l = listen_loopback(IPPROTO_TCP, &port);
	char port_text[8];
	snprintf(port_text, sizeof(port_text), "%u", port);
	const char *in_name = kind_names[c->in], *out_name = kind_names[c->out];

	struct end in, out;
	make_end(&in, c->in, true);
	make_end(&out, c->out, false);
	int err[2];
	cr_assert(pipe(err) == 0);

	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		alarm(PATIENCE_MS / 1000 + 10);	/* survives exec: a hang fails as SIGALRM */
		dup2(err[1], STDERR_FILENO);
		if (in.child >= 0)
			dup2(in.child, STDIN_FILENO);
		else
			close(STDIN_FILENO);
		if (out.child >= 0)
			dup2(out.child, STDOUT_FILENO);
		else
			close(STDOUT_FILENO);
		/* Everything else the test holds stays out of the program. */
		for (int fd = 3; fd < 64; fd++)
			close(fd);
		execl(bin, "mptcp-fdpass", "-m", "off", "127.0.0.1", port_text, NULL);
		_exit(127);
	}
	close(err[1]);

	enum { PASS, RELAY, REFUSE } want =
		c->in == LISTENING || c->out == LISTENING ? REFUSE :
		c->in == SOCKETPAIR || c->out == SOCKETPAIR ? PASS : RELAY;
	struct pollfd incoming = { .fd = l, .events = POLLIN };
	int server = -1;
	if (want != REFUSE) {
		cr_assert_eq(poll(&incoming, 1, PATIENCE_MS), 1, "%s -> %s: never connected", in_name,
			     out_name);
		server = accept(l, NULL, NULL);
		cr_assert(server >= 0);
	}
	char up[256] = "", down[256] = "";
	if (want == RELAY) {
		cr_assert(write(server, DOWN, strlen(DOWN)) == (ssize_t)strlen(DOWN));
		shutdown(server, SHUT_WR);
		read_for(server, up, sizeof(up), PATIENCE_MS, true);
	}
	if (want == PASS) {
		int channel = c->out == SOCKETPAIR ? out.ours : in.ours;
		int passed = recv_fd(channel, PATIENCE_MS);
		cr_expect(passed >= 0, "%s -> %s: nothing passed", in_name, out_name);
		if (passed >= 0) {
			cr_assert(write(server, "x", 1) == 1);
			char x = 0;
			cr_expect(read(passed, &x, 1) == 1 && x == 'x',
				  "%s -> %s: the passed socket is not the connection", in_name,
				  out_name);
			close(passed);
		}
	}

	char errors[2048];
	read_for(err[0], errors, sizeof(errors), 2 * PATIENCE_MS, true);
	int status;
	cr_assert(waitpid(pid, &status, 0) == pid);
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);

	if (want == REFUSE) {
		cr_expect_eq(code, 71, "%s -> %s: exit %d: %s", in_name, out_name, code, errors);
		cr_expect(strstr(errors, "listening socket"), "%s -> %s: %s", in_name, out_name,
			  errors);
		cr_expect_eq(poll(&incoming, 1, 0), 0, "%s -> %s: it connected anyway", in_name,
			     out_name);
	} else {
		cr_expect_eq(code, 0, "%s -> %s: exit %d: %s", in_name, out_name, code, errors);
		cr_expect_str_eq(errors, "", "%s -> %s", in_name, out_name);
	}
	if (want == RELAY) {
		cr_expect_str_eq(up, expected_up(c->in), "%s -> %s: upward", in_name, out_name);
		if (c->out == FILE_)
			cr_expect(pread(out.child, down, sizeof(down) - 1, 0) >= 0);
		else if (delivers_down(c->out))
			read_for(out.ours, down, sizeof(down), 2000, c->out == TCP);
		if (delivers_down(c->out))
			cr_expect_str_eq(down, DOWN, "%s -> %s: downward", in_name, out_name);
	}
	/* The descriptions are shared with the caller: nothing may stay changed. */
	const struct end *ends[] = { &in, &out };
	for (size_t i = 0; i < 2; i++)
		if (ends[i]->child >= 0)
			cr_expect_eq(fcntl(ends[i]->child, F_GETFL), ends[i]->flags,
				     "%s -> %s: flags of %s changed", in_name, out_name,
				     i ? "stdout" : "stdin");
	if (server >= 0)
		close(server);
	close(l);
}

Test(stdio, one_tcp_socket_on_stdin_and_stdout_ends_like_inetd)
{
	/* inetd and systemd's Accept=yes give the same socket as stdin and
	 * stdout: closing stdout alone would never end the connection while
	 * stdin holds it, so the far end must see EOF by shutdown(SHUT_WR). */
	uint16_t port;
	int l = listen_loopback(IPPROTO_TCP, &port);
	char port_text[8];
	snprintf(port_text, sizeof(port_text), "%u", port);
	int client;
	int sock = tcp_pair(&client);
	int flags = fcntl(sock, F_GETFL);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		alarm(PATIENCE_MS / 1000 + 10);
		dup2(sock, STDIN_FILENO);
		dup2(sock, STDOUT_FILENO);
		for (int fd = 3; fd < 64; fd++)
			close(fd);
		execl(getenv("MPTCP_FDPASS_BIN"), "mptcp-fdpass", "-q", "-m", "off",
		      "127.0.0.1", port_text, NULL);
		_exit(127);
	}
	struct pollfd incoming = { .fd = l, .events = POLLIN };
	cr_assert_eq(poll(&incoming, 1, PATIENCE_MS), 1);
	int server = accept(l, NULL, NULL);
	cr_assert(write(server, DOWN, strlen(DOWN)) == (ssize_t)strlen(DOWN));
	shutdown(server, SHUT_WR);
	char down[256];
	read_for(client, down, sizeof(down), PATIENCE_MS, true);
	cr_expect_str_eq(down, DOWN, "the client got the bytes and then EOF");
	cr_assert(write(client, UP, strlen(UP)) == (ssize_t)strlen(UP));
	shutdown(client, SHUT_WR);
	char up[256];
	read_for(server, up, sizeof(up), PATIENCE_MS, true);
	cr_expect_str_eq(up, UP);
	int status;
	cr_assert(waitpid(pid, &status, 0) == pid);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);
	cr_expect_eq(fcntl(sock, F_GETFL), flags);
	close(server);
	close(client);
	close(sock);
	close(l);
}

Test(stdio, next_writer_on_the_same_pipe_is_not_broken)
{
	/* `{ mptcp-fdpass ... </dev/null; head -c N /dev/zero; } | slow reader`:
	 * the pipe's description is the shell's; a leftover O_NONBLOCK makes
	 * the next writer fail with EAGAIN. */
	uint16_t port;
	int l = listen_loopback(IPPROTO_TCP, &port);
	char cmd[512];
	snprintf(cmd, sizeof(cmd),
		 "{ %s -q -m off 127.0.0.1 %u </dev/null; head -c 3000000 /dev/zero; } | "
		 "{ sleep 0.5; wc -c; }",
		 getenv("MPTCP_FDPASS_BIN"), port);
	FILE *p = popen(cmd, "r");
	cr_assert(p);
	struct pollfd incoming = { .fd = l, .events = POLLIN };
	cr_assert_eq(poll(&incoming, 1, PATIENCE_MS), 1);
	close(accept(l, NULL, NULL));	/* the server ends the session at once */
	long count = -1;
	cr_expect_eq(fscanf(p, "%ld", &count), 1);
	cr_expect_eq(count, 3000000, "the writer after the relay lost bytes");
	pclose(p);
	close(l);
}
