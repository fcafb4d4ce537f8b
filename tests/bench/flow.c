/* One MPTCP bulk transfer for the bench, without ssh: what the kernel's
 * aggregation gives, free of ssh's crypto and channel window (on a loaded
 * machine ssh's CPU time would be measured with it).
 *
 *   flow [-C CC] [-i INFO] [-s SAMPLES] listen PORT send|recv BYTES
 *   flow [-C CC] [-i INFO] [-s SAMPLES] connect HOST PORT send|recv BYTES
 *
 * One side listens (one connection, then exits), the other connects (retrying
 * for 10 s while nothing listens yet). The sender writes BYTES zero bytes and
 * shuts down; the receiver reads to the end and prints one line:
 *
 *   BYTES MS GAP_MS GAP_AT_MS FIRST_MS
 *
 * MS: first byte to last; GAP_MS: the longest time between two reads that
 * returned data (the longest time without progress for the application);
 * GAP_AT_MS: when that gap began, from the first byte; FIRST_MS: the
 * first byte's wall clock (ms since the epoch, CLOCK_REALTIME), to place
 * other events on this clock. -C sets the congestion
 * control of this end (TCP_CONGESTION on the MPTCP socket, which passes it to
 * every subflow; the sender's is the one that matters). With -i, the sender
 * writes one line per subflow there once the receiver has everything, from
 * the kernel's tcp_info (MPTCP_TCPINFO) of each:
 *
 *   LOCAL REMOTE BYTES_ACKED RTT_MS BUSY_MS RWND_LIMITED_MS SNDBUF_LIMITED_MS
 *   RETRANS PACING_MBIT
 *
 * (how long the subflow had data to send, and of that how long the peer's
 * receive window or our send buffer held it back; the pacing rate is what
 * the default scheduler reads to share data among subflows). With -s, the
 * receiver writes "MS BYTES" there at most every 10 ms (bytes delivered over
 * time, for the charts). Exit: 0 done, 1 failed, 2 usage. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/mptcp.h>
#include <linux/tcp.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#ifndef SOL_MPTCP
#define SOL_MPTCP 284
#endif
#include <unistd.h>

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

#define CHUNK (256 * 1024)
#define SAMPLE_MS 10.0

static char buf[CHUNK];

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int usage(void)
{
	fprintf(stderr, "usage: flow [-C CC] [-i INFO] [-s SAMPLES] listen PORT send|recv BYTES\n"
			"       flow [-C CC] [-i INFO] [-s SAMPLES] connect HOST PORT send|recv BYTES\n");
	return 2;
}

/* The listener stays open for the whole transfer (*listener), as a server's
 * does: the path manager's joins arrive at it, and a closed one refuses
 * them. */
static const char *cc;

/* before connect or listen, so that the handshake already uses it */
static int set_cc(int fd)
{
	if (cc && setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, cc, (socklen_t)strlen(cc)) != 0) {
		fprintf(stderr, "flow: congestion control %s: %s\n", cc, strerror(errno));
		return -1;
	}
	return 0;
}

static int open_listen(const char *port, int *listener)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY) };
	sin.sin_port = htons((unsigned short)atoi(port));
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM, IPPROTO_MPTCP);
	if (fd < 0 || set_cc(fd) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 || listen(fd, 1) != 0) {
		perror("flow: listen");
		return -1;
	}
	int conn = accept(fd, NULL, NULL);
	if (conn < 0)
		perror("flow: accept");
	*listener = fd;
	return conn;
}

static int open_connect(const char *host, const char *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	sin.sin_port = htons((unsigned short)atoi(port));
	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1) {
		fprintf(stderr, "flow: not an IPv4 address: %s\n", host);
		return -1;
	}
	double until = now_ms() + 10000;
	for (;;) {
		int fd = socket(AF_INET, SOCK_STREAM, IPPROTO_MPTCP);
		if (fd < 0) {
			perror("flow: socket");
			return -1;
		}
		if (set_cc(fd) != 0) {
			close(fd);
			return -1;
		}
		if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0)
			return fd;
		int err = errno;
		close(fd);
		if (err != ECONNREFUSED || now_ms() > until) {
			fprintf(stderr, "flow: connect %s:%s: %s\n", host, port, strerror(err));
			return -1;
		}
		usleep(20000);
	}
}

#define MAX_SUBFLOWS 8

/* the subflows' tcp_info and local addresses, in the kernel's one order */
static int write_info(int fd, const char *path)
{
	struct {
		struct mptcp_subflow_data d;
		struct tcp_info ti[MAX_SUBFLOWS];
	} info;
	struct {
		struct mptcp_subflow_data d;
		struct mptcp_subflow_addrs a[MAX_SUBFLOWS];
	} addrs;
	memset(&info, 0, sizeof(info));
	memset(&addrs, 0, sizeof(addrs));
	info.d.size_subflow_data = sizeof(info.d);
	info.d.size_user = sizeof(info.ti[0]);
	addrs.d.size_subflow_data = sizeof(addrs.d);
	addrs.d.size_user = sizeof(addrs.a[0]);
	socklen_t il = sizeof(info), al = sizeof(addrs);
	FILE *out = fopen(path, "w");
	if (!out) {
		perror(path);
		return 1;
	}
	if (getsockopt(fd, SOL_MPTCP, MPTCP_TCPINFO, &info, &il) != 0 ||
	    getsockopt(fd, SOL_MPTCP, MPTCP_SUBFLOW_ADDRS, &addrs, &al) != 0) {
		/* an old kernel, or plain TCP: an empty file says so */
		fclose(out);
		return 0;
	}
	unsigned n = info.d.num_subflows < addrs.d.num_subflows ? info.d.num_subflows :
								   addrs.d.num_subflows;
	if (n > MAX_SUBFLOWS)
		n = MAX_SUBFLOWS;
	for (unsigned i = 0; i < n; i++) {
		const struct tcp_info *t = &info.ti[i];
		char local[INET6_ADDRSTRLEN] = "?", remote[INET6_ADDRSTRLEN] = "?";
		if (addrs.a[i].sa_family == AF_INET) {
			inet_ntop(AF_INET, &addrs.a[i].sin_local.sin_addr, local, sizeof(local));
			inet_ntop(AF_INET, &addrs.a[i].sin_remote.sin_addr, remote, sizeof(remote));
		}
		fprintf(out, "%s %s %llu %.1f %.0f %.0f %.0f %u %.1f\n", local, remote,
			(unsigned long long)t->tcpi_bytes_acked, t->tcpi_rtt / 1e3,
			(double)t->tcpi_busy_time / 1e3, (double)t->tcpi_rwnd_limited / 1e3,
			(double)t->tcpi_sndbuf_limited / 1e3, t->tcpi_total_retrans,
			(double)t->tcpi_pacing_rate * 8 / 1e6);
	}
	fclose(out);
	return 0;
}

static int do_send(int fd, unsigned long long bytes, const char *info)
{
	while (bytes > 0) {
		size_t n = bytes < CHUNK ? (size_t)bytes : CHUNK;
		ssize_t w = write(fd, buf, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			perror("flow: write");
			return 1;
		}
		bytes -= (unsigned long long)w;
	}
	shutdown(fd, SHUT_WR);
	/* until the receiver has all of it and closes */
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	return info ? write_info(fd, info) : 0;
}

static int do_recv(int fd, const char *samples_path)
{
	FILE *samples = NULL;
	if (samples_path && !(samples = fopen(samples_path, "w"))) {
		perror(samples_path);
		return 1;
	}
	unsigned long long total = 0;
	double first = -1, last = 0, gap = 0, gap_at = 0, sampled = -SAMPLE_MS, first_wall = 0;
	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			perror("flow: read");
			return 1;
		}
		if (r == 0)
			break;
		double t = now_ms();
		if (first < 0) {
			struct timespec wall;
			clock_gettime(CLOCK_REALTIME, &wall);
			first_wall = (double)wall.tv_sec * 1e3 + (double)wall.tv_nsec / 1e6;
			first = last = t;
		}
		if (t - last > gap) {
			gap = t - last;
			gap_at = last - first;
		}
		last = t;
		total += (unsigned long long)r;
		if (samples && t - first - sampled >= SAMPLE_MS) {
			sampled = t - first;
			fprintf(samples, "%.1f %llu\n", sampled, total);
			fflush(samples);	/* read while the transfer runs */
		}
	}
	if (samples) {
		fprintf(samples, "%.1f %llu\n", last - first, total);
		fclose(samples);
	}
	printf("%llu %.0f %.1f %.1f %.0f\n", total, first < 0 ? 0 : last - first, gap, gap_at,
	       first_wall);
	return total > 0 ? 0 : 1;
}

int main(int argc, char *argv[])
{
	const char *samples = NULL, *info = NULL;
	int opt;
	while ((opt = getopt(argc, argv, "+C:i:s:")) != -1) {
		switch (opt) {
		case 'i':
			info = optarg;
			break;
		case 'C':
			cc = optarg;
			break;
		case 's':
			samples = optarg;
			break;
		default:
			return usage();
		}
	}
	argc -= optind - 1;
	argv += optind - 1;
	int listening;
	if (argc == 5 && strcmp(argv[1], "listen") == 0)
		listening = 1;
	else if (argc == 6 && strcmp(argv[1], "connect") == 0)
		listening = 0;
	else
		return usage();
	int a = listening ? 3 : 4;
	const char *role = argv[a];
	char *end;
	unsigned long long bytes = strtoull(argv[a + 1], &end, 10);
	if (*end || (strcmp(role, "send") != 0 && strcmp(role, "recv") != 0))
		return usage();

	int listener = -1;
	int fd = listening ? open_listen(argv[2], &listener) : open_connect(argv[2], argv[3]);
	if (fd < 0)
		return 1;
	int rc = strcmp(role, "send") == 0 ? do_send(fd, bytes, info) : do_recv(fd, samples);
	close(fd);
	if (listener >= 0)
		close(listener);
	return rc;
}
