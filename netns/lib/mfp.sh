# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
#
# mfp_: a scenario's life. Messages (one stream, so a log reads in order),
# init (checks root, MPTCP and tools; makes the work dir and the one trap),
# skip and finish with the suite's exit codes (0 pass, 1 fail, 77 skip or not
# applicable), polling instead of sleeping, and small data helpers.
# Uses: ns_bg_pid (ns.sh), cleanup and cleanup_guard (cleanup.sh).

# one stream (stdout) so that a log reads in order
mfp_log() { printf '[%s] %s\n' "$MFP_NAME" "$*"; }
mfp_fatal() {
	printf '[%s] FAIL: %s\n' "$MFP_NAME" "$*"
	exit 1
}

# Not root, no MPTCP, a tool missing: the scenario cannot say anything, which
# is acceptable on a developer's machine and never in CI.
mfp_skip() {
	if [[ "${CI:-}" == true ]]; then
		printf '[%s] FAIL (would skip, but CI=true): %s\n' "$MFP_NAME" "$*"
		exit 1
	fi
	printf '[%s] SKIP: %s\n' "$MFP_NAME" "$*"
	exit 77
}

# The kernel lacks the feature a scenario is about (learnt by probing, never
# from the version number): nothing to test, and nothing wrong with the
# kernel or the machine, so this is exit 77 even under CI=true.
mfp_not_applicable() {
	printf '[%s] SKIP: not applicable on this kernel: %s\n' "$MFP_NAME" "$*"
	exit 77
}

mfp_require_tools() {
	local tool
	for tool in "$@"; do
		command -v "$tool" >/dev/null 2>&1 || mfp_skip "missing tool: $tool"
	done
}

# mfp_preflight_why: what every user of the harness needs (root, MPTCP, the
# tools, sshd); the first thing missing is printed, status 1
mfp_preflight_why() {
	local tool
	((EUID == 0)) || { echo "needs root (network namespaces, sshd)"; return 1; }
	[[ -e /proc/sys/net/mptcp/enabled ]] || { echo "kernel without MPTCP (no /proc/sys/net/mptcp)"; return 1; }
	for tool in ip nft tc ss nstat ssh ssh-keygen mptcpize tcpdump timeout setsid sha256sum python3; do
		command -v "$tool" >/dev/null 2>&1 || { echo "missing tool: $tool"; return 1; }
	done
	[[ -x "$MFP__SSHD" ]] || { echo "missing $MFP__SSHD (openssh-server)"; return 1; }
}

# mfp_preflight: the same as a skip (or a failure under CI); and the helper,
# the thing under test, not a tool: its absence is a failure.
mfp_preflight() {
	local why helper
	why=$(mfp_preflight_why) || mfp_skip "$why"
	read -r helper _ <<<"$MPTCP_FDPASS"
	command -v "$helper" >/dev/null 2>&1 || mfp_fatal "helper not found: $MPTCP_FDPASS (build it, or set MPTCP_FDPASS)"
}

# mfp_lock DIR: the processes that work on a saved run take turns. A
# directory, not flock: the tcpdumps a run leaves running would inherit a
# lock's descriptor and hold it. A holder that died is no holder; after 60 s
# of a live one, "is busy (...)" is printed and the status is 1; a lock
# that cannot be made at all (not root, no such dir) is said at once.
mfp_lock() {
	local lock="$1/lock" deadline=$((SECONDS + 60)) holder err
	until err=$(mkdir "$lock" 2>&1); do
		[[ -d "$lock" ]] || { echo "cannot be locked: ${err#mkdir: }"; return 1; }
		holder=$(cat "$lock/pid" 2>/dev/null || true)
		if [[ -n "$holder" ]] && ! kill -0 "$holder" 2>/dev/null; then
			rm -rf "$lock"
			continue
		fi
		((SECONDS < deadline)) || { echo "is busy (held by pid ${holder:-?}; remove $lock if it is stale)"; return 1; }
		sleep 0.1
	done
	# $$: the script's pid, also from the $(...) its caller reads the reason with
	echo "$$" >"$lock/pid"
}
mfp_unlock() { rm -rf "$1/lock"; }

# where failures keep their artifacts (MFP_ARTIFACTS)
mfp_artifacts_dir() { echo "${MFP_ARTIFACTS:-$MFP_TOP/build/netns-artifacts}"; }

# mfp_short_dir: /tmp/mfp-<id>, made on first use (root only), for what must
# have a short path: a unix socket's path has 108 bytes, and the work dir,
# under the artifacts, may take most of them (ssh's ControlPath with %C
# needs 44 and 17 more while it makes the socket). Removed with the run's
# namespaces, by the trap or by the reaper.
mfp_short_dir() {
	local d="/tmp/mfp-$MFP_ID"
	[[ -d "$d" ]] || mkdir -m 0700 "$d"
	echo "$d"
}

# A saved run outlives the process that built it (a lab): it lives in a
# directory of its own, which later processes carry on (mfp_attach, then
# topo_load) and one of them takes down (cleanup_saved_run).

# mfp_attach DIR NAME: a later process carries on the run saved in DIR: its
# files are there, its id is DIR/id, its log lines say NAME (read, not cat:
# every lab command attaches, and a program costs under emulation)
mfp_attach() {
	MFP_DIR=$1
	MFP_NAME=$2
	MFP_ID=""
	[[ ! -r "$1/id" ]] || read -r MFP_ID <"$1/id" || true
}

# mfp_saved_new DIR [ID]: DIR (made, empty, by the caller: the mkdir is its
# claim on the name) becomes a saved run with id ID (or a fresh one), guarded
# by a reaper until mfp_saved_detach: a builder that is killed leaves nothing
mfp_saved_new() {
	MFP_DIR=$1
	MFP_ID=${2:-}
	[[ -n "$MFP_ID" ]] || mfp_new_id
	echo "$MFP_ID" >"$1/id"
	echo "$$" >"$1/up.pid"
	cleanup_guard "$1"
}

# mfp_saved_detach: the saved run is built and now outlives this process:
# no reaper, no traps
mfp_saved_detach() {
	cleanup_guard_off
	rm -f "$MFP_DIR/up.pid"
	trap - EXIT INT TERM HUP ERR
	set +E
}

# mfp_saved_wait DIR: the builder of DIR was killed a moment ago and its
# reaper is still at work: wait for it (at most 30 s)
mfp_saved_wait() {
	local pid
	[[ -r "$1/up.pid" ]] && read -r pid <"$1/up.pid" || return 0
	! kill -0 "$pid" 2>/dev/null || return 0
	mfp_wait 30 test ! -e "$1/up.pid" || true
}

# a fresh random id: the namespaces are mfp-<id>-<role>
mfp_new_id() { MFP_ID=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n'); }

# mfp_exit_status STATUS: what a run that stopped with STATUS exits with:
# 0, a signal's own (129 SIGHUP, 130 SIGINT, 143 SIGTERM), otherwise 1
mfp_exit_status() {
	case "$1" in
	0 | 129 | 130 | 143) echo "$1" ;;
	*) echo 1 ;;
	esac
}

# mfp_traps HANDLER: HANDLER is the one EXIT trap; the signals exit through
# it, so that it does the work exactly once
mfp_traps() {
	# shellcheck disable=SC2064 # the handler's name, fixed now
	trap "$1" EXIT
	trap 'mfp_log "interrupted (SIGINT)"; exit 130' INT
	trap 'mfp_log "terminated (SIGTERM; a timeout?)"; exit 143' TERM
	trap 'mfp_log "hung up (SIGHUP)"; exit 129' HUP
	set -E
	# stderr: the ERR trap also fires inside $(...), whose stdout is a value
	trap 'mfp_log "error: line $LINENO: $BASH_COMMAND (status $?)" >&2' ERR
}

mfp_init() {
	MFP__T0=$(mfp_now_ms)
	mfp_preflight
	mfp_new_id
	local base
	base=$(mfp_artifacts_dir)
	mkdir -p "$base"
	MFP_DIR=$(mktemp -d "$base/$MFP_NAME.XXXXXX")
	mfp_traps cleanup
	cleanup_guard
	mfp_klog_start
	mfp_log "id $MFP_ID, work dir $MFP_DIR, helper: $MPTCP_FDPASS"
}

# In one of netns/vm's guests (and only there: the host's kernel log is the
# machine's), the kernel's own warnings during the scenario fail it: klog.sh
# marks the log now, the cleanup trap checks it (klog_check).
mfp_in_guest() {
	[[ -e /.mfp-vm/booted ]] && grep -qw mfp_guest=1 /proc/cmdline 2>/dev/null
}

mfp_klog_start() {
	mfp_in_guest || return 0
	# shellcheck source=SCRIPTDIR/klog.sh
	source "$MFP_TOP/netns/lib/klog.sh"
	klog_mark
}

mfp_finish() {
	MFP__T_FINISH=$(mfp_now_ms)
	if ((MFP__FAILS > 0)); then
		mfp_log "FAIL: $MFP__FAILS check(s) failed"
		exit 1
	fi
	mfp_log "PASS"
	exit 0
}

# Background jobs are started as plain commands (ip netns exec ... &), never as
# shell functions: a forked function would carry the ERR trap with it and
# complain when cleanup kills it.

# How much slower than a host this machine may be. Waits for readiness and
# the limits that only catch hangs are stretched by it; bounds that are the
# behaviour under test are not (they are measured against baselines taken in
# the same run, or by the helper's own clock). MFP_SLOW overrides it; in a
# guest that qemu emulates (netns/vm under TCG) it is 10.
mfp_slow_factor() {
	if [[ -n "${MFP_SLOW:-}" ]]; then
		echo "$MFP_SLOW"
	elif [[ "${MFP_GUEST_ACCEL:-}" == tcg ]]; then
		echo 10
	else
		echo 1
	fi
}

# mfp_slow SECONDS: a hang-catching limit, stretched for a slow machine
mfp_slow() { echo $(($1 * $(mfp_slow_factor))); }

# Poll until a command succeeds: the suite never sleeps a fixed time where
# the kernel can be asked instead. TIMEOUT is stretched by mfp_slow. The
# pause between polls is 50 ms on a host, 250 ms on a slow machine: under
# emulation each poll starts programs (ss, ip, grep) that cost tens of
# milliseconds of the guest's few CPUs, which a 50 ms poll would take from
# the very process (sshd, tcpdump) that it waits for.
mfp_wait() {
	local timeout=$1 deadline pause=0.05
	shift
	deadline=$((SECONDS + $(mfp_slow "$timeout")))
	(($(mfp_slow_factor) == 1)) || pause=0.25
	until "$@"; do
		((SECONDS < deadline)) || return 1
		mfp_sleep "$pause"
	done
}

# mfp_sleep SECONDS: a pause that starts no program (/usr/bin/sleep, once
# per poll, was a third of the programs a polling scenario started): read's
# timeout on a pipe that this shell holds both ends of, so that nothing
# ever arrives (a $(...) inherits it, and nothing arrives there either).
MFP__SLEEP_FD=""
mfp_sleep() {
	[[ -n "$MFP__SLEEP_FD" ]] || exec {MFP__SLEEP_FD}<> <(:)
	read -r -t "$1" -u "$MFP__SLEEP_FD" _ || true
}

# mfp_wait_pid PID: wait for a background command and return its status.
# Long commands run in the background and are waited for, because bash runs
# a trap (meson's SIGTERM, Ctrl-C) only between commands: "wait" is one it
# interrupts, a foreground child is not. Background commands get /dev/null as
# stdin unless told otherwise: "<&0" keeps the caller's.
mfp_wait_pid() {
	local pid=$1 rc=0
	ns_bg_pid "$pid"
	wait "$pid" || rc=$?
	return "$rc"
}

# Where a scenario's time goes (tests/vm/profile reads the line cleanup
# prints): from mfp_init to its first verdict (the topology, sshd, and the
# first check's own action: setup and the main act), from there to
# mfp_finish (the other checks), and the teardown.
MFP__T0=""
MFP__T_VERDICT=""
MFP__T_FINISH=""
mfp_verdict_time() { [[ -n "$MFP__T_VERDICT" ]] || MFP__T_VERDICT=$(mfp_now_ms); }

mfp_timing_line() {
	[[ -n "$MFP__T0" ]] || return 0
	local now first fin
	now=$(mfp_now_ms)
	fin=${MFP__T_FINISH:-$now}
	# a run without a verdict (a benchmark) spent all of it before the end
	first=${MFP__T_VERDICT:-$fin}
	mfp_log "timing: to the first verdict $(mfp_ms_s $((first - MFP__T0))) s, other checks $(mfp_ms_s $((fin - first))) s, teardown $(mfp_ms_s $((now - fin))) s"
}

mfp_ms_s() { printf '%d.%02d' $(($1 / 1000)) $(($1 % 1000 / 10)); }

# milliseconds since the epoch (EPOCHREALTIME's radix follows the locale)
mfp_now_ms() {
	local t=${EPOCHREALTIME//[!0-9]/}
	echo $((10#$t / 1000))
}

# seconds since START (from mfp_now_ms), as "1.23"
mfp_since() {
	local ms=$(($(mfp_now_ms) - $1))
	printf '%d.%02d' $((ms / 1000)) $((ms % 1000 / 10))
}

# Random data that the receiver must reproduce byte for byte.
mfp_data() {
	local name=$1 size=$2 file
	file="$MFP_DIR/$name"
	head -c "$size" /dev/urandom >"$file"
	echo "$file"
}

mfp_sha() { sha256sum <"$1" | cut -d' ' -f1; }

# mfp_tree DIR DIRS FILES MIN_KIB MAX_KIB: a tree of DIRS directories of
# FILES random files each, of MIN_KIB..MAX_KIB KiB (cycling): what rsync
# copies
mfp_tree() {
	local dir=$1 dirs=$2 files=$3 min=$4 max=$5 d f
	for ((d = 0; d < dirs; d++)); do
		mkdir -p "$dir/d$d"
		for ((f = 0; f < files; f++)); do
			head -c $(((min + f % (max - min + 1)) * 1024)) /dev/urandom >"$dir/d$d/f$f"
		done
	done
}

# one hash over a tree's names and contents
mfp_tree_sha() {
	(cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum) | sha256sum | cut -d' ' -f1
}

# mfp_git_commits N KIB FROM BRANCH: a git fast-import stream of N commits
# on BRANCH, each changing one of 40 files to KIB KiB of fresh random data
# (git's zlib cannot shrink it, so the bytes on the wire are known); FROM
# is the parent of the first one ("" for a new history). One process, not N.
mfp_git_commits() {
	python3 - "$@" <<-'PY'
		import os, sys
		n, kib, parent, branch = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
		out = sys.stdout.buffer
		for i in range(n):
		    blob = os.urandom(kib * 1024)
		    msg = b"commit %d\n" % i
		    out.write(b"commit refs/heads/%s\n" % branch.encode())
		    out.write(b"committer mfp <mfp@example.invalid> %d +0000\n" % (1700000000 + i))
		    out.write(b"data %d\n%s" % (len(msg), msg))
		    if i == 0 and parent:
		        out.write(b"from %s\n" % parent.encode())
		    out.write(b"M 100644 inline f%d\ndata %d\n" % (i % 40, len(blob)))
		    out.write(blob + b"\n")
	PY
}
