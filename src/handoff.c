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

static void enlarge_pipe(int fd)
{
	if (is_pipe(fd))
		(void)fcntl(fd, F_SETPIPE_SZ, RELAY_PIPE_SIZE);	/* best effort */
}

/* Non-blocking ends keep one slow direction from stalling the other. A tty
 * is left alone: its flags are shared with the shell that owns it. */
static void make_nonblocking(int fd)
{
	struct stat st;
	if (fstat(fd, &st) != 0 || !(S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
		return;
	int flags = fcntl(fd, F_GETFL);
	if (flags >= 0)
		(void)fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

static bool again(int err)
{
	return err == EAGAIN || err == EWOULDBLOCK || err == EINTR;
}

/* What pump() returns besides 0 (moved or waiting) and errno values. */
enum {
	PUMP_EOF = -1,		/* the source ended */
	PUMP_SINK_GONE = -2,	/* the sink's reader closed it (EPIPE) */
};

static int sink_error(int err)
{
	return err == EPIPE ? PUMP_SINK_GONE : err;
}

/* splice() moves bytes without copying them through user space, but needs a
 * pipe at one end; EAGAIN tells us only that one side was not ready, and the
 * source just polled readable, so it is taken to mean the sink is full. */
static int pump_splice(struct flow *f)
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
		return sink_error(errno);
	/* This pair of descriptors cannot splice; nothing moved in this call,
	 * so copying through the buffer from here on loses no byte. */
	log_info("relay %s: splice refused (%s), copying instead", f->name, strerror(errno));
	f->use_splice = false;
	return 0;
}

/* Move what is ready. Returns 0 (also when nothing moved), PUMP_EOF,
 * PUMP_SINK_GONE, or an errno value. */
static int pump(struct flow *f)
{
	if (f->len == 0 && f->use_splice)
		return pump_splice(f);
	if (f->len == 0) {
		ssize_t n = read(f->from, f->buf, sizeof(f->buf));
		if (n == 0)
			return PUMP_EOF;
		if (n < 0)
			return again(errno) ? 0 : errno;
		f->len = (size_t)n;
		f->off = 0;
	}
	ssize_t w = write(f->to, f->buf + f->off, f->len);
	if (w < 0)
		return again(errno) ? 0 : sink_error(errno);
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

static void finish_flow(struct flow *f, bool is_up, int conn, int out)
{
	f->done = true;
	if (is_up)
		(void)shutdown(conn, SHUT_WR);	/* the peer sees our EOF */
	else
		close(out);	/* the caller sees the peer's EOF */
}

int handoff_relay(int in, int out, int conn, struct relay_totals *totals)
{
	static struct flow flows[2];	/* 64 KiB buffers: off the stack */
	struct flow *up = &flows[0], *down = &flows[1];

	*up = (struct flow){ .name = "up", .from = in, .to = conn, .use_splice = is_pipe(in) };
	*down = (struct flow){ .name = "down", .from = conn, .to = out,
			       .use_splice = is_pipe(out) };
	make_nonblocking(in);
	make_nonblocking(out);
	make_nonblocking(conn);
	enlarge_pipe(in);
	enlarge_pipe(out);

	int err = 0;
	while (!err && (!up->done || !down->done)) {
		struct pollfd pfds[2];
		watch(up, &pfds[0]);
		watch(down, &pfds[1]);
		if (poll(pfds, 2, -1) < 0) {
			err = errno == EINTR ? 0 : errno;
			continue;
		}
		for (int i = 0; i < 2 && !err; i++) {
			struct flow *f = &flows[i];
			if (f->done || !pfds[i].revents)
				continue;
			if (f->sink_full && f->len == 0) {
				/* Room again: go back to waiting for the source. */
				f->sink_full = false;
				continue;
			}
			int rc = pump(f);
			if (rc == PUMP_EOF) {
				finish_flow(f, f == up, conn, out);
			} else if (rc == PUMP_SINK_GONE) {
				/* ssh closing its end of stdout is how a session
				 * ends; so is writing to a server that already
				 * closed its side. Neither is an error to report. */
				if (f == down || down->done) {
					log_info("relay: %s closed by its reader, ending",
						 f == down ? "stdout" : "the connection");
					up->done = down->done = true;
				} else {
					err = EPIPE;
				}
			} else if (rc > 0) {
				err = rc;
			}
		}
	}
	if (totals)
		*totals = (struct relay_totals){ .up = up->total, .down = down->total };
	return err;
}
