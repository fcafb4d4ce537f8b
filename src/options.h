/* argv -> struct options: every check that needs no network. */
#ifndef MFP_OPTIONS_H
#define MFP_OPTIONS_H

#include <net/if.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "log.h"

enum mptcp_mode {
	MPTCP_PREFER,	/* MPTCP, plain TCP when it cannot be had */
	MPTCP_REQUIRE,	/* a negotiated MPTCP connection or nothing */
	MPTCP_OFF,	/* plain TCP, for comparison */
};

/* Happy Eyeballs v2 (RFC 8305) recommends 250 ms between attempts. */
#define ATTEMPT_DELAY_MS 250
/* See mptcp-fdpass(1), "SYN-blackhole rescue", for why 1.5 s. */
#define RESCUE_DELAY_DEFAULT_MS 1500
#define RESCUE_DELAY_MAX_MS 60000
#define TIMEOUT_MAX_MS (24LL * 3600 * 1000)
/* How long --check waits for further subflows to come up (--wait). A join
 * takes one round trip after the handshake; a long path, or a loaded or
 * emulated machine, needs more. */
#define CHECK_WAIT_DEFAULT_MS 2000
#define CHECK_WAIT_MAX_MS 60000

struct options {
	char host[NI_MAXHOST];	/* brackets removed */
	char port_text[NI_MAXSERV];	/* decimal, service names translated */
	uint16_t port;
	int family;		/* AF_UNSPEC, AF_INET or AF_INET6 */
	enum mptcp_mode mode;
	enum log_level log_level;
	int64_t timeout_ms;	/* 0: no deadline of our own */
	int64_t rescue_delay_ms;	/* 0: no TCP rescue */
	bool has_bind;
	struct sockaddr_storage bind_addr;	/* port 0 */
	socklen_t bind_len;
	char interface[IFNAMSIZ];	/* "" when not bound to a device */
	bool keepalive;
	bool check;		/* --check: report on a connection, hand nothing over */
	bool json;		/* --format=json (only with --check) */
	int64_t check_wait_ms;	/* --wait: --check's wait for subflows */
};

enum parse_result {
	PARSE_RUN,
	PARSE_HELP,
	PARSE_VERSION,
	PARSE_USAGE,	/* an error line has been logged */
};

enum parse_result options_parse(int argc, char *argv[], struct options *opts);
/* false when the text could not be written (a full disk, a closed pipe). */
bool options_usage(int fd);

/* Exposed for the unit tests; each logs its own error line. */
bool options_parse_port(const char *text, uint16_t *port);
/* what: "host", "bind address": the word the error line uses. */
bool options_parse_host(const char *what, const char *text, char *host, size_t size);
bool options_parse_seconds(const char *what, const char *text, int64_t min_ms,
			   int64_t max_ms, int64_t *ms);
const char *options_mode_name(enum mptcp_mode mode);
/* 1500 -> "1.5", 1000000 -> "1000": seconds for messages, without exponent. */
void options_format_seconds(int64_t ms, char *buf, size_t size);

#endif
