/* Loopback fixtures shared by the unit suites. No root needed. */
#ifndef MFP_TEST_HELPERS_H
#define MFP_TEST_HELPERS_H

#include <netdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* A listener on 127.0.0.1, port chosen by the kernel. proto: IPPROTO_TCP or
 * IPPROTO_MPTCP. Returns the fd; *port receives the port. */
int listen_loopback(int proto, uint16_t *port);

/* A listener whose accept queue is full, so the kernel drops further SYNs:
 * a blackhole on loopback, for as long as it stays open. */
struct blackhole {
	int listener;
	int fillers[2];		/* the clients that fill its queue */
	uint16_t port;
	char port_text[8];
};
void blackhole_open(struct blackhole *b);
void blackhole_close(struct blackhole *b);

/* A port on 127.0.0.1 where nothing listens (connect is refused). */
uint16_t refused_port(void);

/* One addrinfo per port, all 127.0.0.1, linked in the given order. */
struct addrinfo *loopback_addrs(const uint16_t *ports, size_t n);
void free_loopback_addrs(struct addrinfo *list);

#include "recv-fd.h"

struct run {
	int status;		/* exit code, or 128+signal */
	char err[4096];		/* stderr */
	int passed_fd;		/* the fd it passed on stdout, or -1 */
};

/* Run the built mptcp-fdpass (MPTCP_FDPASS_BIN) with stdin and stdout on
 * one end of a socketpair, as ssh's ProxyUseFdpass does. */
void run_connector(struct run *r, const char *const argv[]);

size_t count_lines(const char *text);

#endif
