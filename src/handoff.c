#include "handoff.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

#define RELAY_CHUNK (64 * 1024)	/* read/write path buffer */
/* A pipe's default 64 KiB makes ssh and us take turns in small steps; a
 * larger pipe lets each splice move up to this much. 1 MiB is the default
 * /proc/sys/fs/pipe-max-size, so unprivileged users get it too. */
#define RELAY_PIPE_SIZE (1024 * 1024)

static bool is_unix_socket(int fd)
{
	int domain = 0;
	socklen_t len = sizeof(domain);
	return getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 && domain == AF_UNIX;
}

int handoff_channel(void)
{
	if (is_unix_socket(STDOUT_FILENO))
		return STDOUT_FILENO;
	if (is_unix_socket(STDIN_FILENO))
		return STDIN_FILENO;
	return -1;
}

int handoff_pass(int channel, int fd)
{
	char byte = '\0';
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	memset(&control, 0, sizeof(control));
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));

	for (;;) {
		/* The channel may be non-blocking (it is ssh's end too); wait
		 * rather than spin when its buffer is momentarily full. */
		struct pollfd pfd = { .fd = channel, .events = POLLOUT };
		if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
			return errno;
		ssize_t n = sendmsg(channel, &msg, MSG_NOSIGNAL);
		if (n == 1)
			return 0;
		if (n < 0 && errno != EINTR && errno != EAGAIN)
			return errno;
	}
}

struct flow {
	const char *name;
	int from, to;
	bool from_socket, to_socket;	/* use MSG_DONTWAIT instead of O_NONBLOCK */
	bool use_splice;	/* one end is a pipe and splice() has not refused */
	bool sink_full;		/* the last move stopped at a full `to` */
	bool done;
	size_t len, off;	/* bytes read but not yet written (read/write path) */
	uint64_t total;
	char buf[RELAY_CHUNK];
};

static bool is_pipe(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode);
}

static bool is_socket(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

static bool is_listening(int fd)
{
	int on = 0;
	socklen_t len = sizeof(on);
	return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == 0 && on;
}

int handoff_check_stdio(void)
{
	/* poll() on a listening socket waits for a connection that, for our
	 * purpose, never comes: neither a descriptor nor bytes can go there. */
	if (is_listening(STDOUT_FILENO))
		return STDOUT_FILENO;
	if (is_listening(STDIN_FILENO))
		return STDIN_FILENO;
	return -1;
}

static void enlarge_pipe(int fd)
{
	if (is_pipe(fd))
		(void)fcntl(fd, F_SETPIPE_SZ, RELAY_PIPE_SIZE);	/* best effort */
}

/* Descriptors whose file status flags we changed, and how they were. stdin
 * and stdout share their open file description with the caller (a shell
 * pipeline, ssh): a flag left behind changes how the next program's I/O
 * behaves, so every change is undone before the relay returns. */
struct saved_flags {
	int fd[3];
	int flags[3];
	size_t n;
};

static void set_nonblocking(struct saved_flags *saved, int fd)
{
	for (size_t i = 0; i < saved->n; i++)
		if (saved->fd[i] == fd)
			return;
	int flags = fcntl(fd, F_GETFL);
	if (flags < 0 || (flags & O_NONBLOCK) || saved->n == 3)
		return;
	if (fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0)
		return;
	saved->fd[saved->n] = fd;
	saved->flags[saved->n++] = flags;
}

static void restore_flags(const struct saved_flags *saved)
{
	for (size_t i = 0; i < saved->n; i++)
		(void)fcntl(saved->fd[i], F_SETFL, saved->flags[i]);
}

static bool again(int err)
{
	return err == EAGAIN || err == EWOULDBLOCK || err == EINTR;
}

/* What pump() returns besides 0 (moved or waiting) and errno values. */
enum {
	PUMP_EOF = -1,		/* the source ended */
	PUMP_SINK_GONE = -2,	/* the sink's reader went away (EPIPE, ECONNRESET) */
};

/* A socket's reader that went away may also answer ECONNRESET; a pipe's
 * never does, so on a splice into a pipe ECONNRESET is the source's. */
static int sink_error(const struct flow *f, int err)
{
	return err == EPIPE || (err == ECONNRESET && f->to_socket) ? PUMP_SINK_GONE : err;
}

/* splice() moves bytes without copying them through user space, but needs a
 * pipe at one end. SPLICE_F_NONBLOCK makes the pipe's side non-blocking
 * without touching its flags (the pipe is the caller's); the other side is
 * the connection, ours and non-blocking. EAGAIN tells us only that one side
 * was not ready, and the source just polled readable, so it is taken to mean
 * the sink is full. */
static int pump_splice(struct flow *f, struct saved_flags *saved)
{
	ssize_t n = splice(f->from, NULL, f->to, NULL, RELAY_PIPE_SIZE,
			   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	if (n > 0) {
		f->total += (uint64_t)n;
		return 0;
	}
	if (n == 0)
		return PUMP_EOF;
	if (again(errno)) {
		f->sink_full = errno != EINTR;
		return 0;
	}
	if (errno != EINVAL && errno != ENOSYS)
		return sink_error(f, errno);
	/* This pair of descriptors cannot splice; nothing moved in this call,
	 * so copying through the buffer from here on loses no byte. read() and
	 * write() on a pipe need O_NONBLOCK (restored at the end). */
	log_info("relay %s: splice refused (%s), copying instead", f->name, strerror(errno));
	f->use_splice = false;
	if (!f->from_socket)
		set_nonblocking(saved, f->from);
	if (!f->to_socket)
		set_nonblocking(saved, f->to);
	return 0;
}

static ssize_t read_some(const struct flow *f)
{
	if (f->from_socket)
		return recv(f->from, (void *)f->buf, sizeof(f->buf), MSG_DONTWAIT);
	return read(f->from, (void *)f->buf, sizeof(f->buf));
}

static ssize_t write_some(const struct flow *f)
{
	if (f->to_socket)
		return send(f->to, f->buf + f->off, f->len, MSG_DONTWAIT | MSG_NOSIGNAL);
	return write(f->to, f->buf + f->off, f->len);
}

/* Move what is ready. Returns 0 (also when nothing moved), PUMP_EOF,
 * PUMP_SINK_GONE, or an errno value. */
static int pump(struct flow *f, struct saved_flags *saved)
{
	if (f->len == 0 && f->use_splice)
		return pump_splice(f, saved);
	if (f->len == 0) {
		ssize_t n = read_some(f);
		if (n == 0)
			return PUMP_EOF;
		if (n < 0)
			return again(errno) ? 0 : errno;
		f->len = (size_t)n;
		f->off = 0;
	}
	ssize_t w = write_some(f);
	if (w < 0)
		return again(errno) ? 0 : sink_error(f, errno);
	f->off += (size_t)w;
	f->len -= (size_t)w;
	f->total += (uint64_t)w;
	return 0;
}

/* Each flow watches one side at a time, so that poll() sleeps until
 * something can move: the sink while it holds bytes or said it was full,
 * the source otherwise. */
static void watch(const struct flow *f, struct pollfd *p)
{
	bool sink = f->len > 0 || f->sink_full;
	*p = (struct pollfd){
		.fd = f->done ? -1 : sink ? f->to : f->from,
		.events = sink ? POLLOUT : POLLIN,
	};
}

/* The end of a direction, as its reader must see it. */
static void end_of_stream(int fd, bool is_sock)
{
	if (is_sock)
		(void)shutdown(fd, SHUT_WR);
	else
		close(fd);
}

int handoff_relay(int in, int out, int conn, struct relay_totals *totals)
{
	static struct flow flows[2];	/* 64 KiB buffers: off the stack */
	struct flow *up = &flows[0], *down = &flows[1];
	struct saved_flags saved = { .n = 0 };

	*up = (struct flow){ .name = "up", .from = in, .to = conn, .use_splice = is_pipe(in),
			     .from_socket = is_socket(in), .to_socket = true };
	*down = (struct flow){ .name = "down", .from = conn, .to = out,
			       .use_splice = is_pipe(out), .from_socket = true,
			       .to_socket = is_socket(out) };
	/* The connection is ours: non-blocking for splice()'s sake. stdin and
	 * stdout are not: they get MSG_DONTWAIT or SPLICE_F_NONBLOCK per call. */
	set_nonblocking(&saved, conn);
	enlarge_pipe(in);
	enlarge_pipe(out);

	/* The first real error, reported once every direction has ended: a
	 * failing direction must not cost the other its last bytes. */
	int err = 0;
	while (!up->done || !down->done) {
		struct pollfd pfds[2];
		watch(up, &pfds[0]);
		watch(down, &pfds[1]);
		if (poll(pfds, 2, -1) < 0) {
			if (errno != EINTR) {
				err = errno;
				break;
			}
			continue;
		}
		for (int i = 0; i < 2; i++) {
			struct flow *f = &flows[i];
			if (f->done || !pfds[i].revents)
				continue;
			if (f->sink_full && f->len == 0) {
				/* Room again: go back to waiting for the source. */
				f->sink_full = false;
				continue;
			}
			int rc = pump(f, &saved);
			if (rc == 0)
				continue;
			f->done = true;
			if (rc == PUMP_EOF) {
				end_of_stream(f->to, f->to_socket);
			} else if (rc == PUMP_SINK_GONE && f == down) {
				/* ssh closing its end of stdout is how a session
				 * ends: nothing is left to deliver anywhere. */
				log_info("relay: stdout closed by its reader, ending");
				up->done = true;
			} else if (rc == PUMP_SINK_GONE) {
				/* The server stopped taking data (it closed or
				 * reset): what it already sent is still delivered. */
				log_info("relay: the connection takes no more data; "
					 "delivering what it sent");
			} else {
				if (!err)
					err = rc;
				log_info("relay %s: %s", f->name, strerror(rc));
				/* A broken stdin: the server still gets our EOF and may
				 * finish. A broken connection or stdout: nothing more
				 * can reach the caller, so the upload ends too. */
				if (f == up)
					(void)shutdown(conn, SHUT_WR);
				else
					up->done = true;
			}
		}
	}
	restore_flags(&saved);
	if (totals)
		*totals = (struct relay_totals){ .up = up->total, .down = down->total };
	return err;
}
