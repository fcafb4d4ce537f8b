/* Give the connection to the caller: SCM_RIGHTS when it gave us a unix
 * socket (ssh's ProxyUseFdpass), a byte relay on stdin/stdout otherwise. */
#ifndef MFP_HANDOFF_H
#define MFP_HANDOFF_H

#include <stdint.h>

/* The descriptor that can carry SCM_RIGHTS: stdout, else stdin (both are the
 * same socketpair end under ssh), or -1 when neither is a unix socket. */
int handoff_channel(void);

/* stdout or stdin when it is a listening socket (it can carry neither a
 * descriptor nor bytes, and would make us wait forever), else -1. */
int handoff_check_stdio(void);

/* Send one byte with fd attached; 0, or an errno value. */
int handoff_pass(int channel, int fd);

struct relay_totals {
	uint64_t up;	/* from `in` to the connection */
	uint64_t down;	/* from the connection to `out` */
};

/* Copy in -> conn and conn -> out until both directions have ended. EOF on
 * `in` becomes shutdown(SHUT_WR) on conn; EOF on conn closes `out`, or shuts
 * down its write side when it is a socket (stdin may hold the same socket).
 * The reader of `out` going away ends the relay (that is how ssh leaves); a
 * server that stops taking data ends the upload, and what it sent is still
 * delivered. The file status flags of in and out are never changed for
 * longer than the call. Returns 0, or the errno value of the first I/O
 * error, once every direction has ended. */
int handoff_relay(int in, int out, int conn, struct relay_totals *totals);

#endif
