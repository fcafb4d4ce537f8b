/* --check: what one connection was, as text for people or JSON for scripts.
 * The facts are gathered by check.c; this module only formats them. */
#ifndef MFP_REPORT_H
#define MFP_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "mptcp.h"

#define REPORT_MAX_RESOLVED 16
#define REPORT_MAX_SUBFLOWS 8
/* an address as text, with its zone: "fe80::1%eth0" */
#define REPORT_ADDR_SIZE 64

enum report_format {
	REPORT_TEXT,
	REPORT_JSON,
};

/* What --check concludes; main turns it into the exit code. */
enum report_verdict {
	REPORT_MPTCP,		/* negotiated, on the kernel's evidence: exit 0 */
	REPORT_NOT_MPTCP,	/* connected, but not over MPTCP (or no evidence): 76 */
	REPORT_NO_CONNECTION,	/* no connection at all: the error says why */
};

struct report_endpoint {
	char addr[REPORT_ADDR_SIZE];
	uint16_t port;
};

struct report_subflow {
	struct report_endpoint local;
	struct report_endpoint remote;
};

struct check_report {
	const char *host;		/* as given */
	uint16_t port;
	size_t resolved_count;		/* all of them; the first are in resolved[] */
	char resolved[REPORT_MAX_RESOLVED][REPORT_ADDR_SIZE];

	enum report_verdict verdict;
	const char *error;		/* REPORT_NO_CONNECTION: what failed */
	int exit_code;			/* what main will return, reported in JSON */

	struct report_endpoint local, remote;	/* the first subflow */
	int64_t connect_ms;
	const char *socket_kind;	/* "MPTCP" or "TCP": the socket opened */

	enum mptcp_status status;
	enum mptcp_evidence evidence;
	const char *reason;		/* why not MPTCP, when known; else NULL */

	bool have_info;			/* MPTCP_INFO answered */
	struct mptcp_info_prefix info;
	unsigned int subflows;		/* from MPTCP_INFO: the first one + the others */
	int64_t waited_ms;		/* how long we waited for them */
	int64_t wait_limit_ms;

	bool have_addrs;		/* MPTCP_SUBFLOW_ADDRS answered */
	size_t subflow_count;		/* listed in subflow[] */
	struct report_subflow subflow[REPORT_MAX_SUBFLOWS];

	const char *advice;		/* mptcp_path_advice(), or NULL */
};

/* The verdict's word, as text and JSON show it: "MPTCP", "not MPTCP",
 * "no connection". */
const char *report_verdict_name(enum report_verdict verdict);
/* The status as a JSON word: "mptcp", "fallback", "tcp", "unknown". */
const char *report_status_word(enum mptcp_status status);

/* Write the report; false when it could not be written. */
bool report_write(FILE *out, const struct check_report *r, enum report_format format);

/* JSON string syntax for any bytes: quotes, backslash and controls escaped,
 * invalid UTF-8 replaced by U+FFFD. Exposed for the unit tests. */
void report_json_string(FILE *out, const char *s);

#endif
