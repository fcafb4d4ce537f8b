# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
#
# obs_: what the kernel says. nstat counter snapshots and deltas per
# namespace, MPTCP sockets and subflows from ss, the path manager's events,
# tcpdump per path, and the state collected into the artifacts on failure.

# obs_nstat ROLE... LABEL: a snapshot of each namespace's counters. -a
# ignores and -s leaves alone nstat's history file, which is per user and
# shared by every process; NSTAT_HISTORY points it at our dir all the same.
obs_nstat() {
	local label=${!#} role
	for role in "${@:1:$#-1}"; do
		NSTAT_HISTORY="$MFP_DIR/nstat.$role.hist" ns_exec "$role" nstat -asz \
			>"$MFP_DIR/nstat.$role.$label"
	done
}

# obs_counter ROLE LABEL NAME: one counter from a snapshot
obs_counter() {
	awk -v n="$3" '$1 == n { v = $2 } END { print v + 0 }' "$MFP_DIR/nstat.$1.$2"
}

# obs_has_counter ROLE LABEL NAME: the kernel knows this counter (nstat -z
# lists every counter it has, zeros included; MIB counters came with
# kernels over time)
obs_has_counter() { awk -v n="$3" '$1 == n { f = 1 } END { exit !f }' "$MFP_DIR/nstat.$1.$2"; }

# obs_delta ROLE NAME [FROM] [TO]: how far a counter moved between snapshots
obs_delta() {
	local role=$1 name=$2 from=${3:-before} to=${4:-after} a b
	a=$(obs_counter "$role" "$from" "$name")
	b=$(obs_counter "$role" "$to" "$name")
	echo $((b - a))
}

# obs_listening ROLE PORT: something listens on TCP PORT in ROLE
obs_listening() { [[ -n "$(ns_exec "$1" ss -Hltn "sport = :$2")" ]]; }

# MPTCP sockets with their owners (-p), the connection-level view
obs_mptcp_socks() { ns_exec "$1" ss -HMnp "${@:2}"; }

# the TCP subflows of MPTCP connections to or from port 22, one per line
# ("local peer", without the "%dev" ss adds for a socket bound to a device);
# ss puts a subflow's tcp_info, which names the ULP, on an indented line of
# its own
obs_subflows() {
	ns_exec "$1" ss -Htin state established '( sport = :22 or dport = :22 )' |
		awk '/^[ \t]/ { if (/tcp-ulp-mptcp/) print conn; next }
			{ conn = $3 " " $4; gsub(/%[^]:]*/, "", conn) }'
}

# obs_subflow_bytes ROLE: "local peer bytes_acked bytes_received" for each
# MPTCP subflow of port 22, from the kernel's tcp_info
obs_subflow_bytes() {
	ns_exec "$1" ss -Htin state established '( sport = :22 or dport = :22 )' |
		awk '/^[ \t]/ {
				if (!/tcp-ulp-mptcp/) next
				acked = 0; rcvd = 0
				for (i = 1; i <= NF; i++) {
					if ($i ~ /^bytes_acked:/) { sub(/.*:/, "", $i); acked = $i }
					else if ($i ~ /^bytes_received:/) { sub(/.*:/, "", $i); rcvd = $i }
				}
				print conn, acked, rcvd
				next
			}
			{ conn = $3 " " $4; gsub(/%[^]:]*/, "", conn) }'
}

obs_subflow_count() { obs_subflows "$1" | wc -l; }
obs_subflows_at_least() {
	local n
	n=$(obs_subflow_count "$1") || n=0
	((${n:-0} >= $2))
}

obs_monitor_start() {
	local role=$1
	[[ ! -e "$MFP_DIR/monitor.$role" ]] || return 0
	ip -n "$(ns_name "$role")" mptcp monitor </dev/null >"$MFP_DIR/monitor.$role" 2>&1 &
	ns_bg_pid "$!"
}

# obs_capture ROLE PATH [DIR]: headers of every packet on ROLE's path
# interface, into DIR/ROLE-PATH.pcap (DIR: the work dir); returns once
# tcpdump is really capturing; once per interface and DIR. Fatal when
# tcpdump cannot start.
obs_capture() {
	obs_capture_try "$@" || mfp_fatal "tcpdump did not start on $1 eth-$2: $(tail -n1 "${3:-$MFP_DIR}/tcpdump.$1.$2.log")"
}

# obs_capture_try ROLE PATH [DIR]: the same, status 1 (tcpdump stopped, its
# words in DIR/tcpdump.ROLE.PATH.log) when it cannot start; its pid is in
# DIR/tcpdump.ROLE.PATH.pid
obs_capture_try() {
	obs_capture_start "$@"
	obs_capture_wait_try "$@"
}

# obs_capture_start ROLE PATH [DIR]: start the capture, and do not wait for
# it (several started at once become ready at once: under emulation each
# tcpdump takes a second or more to start)
obs_capture_start() {
	local role=$1 p=$2 dir=${3:-$MFP_DIR} log
	log="$dir/tcpdump.$role.$p.log"
	[[ ! -e "$log" ]] || return 0
	# --immediate-mode: otherwise the last second of packets waits in
	# libpcap's ring for a block to fill, and a tcpdump stopped right after
	# the traffic (the end of a scenario, "lab capture stop") loses the end
	ip netns exec "$(ns_name "$role")" tcpdump --immediate-mode -i "eth-$p" -n -s 128 -U -Z root \
		-w "$dir/$role-$p.pcap" </dev/null >"$log" 2>&1 &
	ns_bg_pid "$!"
	echo "$!" >"$dir/tcpdump.$role.$p.pid"
}

# obs_capture_wait ROLE PATH [DIR]: returns once that tcpdump is capturing;
# fatal when it cannot
obs_capture_wait() {
	obs_capture_wait_try "$@" || mfp_fatal "tcpdump did not start on $1 eth-$2: $(tail -n1 "${3:-$MFP_DIR}/tcpdump.$1.$2.log")"
}

# obs_capture_wait_try ROLE PATH [DIR]: the same, status 1 (and that tcpdump
# stopped) when it cannot start
obs_capture_wait_try() {
	local role=$1 p=$2 dir=${3:-$MFP_DIR} log pid
	log="$dir/tcpdump.$role.$p.log"
	pid=$(cat "$dir/tcpdump.$role.$p.pid")
	mfp_wait 10 obs_capturing "$log" "$pid" && obs_said_listening "$log" && return 0
	kill "$pid" 2>/dev/null || true
	return 1
}

# obs_captures_start DIR LIST: both sides of every path of the topology
# captured into DIR (made if need be); LIST (a file) gets DIR's absolute
# path, then "ROLE PATH PID" a line,
# once all of them capture. A tcpdump that cannot start stops those
# started before it; its words are printed and the status is 1, as when DIR
# holds pcaps already.
obs_captures_start() {
	local dir=$1 list=$2 p role started=()
	mkdir -p "$dir" 2>/dev/null || { echo "cannot make $dir"; return 1; }
	dir=$(cd "$dir" && pwd)
	for p in $(topo_paths); do
		for role in cli srv; do
			[[ ! -f "$dir/$role-$p.pcap" ]] || { echo "$dir already holds pcaps"; return 1; }
		done
	done
	for p in $(topo_paths); do
		for role in cli srv; do
			if ! obs_capture_try "$role" "$p" "$dir"; then
				printf '%s\n' "${started[@]}" >"$list.new"
				obs_captures_stop "$list.new"
				rm -f "$list.new"
				echo "tcpdump on $role eth-$p cannot capture: $(tail -n1 "$dir/tcpdump.$role.$p.log")"
				return 1
			fi
			started+=("$role $p $(cat "$dir/tcpdump.$role.$p.pid")")
		done
	done
	printf '%s\n' "$dir" "${started[@]}" >"$list.new"
	mv "$list.new" "$list"
}

# obs_captures_stop LIST: the tcpdumps of LIST ("ROLE PATH PID" lines; a
# first line that is no such line is skipped) stopped and gone; a pid that
# is no longer one of our tcpdumps is left alone
obs_captures_stop() {
	local role p pid
	while read -r role p pid; do
		[[ -n "$pid" && "$(cat "/proc/$pid/comm" 2>/dev/null)" == tcpdump ]] || continue
		[[ "$(ip netns identify "$pid" 2>/dev/null)" != "$(ns_name "$role")" ]] || kill "$pid"
	done <"$1"
	while read -r role p pid; do
		[[ -z "$pid" ]] || mfp_wait 10 obs_gone "$pid" || return 1
	done <"$1"
}
obs_gone() { ! cleanup_alive "$1"; }

# tcpdump said it listens, or is gone (polled: read, not grep)
obs_capturing() { obs_said_listening "$1" || ! cleanup_alive "$2"; }
obs_said_listening() {
	local line
	[[ -r "$1" ]] || return 1
	while read -r line || [[ -n "$line" ]]; do
		[[ "$line" != *"listening on"* ]] || return 0
	done <"$1"
	return 1
}

# what goes into the artifacts folder when a scenario fails; one shell per
# namespace, because after meson's SIGTERM there is half a second
obs_collect() {
	local ns role
	for ns in "${MFP__NS[@]}"; do
		role=${ns#mfp-"$MFP_ID"-}
		# shellcheck disable=SC2016 # expanded by the inner shell
		NSTAT_HISTORY="$MFP_DIR/nstat.$role.hist" ip netns exec "$ns" sh -c '
			nstat -asz >"$1/nstat.$2.at-exit"
			echo "## ss -tinMap"; ss -tinMap
			echo "## ip addr"; ip addr
			echo "## ip route / rules"; ip route; ip -6 route; ip rule; ip -6 rule
			echo "## ip mptcp"; ip mptcp limits; ip mptcp endpoint
			echo "## tc"; tc -s qdisc
			echo "## nft"; nft list ruleset
		' mfp-collect "$MFP_DIR" "$role" >"$MFP_DIR/state.$role" 2>&1 || true
	done
}
