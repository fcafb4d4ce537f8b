#include "mptcp.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <string.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/utsname.h>

#include "log.h"

_Static_assert(offsetof(struct mptcp_info_prefix, local_addr_used) == 40,
	       "struct mptcp_info layout");

bool mptcp_unavailable(int err)
{
	return mptcp_unavailable_reason(err) != NULL;
}

const char *mptcp_unavailable_reason(int err)
{
	switch (err) {
	case EPROTONOSUPPORT:
		return "the kernel is built without MPTCP (CONFIG_MPTCP)";
	case ENOPROTOOPT:
		return "MPTCP is disabled by the sysctl net.mptcp.enabled=0";
	case EINVAL:
		return "the kernel is older than 5.6 and has no MPTCP";
	default:
		return NULL;
	}
}

const char *mptcp_status_name(enum mptcp_status status)
{
	switch (status) {
	case MPTCP_STATUS_ACTIVE:
		return "MPTCP";
	case MPTCP_STATUS_FALLBACK:
		return "fell back to TCP";
	case MPTCP_STATUS_TCP:
		return "plain TCP";
	case MPTCP_STATUS_UNKNOWN:
		break;
	}
	return "unknown";
}

bool mptcp_info_proves_status(const char *release)
{
	unsigned major = 0, minor = 0;
	if (sscanf(release, "%u.%u", &major, &minor) != 2)
		return false;
	return major > 5 || (major == 5 && minor >= 16);
}

static bool kernel_info_proves_status(void)
{
	struct utsname u;
	return uname(&u) == 0 && mptcp_info_proves_status(u.release);
}

const char *mptcp_evidence_name(enum mptcp_evidence evidence)
{
	switch (evidence) {
	case MPTCP_EVIDENCE_SOCKET:
		return "a plain TCP socket";
	case MPTCP_EVIDENCE_TCP_IS_MPTCP:
		return "TCP_IS_MPTCP";
	case MPTCP_EVIDENCE_MPTCP_INFO:
		return "MPTCP_INFO";
	case MPTCP_EVIDENCE_NONE:
		break;
	}
	return "none";
}

static enum mptcp_status status_from(int fd, bool opened_as_mptcp, enum mptcp_evidence *evidence)
{
	*evidence = MPTCP_EVIDENCE_SOCKET;
	if (!opened_as_mptcp)
		return MPTCP_STATUS_TCP;

	int is_mptcp = 0;
	socklen_t len = sizeof(is_mptcp);
	*evidence = MPTCP_EVIDENCE_TCP_IS_MPTCP;
	if (getsockopt(fd, SOL_TCP, TCP_IS_MPTCP, &is_mptcp, &len) == 0)
		return is_mptcp ? MPTCP_STATUS_ACTIVE : MPTCP_STATUS_FALLBACK;

	/* Before 6.10, MPTCP_INFO is the only witness. From 5.16 it answers
	 * only while MPTCP is in use and fails after a fallback (EOPNOTSUPP on
	 * IPv4, ENOPROTOOPT on IPv6); before 5.16 it may fail on a healthy
	 * MPTCP connection too, so its failure proves nothing there. */
	struct mptcp_info_prefix info;
	len = sizeof(info);
	int rc = getsockopt(fd, SOL_MPTCP, MPTCP_INFO, &info, &len);
	int err = errno;
	*evidence = MPTCP_EVIDENCE_NONE;
	if (!kernel_info_proves_status())
		return MPTCP_STATUS_UNKNOWN;
	*evidence = MPTCP_EVIDENCE_MPTCP_INFO;
	if (rc == 0)
		return MPTCP_STATUS_ACTIVE;
	if (err == EOPNOTSUPP || err == ENOPROTOOPT)
		return MPTCP_STATUS_FALLBACK;
	*evidence = MPTCP_EVIDENCE_NONE;
	return MPTCP_STATUS_UNKNOWN;
}

enum mptcp_status mptcp_status_of(int fd, bool opened_as_mptcp, enum mptcp_evidence *evidence)
{
	enum mptcp_evidence ignored;
	return status_from(fd, opened_as_mptcp, evidence ? evidence : &ignored);
}

const char *mptcp_path_advice(const struct mptcp_info_prefix *info)
{
	if (info->local_addr_max == 0 && info->add_addr_accepted_max == 0)
		return "no MPTCP endpoints configured: this connection will use one path "
		       "(add one with: ip mptcp endpoint add ADDRESS dev IFNAME subflow)";
	if (info->subflows_max == 0)
		return "the MPTCP subflow limit is 0: this connection will use one path "
		       "(raise it with: ip mptcp limits set subflows 2)";
	return NULL;
}

void mptcp_describe(int fd)
{
	if (!log_is_verbose())
		return;

	struct mptcp_info_prefix info;
	socklen_t len = sizeof(info);
	memset(&info, 0, sizeof(info));
	if (getsockopt(fd, SOL_MPTCP, MPTCP_INFO, &info, &len) != 0) {
		log_info("MPTCP_INFO unavailable: %s", strerror(errno));
		return;
	}
	log_info("MPTCP: %u subflow(s) now; %u subflow endpoint(s) here, up to %u more "
		 "subflow(s), up to %u address(es) accepted from the server",
		 info.subflows + 1u, info.local_addr_max, info.subflows_max,
		 info.add_addr_accepted_max);
	const char *advice = mptcp_path_advice(&info);
	if (advice)
		log_info("%s", advice);
}

int mptcp_info_of(int fd, struct mptcp_info_prefix *info)
{
	socklen_t len = sizeof(*info);
	memset(info, 0, sizeof(*info));
	return getsockopt(fd, SOL_MPTCP, MPTCP_INFO, info, &len) == 0 ? 0 : errno;
}

int mptcp_subflow_addrs(int fd, struct mptcp_subflow_pair *out, size_t max, size_t *count)
{
	struct {
		struct mptcp_subflow_header head;
		struct mptcp_subflow_pair pairs[8];
	} buf;
	memset(&buf, 0, sizeof(buf));
	buf.head.size_subflow_data = sizeof(buf.head);
	buf.head.size_user = sizeof(buf.pairs[0]);
	socklen_t len = sizeof(buf);
	*count = 0;
	if (getsockopt(fd, SOL_MPTCP, MPTCP_SUBFLOW_ADDRS, &buf, &len) != 0)
		return errno;
	/* The kernel copies min(its size, ours) of each element; an element
	 * shorter than ours (an older layout) leaves the rest zero. */
	size_t copied = len > sizeof(buf.head) ? (len - sizeof(buf.head)) / sizeof(buf.pairs[0]) : 0;
	*count = buf.head.num_subflows;
	for (size_t i = 0; i < copied && i < max && i < buf.head.num_subflows; i++)
		out[i] = buf.pairs[i];
	return 0;
}
