#include "check.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static void endpoint_of(const struct sockaddr *sa, socklen_t len, struct report_endpoint *e)
{
	char port[NI_MAXSERV];
	memset(e, 0, sizeof(*e));
	if (len == 0 || getnameinfo(sa, len, e->addr, sizeof(e->addr), port, sizeof(port),
				    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		snprintf(e->addr, sizeof(e->addr), "?");
		return;
	}
	e->port = (uint16_t)atoi(port);
}

static socklen_t sockaddr_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET ? sizeof(struct sockaddr_in) :
	       ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : 0;
}

static const char *error_text(enum dial_error error)
{
	switch (error) {
	case DIAL_ERR_RESOLVE:
		return "the host name does not resolve";
	case DIAL_ERR_CONNECT:
		return "could not connect (refused, unreachable or reset)";
	case DIAL_ERR_TIMEOUT:
		return "could not connect in time";
	case DIAL_ERR_NO_MPTCP:
		return "MPTCP required, and this host or path cannot have it";
	case DIAL_ERR_SYSTEM:
		return "out of memory or descriptors";
	case DIAL_OK:
		break;
	}
	return "no connection";
}

/* Why the connection is not MPTCP, in the helper's words (main.c's
 * warnings say the same). */
static const char *reason_of(const struct options *opts, const struct dial_result *conn,
			     enum mptcp_status status)
{
	if (opts->mode == MPTCP_OFF)
		return "plain TCP was asked for (-m off)";
	if (conn->mptcp_refused_errno)
		return mptcp_unavailable_reason(conn->mptcp_refused_errno);
	if (conn->rescued)
		return "MPTCP SYNs went unanswered (a middlebox may drop them); "
		       "plain TCP connected instead";
	if (conn->reset_rescued)
		return "MPTCP SYNs were refused with a reset by something that lets plain TCP "
		       "through";
	if (status == MPTCP_STATUS_FALLBACK)
		return "the server did not negotiate MPTCP (it lacks MPTCP, or a middlebox "
		       "removed the option)";
	if (status == MPTCP_STATUS_UNKNOWN)
		return "this kernel offers no evidence (TCP_IS_MPTCP needs 6.10, "
		       "MPTCP_INFO 5.16)";
	return NULL;
}

/* How many subflows this connection can have at most, as far as this end's
 * configuration says: the first, one per subflow endpoint, one per address
 * the server may announce, within the subflow limit. */
static unsigned int subflows_possible(const struct mptcp_info_prefix *info)
{
	unsigned int more = (unsigned int)info->local_addr_max + info->add_addr_accepted_max;
	if (more > info->subflows_max)
		more = info->subflows_max;
	return 1 + more;
}

/* Poll MPTCP_INFO until every subflow the configuration allows is up, or
 * the wait is over; the last answer stays in the report. */
static void wait_subflows(int fd, int64_t wait_ms, struct check_report *r)
{
	int64_t start = dial_now_ms();
	r->wait_limit_ms = wait_ms;
	for (;;) {
		r->have_info = mptcp_info_of(fd, &r->info) == 0;
		if (!r->have_info)
			break;
		/* MPTCP_INFO's count leaves out the first subflow */
		r->subflows = r->info.subflows + 1u;
		r->waited_ms = dial_now_ms() - start;
		if (r->subflows >= subflows_possible(&r->info) ||
		    r->waited_ms >= wait_ms)
			break;
		(void)poll(NULL, 0, 20);
	}
	if (!r->have_info)
		return;
	r->advice = mptcp_path_advice(&r->info);

	struct mptcp_subflow_pair pairs[REPORT_MAX_SUBFLOWS];
	size_t count = 0;
	int err = mptcp_subflow_addrs(fd, pairs, REPORT_MAX_SUBFLOWS, &count);
	if (err) {
		log_info("MPTCP_SUBFLOW_ADDRS unavailable: %s", strerror(err));
		return;
	}
	r->have_addrs = true;
	r->subflow_count = count < REPORT_MAX_SUBFLOWS ? count : REPORT_MAX_SUBFLOWS;
	for (size_t i = 0; i < r->subflow_count; i++) {
		endpoint_of((const struct sockaddr *)&pairs[i].local,
			    sockaddr_len(&pairs[i].local), &r->subflow[i].local);
		endpoint_of((const struct sockaddr *)&pairs[i].remote,
			    sockaddr_len(&pairs[i].remote), &r->subflow[i].remote);
	}
}

enum dial_error check_run(const struct options *opts, struct check_report *r)
{
	struct dial_result conn;
	memset(r, 0, sizeof(*r));
	r->host = opts->host;
	r->port = opts->port;
	r->verdict = REPORT_NO_CONNECTION;

	enum dial_error error = dial(opts, &conn);
	r->resolved_count = conn.resolved_count;
	for (size_t i = 0; i < conn.resolved_count && i < REPORT_MAX_RESOLVED; i++) {
		struct report_endpoint e;
		endpoint_of((const struct sockaddr *)&conn.resolved[i], conn.resolved_len[i], &e);
		snprintf(r->resolved[i], sizeof(r->resolved[i]), "%s", e.addr);
	}
	if (error != DIAL_OK) {
		r->error = error_text(error);
		return error;
	}

	struct sockaddr_storage local;
	socklen_t local_len = sizeof(local);
	if (getsockname(conn.fd, (struct sockaddr *)&local, &local_len) != 0)
		local_len = 0;
	endpoint_of((const struct sockaddr *)&local, local_len, &r->local);
	endpoint_of((const struct sockaddr *)&conn.peer, conn.peer_len, &r->remote);
	r->connect_ms = conn.elapsed_ms;
	r->socket_kind = conn.opened_as_mptcp ? "MPTCP" : "TCP";
	r->status = mptcp_status_of(conn.fd, conn.opened_as_mptcp, &r->evidence);
	r->reason = reason_of(opts, &conn, r->status);
	r->verdict = r->status == MPTCP_STATUS_ACTIVE ? REPORT_MPTCP : REPORT_NOT_MPTCP;
	if (r->status == MPTCP_STATUS_ACTIVE)
		wait_subflows(conn.fd, opts->check_wait_ms, r);
	close(conn.fd);
	return DIAL_OK;
}
