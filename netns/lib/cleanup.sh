# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
#
# cleanup: the one EXIT trap. Kills every process in our namespaces and
# every background pid we started (by pid, never by name), deletes the
# namespaces, keeps the artifacts of a failure; a reaper in its own session
# finishes the job when the scenario itself is killed.

# cleanup_ns_pids NS...: the processes in those namespaces, into
# MFP__PIDS, found without starting a program: a process is in NS when its
# /proc/PID/ns/net is the same file as /run/netns/NS, which is what
# "ip netns pids" compares. That was one program per namespace and per
# round, and under emulation each costs a large part of a second (a
# scenario's teardown took up to 20 s in a TCG guest).
MFP__PIDS=()
cleanup_ns_pids() {
	local p ns
	MFP__PIDS=()
	for p in /proc/[0-9]*; do
		for ns in "$@"; do
			if [[ "$p/ns/net" -ef "/run/netns/$ns" ]]; then
				MFP__PIDS+=("${p#/proc/}")
				break
			fi
		done
	done
}

# cleanup_ns_empty NS...: every process in those namespaces gone, by pid:
# TERM, up to 2 s for them to end (polled with bash's own tests), then
# KILL; a round finds what was started meanwhile. One that outlives its
# TERM is named (it cost the teardown its grace).
cleanup_ns_empty() {
	local sig=TERM round pid alive i
	for ((round = 0; round < 6; round++)); do
		cleanup_ns_pids "$@"
		((${#MFP__PIDS[@]} > 0)) || return 0
		kill "-$sig" "${MFP__PIDS[@]}" 2>/dev/null || true
		for ((i = 0; i < 40; i++)); do
			alive=()
			for pid in "${MFP__PIDS[@]}"; do
				! cleanup_alive "$pid" || alive+=("$pid")
			done
			((${#alive[@]} > 0)) || break
			sleep 0.05
		done
		if ((${#alive[@]} > 0)) && [[ "$sig" == TERM ]]; then
			for pid in "${alive[@]}"; do
				mfp_log "teardown: pid $pid ($(cleanup_comm "$pid")) outlived SIGTERM by 2 s: SIGKILL"
			done
			sig=KILL
		fi
	done
}

# cleanup_ns_del NS...: the namespaces gone (one ip for all of them)
cleanup_ns_del() {
	local ns
	(($# > 0)) || return 0
	printf 'netns del %s\n' "$@" | ip -force -batch - >/dev/null 2>&1 || true
	for ns in "$@"; do
		# "ip netns exec" would bind-mount these; we never create them
		[[ ! -e "/etc/netns/$ns" ]] || rm -rf "/etc/netns/$ns"
	done
}

# Kill every process in one of our namespaces, by pid, then delete it.
cleanup_ns() {
	cleanup_ns_empty "$1"
	cleanup_ns_del "$1"
}

# a process that is still running: a child of ours that is already dead
# stays a zombie until we exit, and kill -0 would call it alive (read with
# bash's own "read": this is polled)
cleanup_alive() {
	local s f
	read -r s 2>/dev/null <"/proc/$1/stat" || return 1
	read -r -a f <<<"${s##*) }"
	[[ -n "${f[0]:-}" && "${f[0]}" != Z ]]
}

# a pid that is still our child: bash may have reaped one that exited, and
# its number may since belong to a process that is none of ours
cleanup_ours() {
	local s f
	read -r s 2>/dev/null <"/proc/$1/stat" || return 1
	read -r -a f <<<"${s##*) }"
	[[ "${f[1]:-}" == "$$" ]]
}

cleanup_comm() { cat "/proc/$1/comm" 2>/dev/null || echo gone; }

# every namespace of run ID, the ones a later process made too (a lab's)
cleanup_run_namespaces() {
	local id=$1 ns
	for ns in /run/netns/"mfp-$id-"*; do
		[[ -e "$ns" ]] && echo "${ns#/run/netns/}"
	done
	return 0
}

# every namespace of run ID (the reaper knows only the id), and its short
# dir (mfp_short_dir)
cleanup_namespaces() {
	local all
	mapfile -t all < <(cleanup_run_namespaces "$1")
	cleanup_ns_empty "${all[@]}"
	cleanup_ns_del "${all[@]}"
	[[ -z "$1" || ! -d "/tmp/mfp-$1" ]] || rm -rf "/tmp/mfp-$1"
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
		# read -t on a pipe nobody writes: a pause that starts no program
		# (a sleep every 0.2 s for the whole scenario cost a guest dearly)
		exec 3<> <(:)
		while kill -0 "$2" 2>/dev/null; do read -r -t 0.2 -u 3 _; done
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

# cleanup_on_exit CMD [ARG...]: CMD runs when the scenario ends, before its
# namespaces go; for state outside them that a scenario may change only
# inside one of netns/vm's guests (the guest kernel's preemption model). A
# SIGKILL skips it: the reaper knows only namespaces, and such a guest is
# thrown away with it.
cleanup_on_exit() { MFP__ON_EXIT+=("$(printf '%q ' "$@")"); }

# cleanup_teardown: every namespace of this run and every background process
# it started, gone. Shared by the scenarios' trap and the lab's.
cleanup_teardown() {
	local pid ns cmd all=() left=()
	for cmd in "${MFP__ON_EXIT[@]}"; do
		eval "$cmd" || true
	done
	MFP__ON_EXIT=()
	if [[ -n "$MFP__SESSION_FD" ]]; then exec {MFP__SESSION_FD}>&-; fi
	# all namespaces at once: their processes get one TERM and one grace
	all=("${MFP__NS[@]}")
	if [[ -n "$MFP_ID" ]]; then
		while read -r ns; do
			[[ " ${all[*]} " == *" $ns "* ]] || all+=("$ns")
		done < <(cleanup_run_namespaces "$MFP_ID")
	fi
	if ((${#all[@]} > 0)); then
		cleanup_ns_empty "${all[@]}"
		cleanup_ns_del "${all[@]}"
	fi
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
	# meson reports as an error whatever should_fail says; a signal keeps its
	# own status (129, 130, 143), as every tool's does (the demo's were 1)
	((rc == 0 || rc == 77 || rc == 99)) || rc=$(mfp_exit_status "$rc")
	mfp_timing_line
	exit "$rc"
}
