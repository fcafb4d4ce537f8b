#include "dial.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mptcp.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

struct attempt {
	int fd;				/* -1 once finished */
	const struct addrinfo *ai;
	bool mptcp;
	bool is_rescue;			/* plain TCP racing an MPTCP attempt */
	bool has_rescue;		/* this MPTCP attempt already has one */
	bool after_reset;		/* plain TCP after this address reset MPTCP */
	bool reset_probe_due;		/* MPTCP refused with a reset: try TCP now */
	int64_t started_ms;
};

struct race {
	const struct options *opts;
	const struct addrinfo **addrs;
	size_t naddrs;
	size_t next_addr;
	struct attempt *attempts;
	size_t nattempts;
	int64_t next_start_ms;
	int64_t deadline_ms;		/* < 0: none */
	/* Why socket(IPPROTO_MPTCP) failed, per family (a kernel may lack
	 * CONFIG_MPTCP_IPV6 alone); 0 while it has not. */
	int refused[2];
	int last_errno;
	int poll_errno;			/* poll() failed for good */
	bool reported;			/* the error line is already out */
	/* No descriptor (or socket memory) for another attempt while one is
	 * in flight: nothing new starts until an attempt ends and frees one. */
	bool starved;
	bool said_starved;		/* -v said so once */
	/* require mode: an address reset MPTCP SYNs but took plain TCP */
	const struct addrinfo *tcp_after_reset;
};

int64_t dial_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void dial_format_addr(const struct sockaddr *sa, socklen_t len, char *buf, size_t size)
{
	char host[NI_MAXHOST], port[NI_MAXSERV];
	if (getnameinfo(sa, len, host, sizeof(host), port, sizeof(port),
			NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		snprintf(buf, size, "(unprintable address)");
	else
		snprintf(buf, size, "%s port %s", host, port);
}

static bool same_address(const struct addrinfo *a, const struct addrinfo *b)
{
	return a->ai_family == b->ai_family && a->ai_addrlen == b->ai_addrlen &&
	       memcmp(a->ai_addr, b->ai_addr, a->ai_addrlen) == 0;
}

static bool already_listed(const struct addrinfo **out, size_t n, const struct addrinfo *ai)
{
	for (size_t i = 0; i < n; i++)
		if (same_address(out[i], ai))
			return true;
	return false;
}

/* The next entry of the given family after *cursor, advancing the cursor. */
static const struct addrinfo *next_of_family(const struct addrinfo **cursor, int family)
{
	while (*cursor) {
		const struct addrinfo *ai = *cursor;
		*cursor = ai->ai_next;
		if (ai->ai_family == family)
			return ai;
	}
	return NULL;
}

size_t dial_order(const struct addrinfo *list, const struct addrinfo **out, size_t max)
{
	/* RFC 8305 section 4: the first family is that of the first address of
	 * the RFC 6724-sorted list (getaddrinfo sorted it; /etc/gai.conf may
	 * have changed the order), then the families alternate. */
	int first = list && list->ai_family == AF_INET ? AF_INET : AF_INET6;
	int second = first == AF_INET ? AF_INET6 : AF_INET;
	const struct addrinfo *c1 = list, *c2 = list;
	size_t n = 0;
	bool more = true;

	while (more && n < max) {
		more = false;
		const struct addrinfo *picks[2] = {
			next_of_family(&c1, first),
			next_of_family(&c2, second),
		};
		for (size_t i = 0; i < 2; i++) {
			if (!picks[i])
				continue;
			more = true;
			if (n < max && !already_listed(out, n, picks[i]))
				out[n++] = picks[i];
		}
	}
	return n;
}

static int64_t earliest(int64_t a, int64_t b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

int dial_poll_timeout(int64_t now, int64_t next_attempt_at, int64_t rescue_at,
		      int64_t deadline)
{
	int64_t wake = earliest(earliest(next_attempt_at, rescue_at), deadline);
	if (wake < 0)
		return -1;
	if (wake <= now)
		return 0;
	if (wake - now > INT_MAX)
		return INT_MAX;
	return (int)(wake - now);
}

/* Where the first subflow starts from; failures here fail every attempt. */
static enum dial_error place_socket(const struct options *opts, int fd)
{
	char where[NI_MAXHOST];

	if (opts->interface[0] &&
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, opts->interface,
		       (socklen_t)strlen(opts->interface)) != 0) {
		log_error("cannot bind to interface '%s': %s", opts->interface,
			  errno == ENODEV ? "no such interface" : strerror(errno));
		return DIAL_ERR_CONNECT;
	}
	if (opts->has_bind) {
		/* Let connect() pick the port, so the 4-tuple, not the port alone,
		 * must be unique: many sessions from one address stay possible. */
		int one = 1;
		(void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
		if (bind(fd, (const struct sockaddr *)&opts->bind_addr, opts->bind_len) != 0) {
			int err = errno;
			if (getnameinfo((const struct sockaddr *)&opts->bind_addr, opts->bind_len,
					where, sizeof(where), NULL, 0, NI_NUMERICHOST) != 0)
				snprintf(where, sizeof(where), "the -b address");
			log_error("cannot bind to %s: %s", where, strerror(err));
			return DIAL_ERR_CONNECT;
		}
	}
	return DIAL_OK;
}

static int *refusal(struct race *race, int family)
{
	return &race->refused[family == AF_INET6];
}

static int open_socket(struct race *race, int family, bool want_mptcp, bool *is_mptcp)
{
	const int type = SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC;
	bool mptcp_wanted = want_mptcp && race->opts->mode != MPTCP_OFF;

	if (mptcp_wanted && !*refusal(race, family)) {
		int fd = socket(family, type, IPPROTO_MPTCP);
		if (fd >= 0) {
			*is_mptcp = true;
			return fd;
		}
		if (!mptcp_unavailable(errno))
			return -1;
		/* The kernel's refusal holds for every address of the family. */
		*refusal(race, family) = errno;
		log_info("MPTCP sockets unavailable for %s (%s)",
			 family == AF_INET6 ? "IPv6" : "IPv4", mptcp_unavailable_reason(errno));
	}
	if (mptcp_wanted && race->opts->mode == MPTCP_REQUIRE) {
		errno = *refusal(race, family);
		return -1;	/* TCP is no answer in require mode */
	}
	*is_mptcp = false;
	return socket(family, type, IPPROTO_TCP);
}

static void close_attempt(struct attempt *a)
{
	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
}

static void log_attempt_failure(const struct attempt *a, int err)
{
	char where[NI_MAXHOST + 16];
	dial_format_addr(a->ai->ai_addr, a->ai->ai_addrlen, where, sizeof(where));
	log_info("%s over %s: %s", where, a->mptcp ? "MPTCP" : "TCP", strerror(err));
}

enum start_outcome {
	START_PENDING,		/* connect() in flight */
	START_CONNECTED,	/* connected at once (loopback can) */
	START_FAILED,		/* this address failed; try the next */
	START_STARVED,		/* no socket while another attempt is in flight:
				 * try again when one ends */
	START_FATAL,		/* no address can work: stop with *error */
};

enum attempt_kind {
	FIRST,			/* MPTCP (or TCP when the mode or kernel says so) */
	BLACKHOLE_RESCUE,	/* TCP racing MPTCP SYNs that went unanswered */
	AFTER_RESET,		/* TCP after MPTCP SYNs were answered with a reset */
};

static void attempt_failed(struct race *race, struct attempt *a, int err);
static size_t in_flight(const struct race *race);

static bool out_of_sockets(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOMEM || err == ENOBUFS;
}

static enum start_outcome start_attempt(struct race *race, const struct addrinfo *ai,
					enum attempt_kind kind, enum dial_error *error)
{
	bool rescue = kind != FIRST;
	struct attempt *a = &race->attempts[race->nattempts];
	char where[NI_MAXHOST + 16];
	bool is_mptcp = false;

	int fd = open_socket(race, ai->ai_family, !rescue, &is_mptcp);
	if (fd < 0) {
		int err = errno;
		race->last_errno = err;
		if (race->opts->mode == MPTCP_REQUIRE && *refusal(race, ai->ai_family))
			return START_FAILED;	/* another family may still do MPTCP */
		if (out_of_sockets(err) && in_flight(race) > 0) {
			/* An attempt on its way may still connect: losing the
			 * race is better than ending it. */
			race->starved = true;
			if (!race->said_starved)
				log_info("cannot open another socket (%s): no race, waiting "
					 "for the attempt in flight", strerror(err));
			race->said_starved = true;
			return START_STARVED;
		}
		if (out_of_sockets(err)) {
			log_error("cannot open a socket: %s", strerror(err));
			*error = DIAL_ERR_SYSTEM;
			return START_FATAL;
		}
		/* Typically EAFNOSUPPORT: IPv6 disabled here. Other addresses may do. */
		dial_format_addr(ai->ai_addr, ai->ai_addrlen, where, sizeof(where));
		log_info("%s: cannot open a socket: %s", where, strerror(err));
		return START_FAILED;
	}
	*error = place_socket(race->opts, fd);
	if (*error != DIAL_OK) {
		race->reported = true;
		close(fd);
		return START_FATAL;
	}

	*a = (struct attempt){
		.fd = fd, .ai = ai, .mptcp = is_mptcp, .is_rescue = kind == BLACKHOLE_RESCUE,
		.after_reset = kind == AFTER_RESET, .started_ms = dial_now_ms(),
	};
	race->nattempts++;
	/* The address is formatted for -v only: getnameinfo() and printf
	 * cost every connection a tenth of the helper's own instructions. */
	if (log_is_verbose()) {
		dial_format_addr(ai->ai_addr, ai->ai_addrlen, where, sizeof(where));
		if (kind == BLACKHOLE_RESCUE)
			log_info("trying %s over TCP: MPTCP SYNs unanswered for %.1f s", where,
				 (double)race->opts->rescue_delay_ms / 1000.0);
		else if (kind == AFTER_RESET)
			log_info("trying %s over TCP: the MPTCP SYN was answered with a reset",
				 where);
		else
			log_info("trying %s over %s", where, is_mptcp ? "MPTCP" : "TCP");
	}

	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return START_CONNECTED;
	int err = errno;
	if (err == EINPROGRESS)
		return START_PENDING;
	attempt_failed(race, a, err);
	return START_FAILED;
}

/* A reset in answer to an MPTCP SYN means "nothing listens" or "something
 * on the way rejects MPTCP options". One plain TCP attempt to the same
 * address, at once, tells which: it costs one round trip when nothing
 * listens. (Dropped SYNs are the blackhole rescue's case instead.) */
static void attempt_failed(struct race *race, struct attempt *a, int err)
{
	race->last_errno = err;
	log_attempt_failure(a, err);
	close_attempt(a);
	race->starved = false;	/* its descriptor is free again */
	if (err == ECONNREFUSED && a->mptcp && !a->has_rescue)
		a->reset_probe_due = true;
}

static bool rescue_allowed(const struct race *race, const struct attempt *a)
{
	return a->fd >= 0 && a->mptcp && !a->has_rescue && !race->starved &&
	       race->opts->mode == MPTCP_PREFER && race->opts->rescue_delay_ms > 0;
}

/* The earliest time one of the in-flight MPTCP attempts needs a rescue. */
static int64_t next_rescue_at(const struct race *race)
{
	int64_t at = -1;
	for (size_t i = 0; i < race->nattempts; i++) {
		const struct attempt *a = &race->attempts[i];
		if (rescue_allowed(race, a))
			at = earliest(at, a->started_ms + race->opts->rescue_delay_ms);
	}
	return at;
}

static size_t in_flight(const struct race *race)
{
	size_t n = 0;
	for (size_t i = 0; i < race->nattempts; i++)
		n += race->attempts[i].fd >= 0;
	return n;
}

static void close_all_but(struct race *race, const struct attempt *keep)
{
	for (size_t i = 0; i < race->nattempts; i++)
		if (&race->attempts[i] != keep)
			close_attempt(&race->attempts[i]);
}

/* Start what is due: the next address (Happy Eyeballs) and any rescues.
 * Returns the attempt that connected at once, if one did. */
static struct attempt *start_due(struct race *race, int64_t now, enum dial_error *error)
{
	*error = DIAL_OK;
	while (race->next_addr < race->naddrs && !race->starved &&
	       (now >= race->next_start_ms || in_flight(race) == 0)) {
		const struct addrinfo *ai = race->addrs[race->next_addr++];
		enum start_outcome outcome = start_attempt(race, ai, FIRST, error);
		if (outcome == START_FATAL)
			return NULL;
		if (outcome == START_STARVED) {
			race->next_addr--;	/* its turn comes when a socket is free */
			break;
		}
		if (outcome == START_CONNECTED)
			return &race->attempts[race->nattempts - 1];
		if (outcome == START_PENDING) {
			race->next_start_ms = now + ATTEMPT_DELAY_MS;
			break;
		}
	}

	/* Indexes, not pointers: start_attempt() appends to the array. */
	size_t n = race->nattempts;
	for (size_t i = 0; i < n && !race->starved; i++) {
		struct attempt *a = &race->attempts[i];
		enum attempt_kind kind;
		if (a->reset_probe_due)
			kind = AFTER_RESET;
		else if (rescue_allowed(race, a) &&
			 now >= a->started_ms + race->opts->rescue_delay_ms)
			kind = BLACKHOLE_RESCUE;
		else
			continue;
		a->has_rescue = true;
		a->reset_probe_due = false;
		enum start_outcome outcome = start_attempt(race, a->ai, kind, error);
		if (outcome == START_FATAL)
			return NULL;
		if (outcome == START_CONNECTED)
			return &race->attempts[race->nattempts - 1];
		if (outcome == START_STARVED) {
			/* still due, once an attempt ends and frees a socket */
			a->has_rescue = false;
			a->reset_probe_due = kind == AFTER_RESET;
		}
	}
	return NULL;
}

/* Wait for the attempts in flight; returns the winner, if any completed. */
static struct attempt *wait_attempts(struct race *race, int timeout)
{
	struct pollfd pfds[race->nattempts];
	struct attempt *owners[race->nattempts];
	nfds_t n = 0;

	for (size_t i = 0; i < race->nattempts; i++) {
		if (race->attempts[i].fd < 0)
			continue;
		pfds[n] = (struct pollfd){ .fd = race->attempts[i].fd, .events = POLLOUT };
		owners[n++] = &race->attempts[i];
	}
	int ready = poll(pfds, n, timeout);
	if (ready < 0 && errno != EINTR)
		race->poll_errno = errno;
	if (ready <= 0)
		return NULL;	/* EINTR or nothing yet: the loop re-checks the clock */

	for (nfds_t i = 0; i < n; i++) {
		if (!pfds[i].revents)
			continue;
		int err = 0;
		socklen_t len = sizeof(err);
		if (getsockopt(pfds[i].fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
			err = errno;
		/* No error pending is not proof enough: a peer that closed at once
		 * leaves none either. Connected means it has a peer. */
		struct sockaddr_storage peer;
		socklen_t peer_len = sizeof(peer);
		if (err == 0 && getpeername(pfds[i].fd, (struct sockaddr *)&peer, &peer_len) != 0)
			err = errno == ENOTCONN ? ECONNRESET : errno;
		if (err == 0)
			return owners[i];
		attempt_failed(race, owners[i], err);
		/* RFC 8305: a failed attempt lets the next one start at once. */
		race->next_start_ms = dial_now_ms();
	}
	return NULL;
}

static void finish(const struct race *race, struct attempt *winner, int64_t started,
		   struct dial_result *result)
{
	char where[NI_MAXHOST + 16], from[NI_MAXHOST + 16];
	struct sockaddr_storage local;
	socklen_t local_len = sizeof(local);

	int flags = fcntl(winner->fd, F_GETFL);
	if (flags >= 0)
		(void)fcntl(winner->fd, F_SETFL, flags & ~O_NONBLOCK);
	if (race->opts->keepalive) {
		int one = 1;
		if (setsockopt(winner->fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) != 0)
			log_warn("cannot turn on keepalive: %s", strerror(errno));
	}

	*result = (struct dial_result){
		.fd = winner->fd,
		.peer_len = winner->ai->ai_addrlen,
		.opened_as_mptcp = winner->mptcp,
		.rescued = winner->is_rescue,
		.reset_rescued = winner->after_reset,
		.mptcp_refused_errno = race->refused[winner->ai->ai_family == AF_INET6],
		.elapsed_ms = dial_now_ms() - started,
	};
	memcpy(&result->peer, winner->ai->ai_addr, winner->ai->ai_addrlen);
	winner->fd = -1;

	if (!log_is_verbose())
		return;	/* what follows is only said with -v */
	dial_format_addr(winner->ai->ai_addr, winner->ai->ai_addrlen, where, sizeof(where));
	if (getsockname(result->fd, (struct sockaddr *)&local, &local_len) == 0)
		dial_format_addr((struct sockaddr *)&local, local_len, from, sizeof(from));
	else
		snprintf(from, sizeof(from), "an unknown address");
	log_info("connected to %s from %s in %lld ms", where, from,
		 (long long)result->elapsed_ms);
}

static void report_failure(const struct options *opts, const struct race *race,
			   enum dial_error error, int64_t started)
{
	char took[32];
	options_format_seconds(dial_now_ms() - started, took, sizeof(took));
	if (error == DIAL_ERR_TIMEOUT)
		log_error("cannot connect to %s port %s: timed out after %s s",
			  opts->host, opts->port_text, took);
	else
		log_error("cannot connect to %s port %s: %s", opts->host, opts->port_text,
			  race->last_errno ? strerror(race->last_errno) : "no usable address");
}

/* Every address failed: in require mode, a kernel that refused MPTCP is the
 * reason to give, not the last connect error. */
static enum dial_error no_attempt_left(struct race *race)
{
	if (race->opts->mode != MPTCP_REQUIRE)
		return DIAL_ERR_CONNECT;
	if (race->tcp_after_reset) {
		char where[NI_MAXHOST + 16];
		dial_format_addr(race->tcp_after_reset->ai_addr,
				 race->tcp_after_reset->ai_addrlen, where, sizeof(where));
		log_error("MPTCP required, but MPTCP SYNs to %s were refused with a reset "
			  "by something that lets plain TCP through", where);
		race->reported = true;
		return DIAL_ERR_NO_MPTCP;
	}
	for (size_t i = 0; i < 2; i++) {
		if (!race->refused[i])
			continue;
		log_error("MPTCP required, but this host cannot open MPTCP sockets: %s",
			  mptcp_unavailable_reason(race->refused[i]));
		race->reported = true;
		return DIAL_ERR_NO_MPTCP;
	}
	return DIAL_ERR_CONNECT;
}

static enum dial_error run_race(struct race *race, int64_t started, struct dial_result *result)
{
	enum dial_error error = DIAL_OK;

	for (;;) {
		int64_t now = dial_now_ms();
		if (race->deadline_ms >= 0 && now >= race->deadline_ms)
			return DIAL_ERR_TIMEOUT;

		struct attempt *winner = start_due(race, now, &error);
		if (error != DIAL_OK)
			return error;
		if (!winner && in_flight(race) == 0)
			return no_attempt_left(race);
		if (!winner) {
			int64_t next = race->next_addr < race->naddrs && !race->starved
					       ? race->next_start_ms : -1;
			int timeout = dial_poll_timeout(now, next, next_rescue_at(race),
							race->deadline_ms);
			winner = wait_attempts(race, timeout);
			if (race->poll_errno) {
				log_error("cannot wait for the connection: %s",
					  strerror(race->poll_errno));
				race->reported = true;
				return DIAL_ERR_SYSTEM;
			}
		}
		if (winner && winner->after_reset && race->opts->mode == MPTCP_REQUIRE) {
			/* Proof that TCP would have worked; never the answer. */
			race->tcp_after_reset = winner->ai;
			log_info("plain TCP connects where MPTCP was reset; closing it "
				 "(MPTCP is required)");
			close_attempt(winner);
			race->starved = false;
			winner = NULL;
		}
		if (winner) {
			close_all_but(race, winner);
			finish(race, winner, started, result);
			return DIAL_OK;
		}
	}
}

static enum dial_error dial_from(const struct options *opts, const struct addrinfo *list,
				 int64_t started, int64_t deadline_ms,
				 struct dial_result *result)
{
	size_t count = 0;
	for (const struct addrinfo *ai = list; ai; ai = ai->ai_next)
		count++;

	const struct addrinfo **addrs = calloc(count ? count : 1, sizeof(*addrs));
	/* Each address may have its MPTCP attempt and one TCP rescue (after
	 * silence or after a reset, never both). */
	struct attempt *attempts = calloc(count ? 2 * count : 1, sizeof(*attempts));
	if (!addrs || !attempts) {
		free(addrs);
		free(attempts);
		log_error("out of memory");
		return DIAL_ERR_SYSTEM;
	}

	struct race race = {
		.opts = opts,
		.addrs = addrs,
		.naddrs = dial_order(list, addrs, count),
		.attempts = attempts,
		.next_start_ms = started,
		.deadline_ms = deadline_ms,
	};
	enum dial_error error = run_race(&race, started, result);
	if (error != DIAL_OK) {
		close_all_but(&race, NULL);
		if ((error == DIAL_ERR_CONNECT || error == DIAL_ERR_TIMEOUT) && !race.reported)
			report_failure(opts, &race, error, started);
	}
	free(addrs);
	free(attempts);
	return error;
}

enum dial_error dial_addresses(const struct options *opts, const struct addrinfo *list,
			       int64_t deadline_ms, struct dial_result *result)
{
	return dial_from(opts, list, dial_now_ms(), deadline_ms, result);
}

/* getaddrinfo() returns 0 or a negative EAI_* code; this one is ours. */
#define RESOLVE_TIMED_OUT 1

/* getaddrinfo() cannot be bounded in time; getaddrinfo_a() can. The request
 * owns copies of everything the resolver thread reads, on the heap, because
 * a lookup that outlives the deadline and cannot be cancelled keeps using
 * them: only then is it left alone (we exit next). */
static int resolve_within(const char *host, const char *port, const struct addrinfo *hints,
			  int64_t deadline_ms, struct addrinfo **res)
{
	struct request {
		struct gaicb cb;
		struct addrinfo hints;
		char host[NI_MAXHOST];
		char port[NI_MAXSERV];
	} *req = calloc(1, sizeof(*req));
	if (!req)
		return EAI_MEMORY;
	req->hints = *hints;
	snprintf(req->host, sizeof(req->host), "%s", host);
	snprintf(req->port, sizeof(req->port), "%s", port);
	req->cb = (struct gaicb){ .ar_name = req->host, .ar_service = req->port,
				  .ar_request = &req->hints };
	struct gaicb *list[] = { &req->cb };

	int rc = getaddrinfo_a(GAI_NOWAIT, list, 1, NULL);
	if (rc != 0) {
		free(req);
		return rc;
	}
	/* gai_error() is the only reliable witness: glibc 2.36's gai_suspend()
	 * reports its own timeout as EAI_SYSTEM, not EAI_AGAIN. */
	while ((rc = gai_error(&req->cb)) == EAI_INPROGRESS) {
		int64_t left = deadline_ms - dial_now_ms();
		if (left <= 0) {
			rc = gai_cancel(&req->cb);
			if (rc == EAI_NOTCANCELED)
				return RESOLVE_TIMED_OUT;	/* still in use: see above */
			if (rc == EAI_ALLDONE && req->cb.ar_result)
				freeaddrinfo(req->cb.ar_result);
			free(req);
			return RESOLVE_TIMED_OUT;
		}
		struct timespec ts = { .tv_sec = left / 1000, .tv_nsec = (left % 1000) * 1000000 };
		const struct gaicb *wait[] = { &req->cb };
		(void)gai_suspend(wait, 1, &ts);
	}
	*res = rc == 0 ? req->cb.ar_result : NULL;
	free(req);
	return rc;
}

static int resolve(const struct options *opts, int64_t deadline_ms, struct addrinfo **res)
{
	struct addrinfo hints = {
		.ai_family = opts->family,
		.ai_socktype = SOCK_STREAM,
		.ai_protocol = IPPROTO_TCP,
		.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
	};
	/* A literal address needs no lookup and no AI_ADDRCONFIG: the user
	 * named exactly what to connect to. */
	int rc = getaddrinfo(opts->host, opts->port_text, &hints, res);
	if (rc != EAI_NONAME)
		return rc;
	hints.ai_flags = AI_ADDRCONFIG | AI_NUMERICSERV;
	if (deadline_ms < 0)
		return getaddrinfo(opts->host, opts->port_text, &hints, res);
	return resolve_within(opts->host, opts->port_text, &hints, deadline_ms, res);
}

enum dial_error dial_resolve_error(int rc, int err)
{
	if (rc == EAI_MEMORY)
		return DIAL_ERR_SYSTEM;
	/* EAGAIN: no thread for the lookup (getaddrinfo_a, RLIMIT_NPROC) */
	if (rc == EAI_SYSTEM && (out_of_sockets(err) || err == EAGAIN))
		return DIAL_ERR_SYSTEM;
	return DIAL_ERR_RESOLVE;
}

static const char *family_suffix(int family)
{
	return family == AF_INET ? " to an IPv4 address" :
	       family == AF_INET6 ? " to an IPv6 address" : "";
}

/* the resolver's answer, for whoever reports it (--check) */
static void note_resolved(const struct addrinfo *list, struct dial_result *result)
{
	result->resolved_count = 0;
	for (const struct addrinfo *ai = list; ai && result->resolved_count < DIAL_RESOLVED_MAX;
	     ai = ai->ai_next) {
		size_t i = result->resolved_count++;
		memcpy(&result->resolved[i], ai->ai_addr, ai->ai_addrlen);
		result->resolved_len[i] = ai->ai_addrlen;
	}
}

enum dial_error dial(const struct options *opts, struct dial_result *result)
{
	result->resolved_count = 0;
	int64_t started = dial_now_ms();
	int64_t deadline_ms = opts->timeout_ms > 0 ? started + opts->timeout_ms : -1;
	struct addrinfo *list = NULL;

	int rc = resolve(opts, deadline_ms, &list);
	if (rc == RESOLVE_TIMED_OUT) {
		char took[32];
		options_format_seconds(dial_now_ms() - started, took, sizeof(took));
		log_error("cannot resolve '%s': timed out after %s s", opts->host, took);
		/* The same exit as when the resolver gives up by itself
		 * (EAI_AGAIN, below): a name that got no answer did not
		 * resolve, whoever ran out of patience. */
		return DIAL_ERR_RESOLVE;
	}
	if (rc != 0) {
		/* EAI_SYSTEM's errno may belong to getaddrinfo_a()'s thread. */
		int err = rc == EAI_SYSTEM ? errno : 0;
		log_error("cannot resolve '%s'%s: %s", opts->host, family_suffix(opts->family),
			  rc == EAI_MEMORY ? "out of memory" :
			  err ? strerror(err) : gai_strerror(rc));
		return dial_resolve_error(rc, err);
	}
	if (log_is_verbose()) {
		char where[NI_MAXHOST + 16];
		for (const struct addrinfo *ai = list; ai; ai = ai->ai_next) {
			dial_format_addr(ai->ai_addr, ai->ai_addrlen, where, sizeof(where));
			log_info("%s resolves to %s", opts->host, where);
		}
	}
	enum dial_error error = dial_from(opts, list, started, deadline_ms, result);
	note_resolved(list, result);
	freeaddrinfo(list);
	return error;
}
