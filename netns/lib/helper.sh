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

# helper_file_server [--answer=BYTES] ROLE PORT FILE CONNECTIONS: not the
# helper but a peer for readers of their own (tests/bugs): an MPTCP listener
# in ROLE's namespace on PORT that serves CONNECTIONS connections, one after
# the other. Each one: a request line, then FILE. With --answer=BYTES: a
# request line, BYTES zero bytes, two more lines ("ack", "go"), then FILE.
# An error on one connection is logged (server.log) and the next one is
# served. Returns once the listener is up; the test's cleanup ends it.
helper_file_server() {
	local answer=-1
	while [[ "$1" == --* ]]; do
		case "$1" in
		--answer=*) answer=${1#--answer=} ;;
		*) mfp_fatal "helper_file_server: unknown option '$1'" ;;
		esac
		shift
	done
	local role=$1 port=$2 file=$3 count=$4
	ip netns exec "$(ns_name "$role")" python3 -c '
import socket, sys
data = open(sys.argv[1], "rb").read()
answer, port, count = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM, getattr(socket, "IPPROTO_MPTCP", 262))
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("0.0.0.0", port))
ls.listen(count)
for i in range(count):
    c, _ = ls.accept()
    try:
        f = c.makefile("rb", buffering=0)
        f.readline()
        if answer >= 0:
            c.sendall(bytes(answer))
            f.readline()
            f.readline()
        c.sendall(data)
    except OSError as e:
        print(i, type(e).__name__, flush=True)
    c.close()
' "$file" "$answer" "$port" "$count" </dev/null >>"$MFP_DIR/server.log" 2>&1 &
	ns_bg_pid "$!"
	mfp_wait 10 obs_listening "$role" "$port" || mfp_fatal "the file server did not start in $role"
}
