#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

/* The level is the one piece of parsed option state every module needs;
 * keeping it here spares threading it through every call. */
static enum log_level current_level = LOG_NORMAL;

void log_set_level(enum log_level level)
{
	current_level = level;
}

bool log_is_verbose(void)
{
	return current_level >= LOG_VERBOSE;
}

/* Each message is formatted whole and written with one write(2): ssh shares
 * our stderr, and a line split across writes could interleave with its own. */
static void emit(const char *kind, const char *fmt, va_list ap)
{
	char line[1024];
	int saved_errno = errno;
	int n = snprintf(line, sizeof(line), "%s: %s", PROGRAM_NAME, kind);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	int m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	if (m < 0)
		return;
	size_t len = (size_t)n + (size_t)m;
	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2;
	/* Messages quote argv: a newline in it must not make a second line. */
	for (size_t i = (size_t)n; i < len; i++)
		if ((unsigned char)line[i] < ' ' || line[i] == 0x7f)
			line[i] = '?';
	line[len++] = '\n';
	ssize_t w = write(STDERR_FILENO, line, len);
	(void)w;	/* nowhere left to report a failing stderr */
	errno = saved_errno;
}

void log_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	emit("error: ", fmt, ap);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	if (current_level < LOG_NORMAL)
		return;
	va_list ap;
	va_start(ap, fmt);
	emit("warning: ", fmt, ap);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	if (current_level < LOG_VERBOSE)
		return;
	va_list ap;
	va_start(ap, fmt);
	emit("", fmt, ap);
	va_end(ap);
}
