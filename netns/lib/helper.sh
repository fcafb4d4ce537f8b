# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
#
# helper_: the helper under test run on its own in the client namespace,
# without ssh: as a relay (stdin and stdout plain files, nothing to pass a
# descriptor over) or for its exit status and messages. One way, one
# timeout policy: a hang-catching limit, stretched by mfp_slow.

# helper_start [--in=FILE] [--out=FILE] [--timeout=SECONDS] TAG ARG...: the
# helper ($MPTCP_FDPASS, word by word) with ARGs, in the background; stdin
# FILE (default /dev/null), stdout FILE (default TAG.out), stderr TAG.err;
# ended after SECONDS (default 60). HELPER_PID is its pid.
helper_start() {
	local in=/dev/null out="" limit=60 tag cmd
	while [[ "$1" == --* ]]; do
		case "$1" in
		--in=*) in=${1#--in=} ;;
		--out=*) out=${1#--out=} ;;
		--timeout=*) limit=${1#--timeout=} ;;
		*) mfp_fatal "helper_start: unknown option '$1'" ;;
		esac
		shift
	done
	tag=$1
	shift
	read -ra cmd <<<"$MPTCP_FDPASS"
	MFP__HELPER_T0=$(mfp_now_ms)
	ip netns exec "$(ns_name cli)" timeout -k 5 "$(mfp_slow "$limit")" "${cmd[@]}" "$@" \
		<"$in" >"${out:-$MFP_DIR/$tag.out}" 2>"$MFP_DIR/$tag.err" &
	HELPER_PID=$!
	ns_bg_pid "$HELPER_PID"
}

# helper_wait: the started helper's status; HELPER_MS is how long it ran
helper_wait() {
	local rc=0
	wait "$HELPER_PID" || rc=$?
	# shellcheck disable=SC2034 # read by the caller
	HELPER_MS=$(($(mfp_now_ms) - MFP__HELPER_T0))
	return "$rc"
}

# helper_run [OPTIONS] TAG ARG...: helper_start, then helper_wait
helper_run() {
	helper_start "$@"
	helper_wait
}
