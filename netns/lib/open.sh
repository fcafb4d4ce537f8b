# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
#
# open_: what the open-bug scenarios (tests/open/, meson suite "open") add to
# the harness. An open scenario reproduces a kernel bug that no fix covers
# yet and asserts the CORRECT behaviour, so that on a kernel with the bug it
# fails. meson runs the suite with should_fail: that failure is an expected
# failure (the bug is present, as known), and a pass is an unexpected pass
# ("fixed here?"), which fails the suite so that nobody misses the day
# upstream fixes it.
#
# Two kinds of checks, told apart by their exit code:
#   open_check*  the behaviour under test; a failure is the bug (exit 1,
#                inverted by should_fail into an expected failure)
#   open_need*   the trigger: the harness must prove that it did what the
#                bug needs (the fault hit, the order held); a failure is the
#                harness's (exit 99, which meson reports as ERROR whatever
#                should_fail says: a missed trigger is never an "expected
#                failure")
# Sourced by the scenarios after lib.sh (uses check_*, mfp_*).

MFP__OPEN_BUG=""
MFP__OPEN_SUMMARY=""
MFP__OPEN_MISSED=0

# open_bug NAME SUMMARY: the finding this scenario reproduces
open_bug() {
	MFP__OPEN_BUG=$1
	MFP__OPEN_SUMMARY=$2
	mfp_log "open bug $MFP__OPEN_BUG: $MFP__OPEN_SUMMARY"
}

open_note() { printf ' (bug %s: %s)' "$MFP__OPEN_BUG" "$MFP__OPEN_SUMMARY"; }
open_check() { check --note="$(open_note)" "$@"; }
open_check_eq() { check_eq --note="$(open_note)" "$@"; }
open_check_ge() { check_ge --note="$(open_note)" "$@"; }

# the trigger's preconditions: counted apart, never taken for the bug
open_missed() {
	printf '[%s] HARNESS: %s\n' "$MFP_NAME" "$*"
	MFP__OPEN_MISSED=$((MFP__OPEN_MISSED + 1))
}
open_need() {
	local what=$1
	shift
	if "$@"; then check_ok "$what"; else open_missed "$what"; fi
}
open_need_eq() {
	if [[ "$2" == "$3" ]]; then check_ok "$1 ($2)"; else open_missed "$1: got '$2', expected '$3'"; fi
}
open_need_ge() {
	if (($2 >= $3)); then check_ok "$1 ($2 >= $3)"; else open_missed "$1: got $2, expected >= $3"; fi
}

# open_finish: 99 when the trigger missed (whatever the kernel did), 1 when
# the bug showed, 0 when the kernel behaved correctly
open_finish() {
	if ((MFP__OPEN_MISSED > 0)); then
		printf '[%s] FAIL: the trigger missed (%d precondition(s)): says nothing about the kernel\n' \
			"$MFP_NAME" "$MFP__OPEN_MISSED"
		exit 99
	fi
	if ((MFP__FAILS > 0)); then
		printf '[%s] FAIL: bug present (open): %s: %s\n' "$MFP_NAME" "$MFP__OPEN_BUG" "$MFP__OPEN_SUMMARY"
		exit 1
	fi
	mfp_log "PASS: the kernel behaved correctly: fixed here? ($MFP__OPEN_BUG: $MFP__OPEN_SUMMARY)"
	exit 0
}

# open_counter_known ROLE NAME: the kernel has this MIB counter (nstat -z
# lists every counter it knows); the counters that judge a trigger are the
# feature an open scenario needs
open_counter_known() {
	NSTAT_HISTORY="$MFP_DIR/nstat.$1.hist" ns_exec "$1" nstat -asz 2>/dev/null |
		awk -v n="$2" '$1 == n { f = 1 } END { exit !f }'
}
