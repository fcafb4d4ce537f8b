/* One-line messages on stderr, each prefixed with the program name. */
#ifndef MFP_LOG_H
#define MFP_LOG_H

#include <stdbool.h>

enum log_level {
	LOG_QUIET = -1,		/* errors only */
	LOG_NORMAL = 0,		/* errors and warnings */
	LOG_VERBOSE = 1,	/* and what happened step by step */
};

void log_set_level(enum log_level level);
bool log_is_verbose(void);

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
