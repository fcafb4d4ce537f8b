/* --check HOST PORT: connect, ask the kernel what the connection is, close.
 * No ssh, nothing handed over; report.c formats what this gathers. */
#ifndef MFP_CHECK_H
#define MFP_CHECK_H

#include "dial.h"
#include "options.h"
#include "report.h"

/* Connect as the helper would (same modes, Happy Eyeballs, rescue), fill
 * *report, close. Returns dial()'s error; DIAL_OK whenever a connection
 * came up, MPTCP or not (the verdict is in the report). */
enum dial_error check_run(const struct options *opts, struct check_report *report);

#endif
