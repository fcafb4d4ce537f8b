# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
#
# check_: assertions. Each prints "ok: ..." or "FAIL: ..." and counts
# failures; mfp_finish turns the count into the exit code.

check_fail() {
	printf '[%s] FAIL: %s\n' "$MFP_NAME" "$*"
	MFP_FAILS=$((MFP_FAILS + 1))
}
check_ok() { mfp_log "ok: $*"; }

check() {
	local what=$1
	shift
	if "$@"; then check_ok "$what"; else check_fail "$what"; fi
}

check_eq() {
	if [[ "$2" == "$3" ]]; then check_ok "$1 ($2)"; else check_fail "$1: got '$2', expected '$3'"; fi
}

check_ge() {
	if (($2 >= $3)); then check_ok "$1 ($2 >= $3)"; else check_fail "$1: got $2, expected >= $3"; fi
}

# check_count WHAT FILE PATTERN N: exactly N lines of FILE match
check_count() {
	local n
	n=$(grep -c -- "$3" "$2" 2>/dev/null || true)
	check_eq "$1" "${n:-0}" "$4"
}

# true when FILE has no line matching PATTERN (grep's options allowed first)
mfp_not_grep() { ! grep -qs "$@" 2>/dev/null; }

check_grep() {
	if grep -qs -- "$3" "$2" 2>/dev/null; then check_ok "$1"; else check_fail "$1: no '$3' in $(basename "$2")"; fi
}
