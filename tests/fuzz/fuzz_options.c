/* libFuzzer target: the whole option parser, argv made from the input.
 * Arguments are the input split at NUL bytes. Invariants: exactly one
 * "error:" line on a usage error and none otherwise, nothing on stdout, an
 * exit code from the documented set, parsed values in their ranges. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "options.h"

#define MAX_ARGS 24

#define CHECK(cond)                                                              \
	do {                                                                     \
		if (!(cond)) {                                                   \
			fprintf(stderr, "invariant broken: %s\n", #cond);        \
			abort();                                                 \
		}                                                                \
	} while (0)

static int exit_code(enum parse_result r)
{
	/* The same mapping as main(): usage 64, help and version 0. */
	return r == PARSE_USAGE ? 64 : 0;
}

static void check_values(const struct options *o)
{
	CHECK(o->port >= 1);
	char port[8];
	snprintf(port, sizeof(port), "%u", (unsigned)o->port);
	CHECK(strcmp(port, o->port_text) == 0);
	CHECK(o->host[0] != '\0');
	for (const char *p = o->host; *p; p++)
		CHECK((unsigned char)*p > ' ' && *p != 0x7f && *p != '[' && *p != ']' &&
		      *p != '/');
	CHECK(o->family == AF_UNSPEC || o->family == AF_INET || o->family == AF_INET6);
	CHECK(o->mode == MPTCP_PREFER || o->mode == MPTCP_REQUIRE || o->mode == MPTCP_OFF);
	CHECK(o->log_level >= LOG_QUIET && o->log_level <= LOG_VERBOSE);
	CHECK(o->timeout_ms >= 0 && o->timeout_ms <= TIMEOUT_MAX_MS);
	CHECK(o->rescue_delay_ms >= 0 && o->rescue_delay_ms <= RESCUE_DELAY_MAX_MS);
	CHECK(strlen(o->interface) < sizeof(o->interface));
	if (o->has_bind) {
		CHECK(o->bind_addr.ss_family == o->family);
		CHECK(o->bind_len == (o->family == AF_INET ? sizeof(struct sockaddr_in)
							   : sizeof(struct sockaddr_in6)));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A private NUL-terminated copy: getopt may permute argv in place. */
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	char *argv[MAX_ARGS + 2] = { "mptcp-fdpass" };
	int argc = 1;
	for (char *p = text; p <= text + size && argc <= MAX_ARGS; p += strlen(p) + 1)
		argv[argc++] = p;
	argv[argc] = NULL;

	struct options opts;
	capture_begin();
	enum parse_result r = options_parse(argc, argv, &opts);
	struct capture c;
	capture_end(&c);

	CHECK(c.out_len == 0);
	size_t errors = capture_error_lines(&c);
	int code = exit_code(r);
	CHECK(code == 0 || code == 64);
	if (r == PARSE_USAGE)
		CHECK(errors == 1);
	else
		CHECK(errors == 0);
	if (r == PARSE_RUN)
		check_values(&opts);
	free(text);
	return 0;
}
