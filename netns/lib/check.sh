# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
#
# check_: assertions. Each prints "ok: ..." or "FAIL: ..." and counts
# failures; mfp_finish turns the count into the exit code.

# Each check takes an optional first argument --note=TEXT, appended to its
# failure: the bug scenarios name the bug that way.
check_fail() {
	local note=""
	[[ "$1" != --note=* ]] || { note=${1#--note=}; shift; }
	# the old way, through the environment, would be silently ignored now
	[[ -z "${MFP_FAIL_NOTE+set}" ]] || mfp_fatal "MFP_FAIL_NOTE is not read: pass check*/check_fail --note=TEXT"
	mfp_verdict_time
	printf '[%s] FAIL: %s%s\n' "$MFP_NAME" "$*" "$note"
	MFP__FAILS=$((MFP__FAILS + 1))
}
check_ok() {
	mfp_verdict_time
	mfp_log "ok: $*"
}

check() {
	local note=() what
	[[ "$1" != --note=* ]] || { note=("$1"); shift; }
	what=$1
	shift
	if "$@"; then check_ok "$what"; else check_fail "${note[@]}" "$what"; fi
}

check_eq() {
	local note=()
	[[ "$1" != --note=* ]] || { note=("$1"); shift; }
	if [[ "$2" == "$3" ]]; then check_ok "$1 ($2)"; else check_fail "${note[@]}" "$1: got '$2', expected '$3'"; fi
}

check_ge() {
	local note=()
	[[ "$1" != --note=* ]] || { note=("$1"); shift; }
	if (($2 >= $3)); then check_ok "$1 ($2 >= $3)"; else check_fail "${note[@]}" "$1: got $2, expected >= $3"; fi
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
