# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
#
# check_: assertions. Each prints "ok: ..." or "FAIL: ..." and counts
# failures; mfp_finish turns the count into the exit code.

# MFP_FAIL_NOTE, when set (for one call: MFP_FAIL_NOTE=... check ...), is
# appended to a failure: the bug scenarios name the bug that way.
check_fail() {
	mfp_verdict_time
	printf '[%s] FAIL: %s%s\n' "$MFP_NAME" "$*" "${MFP_FAIL_NOTE:-}"
	MFP_FAILS=$((MFP_FAILS + 1))
}
check_ok() {
	mfp_verdict_time
	mfp_log "ok: $*"
}

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

# check_delta ge|eq WHAT ROLE COUNTER VALUE [FROM TO]: how far a counter
# moved between two snapshots (before/after by default), against VALUE. A
# counter that this kernel does not have is said, not failed: the counter is
# then the absent feature, and the scenario's other checks still decide.
check_delta() {
	local op=$1 what=$2 role=$3 name=$4 want=$5 from=${6:-before} to=${7:-after}
	if ! obs_has_counter "$role" "$to" "$name"; then
		mfp_log "n/a on this kernel: $what (no $name counter)"
		return 0
	fi
	case "$op" in
	ge) check_ge "$what" "$(obs_delta "$role" "$name" "$from" "$to")" "$want" ;;
	eq) check_eq "$what" "$(obs_delta "$role" "$name" "$from" "$to")" "$want" ;;
	*) mfp_fatal "check_delta: '$op' is not ge or eq" ;;
	esac
}
