/* What the kernel says about MPTCP: can it make MPTCP sockets, did a
 * connection fall back to TCP, and what MPTCP_INFO tells about its paths. */
#ifndef MFP_MPTCP_H
#define MFP_MPTCP_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* Debian 12's headers predate some of these; the values are kernel ABI. */
#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif
#ifndef SOL_MPTCP
#define SOL_MPTCP 284
#endif
#ifndef MPTCP_INFO
#define MPTCP_INFO 1
#endif
#ifndef TCP_IS_MPTCP
#define TCP_IS_MPTCP 43		/* Linux >= 6.10 */
#endif
#ifndef MPTCP_SUBFLOW_ADDRS
#define MPTCP_SUBFLOW_ADDRS 3	/* Linux >= 5.16 */
#endif
#ifndef MPTCP_FULL_INFO
#define MPTCP_FULL_INFO 4	/* Linux >= 6.6; --check reads MPTCP_SUBFLOW_ADDRS */
#endif

enum mptcp_status {
	MPTCP_STATUS_UNKNOWN,	/* the kernel gives no evidence either way */
	MPTCP_STATUS_ACTIVE,	/* negotiated with the peer */
	MPTCP_STATUS_FALLBACK,	/* an MPTCP socket now speaking plain TCP */
	MPTCP_STATUS_TCP,	/* a plain TCP socket from the start */
};

/* Does this socket(2) errno mean "this kernel will not make MPTCP sockets"? */
bool mptcp_unavailable(int err);
/* Why, in words that name what to change; NULL when err is not such a reason. */
const char *mptcp_unavailable_reason(int err);

/* What a verdict rests on; kernels differ in what they can tell, and a
 * person reproducing a bug needs to know which witness spoke. */
enum mptcp_evidence {
	MPTCP_EVIDENCE_NONE,		/* no witness on this kernel */
	MPTCP_EVIDENCE_SOCKET,		/* opened as plain TCP: nothing to ask */
	MPTCP_EVIDENCE_TCP_IS_MPTCP,	/* getsockopt(SOL_TCP, TCP_IS_MPTCP), 6.10+ */
	MPTCP_EVIDENCE_MPTCP_INFO,	/* getsockopt(SOL_MPTCP, MPTCP_INFO), 5.16+ */
};

/* The verdict on fd; *evidence (may be NULL) says what it rests on. */
enum mptcp_status mptcp_status_of(int fd, bool opened_as_mptcp, enum mptcp_evidence *evidence);
const char *mptcp_evidence_name(enum mptcp_evidence evidence);
/* Does a failing MPTCP_INFO mean "fell back" on this kernel release? */
bool mptcp_info_proves_status(const char *release);
const char *mptcp_status_name(enum mptcp_status status);

/* The part of struct mptcp_info (uapi linux/mptcp.h) we read; the kernel
 * copies min(our size, its size), so a prefix of its layout is enough. */
struct mptcp_info_prefix {
	unsigned char subflows;
	unsigned char add_addr_signal;
	unsigned char add_addr_accepted;
	unsigned char subflows_max;
	unsigned char add_addr_signal_max;
	unsigned char add_addr_accepted_max;
	unsigned int flags;
	unsigned int token;
	unsigned long long write_seq;
	unsigned long long snd_una;
	unsigned long long rcv_nxt;
	unsigned char local_addr_used;
	unsigned char local_addr_max;	/* endpoints with the subflow flag */
	unsigned char csum_enabled;
};

/* Advice on how many paths the connection can use, from MPTCP_INFO; one
 * sentence, or NULL when the configuration allows more than one path. */
const char *mptcp_path_advice(const struct mptcp_info_prefix *info);

/* Log (verbose) what MPTCP_INFO says about fd's paths. */
void mptcp_describe(int fd);

/* MPTCP_INFO on fd into *info (zeroed first); 0, or the errno. */
int mptcp_info_of(int fd, struct mptcp_info_prefix *info);

/* The header of MPTCP_SUBFLOW_ADDRS (uapi struct mptcp_subflow_data): we
 * give the sizes, the kernel says how many subflows there are. */
struct mptcp_subflow_header {
	unsigned int size_subflow_data;
	unsigned int num_subflows;
	unsigned int size_kernel;
	unsigned int size_user;
} __attribute__((aligned(8)));

/* One subflow's addresses (uapi struct mptcp_subflow_addrs: two
 * __kernel_sockaddr_storage, the same 128 bytes as sockaddr_storage). */
struct mptcp_subflow_pair {
	struct sockaddr_storage local;
	struct sockaddr_storage remote;
};

/* The addresses of fd's subflows (MPTCP_SUBFLOW_ADDRS), up to max of them
 * into out[]; *count is how many the kernel has (may exceed max). 0, or the
 * errno: EOPNOTSUPP or ENOPROTOOPT where the kernel has no such option or
 * the connection is not MPTCP. */
int mptcp_subflow_addrs(int fd, struct mptcp_subflow_pair *out, size_t max, size_t *count);

#endif
