# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
#
# link_: veth paths between cli and srv (direct, or through a router
# namespace rtr<path> where the middlebox faults live), their addresses in
# MFP__ADDR, per-path source routing on the client, and tc shaping.
# Uses: ns_ (ns.sh), obs_capture (obs.sh).
#
#   +----------- mfp-<id>-cli -----------+          +----------- mfp-<id>-srv -----------+
#   | ssh                                 |  path a  | sshd :22                          |
#   |  `- ProxyCommand $MPTCP_FDPASS %h %p| eth-a    | (MPTCP through mptcpize,          |
#   |                                     |----------|  or plain TCP)                    |
#   |  198.18.1.1  2001:db8:1::1          |          |  198.18.1.2  2001:db8:1::2        |
#   |                                     |  path b  |                                   |
#   |                                     | eth-b    |                                   |
#   |                                     |----------|                                   |
#   |  198.18.2.1  2001:db8:2::1          |          |  198.18.2.2  2001:db8:2::2        |
#   +-------------------------------------+          +-----------------------------------+
#
# A path may instead go through a router namespace of its own, where the
# middlebox faults (nftables) live and where shaping can be applied:
#
#   cli eth-a --- to-cli [ mfp-<id>-rtra ] to-srv --- eth-a srv
#   198.18.1.1    198.18.1.2        198.19.1.1        198.19.1.2
#   2001:db8:1::1 2001:db8:1::2     2001:db8:1:1::1   2001:db8:1:1::2
#
# Addresses come from the benchmarking range 198.18.0.0/15 and the IPv6
# documentation prefix: nothing here can be mistaken for a real network, and
# none of it exists outside our namespaces anyway.
#
# Each client address has its own routing table (policy rule "from ADDR"), so
# a subflow bound to path b leaves through path b even when it heads for the
# server's path-a address, which is what an MPTCP "subflow" endpoint does.

declare -gA MFP__ADDR=()   # [role,path,family] -> address without prefix length
declare -gA MFP__ROUTED=() # [path] -> 1 when the path goes through a router

# link_routed PATH: the path goes through a router namespace
link_routed() { [[ -n "${MFP__ROUTED[$1]:-}" ]]; }

# link_declare: the links' state as declarations (for topo_save)
link_declare() { declare -p MFP__ADDR MFP__ROUTED; }

# Paths are letters in the scenarios and numbers in the address plan.
mfp_path_num() {
	case "$1" in
	a) echo 1 ;;
	b) echo 2 ;;
	c) echo 3 ;;
	*) mfp_fatal "unknown path '$1'" ;;
	esac
}

# link_path PATH [routed]: a veth path between cli and srv, optionally through
# a router namespace rtrPATH. Both families, DAD off ("nodad") so that the
# addresses are usable at once. Every path is captured from the start (headers
# only), so that a failure always comes with its packets, unless
# MFP__AUTO_CAPTURE=0 (the lab captures when it is told to).
link_path() {
	local p=$1 mode=${2:-direct} n cli srv rtr
	n=$(mfp_path_num "$p")
	cli=$(ns_name cli)
	srv=$(ns_name srv)
	# one "ip -batch" per namespace and step: under emulation each program
	# costs a large part of a second, and a routed path took 40 of them
	if [[ "$mode" == direct ]]; then
		link_addr_keep cli "$p" "198.18.$n.1" "2001:db8:$n::1"
		link_addr_keep srv "$p" "198.18.$n.2" "2001:db8:$n::2"
		link_batch "$cli" \
			"link add eth-$p type veth peer name eth-$p netns $srv" \
			"addr add 198.18.$n.1/24 dev eth-$p" \
			"addr add 2001:db8:$n::1/64 dev eth-$p nodad" \
			"link set eth-$p up"
		link_batch "$srv" \
			"addr add 198.18.$n.2/24 dev eth-$p" \
			"addr add 2001:db8:$n::2/64 dev eth-$p nodad" \
			"link set eth-$p up"
		link_client_table "$p" "198.18.$n.2" "2001:db8:$n::2"
		link_capture "$p" cli
	else
		ns_add "rtr$p"
		# shellcheck disable=SC2034 # read by fault_table (fault.sh)
		MFP__ROUTED[$p]=1
		rtr=$(ns_name "rtr$p")
		ns_sysctl "rtr$p" net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
		link_addr_keep cli "$p" "198.18.$n.1" "2001:db8:$n::1"
		link_addr_keep "rtr$p" cli "198.18.$n.2" "2001:db8:$n::2"
		link_addr_keep "rtr$p" srv "198.19.$n.1" "2001:db8:$n:1::1"
		link_addr_keep srv "$p" "198.19.$n.2" "2001:db8:$n:1::2"
		# The four ends get addresses of our making (locally administered,
		# one per end of this path), so that each side knows its peer's
		# without asking (link_neigh says why the entries are permanent).
		local mc="02:6d:66:0$n:00:01" mrc="02:6d:66:0$n:00:02" mrs="02:6d:66:0$n:00:03" ms="02:6d:66:0$n:00:04"
		link_batch "$cli" \
			"link add eth-$p address $mc type veth peer name to-cli address $mrc netns $rtr" \
			"addr add 198.18.$n.1/24 dev eth-$p" \
			"addr add 2001:db8:$n::1/64 dev eth-$p nodad" \
			"link set eth-$p up"
		link_batch "$srv" \
			"link add eth-$p address $ms type veth peer name to-srv address $mrs netns $rtr" \
			"addr add 198.19.$n.2/24 dev eth-$p" \
			"addr add 2001:db8:$n:1::2/64 dev eth-$p nodad" \
			"link set eth-$p up"
		# a join over this path may head for the server's address on another
		# path: the router passes anything unknown on to the server
		link_batch "$rtr" \
			"addr add 198.18.$n.2/24 dev to-cli" \
			"addr add 2001:db8:$n::2/64 dev to-cli nodad" \
			"addr add 198.19.$n.1/24 dev to-srv" \
			"addr add 2001:db8:$n:1::1/64 dev to-srv nodad" \
			"link set to-cli up" \
			"link set to-srv up" \
			"neigh replace 198.18.$n.1 lladdr $mc dev to-cli nud permanent" \
			"neigh replace 2001:db8:$n::1 lladdr $mc dev to-cli nud permanent" \
			"neigh replace 198.19.$n.2 lladdr $ms dev to-srv nud permanent" \
			"neigh replace 2001:db8:$n:1::2 lladdr $ms dev to-srv nud permanent" \
			"route add default via 198.19.$n.2 dev to-srv" \
			"route add default via 2001:db8:$n:1::2 dev to-srv"
		link_batch "$cli" \
			"neigh replace 198.18.$n.2 lladdr $mrc dev eth-$p nud permanent" \
			"neigh replace 2001:db8:$n::2 lladdr $mrc dev eth-$p nud permanent" \
			"route add 198.19.$n.0/24 via 198.18.$n.2 dev eth-$p" \
			"route add 2001:db8:$n:1::/64 via 2001:db8:$n::2 dev eth-$p"
		link_batch "$srv" \
			"neigh replace 198.19.$n.1 lladdr $mrs dev eth-$p nud permanent" \
			"neigh replace 2001:db8:$n:1::1 lladdr $mrs dev eth-$p nud permanent" \
			"route add 198.18.$n.0/24 via 198.19.$n.1 dev eth-$p" \
			"route add 2001:db8:$n::/64 via 2001:db8:$n:1::1 dev eth-$p"
		link_client_table "$p" "198.18.$n.2" "2001:db8:$n::2"
		# both sides of the middlebox: what it did is the difference
		link_capture "$p" cli srv
	fi
}

# link_hop ROLE_A ROLE_B PATH: one direct veth between two namespaces other
# than the cli-srv pair (a jump host and the target behind it): eth-PATH on
# both sides, A the .1 and B the .2 of PATH's prefixes, both families; no
# routes beyond the link, no capture.
link_hop() {
	local a=$1 b=$2 p=$3 n
	n=$(mfp_path_num "$p")
	ip -n "$(ns_name "$a")" link add "eth-$p" type veth peer name "eth-$p" netns "$(ns_name "$b")"
	link_addr "$a" "$p" "eth-$p" "198.18.$n.1/24" "2001:db8:$n::1/64"
	link_addr "$b" "$p" "eth-$p" "198.18.$n.2/24" "2001:db8:$n::2/64"
	ip -n "$(ns_name "$a")" link set "eth-$p" up
	ip -n "$(ns_name "$b")" link set "eth-$p" up
}

# the automatic capture of a path. MFP_CAPTURE=0 turns it off: a
# benchmark's gigabytes are no evidence anyone reads, and tcpdump's CPU time
# would be measured with them.
# link_capture PATH ROLE...: every ROLE's side of PATH, started together
link_capture() {
	local p=$1 role
	shift
	((MFP__AUTO_CAPTURE != 0)) && [[ "${MFP_CAPTURE:-1}" != 0 ]] || return 0
	for role in "$@"; do obs_capture_start "$role" "$p"; done
	for role in "$@"; do obs_capture_wait "$role" "$p"; done
}

# link_neigh ROLE DEV PEER_ROLE PEER_DEV: ROLE knows PEER_DEV's addresses
# (both families) without asking. A namespace a few hundred milliseconds old
# may leave its first neighbour solicitation unanswered, and the lost SYN
# then costs a scenario a 1 s retransmission that it would mistake for the
# behaviour under test; permanent entries take ND and ARP out of the picture.
link_neigh() {
	local ns peer_ns mac addr
	ns=$(ns_name "$1")
	peer_ns=$(ns_name "$3")
	mac=$(ip -n "$peer_ns" -br link show dev "$4" | awk '{ print $3 }')
	for addr in $(ip -n "$peer_ns" -br addr show dev "$4" | awk '{ for (i = 3; i <= NF; i++) print $i }'); do
		addr=${addr%/*}
		[[ "$addr" == fe80:* ]] && continue
		ip -n "$ns" neigh replace "$addr" lladdr "$mac" dev "$2" nud permanent
	done
}

# link_batch NS LINE...: ip commands (without "ip -n NS") in one program.
# The lines are arguments, not a here-document: a here-document's text is
# expanded when it runs, and a signal trap that runs then (Ctrl-C during
# a lab's up) broke bash's parser ("unexpected EOF" in the trap).
link_batch() {
	local ns=$1 cmds
	shift
	printf -v cmds '%s\n' "$@"
	ip -n "$ns" -batch - <<<"$cmds"
}

# link_addr ROLE KEY IFACE V4/LEN V6/LEN
link_addr() {
	local role=$1 key=$2 dev=$3 v4=$4 v6=$5 ns
	ns=$(ns_name "$role")
	ip -n "$ns" addr add "$v4" dev "$dev"
	ip -n "$ns" -6 addr add "$v6" dev "$dev" nodad
	link_addr_keep "$role" "$key" "${v4%/*}" "${v6%/*}"
}

# link_addr_keep ROLE KEY V4 V6: what link_ip answers (the addresses are
# added by the caller)
link_addr_keep() {
	MFP__ADDR[$1,$2,4]=$3
	MFP__ADDR[$1,$2,6]=$4
}

# Source routing on the client: whatever the destination, a packet from the
# path-p address leaves through path p (a join towards the server's path-a
# address must not be routed back over path a).
link_client_table() {
	local p=$1 gw4=$2 gw6=$3 n cli
	n=$(mfp_path_num "$p")
	cli=$(ns_name cli)
	# an IPv6 rule needs -6, which a batch cannot say per line
	link_batch "$cli" \
		"route add default via $gw4 dev eth-$p table $((100 + n))" \
		"route add default via $gw6 dev eth-$p table $((100 + n))" \
		"rule add from ${MFP__ADDR[cli,$p,4]} table $((100 + n)) pref $((100 + n))"
	ip -n "$cli" -6 rule add from "${MFP__ADDR[cli,$p,6]}" table $((100 + n)) pref $((100 + n))
}

# the address ROLE has on PATH in FAMILY (4 or 6)
link_ip() {
	local key="$1,$2,${3:-4}"
	[[ -n "${MFP__ADDR[$key]:-}" ]] || mfp_fatal "no address for $key"
	echo "${MFP__ADDR[$key]}"
}

# link_path_of ROLE ADDR: the path whose ROLE address ADDR is ("?")
link_path_of() {
	local p addr=${2%\%*}
	addr=${addr#[}
	addr=${addr%]}
	for p in a b c; do
		[[ "$addr" != "${MFP__ADDR[$1,$p,4]:-}" && "$addr" != "${MFP__ADDR[$1,$p,6]:-}" ]] || { echo "$p"; return 0; }
	done
	echo "?"
}

link_down() { ip -n "$(ns_name "$1")" link set "eth-$2" down; }

# link_up ROLE PATH: the interface comes back, and on the client so does
# what the kernel dropped with it: the IPv6 address, the neighbour entries
# and the routes through it
link_up() {
	local role=$1 p=$2 n ns gw4 gw6
	n=$(mfp_path_num "$p")
	ns=$(ns_name "$role")
	ip -n "$ns" link set "eth-$p" up
	[[ "$role" == cli ]] || return 0
	ip -n "$ns" -6 addr replace "$(link_ip cli "$p" 6)/64" dev "eth-$p" nodad
	if [[ -n "${MFP__ROUTED[$p]:-}" ]]; then
		gw4="198.18.$n.2"
		gw6="2001:db8:$n::2"
		link_neigh cli "eth-$p" "rtr$p" to-cli
		ip -n "$ns" route replace "198.19.$n.0/24" via "$gw4" dev "eth-$p"
		ip -n "$ns" -6 route replace "2001:db8:$n:1::/64" via "$gw6" dev "eth-$p"
	else
		gw4=$(link_ip srv "$p" 4)
		gw6=$(link_ip srv "$p" 6)
	fi
	ip -n "$ns" route replace default via "$gw4" dev "eth-$p" table $((100 + n))
	ip -n "$ns" -6 route replace default via "$gw6" dev "eth-$p" table $((100 + n))
}

# link_shape ROLE PATH RATE [LATENCY]: egress rate limit with tbf (netem is
# not always there; tbf is). The burst stays small so that the rate holds at
# short scale; LATENCY (default 100ms) is the longest a packet may wait in
# its queue, i.e. the queue's depth.
link_shape() {
	local role=$1 p=$2 rate=$3 latency=${4:-100ms}
	ip netns exec "$(ns_name "$role")" tc qdisc replace dev "eth-$p" root \
		tbf rate "$rate" burst 32kb latency "$latency"
}

# link_delay ROLE PATH DELAY: only where the kernel has netem; returns 1 (and
# changes nothing) when it does not, so the caller decides whether it matters.
link_delay() {
	local role=$1 p=$2 delay=$3 ns
	ns=$(ns_name "$role")
	if ! ip netns exec "$ns" tc qdisc add dev "eth-$p" root netem delay "$delay" 2>/dev/null; then
		mfp_log "netem not available: no delay on path $p"
		return 1
	fi
}

# link_bytes ROLE PATH [rx|tx|both]: bytes through ROLE's path-PATH
# interface, from the kernel's own interface counters: received, sent, "RX
# TX", or (no word) both directions together. Under emulation every program
# costs a large part of a second: after probe_watch ROLE none is started
# (/proc/PID/net/dev of its sleeper), otherwise one (ip -s), not an
# "ip netns exec" per counter.
link_bytes() {
	local role=$1 p=$2 rx="" tx="" pid=${MFP__WATCH[$1]:-} line f
	if [[ -n "$pid" ]]; then
		# "IFACE: rx_bytes 7 more fields tx_bytes ...", the counters sysfs shows
		while read -r line; do
			[[ "$line" == "eth-$p:"* ]] || continue
			read -r -a f <<<"${line#*:}"
			rx=${f[0]:-} tx=${f[8]:-}
			break
		done <"/proc/$pid/net/dev"
	fi
	if [[ -z "$rx" || -z "$tx" ]]; then
		read -r rx tx <<<"$(ip -n "$(ns_name "$role")" -s link show dev "eth-$p" |
			awk '$1 == "RX:" { getline; rx = $1 } $1 == "TX:" { getline; tx = $1 } END { print rx, tx }')"
	fi
	[[ "$rx" =~ ^[0-9]+$ && "$tx" =~ ^[0-9]+$ ]] ||
		{ echo "link_bytes: no byte counters for eth-$p in $(ns_name "$role")" >&2; return 1; }
	case "${3:-}" in
	rx) echo "$rx" ;;
	tx) echo "$tx" ;;
	both) echo "$rx $tx" ;;
	*) echo $((rx + tx)) ;;
	esac
}

# link_rx_sum ROLE PATH...: bytes received on those paths together
link_rx_sum() {
	local role=$1 p n=0
	shift
	for p in "$@"; do
		n=$((n + $(link_bytes "$role" "$p" rx)))
	done
	echo "$n"
}

# link_rx_reached ROLE BYTES PATH...: true once they received BYTES (for
# mfp_wait: "halfway" is a count of bytes, not a guess in seconds)
link_rx_reached() {
	local role=$1 want=$2
	shift 2
	(($(link_rx_sum "$role" "$@") >= want))
}
