# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
#
# ns_: our network namespaces, mfp-<id>-<role>. Every one is remembered in
# MFP__NS so that cleanup can empty and delete it; sysctls are only ever set
# inside them. Uses: obs_monitor_start (obs.sh).

ns_name() { echo "mfp-$MFP_ID-$1"; }

ns_add() {
	local role=$1 ns
	ns=$(ns_name "$role")
	ip netns add "$ns"
	MFP__NS+=("$ns")
	ip -n "$ns" link set lo up
	# new interfaces copy "default": set it before the veths exist
	ns_sysctl "$role" net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
		net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
	# the path manager's events, for the artifacts (and for assertions)
	case "$role" in cli | srv) obs_monitor_start "$role" ;; esac
}

ns_exec() {
	local ns
	ns=$(ns_name "$1")
	shift
	ip netns exec "$ns" "$@"
}

# sysctls only ever inside one of our namespaces
ns_sysctl() {
	local role=$1
	shift
	ns_exec "$role" sysctl -qw "$@" >/dev/null
}

# ns_strays ROLE: pids in ROLE's namespace that the harness did not start
# itself (its captures and monitors are not strays), one per line
ns_strays() {
	local pid own
	for pid in $(ip netns pids "$(ns_name "$1")" 2>/dev/null); do
		for own in "${MFP__BG[@]}"; do
			[[ "$pid" != "$own" ]] || continue 2
		done
		echo "$pid"
	done
}

# every background process the harness starts: cleanup kills them by pid
# (the ones inside a namespace would be found anyway), ns_strays knows them
ns_bg_pid() { MFP__BG+=("$1"); }
