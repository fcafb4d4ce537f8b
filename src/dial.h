/* Resolve and connect: MPTCP or TCP per mode, Happy Eyeballs (RFC 8305),
 * an overall deadline, and a plain TCP rescue when MPTCP SYNs go unanswered. */
#ifndef MFP_DIAL_H
#define MFP_DIAL_H

#include <netdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "options.h"

enum dial_error {
	DIAL_OK = 0,
	DIAL_ERR_RESOLVE,	/* the name does not resolve */
	DIAL_ERR_CONNECT,	/* every address refused, unreachable or failed */
	DIAL_ERR_TIMEOUT,	/* the --timeout deadline passed */
	DIAL_ERR_NO_MPTCP,	/* require mode: the kernel cannot make MPTCP sockets, or
				 * MPTCP SYNs were reset where plain TCP connects */
	DIAL_ERR_SYSTEM,	/* out of memory or descriptors */
};

/* How many resolved addresses a dial_result keeps (--check lists them). */
#define DIAL_RESOLVED_MAX 16

struct dial_result {
	int fd;				/* connected, blocking */
	struct sockaddr_storage peer;
	socklen_t peer_len;
	bool opened_as_mptcp;
	bool rescued;			/* plain TCP won against unanswered MPTCP SYNs */
	bool reset_rescued;		/* plain TCP after MPTCP SYNs were reset */
	int mptcp_refused_errno;	/* socket(IPPROTO_MPTCP) failed so; 0 if not */
	int64_t elapsed_ms;		/* from the start of dial() */
	/* What the name resolved to, in the resolver's order; set by dial()
	 * whether or not a connection came of it (count 0: it did not
	 * resolve). Only the first DIAL_RESOLVED_MAX are kept. */
	size_t resolved_count;
	struct sockaddr_storage resolved[DIAL_RESOLVED_MAX];
	socklen_t resolved_len[DIAL_RESOLVED_MAX];
};

/* Logs its own error line; the caller maps the error to an exit code. */
enum dial_error dial(const struct options *opts, struct dial_result *result);

/* dial() on addresses already resolved (the unit tests use it on loopback). */
enum dial_error dial_addresses(const struct options *opts, const struct addrinfo *list,
			       int64_t deadline_ms, struct dial_result *result);

/* --- the rules, pure so that they can be tested on their own --- */

int64_t dial_now_ms(void);

/* Happy Eyeballs order: the family of the resolver's first address first,
 * then IPv6 and IPv4 alternate, each family in resolver order; duplicates
 * dropped. Fills out[] and returns how many. */
size_t dial_order(const struct addrinfo *list, const struct addrinfo **out, size_t max);

/* How long poll() may sleep: until the next attempt is due, a rescue is due,
 * or the deadline passes, whichever comes first. Each of the three is an
 * absolute time in ms, or a negative value when there is none. Returns -1 for
 * "no limit", else 0..INT_MAX. */
int dial_poll_timeout(int64_t now, int64_t next_attempt_at, int64_t rescue_at,
		      int64_t deadline);

/* How a failed lookup ends: getaddrinfo's rc and, for EAI_SYSTEM, errno.
 * Out of memory, descriptors or threads is this machine's trouble
 * (DIAL_ERR_SYSTEM), not the name's (DIAL_ERR_RESOLVE). */
enum dial_error dial_resolve_error(int rc, int err);

/* "192.0.2.1 port 22", "2001:db8::1 port 22". */
void dial_format_addr(const struct sockaddr *sa, socklen_t len, char *buf, size_t size);

#endif
