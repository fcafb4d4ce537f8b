/* libFuzzer target: the port, host and seconds parsers on their own, and the
 * seconds formatter. The first byte chooses the parser (and, for seconds,
 * the bounds); the rest is its text. Invariants: a value in range on
 * success, exactly one "error:" line on failure and none on success. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "options.h"

#define CHECK(cond)                                                              \
	do {                                                                     \
		if (!(cond)) {                                                   \
			fprintf(stderr, "invariant broken: %s\n", #cond);        \
			abort();                                                 \
		}                                                                \
	} while (0)

static void check_lines(bool ok)
{
	struct capture c;
	capture_end(&c);
	CHECK(c.out_len == 0);
	CHECK(capture_error_lines(&c) == (ok ? 0 : 1));
}

static void fuzz_port(const char *text)
{
	uint16_t port = 0;
	capture_begin();
	bool ok = options_parse_port(text, &port);
	check_lines(ok);
	if (ok)
		CHECK(port >= 1);
}

static void fuzz_host(const char *text, size_t size)
{
	char host[NI_MAXHOST];
	size = 1 + size % sizeof(host);	/* short buffers too */
	capture_begin();
	bool ok = options_parse_host("host", text, host, size);
	check_lines(ok);
	if (!ok)
		return;
	size_t len = strlen(host);
	CHECK(len >= 1 && len < size);
	for (size_t i = 0; i < len; i++)
		CHECK((unsigned char)host[i] > ' ' && host[i] != 0x7f && host[i] != '[' &&
		      host[i] != ']' && host[i] != '/');
}

static void fuzz_seconds(const char *text, uint8_t bounds)
{
	static const int64_t limits[][2] = {
		{ 0, RESCUE_DELAY_MAX_MS }, { 1, TIMEOUT_MAX_MS }, { 1, 10 },
		{ 0, INT64_MAX / 2 },
	};
	const int64_t *l = limits[bounds % 4];
	int64_t ms = -7;
	capture_begin();
	bool ok = options_parse_seconds("timeout", text, l[0], l[1], &ms);
	check_lines(ok);
	if (!ok) {
		CHECK(ms == -7);
		return;
	}
	CHECK(ms >= l[0] && ms <= l[1]);
	/* Rounded up, never down: the value is at least what was asked. */
	CHECK((double)ms >= strtod(text, NULL) * 1000.0);

	/* The formatter gives back the same milliseconds, in plain digits. */
	char buf[32];
	options_format_seconds(ms, buf, sizeof(buf));
	CHECK(strpbrk(buf, "eE") == NULL);
	CHECK(llround(strtod(buf, NULL) * 1000.0) == ms || ms > (1LL << 50));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	char *text = malloc(size);
	if (!text)
		return 0;
	/* One C string: everything after the selector, up to a NUL. */
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	switch (data[0] % 3) {
	case 0:
		fuzz_port(text);
		break;
	case 1:
		fuzz_host(text, data[0] / 3);
		break;
	default:
		fuzz_seconds(text, (uint8_t)(data[0] / 3));
		break;
	}
	free(text);
	return 0;
}
