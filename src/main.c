/* mptcp-fdpass: connect over Multipath TCP and hand the socket to ssh.
 * argv -> options -> dial -> MPTCP verdict -> hand-off -> exit code. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "dial.h"
#include "handoff.h"
#include "log.h"
#include "mptcp.h"
#include "options.h"
#include "report.h"

static int exit_code_for(enum dial_error error)
{
	switch (error) {
	case DIAL_OK:
		return EX_OK;
	case DIAL_ERR_RESOLVE:
		return EX_NOHOST;	/* 68 */
	case DIAL_ERR_CONNECT:
	case DIAL_ERR_TIMEOUT:
		return EX_UNAVAILABLE;	/* 69 */
	case DIAL_ERR_NO_MPTCP:
		return EX_PROTOCOL;	/* 76 */
	case DIAL_ERR_SYSTEM:
		break;
	}
	return EX_OSERR;	/* 71 */
}

/* Say what the connection is, and decide whether it may be used at all. */
static bool judge_mptcp(const struct options *opts, const struct dial_result *conn)
{
	enum mptcp_evidence evidence;
	enum mptcp_status status = mptcp_status_of(conn->fd, conn->opened_as_mptcp, &evidence);
	/* The address is for messages: formatted only when one may be said. */
	char where[NI_MAXHOST + 16] = "";
	if (log_is_verbose() || (status != MPTCP_STATUS_ACTIVE && opts->mode != MPTCP_OFF))
		dial_format_addr((const struct sockaddr *)&conn->peer, conn->peer_len, where,
				 sizeof(where));
	log_info("%s: %s (evidence: %s)", where, mptcp_status_name(status),
		 mptcp_evidence_name(evidence));

	if (status == MPTCP_STATUS_ACTIVE) {
		mptcp_describe(conn->fd);
		return true;
	}
	if (opts->mode == MPTCP_OFF)
		return true;
	if (opts->mode == MPTCP_REQUIRE) {
		if (status == MPTCP_STATUS_UNKNOWN)
			log_error("MPTCP required, but this kernel cannot tell whether %s "
				  "negotiated it", where);
		else
			log_error("MPTCP required, but %s did not negotiate it "
				  "(the server lacks MPTCP, or a middlebox removed the option)",
				  where);
		return false;
	}

	/* prefer: one warning that says why, or nothing we cannot back up. */
	if (conn->mptcp_refused_errno)
		log_warn("this host cannot open MPTCP sockets (%s); using plain TCP to %s",
			 mptcp_unavailable_reason(conn->mptcp_refused_errno), where);
	else if (conn->rescued)
		log_warn("MPTCP SYNs to %s went unanswered for %.1f s (a middlebox may drop "
			 "them); connected over plain TCP instead", where,
			 (double)opts->rescue_delay_ms / 1000.0);
	else if (conn->reset_rescued)
		log_warn("MPTCP SYNs to %s were refused with a reset by something that lets "
			 "plain TCP through; connected over plain TCP instead", where);
	else if (status == MPTCP_STATUS_FALLBACK)
		log_warn("%s did not negotiate MPTCP (the server lacks MPTCP, or a middlebox "
			 "removed the option): fell back to plain TCP", where);
	else
		log_info("cannot tell whether MPTCP was negotiated: this kernel offers no "
			 "evidence (TCP_IS_MPTCP needs 6.10, MPTCP_INFO 5.16)");
	return true;
}

static int hand_over(int fd)
{
	int channel = handoff_channel();
	if (channel >= 0) {
		int err = handoff_pass(channel, fd);
		if (err) {
			log_error("cannot pass the connection on %s: %s",
				  channel == STDOUT_FILENO ? "stdout" : "stdin", strerror(err));
			return EX_OSERR;
		}
		log_info("connection passed on %s", channel == STDOUT_FILENO ? "stdout" : "stdin");
		return EX_OK;
	}

	log_info("stdin and stdout are not a unix socket: relaying bytes "
		 "(ProxyUseFdpass yes hands the connection over instead)");
	struct relay_totals totals;
	int err = handoff_relay(STDIN_FILENO, STDOUT_FILENO, fd, &totals);
	if (err) {
		log_error("relay failed: %s", strerror(err));
		return EX_OSERR;
	}
	log_info("relay done: %llu bytes sent, %llu bytes received",
		 (unsigned long long)totals.up, (unsigned long long)totals.down);
	return EX_OK;
}

/* A closed 0, 1 or 2 would be the next descriptor socket() returns: our
 * messages would then go into the TCP stream. /dev/null takes those places. */
static void occupy_std_fds(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		int null = open("/dev/null", O_RDWR);
		if (null >= 0 && null != fd)
			close(null);	/* fd is taken meanwhile: nothing to do */
	}
}

/* --check: the report on stdout, the verdict as the exit code */
static int check(const struct options *opts)
{
	struct check_report report;
	enum dial_error error = check_run(opts, &report);
	int code = error != DIAL_OK ? exit_code_for(error) :
		   report.verdict == REPORT_MPTCP ? EX_OK : EX_PROTOCOL;
	report.exit_code = code;
	if (!report_write(stdout, &report, opts->json ? REPORT_JSON : REPORT_TEXT)) {
		log_error("cannot write the report to stdout: %s", strerror(errno));
		return EX_OSERR;
	}
	return code;
}

static int write_failed(const char *what)
{
	log_error("cannot write %s to stdout: %s", what, strerror(errno));
	return EX_OSERR;
}

int main(int argc, char *argv[])
{
	struct options opts;

	occupy_std_fds();
	/* A vanished reader must be an error we report, not a silent death. */
	signal(SIGPIPE, SIG_IGN);

	/* Help or version that did not reach its reader is not a success
	 * (GNU's rule too: `--help > /dev/full` fails). */
	switch (options_parse(argc, argv, &opts)) {
	case PARSE_HELP:
		if (!options_usage(STDOUT_FILENO))
			return write_failed("the help");
		return EX_OK;
	case PARSE_VERSION:
		if (dprintf(STDOUT_FILENO, "%s %s\n", PROGRAM_NAME, PROGRAM_VERSION) < 0)
			return write_failed("the version");
		return EX_OK;
	case PARSE_USAGE:
		return EX_USAGE;
	case PARSE_RUN:
		break;
	}
	log_set_level(opts.log_level);
	if (opts.check)
		return check(&opts);

	/* Before any traffic: a listening socket on stdio would have us wait
	 * forever for a reader that is not there. */
	int unusable = handoff_check_stdio();
	if (unusable >= 0) {
		log_error("%s is a listening socket: it can carry neither the connection "
			  "nor its bytes", unusable == STDOUT_FILENO ? "stdout" : "stdin");
		return EX_OSERR;
	}

	struct dial_result conn;
	enum dial_error error = dial(&opts, &conn);
	if (error != DIAL_OK)
		return exit_code_for(error);

	if (!judge_mptcp(&opts, &conn)) {
		close(conn.fd);
		return EX_PROTOCOL;
	}
	int code = hand_over(conn.fd);
	close(conn.fd);
	return code;
}
