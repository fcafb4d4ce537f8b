#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "handoff.h"
#include "helpers.h"

static int connect_to(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert(connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	return fd;
}

static void same_endpoints(int a, int b)
{
	struct sockaddr_storage la, lb, pa, pb;
	socklen_t len;
	len = sizeof(la);
	cr_assert(getsockname(a, (struct sockaddr *)&la, &len) == 0);
	len = sizeof(lb);
	cr_assert(getsockname(b, (struct sockaddr *)&lb, &len) == 0);
	len = sizeof(pa);
	cr_assert(getpeername(a, (struct sockaddr *)&pa, &len) == 0);
	len = sizeof(pb);
	cr_assert(getpeername(b, (struct sockaddr *)&pb, &len) == 0);
	cr_expect(memcmp(&la, &lb, sizeof(struct sockaddr_in)) == 0, "local address differs");
	cr_expect(memcmp(&pa, &pb, sizeof(struct sockaddr_in)) == 0, "peer address differs");
}

Test(handoff, passes_the_same_connection)
{
	uint16_t port;
	int l = listen_loopback(IPPROTO_TCP, &port);
	int conn = connect_to(port);
	int server = accept(l, NULL, NULL);
	int sp[2];
	cr_assert(socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0);

	cr_assert_eq(handoff_pass(sp[0], conn), 0);
	int got = recv_fd(sp[1], 1000);
	cr_assert(got >= 0, "no descriptor arrived");
	cr_expect_neq(got, conn);
	same_endpoints(got, conn);

	close(conn);	/* the received descriptor alone keeps it open */
	cr_assert_eq(write(got, "ping", 4), 4);
	char buf[4];
	cr_assert_eq(read(server, buf, 4), 4);
	cr_expect(memcmp(buf, "ping", 4) == 0);
	close(got);
	close(server);
	close(l);
	close(sp[0]);
	close(sp[1]);
}

Test(handoff, pass_to_a_closed_peer_fails)
{
	int sp[2];
	cr_assert(socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0);
	close(sp[1]);
	cr_expect_eq(handoff_pass(sp[0], sp[0]), EPIPE);
	close(sp[0]);
}

/* Criterion runs each test in its own process, so stdio can be rewired. */
Test(handoff, channel_prefers_stdout_then_stdin)
{
	int sp[2], p[2];
	cr_assert(socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0);
	cr_assert(pipe(p) == 0);
	int saved_in = dup(STDIN_FILENO), saved_out = dup(STDOUT_FILENO);

	dup2(sp[0], STDIN_FILENO);
	dup2(sp[0], STDOUT_FILENO);
	int both = handoff_channel();
	dup2(p[0], STDIN_FILENO);
	dup2(p[1], STDOUT_FILENO);
	int neither = handoff_channel();
	dup2(sp[0], STDIN_FILENO);
	int in_only = handoff_channel();

	dup2(saved_in, STDIN_FILENO);
	dup2(saved_out, STDOUT_FILENO);
	cr_expect_eq(both, STDOUT_FILENO);
	cr_expect_eq(neither, -1);
	cr_expect_eq(in_only, STDIN_FILENO);
}

Test(handoff, tcp_socket_on_stdout_is_not_a_channel)
{
	uint16_t port;
	int l = listen_loopback(IPPROTO_TCP, &port);
	int conn = connect_to(port);
	int saved_in = dup(STDIN_FILENO), saved_out = dup(STDOUT_FILENO);
	int devnull = open("/dev/null", O_RDONLY);
	dup2(conn, STDOUT_FILENO);
	dup2(devnull, STDIN_FILENO);
	int channel = handoff_channel();
	dup2(saved_in, STDIN_FILENO);
	dup2(saved_out, STDOUT_FILENO);
	cr_expect_eq(channel, -1, "SCM_RIGHTS needs a unix socket");
	close(conn);
	close(l);
}

/* ---- relay ---- */

enum end_kind { PIPE_END, SOCKET_END };

struct relay_rig {
	int feed;	/* we write what the relay reads as its stdin */
	int drain;	/* we read what the relay writes as its stdout */
	int remote;	/* the far end of the "connection" */
	pid_t pid;
};

static void make_pair(enum end_kind kind, int fds[2])
{
	if (kind == PIPE_END)
		cr_assert(pipe(fds) == 0);
	else
		cr_assert(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
}

/* The relay, then a check that it left the caller's descriptions as they
 * were (a dup shares the description and outlives the relay's close). Exit
 * 0 done, 1 relay error, 3 flags changed. */
static int relay_and_check_flags(int in, int out, int conn)
{
	int out_copy = dup(out);
	int in_flags = fcntl(in, F_GETFL), out_flags = fcntl(out_copy, F_GETFL);
	int err = handoff_relay(in, out, conn, NULL);
	if (fcntl(in, F_GETFL) != in_flags || fcntl(out_copy, F_GETFL) != out_flags)
		return 3;
	return err ? 1 : 0;
}

/* The relay runs in a child, as it would in its own process under ssh. */
static void start_relay(struct relay_rig *rig, enum end_kind in_kind, enum end_kind out_kind)
{
	int in[2], out[2], conn[2];
	make_pair(in_kind, in);
	make_pair(out_kind, out);
	cr_assert(socketpair(AF_UNIX, SOCK_STREAM, 0, conn) == 0);
	rig->pid = fork();
	cr_assert(rig->pid >= 0);
	if (rig->pid == 0) {
		alarm(20);	/* a hang must fail the test, not stall the suite */
		close(in[1]);
		close(out[0]);
		close(conn[1]);
		signal(SIGPIPE, SIG_IGN);	/* as main() does */
		_exit(relay_and_check_flags(in[0], out[1], conn[0]));
	}
	close(in[0]);
	close(out[1]);
	close(conn[0]);
	rig->feed = in[1];
	rig->drain = out[0];
	rig->remote = conn[1];
}

static int finish_relay(struct relay_rig *rig)
{
	int status;
	cr_assert(waitpid(rig->pid, &status, 0) == rig->pid);
	cr_assert(WIFEXITED(status), "relay died by a signal");
	return WEXITSTATUS(status);
}

static void fill(unsigned char *buf, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++) {
		seed = seed * 1103515245u + 12345u;
		buf[i] = (unsigned char)(seed >> 16);
	}
}

/* Move `size` bytes each way at once; return how many arrived each way. */
static void exchange(struct relay_rig *rig, size_t size, bool close_feed_first,
		     size_t *got_up, size_t *got_down)
{
	unsigned char *up = malloc(size), *down = malloc(size);
	unsigned char *up_rx = malloc(size), *down_rx = malloc(size);
	cr_assert(up && down && up_rx && down_rx);
	fill(up, size, 1);
	fill(down, size, 2);
	size_t up_tx = close_feed_first ? size : 0, down_tx = 0;
	*got_up = 0;
	*got_down = 0;
	if (close_feed_first) {
		close(rig->feed);	/* stdin ends at once: nothing goes up */
		rig->feed = -1;
	}
	fcntl(rig->remote, F_SETFL, O_NONBLOCK);
	if (rig->feed >= 0)
		fcntl(rig->feed, F_SETFL, O_NONBLOCK);
	fcntl(rig->drain, F_SETFL, O_NONBLOCK);

	bool up_eof = false, down_eof = false;
	while (!up_eof || !down_eof) {
		struct pollfd p[3] = {
			{ .fd = rig->remote, .events = POLLIN | (down_tx < size ? POLLOUT : 0) },
			{ .fd = rig->feed, .events = up_tx < size ? POLLOUT : 0 },
			{ .fd = rig->drain, .events = POLLIN },
		};
		cr_assert(poll(p, 3, 5000) > 0, "relay stalled");
		if (p[0].revents & POLLOUT) {
			ssize_t n = write(rig->remote, down + down_tx, size - down_tx);
			if (n > 0 && (down_tx += (size_t)n) == size)
				shutdown(rig->remote, SHUT_WR);
		}
		if (p[1].revents & POLLOUT) {
			ssize_t n = write(rig->feed, up + up_tx, size - up_tx);
			if (n > 0 && (up_tx += (size_t)n) == size) {
				close(rig->feed);
				rig->feed = -1;
			}
		}
		if (p[0].revents & (POLLIN | POLLHUP)) {
			ssize_t n = read(rig->remote, up_rx + *got_up, size - *got_up);
			if (n == 0)
				up_eof = true;
			else if (n > 0)
				*got_up += (size_t)n;
		}
		if (p[2].revents & (POLLIN | POLLHUP)) {
			ssize_t n = read(rig->drain, down_rx + *got_down, size - *got_down);
			if (n == 0)
				down_eof = true;
			else if (n > 0)
				*got_down += (size_t)n;
		}
	}
	if (!close_feed_first)
		cr_expect(memcmp(up, up_rx, *got_up) == 0, "bytes changed on the way up");
	cr_expect(memcmp(down, down_rx, *got_down) == 0, "bytes changed on the way down");
	free(up);
	free(down);
	free(up_rx);
	free(down_rx);
}

static void relay_both_ways(enum end_kind in_kind, enum end_kind out_kind)
{
	struct relay_rig rig;
	size_t size = 4 << 20, got_up, got_down;
	start_relay(&rig, in_kind, out_kind);
	exchange(&rig, size, false, &got_up, &got_down);
	cr_expect_eq(got_up, size);
	cr_expect_eq(got_down, size);
	cr_expect_eq(finish_relay(&rig), 0);
	close(rig.remote);
	close(rig.drain);
}

Test(relay, pipes_splice_both_ways)
{
	relay_both_ways(PIPE_END, PIPE_END);
}

Test(relay, sockets_copy_both_ways)
{
	relay_both_ways(SOCKET_END, SOCKET_END);
}

Test(relay, mixed_ends)
{
	relay_both_ways(PIPE_END, SOCKET_END);
}

Test(relay, stdin_eof_half_closes_and_the_download_completes)
{
	struct relay_rig rig;
	size_t size = 8 << 20, got_up, got_down;
	start_relay(&rig, PIPE_END, PIPE_END);
	exchange(&rig, size, true, &got_up, &got_down);
	cr_expect_eq(got_up, 0, "the remote saw EOF, not data");
	cr_expect_eq(got_down, size, "every byte of the download arrived");
	cr_expect_eq(finish_relay(&rig), 0);
	close(rig.remote);
	close(rig.drain);
}

Test(relay, stdout_reader_leaving_ends_quietly)
{
	/* ssh closes its end of our stdout when the session is over, often
	 * while the server's last bytes are still on the way. */
	struct relay_rig rig;
	start_relay(&rig, PIPE_END, PIPE_END);
	close(rig.drain);
	cr_assert_eq(write(rig.remote, "data", 4), 4);
	cr_expect_eq(finish_relay(&rig), 0);
	close(rig.remote);
	close(rig.feed);
}

Test(relay, connection_reset_is_an_error)
{
	uint16_t port;
	int l = listen_loopback(IPPROTO_TCP, &port);
	int conn = connect_to(port);
	int server = accept(l, NULL, NULL);
	cr_assert(server >= 0);
	/* An abortive close: the relay's first read of conn meets the RST. */
	struct linger abort_close = { .l_onoff = 1, .l_linger = 0 };
	cr_assert(setsockopt(server, SOL_SOCKET, SO_LINGER, &abort_close,
			     sizeof(abort_close)) == 0);
	close(server);
	usleep(20 * 1000);

	int in[2], out[2];
	cr_assert(pipe(in) == 0 && pipe(out) == 0);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		alarm(10);	/* a hang must fail the test, not stall the suite */
		signal(SIGPIPE, SIG_IGN);
		close(in[1]);
		close(out[0]);
		_exit(handoff_relay(in[0], out[1], conn, NULL) ? 1 : 0);
	}
	close(in[0]);
	close(out[1]);
	close(conn);
	int status;
	cr_assert(waitpid(pid, &status, 0) == pid);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 1,
		  "a reset must fail the relay (status %#x)", status);
	close(in[1]);
	close(out[0]);
	close(l);
}

/* ---- a TCP connection that ends badly ---- */

struct tcp_rig {
	int server;	/* the far end, accepted */
	int feed, drain;
	pid_t pid;
};

static void start_tcp_relay(struct tcp_rig *rig)
{
	uint16_t port;
	int l = listen_loopback(IPPROTO_TCP, &port);
	int conn = connect_to(port);
	rig->server = accept(l, NULL, NULL);
	cr_assert(rig->server >= 0);
	close(l);
	int in[2], out[2];
	cr_assert(pipe(in) == 0 && pipe(out) == 0);
	rig->pid = fork();
	cr_assert(rig->pid >= 0);
	if (rig->pid == 0) {
		alarm(20);
		signal(SIGPIPE, SIG_IGN);
		close(in[1]);
		close(out[0]);
		close(rig->server);
		_exit(relay_and_check_flags(in[0], out[1], conn));
	}
	close(in[0]);
	close(out[1]);
	close(conn);
	rig->feed = in[1];
	rig->drain = out[0];
}

/* Read the drain to EOF, slowly when asked; returns the bytes, checked. */
static size_t drain_all(int fd, const unsigned char *want, size_t size, bool slowly)
{
	unsigned char *got = malloc(size + 1);
	cr_assert(got);
	size_t n = 0;
	ssize_t r;
	while ((r = read(fd, got + n, slowly ? 4096 : size + 1 - n)) > 0) {
		n += (size_t)r;
		if (n > size)
			break;
		if (slowly)
			usleep(200);
	}
	cr_expect(n <= size && memcmp(got, want, n) == 0, "bytes changed on the way down");
	free(got);
	return n;
}

/* Feed stdin from a child until the pipe breaks: a client that keeps
 * uploading while the server has stopped reading. */
static pid_t endless_feed(int feed)
{
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		alarm(20);
		signal(SIGPIPE, SIG_IGN);
		/* Hold nothing else: a stray copy of the server's socket or of
		 * the drain would keep them from ending. */
		for (int fd = 3; fd < 64; fd++)
			if (fd != feed)
				close(fd);
		static char zeros[65536];
		while (write(feed, zeros, sizeof(zeros)) > 0)
			;
		_exit(0);
	}
	close(feed);
	return pid;
}

Test(relay, server_that_stops_reading_still_delivers_everything)
{
	/* The reproduction: the server reads 10 bytes, sends 8 MB,
	 * shuts down its side and closes (a reset, since it left data unread).
	 * Every one of the 8 MB reaches a slow stdout reader. */
	struct tcp_rig rig;
	start_tcp_relay(&rig);
	size_t size = 8 << 20;
	unsigned char *data = malloc(size);
	cr_assert(data);
	fill(data, size, 3);
	pid_t feeder = endless_feed(rig.feed);
	char ten[10];
	cr_assert(recv(rig.server, ten, sizeof(ten), MSG_WAITALL) == 10);
	pid_t sender = fork();
	cr_assert(sender >= 0);
	if (sender == 0) {
		close(rig.drain);
		size_t off = 0;
		while (off < size) {
			ssize_t n = write(rig.server, data + off, size - off);
			if (n <= 0)
				_exit(1);
			off += (size_t)n;
		}
		shutdown(rig.server, SHUT_WR);
		/* A close with unread data resets at once and drops whatever the
		 * sender's kernel has not sent yet: no relay can deliver that.
		 * So close only when all of it (and the FIN) reached the relay's
		 * kernel; the reset then lands while the relay still holds data. */
		int unacked = 1;
		for (int i = 0; i < 7500 && unacked > 0; i++) {
			if (ioctl(rig.server, SIOCOUTQ, &unacked) != 0)
				_exit(1);
			usleep(2000);
		}
		_exit(unacked == 0 ? 0 : 1);
	}
	close(rig.server);	/* the sender holds it until its close */
	usleep(500 * 1000);	/* a slow reader: the relay must wait, not give up */
	cr_expect_eq(drain_all(rig.drain, data, size, true), size);
	cr_expect_eq(finish_relay(&(struct relay_rig){ .pid = rig.pid }), 0);
	int sent;
	cr_assert(waitpid(sender, &sent, 0) == sender);
	cr_expect(WIFEXITED(sent) && WEXITSTATUS(sent) == 0,
		  "the server could not hand over all its data (status %#x)", sent);
	kill(feeder, SIGTERM);
	waitpid(feeder, NULL, 0);
	close(rig.drain);
	free(data);
}

Test(relay, reset_after_data_delivers_the_data_then_fails)
{
	/* What arrived before a reset is the caller's; the reset is an error. */
	struct tcp_rig rig;
	start_tcp_relay(&rig);
	size_t size = 1 << 20;
	unsigned char *data = malloc(size);
	cr_assert(data);
	fill(data, size, 4);
	cr_assert(write(rig.server, data, size) == (ssize_t)size);
	/* Wait until the relay's kernel has it all, so the reset drops nothing. */
	int unacked = 1;
	for (int i = 0; i < 500 && unacked > 0; i++) {
		cr_assert(ioctl(rig.server, SIOCOUTQ, &unacked) == 0);
		usleep(2000);
	}
	cr_assert_eq(unacked, 0);
	struct linger abort_close = { .l_onoff = 1, .l_linger = 0 };
	cr_assert(setsockopt(rig.server, SOL_SOCKET, SO_LINGER, &abort_close,
			     sizeof(abort_close)) == 0);
	close(rig.server);
	cr_expect_eq(drain_all(rig.drain, data, size, true), size);
	cr_expect_eq(finish_relay(&(struct relay_rig){ .pid = rig.pid }), 1,
		     "a reset is an error (3: flags changed)");
	close(rig.feed);
	close(rig.drain);
	free(data);
}

Test(relay, early_remote_close_ends_cleanly_with_flags_unchanged)
{
	struct relay_rig rig;
	start_relay(&rig, PIPE_END, PIPE_END);
	cr_assert_eq(write(rig.remote, "bye", 3), 3);
	close(rig.remote);	/* before stdin even started */
	char buf[8] = { 0 };
	cr_expect_eq(read(rig.drain, buf, sizeof(buf)), 3);
	cr_expect_str_eq(buf, "bye");
	close(rig.feed);
	cr_expect_eq(finish_relay(&rig), 0, "0, or 3 when flags changed");
	close(rig.drain);
}
