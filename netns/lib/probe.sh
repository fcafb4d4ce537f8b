# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
#
# probe_: does this kernel have X, and what does a counter say right now.
# Scenarios learn what a kernel can do by asking it, never from its version
# number; each question is asked where the answer matters (net.mptcp.* and
# the MIB counters are per namespace).

# probe_sysctl ROLE NAME: the sysctl exists in ROLE's namespace
probe_sysctl() { ns_exec "$1" test -e "/proc/sys/${2//.//}"; }

# probe_counter_exists ROLE NAME: the kernel has this MIB counter (nstat
# lists every counter it knows with -z)
probe_counter_exists() {
	NSTAT_HISTORY="$MFP_DIR/nstat.$1.hist" ns_exec "$1" nstat -asz 2>/dev/null |
		awk -v n="$2" '$1 == n { f = 1 } END { exit !f }'
}

# probe_nft ROLE EXPR...: nftables in ROLE's namespace accepts this rule
# expression (checked, never loaded)
probe_nft() {
	local role=$1
	shift
	printf 'table inet mfp_probe { chain c { type filter hook forward priority filter; %s; } }\n' "$*" |
		ns_exec "$role" nft -c -f - >/dev/null 2>&1
}

# probe_qdisc ROLE KIND [ARGS...]: the kernel has this qdisc (tried on ROLE's
# loopback, then removed; tc names a missing module "unknown")
probe_qdisc() {
	local role=$1
	shift
	ns_exec "$role" tc qdisc replace dev lo root "$@" >/dev/null 2>&1 || return 1
	ns_exec "$role" tc qdisc del dev lo root >/dev/null 2>&1 || true
}

# probe_watch ROLE: later probe_counter (and link_bytes) calls for ROLE read
# its counters without a fork (through a sleeper's /proc/PID/net, in
# MFP__WATCH): on an emulated guest every "ip netns exec" costs a large part
# of a second
probe_watch() {
	local pid
	ip netns exec "$(ns_name "$1")" sleep 100000 </dev/null >/dev/null 2>&1 &
	pid=$!
	ns_bg_pid "$pid"
	mfp_wait 10 test -e "/proc/$pid/net/netstat" || mfp_fatal "no /proc/$pid/net/netstat"
	MFP__WATCH[$1]=$pid
}

# probe_counter ROLE NAME: the current value of a TcpExt or MPTcpExt counter
# (NAME as nstat names it, or without its prefix) in ROLE's namespace; 0 when
# the kernel has no such counter. Cheap enough to poll, where an nstat
# snapshot is not.
probe_counter() {
	local role=$1 want=$2 pid=${MFP__WATCH[$1]:-}
	if [[ -n "$pid" ]]; then
		probe_netstat_value "$want" <"/proc/$pid/net/netstat"
	else
		probe_netstat_value "$want" <<<"$(ns_exec "$role" cat /proc/net/netstat)"
	fi
}

# /proc/net/netstat on stdin: pairs of lines, "Prefix: names" then
# "Prefix: values"
probe_netstat_value() {
	local want=$1 head=() line values=() i
	while read -r line; do
		if ((${#head[@]} == 0)); then
			read -ra head <<<"$line"
			continue
		fi
		read -ra values <<<"$line"
		for i in "${!head[@]}"; do
			if [[ "${head[i]}" == "$want" || "${head[0]%:}${head[i]}" == "$want" ]] && ((i > 0)); then
				echo "${values[i]:-0}"
				return 0
			fi
		done
		head=()
	done
	echo 0
}

# probe_counter_reached ROLE NAME N: that counter is at least N (for
# mfp_wait)
probe_counter_reached() { (($(probe_counter "$1" "$2") >= $3)); }
