#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dial.h"
#include "helpers.h"
#include "log.h"
#include "mptcp.h"

static struct options loopback_options(enum mptcp_mode mode)
{
	struct options o;
	memset(&o, 0, sizeof(o));
	strcpy(o.host, "127.0.0.1");
	strcpy(o.port_text, "0");
	o.family = AF_UNSPEC;
	o.mode = mode;
	o.log_level = LOG_QUIET;
	o.rescue_delay_ms = RESCUE_DELAY_DEFAULT_MS;
	o.keepalive = true;
	return o;
}

static uint16_t local_port(int fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	cr_assert(getsockname(fd, (struct sockaddr *)&sin, &len) == 0);
	return ntohs(sin.sin_port);
}

static uint16_t peer_port(const struct dial_result *r)
{
	return ntohs(((const struct sockaddr_in *)&r->peer)->sin_port);
}

/* ---- order ---- */

static struct addrinfo *mixed(const int *families, size_t n)
{
	static struct sockaddr_storage storage[8];
	static struct addrinfo nodes[8];
	cr_assert(n <= 8);
	for (size_t i = 0; i < n; i++) {
		memset(&storage[i], 0, sizeof(storage[i]));
		storage[i].ss_family = (sa_family_t)families[i];
		/* A distinct address per node so none is a duplicate. */
		if (families[i] == AF_INET)
			((struct sockaddr_in *)&storage[i])->sin_addr.s_addr = htonl(0x0a000001 + (uint32_t)i);
		else
			((struct sockaddr_in6 *)&storage[i])->sin6_addr.s6_addr[15] = (uint8_t)(i + 1);
		nodes[i] = (struct addrinfo){
			.ai_family = families[i],
			.ai_addr = (struct sockaddr *)&storage[i],
			.ai_addrlen = families[i] == AF_INET ? sizeof(struct sockaddr_in)
							      : sizeof(struct sockaddr_in6),
			.ai_next = i + 1 < n ? &nodes[i + 1] : NULL,
		};
	}
	return &nodes[0];
}

Test(dial_order, starts_with_the_family_the_resolver_put_first)
{
	/* RFC 8305 section 4: an RFC 6724 order (or /etc/gai.conf) that puts
	 * IPv4 first is obeyed, then the families alternate. */
	int fam[] = { AF_INET, AF_INET, AF_INET, AF_INET6, AF_INET6 };
	struct addrinfo *list = mixed(fam, 5);
	const struct addrinfo *out[5];
	cr_assert_eq(dial_order(list, out, 5), 5);
	/* v4#0, v6#3, v4#1, v6#4, v4#2 */
	cr_expect_eq(out[0], &list[0]);
	cr_expect_eq(out[1], &list[3]);
	cr_expect_eq(out[2], &list[1]);
	cr_expect_eq(out[3], &list[4]);
	cr_expect_eq(out[4], &list[2]);
}

Test(dial_order, ipv6_first_when_the_resolver_says_so)
{
	int fam[] = { AF_INET6, AF_INET6, AF_INET, AF_INET };
	struct addrinfo *list = mixed(fam, 4);
	const struct addrinfo *out[4];
	cr_assert_eq(dial_order(list, out, 4), 4);
	cr_expect_eq(out[0], &list[0]);
	cr_expect_eq(out[1], &list[2]);
	cr_expect_eq(out[2], &list[1]);
	cr_expect_eq(out[3], &list[3]);
}

Test(dial_order, one_family_keeps_resolver_order)
{
	int fam[] = { AF_INET, AF_INET, AF_INET };
	struct addrinfo *list = mixed(fam, 3);
	const struct addrinfo *out[3];
	cr_assert_eq(dial_order(list, out, 3), 3);
	for (size_t i = 0; i < 3; i++)
		cr_expect_eq(out[i], &list[i]);
}

Test(dial_order, drops_duplicates)
{
	int fam[] = { AF_INET, AF_INET6, AF_INET };
	struct addrinfo *list = mixed(fam, 3);
	memcpy(list[2].ai_addr, list[0].ai_addr, sizeof(struct sockaddr_in));
	const struct addrinfo *out[3];
	cr_expect_eq(dial_order(list, out, 3), 2);
}

/* ---- timing rules ---- */

Test(dial_timing, poll_timeout_takes_the_earliest_event)
{
	cr_expect_eq(dial_poll_timeout(1000, -1, -1, -1), -1, "nothing to wait for: no limit");
	cr_expect_eq(dial_poll_timeout(1000, 1250, -1, -1), 250);
	cr_expect_eq(dial_poll_timeout(1000, 1250, 1100, -1), 100);
	cr_expect_eq(dial_poll_timeout(1000, 1250, 1100, 1050), 50);
	cr_expect_eq(dial_poll_timeout(1000, -1, -1, 3000), 2000);
	cr_expect_eq(dial_poll_timeout(1000, 900, -1, 3000), 0, "overdue: do not sleep");
	cr_expect_eq(dial_poll_timeout(1000, -1, -1, 999), 0, "deadline passed");
	cr_expect_eq(dial_poll_timeout(0, -1, -1, (int64_t)1 << 40), 2147483647, "clamped");
}

Test(dial_timing, a_lookup_without_memory_or_descriptors_is_a_system_error)
{
	/* Seen under RLIMIT_AS of 2700 KiB: getaddrinfo_a() answered
	 * EAI_SYSTEM with ENOMEM, which was exit 68 ("does not resolve"). */
	cr_expect_eq(dial_resolve_error(EAI_SYSTEM, ENOMEM), DIAL_ERR_SYSTEM);
	cr_expect_eq(dial_resolve_error(EAI_SYSTEM, EMFILE), DIAL_ERR_SYSTEM);
	cr_expect_eq(dial_resolve_error(EAI_SYSTEM, ENFILE), DIAL_ERR_SYSTEM);
	cr_expect_eq(dial_resolve_error(EAI_SYSTEM, EAGAIN), DIAL_ERR_SYSTEM, "no thread");
	cr_expect_eq(dial_resolve_error(EAI_MEMORY, 0), DIAL_ERR_SYSTEM);
	cr_expect_eq(dial_resolve_error(EAI_NONAME, 0), DIAL_ERR_RESOLVE);
	cr_expect_eq(dial_resolve_error(EAI_AGAIN, 0), DIAL_ERR_RESOLVE, "no answer in time");
	cr_expect_eq(dial_resolve_error(EAI_SYSTEM, ECONNREFUSED), DIAL_ERR_RESOLVE,
		     "the resolver's server refused");
}

/* ---- connecting on loopback ---- */

/* A connection from dial() to a fresh loopback listener of `proto`. */
struct dialed {
	int listener;
	uint16_t port;
	struct dial_result r;
};

static enum dial_error dial_ports(const struct options *o, const uint16_t *ports, size_t n,
				  int64_t deadline, struct dial_result *r);

static void dial_listener(struct dialed *d, int proto, const struct options *o)
{
	d->listener = listen_loopback(proto, &d->port);
	cr_assert_eq(dial_ports(o, &d->port, 1, -1, &d->r), DIAL_OK);
}

static void undial(struct dialed *d)
{
	close(d->r.fd);
	close(d->listener);
}

static int option_of(int fd, int name)
{
	int value = 0;
	socklen_t len = sizeof(value);
	cr_assert(getsockopt(fd, SOL_SOCKET, name, &value, &len) == 0);
	return value;
}

static enum dial_error dial_ports(const struct options *o, const uint16_t *ports, size_t n,
				  int64_t deadline, struct dial_result *r)
{
	struct addrinfo *list = loopback_addrs(ports, n);
	enum dial_error e = dial_addresses(o, list, deadline, r);
	free_loopback_addrs(list);
	return e;
}

Test(dial, mptcp_listener_gives_mptcp)
{
	struct options o = loopback_options(MPTCP_PREFER);
	struct dialed d;
	dial_listener(&d, IPPROTO_MPTCP, &o);
	cr_expect(d.r.opened_as_mptcp);
	cr_expect(!d.r.rescued);
	enum mptcp_evidence evidence = MPTCP_EVIDENCE_NONE;
	cr_expect_eq(mptcp_status_of(d.r.fd, d.r.opened_as_mptcp, &evidence), MPTCP_STATUS_ACTIVE);
	/* a verdict that is not "unknown" always names a kernel witness */
	cr_expect(evidence == MPTCP_EVIDENCE_TCP_IS_MPTCP || evidence == MPTCP_EVIDENCE_MPTCP_INFO);
	undial(&d);
}

Test(dial, tcp_listener_is_detected_as_fallback)
{
	struct options o = loopback_options(MPTCP_PREFER);
	struct dialed d;
	dial_listener(&d, IPPROTO_TCP, &o);
	cr_expect(d.r.opened_as_mptcp);
	enum mptcp_evidence evidence = MPTCP_EVIDENCE_NONE;
	cr_expect_eq(mptcp_status_of(d.r.fd, d.r.opened_as_mptcp, &evidence), MPTCP_STATUS_FALLBACK);
	/* a verdict that is not "unknown" always names a kernel witness */
	cr_expect(evidence == MPTCP_EVIDENCE_TCP_IS_MPTCP || evidence == MPTCP_EVIDENCE_MPTCP_INFO);
	undial(&d);
}

Test(dial, mode_off_opens_plain_tcp)
{
	struct options o = loopback_options(MPTCP_OFF);
	struct dialed d;
	dial_listener(&d, IPPROTO_MPTCP, &o);
	cr_expect(!d.r.opened_as_mptcp);
	cr_expect_eq(option_of(d.r.fd, SO_PROTOCOL), IPPROTO_TCP);
	undial(&d);
}

Test(dial, handed_socket_is_blocking_with_keepalive)
{
	struct options o = loopback_options(MPTCP_PREFER);
	struct dialed d;
	dial_listener(&d, IPPROTO_MPTCP, &o);
	cr_expect_eq(fcntl(d.r.fd, F_GETFL) & O_NONBLOCK, 0);
	cr_expect(option_of(d.r.fd, SO_KEEPALIVE));
	undial(&d);

	o.keepalive = false;
	dial_listener(&d, IPPROTO_MPTCP, &o);
	cr_expect(!option_of(d.r.fd, SO_KEEPALIVE), "--no-keepalive leaves SO_KEEPALIVE off");
	undial(&d);
}

Test(dial, refused_everywhere_is_connect_error)
{
	uint16_t ports[] = { refused_port(), refused_port() };
	struct options o = loopback_options(MPTCP_PREFER);
	struct dial_result r;
	cr_expect_eq(dial_ports(&o, ports, 2, -1, &r), DIAL_ERR_CONNECT);
}

Test(dial, failed_attempt_starts_the_next_at_once)
{
	uint16_t good;
	int l = listen_loopback(IPPROTO_MPTCP, &good);
	uint16_t ports[] = { refused_port(), good };
	struct options o = loopback_options(MPTCP_PREFER);
	struct dial_result r;
	int64_t t0 = dial_now_ms();
	cr_assert_eq(dial_ports(&o, ports, 2, -1, &r), DIAL_OK);
	int64_t took = dial_now_ms() - t0;
	cr_expect_eq(peer_port(&r), good);
	/* Waiting out the 250 ms stagger after a refusal would be the bug. */
	cr_expect_lt(took, 200, "took %lld ms", (long long)took);
	close(r.fd);
	close(l);
}

Test(dial, happy_eyeballs_passes_a_blackholed_address)
{
	struct blackhole hole;
	blackhole_open(&hole);
	uint16_t good;
	int l = listen_loopback(IPPROTO_MPTCP, &good);
	uint16_t ports[] = { hole.port, good };
	struct options o = loopback_options(MPTCP_PREFER);
	struct dial_result r;
	int64_t t0 = dial_now_ms();
	cr_assert_eq(dial_ports(&o, ports, 2, -1, &r), DIAL_OK);
	int64_t took = dial_now_ms() - t0;
	cr_expect_eq(peer_port(&r), good);
	cr_expect(!r.rescued);
	/* The second attempt starts 250 ms after the first, not after it fails. */
	cr_expect_geq(took, ATTEMPT_DELAY_MS - 10, "took %lld ms", (long long)took);
	cr_expect_lt(took, 1000, "took %lld ms", (long long)took);
	close(r.fd);
	close(l);
	blackhole_close(&hole);
}

Test(dial, deadline_ends_a_blackholed_connect)
{
	struct blackhole hole;
	blackhole_open(&hole);
	struct options o = loopback_options(MPTCP_PREFER);
	o.rescue_delay_ms = 100;	/* the rescue is blackholed too */
	struct dial_result r;
	int64_t t0 = dial_now_ms();
	cr_expect_eq(dial_ports(&o, &hole.port, 1, t0 + 300, &r), DIAL_ERR_TIMEOUT);
	int64_t took = dial_now_ms() - t0;
	cr_expect_geq(took, 295, "took %lld ms", (long long)took);
	cr_expect_lt(took, 1500, "took %lld ms", (long long)took);
	blackhole_close(&hole);
}

Test(dial, bind_chooses_the_source_address)
{
	uint16_t port;
	int l = listen_loopback(IPPROTO_MPTCP, &port);
	struct options o = loopback_options(MPTCP_PREFER);
	struct sockaddr_in *src = (struct sockaddr_in *)&o.bind_addr;
	src->sin_family = AF_INET;
	src->sin_addr.s_addr = htonl(0x7f000002);	/* 127.0.0.2 */
	o.bind_len = sizeof(*src);
	o.has_bind = true;
	struct dial_result r;
	cr_assert_eq(dial_ports(&o, &port, 1, -1, &r), DIAL_OK);
	struct sockaddr_in local;
	socklen_t len = sizeof(local);
	cr_assert(getsockname(r.fd, (struct sockaddr *)&local, &len) == 0);
	cr_expect_eq(ntohl(local.sin_addr.s_addr), 0x7f000002);
	cr_expect_neq(local_port(r.fd), 0);
	close(r.fd);
	close(l);
}

Test(dial, bind_to_a_foreign_address_fails)
{
	uint16_t port;
	int l = listen_loopback(IPPROTO_MPTCP, &port);
	struct options o = loopback_options(MPTCP_PREFER);
	struct sockaddr_in *src = (struct sockaddr_in *)&o.bind_addr;
	src->sin_family = AF_INET;
	src->sin_addr.s_addr = htonl(0xc0000201);	/* 192.0.2.1, TEST-NET-1 */
	o.bind_len = sizeof(*src);
	o.has_bind = true;
	struct dial_result r;
	cr_expect_eq(dial_ports(&o, &port, 1, -1, &r), DIAL_ERR_CONNECT);
	close(l);
}

Test(dial, unknown_interface_fails)
{
	uint16_t port;
	int l = listen_loopback(IPPROTO_MPTCP, &port);
	struct options o = loopback_options(MPTCP_PREFER);
	strcpy(o.interface, "mfpnosuch0");
	struct dial_result r;
	cr_expect_eq(dial_ports(&o, &port, 1, -1, &r), DIAL_ERR_CONNECT);
	close(l);
}

/* ---- no descriptor for a second attempt ---- */


/* Lower RLIMIT_NOFILE so that exactly `spare` more descriptors can be
 * opened: the lowest `spare` free numbers stay below the limit, the next
 * free one is the limit. */
static void leave_spare_descriptors(int spare)
{
	int fd = 0;
	for (int free_seen = 0; fd < 4096; fd++) {
		if (fcntl(fd, F_GETFD) == -1 && errno == EBADF && free_seen++ == spare)
			break;
	}
	struct rlimit lim = { .rlim_cur = (rlim_t)fd, .rlim_max = (rlim_t)fd };
	if (fd == 4096 || setrlimit(RLIMIT_NOFILE, &lim) != 0)
		_exit(100);
}

struct starved_run {
	enum dial_error error;
	uint16_t peer;		/* the port it connected to, 0 if none */
	size_t no_race_lines;	/* how often -v said the race was not possible */
	char err[4096];
};

/* dial() in a child that may open only `spare` sockets, on `ports`, while
 * the parent lets the blackhole `slow` take connections again after
 * `release_ms`: the first attempt to it then connects at its SYN
 * retransmission (about 1 s after it started). */
static void dial_starved(struct starved_run *run, struct options *o, const uint16_t *ports,
			 size_t n, int spare, struct blackhole *slow, int release_ms)
{
	int out[2], err[2];
	cr_assert(pipe(out) == 0 && pipe(err) == 0);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		close(out[0]);
		close(err[0]);
		dup2(err[1], STDERR_FILENO);
		close(err[1]);
		/* built before the limit: the addresses need no descriptor */
		struct addrinfo *list = loopback_addrs(ports, n);
		leave_spare_descriptors(spare);
		struct dial_result r;
		o->log_level = LOG_VERBOSE;
		log_set_level(LOG_VERBOSE);
		int64_t t0 = dial_now_ms();
		enum dial_error e = dial_addresses(o, list, t0 + 8000, &r);
		uint16_t port = e == DIAL_OK ? peer_port(&r) : 0;
		char line[32];
		int len = snprintf(line, sizeof(line), "%d %u\n", (int)e, port);
		if (write(out[1], line, (size_t)len) != len)
			_exit(101);
		_exit(0);
	}
	close(out[1]);
	close(err[1]);
	usleep((useconds_t)release_ms * 1000);
	/* take the queued clients: the queue has room, the next SYN is answered */
	for (int i = 0; i < 2; i++) {
		int c = accept(slow->listener, NULL, NULL);
		if (c >= 0)
			close(c);
	}
	size_t used = 0;
	ssize_t got;
	while (used + 1 < sizeof(run->err) &&
	       (got = read(err[0], run->err + used, sizeof(run->err) - 1 - used)) > 0)
		used += (size_t)got;
	run->err[used] = '\0';
	char line[32] = "";
	got = read(out[0], line, sizeof(line) - 1);
	line[got > 0 ? got : 0] = '\0';
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "child status %d: %s", status, run->err);
	int e = -1;
	unsigned port = 0;
	cr_assert_eq(sscanf(line, "%d %u", &e, &port), 2, "child said '%s'", line);
	run->error = (enum dial_error)e;
	run->peer = (uint16_t)port;
	run->no_race_lines = 0;
	for (const char *p = run->err; (p = strstr(p, "no race")); p++)
		run->no_race_lines++;
	close(out[0]);
	close(err[0]);
}

Test(dial_starved, happy_eyeballs_keeps_the_first_attempt_without_a_second_socket)
{
	/* The second address is due at 250 ms, but no socket can be opened
	 * for it: the first attempt, slow but on its way, must still win. */
	struct blackhole hole;
	blackhole_open(&hole);
	uint16_t ports[] = { hole.port, refused_port() };
	struct options o = loopback_options(MPTCP_OFF);
	struct starved_run run;
	dial_starved(&run, &o, ports, 2, 1, &hole, 400);
	cr_expect_eq(run.error, DIAL_OK, "error %d: %s", run.error, run.err);
	cr_expect_eq(run.peer, hole.port, "%s", run.err);
	cr_expect_eq(run.no_race_lines, 1, "said %zu times: %s", run.no_race_lines, run.err);
	blackhole_close(&hole);
}

Test(dial_starved, blackhole_rescue_keeps_the_mptcp_attempt_without_a_second_socket)
{
	struct blackhole hole;
	blackhole_open(&hole);
	struct options o = loopback_options(MPTCP_PREFER);
	o.rescue_delay_ms = 100;
	struct starved_run run;
	dial_starved(&run, &o, &hole.port, 1, 1, &hole, 400);
	cr_expect_eq(run.error, DIAL_OK, "error %d: %s", run.error, run.err);
	cr_expect_eq(run.peer, hole.port, "%s", run.err);
	cr_expect_eq(run.no_race_lines, 1, "said %zu times: %s", run.no_race_lines, run.err);
	blackhole_close(&hole);
}

Test(dial_starved, reset_rescue_waits_for_a_descriptor)
{
	/* Two sockets: the slow first attempt holds one; the second address's
	 * MPTCP SYN is reset, and its descriptor goes at once to the third
	 * address. The plain TCP try after the reset finds none: it must wait
	 * for one, not end the race the first attempt is winning. */
	struct blackhole hole;
	blackhole_open(&hole);
	uint16_t ports[] = { hole.port, refused_port(), refused_port() };
	struct options o = loopback_options(MPTCP_PREFER);
	o.rescue_delay_ms = 0;	/* no blackhole rescue: one race at a time */
	struct starved_run run;
	dial_starved(&run, &o, ports, 3, 2, &hole, 600);
	cr_expect_eq(run.error, DIAL_OK, "error %d: %s", run.error, run.err);
	cr_expect_eq(run.peer, hole.port, "%s", run.err);
	cr_expect_eq(run.no_race_lines, 1, "said %zu times: %s", run.no_race_lines, run.err);
	cr_expect(strstr(run.err, "answered with a reset"), "the TCP try after the reset ran: %s",
		  run.err);
	blackhole_close(&hole);
}

Test(dial_starved, no_socket_at_all_is_a_system_error)
{
	uint16_t port;
	int l = listen_loopback(IPPROTO_TCP, &port);
	struct blackhole hole;
	blackhole_open(&hole);
	struct options o = loopback_options(MPTCP_PREFER);
	struct starved_run run;
	dial_starved(&run, &o, &port, 1, 0, &hole, 0);
	cr_expect_eq(run.error, DIAL_ERR_SYSTEM, "error %d: %s", run.error, run.err);
	cr_expect_eq(count_lines(run.err), 1, "%s", run.err);
	cr_expect(strstr(run.err, "cannot open a socket"), "%s", run.err);
	blackhole_close(&hole);
	close(l);
}
