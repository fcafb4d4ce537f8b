#include "capture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int mem[2] = { -1, -1 };	/* memfds standing in for fd 1 and fd 2 */
static int saved[2] = { -1, -1 };

void capture_begin(void)
{
	for (int i = 0; i < 2; i++) {
		if (mem[i] < 0)
			mem[i] = memfd_create(i ? "fuzz-stderr" : "fuzz-stdout", MFD_CLOEXEC);
		if (mem[i] < 0 || ftruncate(mem[i], 0) != 0 || lseek(mem[i], 0, SEEK_SET) != 0)
			abort();
		saved[i] = dup(1 + i);
		if (saved[i] < 0 || dup2(mem[i], 1 + i) < 0)
			abort();
	}
}

static size_t slurp(int fd, char *buf, size_t size)
{
	ssize_t n = pread(fd, buf, size - 1, 0);
	if (n < 0)
		abort();
	buf[n] = '\0';
	return (size_t)n;
}

void capture_end(struct capture *c)
{
	for (int i = 0; i < 2; i++) {
		if (dup2(saved[i], 1 + i) < 0)
			abort();
		close(saved[i]);
	}
	c->out_len = slurp(mem[0], c->out, sizeof(c->out));
	c->err_len = slurp(mem[1], c->err, sizeof(c->err));
}

size_t capture_error_lines(const struct capture *c)
{
	static const char prefix[] = "mptcp-fdpass: error: ";
	size_t lines = 0;
	const char *p = c->err, *end = c->err + c->err_len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl || strncmp(p, prefix, sizeof(prefix) - 1) != 0) {
			fprintf(stderr, "not an error line: %s\n", c->err);
			abort();
		}
		lines++;
		p = nl + 1;
	}
	return lines;
}
