/* Give the connection to the caller: SCM_RIGHTS when it gave us a unix
 * socket (ssh's ProxyUseFdpass), a byte relay on stdin/stdout otherwise. */
#ifndef MFP_HANDOFF_H
#define MFP_HANDOFF_H

#include <stdint.h>

/* The descriptor that can carry SCM_RIGHTS: stdout, else stdin (both are the
 * same socketpair end under ssh), or -1 when neither is a unix socket. */
int handoff_channel(void);

/* Send one byte with fd attached; 0, or an errno value. */
int handoff_pass(int channel, int fd);

struct relay_totals {
	uint64_t up;	/* from `in` to the connection */
	uint64_t down;	/* from the connection to `out` */
};

/* Copy in -> conn and conn -> out until both directions reach EOF. EOF on
 * `in` becomes shutdown(SHUT_WR) on conn; EOF on conn closes `out`; the
 * reader of `out` going away ends the relay too (that is how ssh leaves).
 * Returns 0, or the errno value of the first I/O error. */
int handoff_relay(int in, int out, int conn, struct relay_totals *totals);

#endif
