/* What a parser printed: fd 1 and fd 2 go to memory files while it runs, so
 * the fuzz targets can check the one-error-line rule on every input. */
#ifndef MFP_FUZZ_CAPTURE_H
#define MFP_FUZZ_CAPTURE_H

#include <stddef.h>

struct capture {
	char out[4096];		/* what went to stdout */
	char err[4096];		/* what went to stderr */
	size_t out_len, err_len;
};

void capture_begin(void);
void capture_end(struct capture *c);

/* Lines in err, each one checked to start with "mptcp-fdpass: error: ";
 * aborts (a finding) when one does not. */
size_t capture_error_lines(const struct capture *c);

#endif
