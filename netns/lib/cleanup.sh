# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
#
# cleanup: the one EXIT trap. Kills every process in our namespaces and
# every background pid we started (by pid, never by name), deletes the
# namespaces, keeps the artifacts of a failure; a reaper in its own session
# finishes the job when the scenario itself is killed.

# Kill every process in one of our namespaces, by pid: TERM, a short grace,
# then KILL; then the namespace goes.
cleanup_ns() {
	local ns=$1 pids i
	for i in $(seq 1 40); do
		pids=$(ip netns pids "$ns" 2>/dev/null || true)
		[[ -n "$pids" ]] || break
		if ((i < 20)); then
			# shellcheck disable=SC2086 # one pid per word
			kill $pids 2>/dev/null || true
		else
			# shellcheck disable=SC2086
			kill -KILL $pids 2>/dev/null || true
		fi
		sleep 0.05
	done
	ip netns del "$ns" 2>/dev/null || true
	# "ip netns exec" would bind-mount these; we never create them
	[[ ! -e "/etc/netns/$ns" ]] || rm -rf "/etc/netns/$ns"
}

# a process that is still running: a child of ours that is already dead
# stays a zombie until we exit, and kill -0 would call it alive
cleanup_alive() {
	local state
	state=$(sed -n 's/^.*) \(.\).*$/\1/p' "/proc/$1/stat" 2>/dev/null) || return 1
	[[ -n "$state" && "$state" != Z ]]
}

# a pid that is still our child: bash may have reaped one that exited, and
# its number may since belong to a process that is none of ours
cleanup_ours() {
	local ppid
	ppid=$(sed -n 's/^.*) . \([0-9]*\) .*$/\1/p' "/proc/$1/stat" 2>/dev/null) || return 1
	[[ "$ppid" == "$$" ]]
}

# every namespace of run ID (the reaper knows only the id), and its short
# dir (mfp_short_dir)
cleanup_namespaces() {
	local id=$1 ns
	for ns in $(ip netns list 2>/dev/null | awk '{ print $1 }' | grep "^mfp-$id-" || true); do
		cleanup_ns "$ns"
	done
	[[ -z "$id" || ! -d "/tmp/mfp-$id" ]] || rm -rf "/tmp/mfp-$id"
}

# meson sends SIGTERM to the process group on timeout and SIGKILL half a
# second later, which may cut the trap short. A reaper in its own session
# outlives that and clears the namespaces once the scenario is gone.
# cleanup_guard [DIR]: DIR, when given, goes too (a lab's state directory),
# and its parent when that is left empty.
cleanup_guard() {
	local lib
	lib="$MFP_TOP/netns/lib.sh"
	# shellcheck disable=SC2016 # expanded by the reaper's shell, from its args
	setsid bash -c '
		echo "$$" >"$3/reaper.pid"
		while kill -0 "$2" 2>/dev/null; do sleep 0.2; done
		source "$1"
		cleanup_namespaces "$4"
		[[ -z "$5" ]] || { rm -rf "$5"; rmdir "${5%/*}" 2>/dev/null; }
	' mfp-reaper "$lib" "$$" "$MFP_DIR" "$MFP_ID" "${1:-}" </dev/null >/dev/null 2>&1 &
	MFP__GUARD_PID=$!
}

# the reaper has nothing left to do (or, for a lab that is up, must not do it)
cleanup_guard_off() {
	local pid
	[[ -n "$MFP__GUARD_PID" ]] || return 0
	pid=$(cat "$MFP_DIR/reaper.pid" 2>/dev/null || echo "$MFP__GUARD_PID")
	kill "$pid" 2>/dev/null || true
	rm -f "$MFP_DIR/reaper.pid"
	MFP__GUARD_PID=""
}

# cleanup_teardown: every namespace of this run and every background process
# it started, gone. Shared by the scenarios' trap and the lab's.
cleanup_teardown() {
	local pid ns left=()
	if [[ -n "$MFP__SESSION_FD" ]]; then exec {MFP__SESSION_FD}>&-; fi
	for ns in "${MFP__NS[@]}"; do
		cleanup_ns "$ns"
	done
	[[ -z "$MFP_ID" ]] || cleanup_namespaces "$MFP_ID"
	# what is left lives in the root namespace (a feeding "cat"); no "wait":
	# one that ignored TERM would hang the exit
	for pid in "${MFP__BG[@]}"; do
		! cleanup_ours "$pid" || kill "$pid" 2>/dev/null
	done
	for pid in "${MFP__BG[@]}"; do
		! { cleanup_ours "$pid" && cleanup_alive "$pid"; } || left+=("$pid")
	done
	if ((${#left[@]} > 0)); then
		sleep 0.2
		kill -KILL "${left[@]}" 2>/dev/null
	fi
	cleanup_guard_off
}

# cleanup_abandon STATUS NAME WHAT: a run meant to outlive its process (a
# lab) stopped while being built: on a failure (not a signal) its logs are
# copied into the artifacts as NAME.XXXXXX and "WHAT failed" says where;
# everything of it goes, its work dir too
cleanup_abandon() {
	local rc=$1 keep base
	if (($(mfp_exit_status "$rc") == 1)); then
		obs_collect
		base=$(mfp_artifacts_dir)
		if mkdir -p "$base" 2>/dev/null && keep=$(mktemp -d "$base/$2.XXXXXX"); then
			cp -a "$MFP_DIR/." "$keep/" 2>/dev/null
			echo "$3 failed; its logs: $keep" >&2
		fi
	fi
	cleanup_teardown
	rm -rf "$MFP_DIR"
}

# cleanup_saved_run: a run that outlived the process that built it (a lab,
# loaded by a later one) taken down: processes, namespaces, its work dir.
# Finished even when interrupted: a half-removed run helps nobody.
cleanup_saved_run() {
	trap '' INT TERM HUP
	cleanup_teardown
	rm -rf "$MFP_DIR"
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM HUP ERR
	set +eE
	# in a guest only (mfp_klog_start): a kernel warning fails the scenario
	if declare -F klog_check >/dev/null && ! klog_check; then
		rc=1
	fi
	if ((rc != 0 && rc != 77)); then
		obs_collect
	fi
	cleanup_teardown
	if [[ -n "$MFP_DIR" ]]; then
		if ((rc == 0 || rc == 77)); then
			rm -rf "$MFP_DIR"
		else
			# the payloads are random and large; what failed is in the rest
			rm -f "$MFP_DIR"/*.bin "$MFP_DIR"/*.in
			echo "[$MFP_NAME] artifacts: $MFP_DIR"
		fi
	fi
	# 99 is the open suite's "the harness missed" (netns/lib/open.sh), which
	# meson reports as an error whatever should_fail says
	((rc == 0 || rc == 77 || rc == 99)) || rc=1
	mfp_timing_line
	exit "$rc"
}
