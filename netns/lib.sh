# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The end-to-end harness of mptcp-fdpass: real sshd, real ssh, the connector as
# its ProxyCommand, all inside throw-away network namespaces.
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
#
# Prefixes: ns_ namespaces, link_ veths/addresses/shaping, ep_ MPTCP limits and
# endpoints, fault_ middlebox rules and sysctls, sshd_ / ssh_ the real OpenSSH,
# obs_ kernel counters and captures, check_ assertions, mfp_ the scenario's
# life (init, skip, finish), cleanup the one trap.
#
# A scenario sources this file, calls mfp_init, builds its topology, asserts
# with check_*, and ends with mfp_finish. Exit codes: 0 pass, 1 fail, 77 skip
# (a failure when CI=true).

MFP_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# The helper under test; may carry arguments ("nc -F"), so it is word-split
# into the ProxyCommand string, never quoted as one word. Under meson it
# arrives as "BUILT\nCALLER'S" when the caller set one (tests/netns/meson.build
# says why): the last line wins.
: "${MPTCP_FDPASS:=$MFP_TOP/build/src/mptcp-fdpass}"
MPTCP_FDPASS=${MPTCP_FDPASS##*$'\n'}
MFP_SSHD=/usr/sbin/sshd

MFP_NAME=${MFP_NAME:-$(basename "$0")}
MFP_ID=""
MFP_DIR=""
MFP_FAILS=0
MFP_NS=()
MFP_BG=()
MFP_GUARD_PID=""
MFP_SESSION_FD=""
MFP_SESSION_PID=""
declare -A MFP_ADDR=()   # [role,path,family] -> address without prefix length
declare -A MFP_ROUTED=() # [path] -> 1 when the path goes through a router

# Paths are letters in the scenarios and numbers in the address plan.
mfp_path_num() {
	case "$1" in
	a) echo 1 ;;
	b) echo 2 ;;
	c) echo 3 ;;
	*) mfp_fatal "unknown path '$1'" ;;
	esac
}

# ---------------------------------------------------------------- messages

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

# ---------------------------------------------------------------- life

mfp_require_tools() {
	local tool
	for tool in "$@"; do
		command -v "$tool" >/dev/null 2>&1 || mfp_skip "missing tool: $tool"
	done
}

mfp_init() {
	((EUID == 0)) || mfp_skip "needs root (network namespaces, sshd)"
	[[ -e /proc/sys/net/mptcp/enabled ]] || mfp_skip "kernel without MPTCP (no /proc/sys/net/mptcp)"
	mfp_require_tools ip nft tc ss nstat ssh ssh-keygen mptcpize tcpdump timeout setsid sha256sum
	[[ -x "$MFP_SSHD" ]] || mfp_skip "missing $MFP_SSHD (openssh-server)"

	local helper
	read -r helper _ <<<"$MPTCP_FDPASS"
	# The helper is the thing under test, not a tool: its absence is a failure.
	command -v "$helper" >/dev/null 2>&1 || mfp_fatal "helper not found: $MPTCP_FDPASS (build it, or set MPTCP_FDPASS)"

	MFP_ID=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
	local base=${MFP_ARTIFACTS:-$MFP_TOP/build/netns-artifacts}
	mkdir -p "$base"
	MFP_DIR=$(mktemp -d "$base/$MFP_NAME.XXXXXX")
	trap cleanup EXIT
	# exit from the handlers so that the EXIT trap does the work exactly once
	trap 'mfp_log "interrupted (SIGINT)"; exit 130' INT
	trap 'mfp_log "terminated (SIGTERM; a timeout?)"; exit 143' TERM
	trap 'mfp_log "hung up (SIGHUP)"; exit 129' HUP
	set -E
	# stderr: the ERR trap also fires inside $(...), whose stdout is a value
	trap 'mfp_log "error: line $LINENO: $BASH_COMMAND (status $?)" >&2' ERR
	cleanup_guard
	mfp_log "id $MFP_ID, work dir $MFP_DIR, helper: $MPTCP_FDPASS"
}

mfp_finish() {
	if ((MFP_FAILS > 0)); then
		mfp_log "FAIL: $MFP_FAILS check(s) failed"
		exit 1
	fi
	mfp_log "PASS"
	exit 0
}

# Background jobs are started as plain commands (ip netns exec ... &), never as
# shell functions: a forked function would carry the ERR trap with it and
# complain when cleanup kills it.

# Poll until a command succeeds: the suite never sleeps a fixed time where
# the kernel can be asked instead.
mfp_wait() {
	local timeout=$1 deadline
	shift
	deadline=$((SECONDS + timeout))
	until "$@"; do
		((SECONDS < deadline)) || return 1
		sleep 0.05
	done
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

# ---------------------------------------------------------------- ns_

ns_name() { echo "mfp-$MFP_ID-$1"; }

ns_add() {
	local role=$1 ns
	ns=$(ns_name "$role")
	ip netns add "$ns"
	MFP_NS+=("$ns")
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
		for own in "${MFP_BG[@]}"; do
			[[ "$pid" != "$own" ]] || continue 2
		done
		echo "$pid"
	done
}

# every background process the harness starts: cleanup kills them by pid
# (the ones inside a namespace would be found anyway), ns_strays knows them
ns_bg_pid() { MFP_BG+=("$1"); }

# ---------------------------------------------------------------- link_

# link_path PATH [routed]: a veth path between cli and srv, optionally through
# a router namespace rtrPATH. Both families, DAD off ("nodad") so that the
# addresses are usable at once. Every path is captured from the start (headers
# only), so that a failure always comes with its packets.
link_path() {
	local p=$1 mode=${2:-direct} n cli srv rtr
	n=$(mfp_path_num "$p")
	cli=$(ns_name cli)
	srv=$(ns_name srv)
	if [[ "$mode" == direct ]]; then
		ip -n "$cli" link add "eth-$p" type veth peer name "eth-$p" netns "$srv"
		link_addr cli "$p" "eth-$p" "198.18.$n.1/24" "2001:db8:$n::1/64"
		link_addr srv "$p" "eth-$p" "198.18.$n.2/24" "2001:db8:$n::2/64"
		ip -n "$cli" link set "eth-$p" up
		ip -n "$srv" link set "eth-$p" up
		link_client_table "$p" "198.18.$n.2" "2001:db8:$n::2"
		obs_capture cli "$p"
	else
		ns_add "rtr$p"
		MFP_ROUTED[$p]=1
		rtr=$(ns_name "rtr$p")
		ns_sysctl "rtr$p" net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
		ip -n "$cli" link add "eth-$p" type veth peer name to-cli netns "$rtr"
		ip -n "$srv" link add "eth-$p" type veth peer name to-srv netns "$rtr"
		link_addr cli "$p" "eth-$p" "198.18.$n.1/24" "2001:db8:$n::1/64"
		link_addr "rtr$p" cli to-cli "198.18.$n.2/24" "2001:db8:$n::2/64"
		link_addr "rtr$p" srv to-srv "198.19.$n.1/24" "2001:db8:$n:1::1/64"
		link_addr srv "$p" "eth-$p" "198.19.$n.2/24" "2001:db8:$n:1::2/64"
		ip -n "$cli" link set "eth-$p" up
		ip -n "$srv" link set "eth-$p" up
		ip -n "$rtr" link set to-cli up
		ip -n "$rtr" link set to-srv up
		link_neigh cli "eth-$p" "rtr$p" to-cli
		link_neigh "rtr$p" to-cli cli "eth-$p"
		link_neigh "rtr$p" to-srv srv "eth-$p"
		link_neigh srv "eth-$p" "rtr$p" to-srv
		ip -n "$cli" route add "198.19.$n.0/24" via "198.18.$n.2" dev "eth-$p"
		ip -n "$cli" -6 route add "2001:db8:$n:1::/64" via "2001:db8:$n::2" dev "eth-$p"
		ip -n "$srv" route add "198.18.$n.0/24" via "198.19.$n.1" dev "eth-$p"
		ip -n "$srv" -6 route add "2001:db8:$n::/64" via "2001:db8:$n:1::1" dev "eth-$p"
		link_client_table "$p" "198.18.$n.2" "2001:db8:$n::2"
		# both sides of the middlebox: what it did is the difference
		obs_capture cli "$p"
		obs_capture srv "$p"
	fi
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

# link_addr ROLE KEY IFACE V4/LEN V6/LEN
link_addr() {
	local role=$1 key=$2 dev=$3 v4=$4 v6=$5 ns
	ns=$(ns_name "$role")
	ip -n "$ns" addr add "$v4" dev "$dev"
	ip -n "$ns" -6 addr add "$v6" dev "$dev" nodad
	MFP_ADDR[$role,$key,4]=${v4%/*}
	MFP_ADDR[$role,$key,6]=${v6%/*}
}

# Source routing on the client: whatever the destination, a packet from the
# path-p address leaves through path p (a join towards the server's path-a
# address must not be routed back over path a).
link_client_table() {
	local p=$1 gw4=$2 gw6=$3 n cli
	n=$(mfp_path_num "$p")
	cli=$(ns_name cli)
	ip -n "$cli" route add default via "$gw4" dev "eth-$p" table $((100 + n))
	ip -n "$cli" -6 route add default via "$gw6" dev "eth-$p" table $((100 + n))
	ip -n "$cli" rule add from "${MFP_ADDR[cli,$p,4]}" table $((100 + n)) pref $((100 + n))
	ip -n "$cli" -6 rule add from "${MFP_ADDR[cli,$p,6]}" table $((100 + n)) pref $((100 + n))
}

# the address ROLE has on PATH in FAMILY (4 or 6)
link_ip() {
	local key="$1,$2,${3:-4}"
	[[ -n "${MFP_ADDR[$key]:-}" ]] || mfp_fatal "no address for $key"
	echo "${MFP_ADDR[$key]}"
}

link_down() { ip -n "$(ns_name "$1")" link set "eth-$2" down; }
link_up() { ip -n "$(ns_name "$1")" link set "eth-$2" up; }

# link_shape ROLE PATH RATE: egress rate limit with tbf (netem is not always
# there; tbf is). The burst stays small so that the rate holds at short scale.
link_shape() {
	local role=$1 p=$2 rate=$3
	ip netns exec "$(ns_name "$role")" tc qdisc replace dev "eth-$p" root \
		tbf rate "$rate" burst 32kb latency 100ms
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

# bytes through ROLE's path-p interface, both directions, from the kernel's
# own interface counters
link_bytes() {
	local role=$1 p=$2 dir=${3:-} rx tx
	rx=$(ns_exec "$role" cat "/sys/class/net/eth-$p/statistics/rx_bytes")
	tx=$(ns_exec "$role" cat "/sys/class/net/eth-$p/statistics/tx_bytes")
	case "$dir" in
	rx) echo "$rx" ;;
	tx) echo "$tx" ;;
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

# ---------------------------------------------------------------- ep_

ep_limits() {
	local role=$1 subflows=$2 accepted=${3:-0}
	ip -n "$(ns_name "$role")" mptcp limits set subflows "$subflows" add_addr_accepted "$accepted"
}

# ep_add ROLE PATH FAMILY FLAG...: an endpoint on ROLE's address on PATH
# (flags: subflow, signal, backup, fullmesh)
ep_add() {
	local role=$1 p=$2 fam=$3 addr
	shift 3
	addr=$(link_ip "$role" "$p" "$fam")
	ip -n "$(ns_name "$role")" mptcp endpoint add "$addr" dev "eth-$p" "$@"
}

# ---------------------------------------------------------------- fault_

# All middlebox rules go into one table of the path's router, in a chain on
# the forward hook (not named "fwd": that is an nft keyword). Every rule
# counts, so a scenario can prove that its fault really hit packets.
fault_table() {
	local p=$1 ns
	ns=$(ns_name "rtr$p")
	[[ -n "${MFP_ROUTED[$p]:-}" ]] || mfp_fatal "path $p has no router: use link_path $p routed"
	if ! ip netns exec "$ns" nft list table inet mfp >/dev/null 2>&1; then
		ip netns exec "$ns" nft -f - <<-'EOF'
			table inet mfp {
				chain forward_faults {
					type filter hook forward priority filter; policy accept;
				}
			}
		EOF
	fi
}

fault_rule() {
	local p=$1
	shift
	fault_table "$p"
	ip netns exec "$(ns_name "rtr$p")" nft add rule inet mfp forward_faults "$@"
}

# a middlebox that removes the option it does not know (NOPs in its place)
fault_strip_mptcp() { fault_rule "$1" tcp option mptcp exists counter reset tcp option mptcp; }
# a middlebox that drops SYNs carrying MPTCP (the connection looks blackholed)
fault_drop_mptcp_syn() { fault_rule "$1" 'tcp flags & (syn | ack) == syn' tcp option mptcp exists counter drop; }
fault_drop_syn() { fault_rule "$1" 'tcp flags & (syn | ack) == syn' counter drop; }
# random loss without netem: PERCENT of the path's TCP packets
fault_loss() { fault_rule "$1" meta l4proto tcp numgen random mod 100 '<' "$2" counter drop; }

# packets that the fault rules of PATH's router matched
fault_hits() {
	ip netns exec "$(ns_name "rtr$1")" nft list chain inet mfp forward_faults |
		awk '{ for (i = 1; i < NF; i++) if ($i == "packets") n += $(i + 1) } END { print n + 0 }'
}

fault_sysctl() { ns_sysctl "$@"; }

# ---------------------------------------------------------------- sshd_

# sshd_start [mptcp|tcp]: a real sshd in srv, from a config generated here,
# with its own host key and root's authorized key in the work dir.
sshd_start() {
	local mode=${1:-mptcp} dir="$MFP_DIR/sshd" srv pid
	srv=$(ns_name srv)
	mkdir -p "$dir"
	# privilege separation wants this directory; it is a plain empty dir
	[[ -d /run/sshd ]] || mkdir -m 0755 /run/sshd
	# without PAM, sshd refuses a locked account ("!" in shadow) even for a key
	if [[ "$(getent shadow root | cut -d: -f2)" == '!'* ]]; then
		mfp_skip "root's account is locked (shadow '!'): sshd with UsePAM no refuses it"
	fi
	ssh-keygen -q -t ed25519 -N '' -C mfp-host -f "$dir/host_ed25519"
	ssh_key
	cp "$MFP_DIR/client_ed25519.pub" "$dir/authorized_keys"
	cat >"$dir/sshd_config" <<-EOF
		Port 22
		ListenAddress 0.0.0.0
		ListenAddress ::
		HostKey $dir/host_ed25519
		AuthorizedKeysFile $dir/authorized_keys
		PidFile none
		PermitRootLogin prohibit-password
		PubkeyAuthentication yes
		PasswordAuthentication no
		KbdInteractiveAuthentication no
		UsePAM no
		StrictModes no
		UseDNS no
		PrintMotd no
		PrintLastLog no
		X11Forwarding no
		AcceptEnv none
		LogLevel VERBOSE
	EOF
	case "$mode" in
	mptcp)
		# mptcpize turns sshd's TCP sockets into MPTCP ones (LD_PRELOAD)
		ip netns exec "$srv" mptcpize run "$MFP_SSHD" -D -e -f "$dir/sshd_config" \
			</dev/null >>"$MFP_DIR/sshd.log" 2>&1 &
		;;
	tcp)
		ip netns exec "$srv" "$MFP_SSHD" -D -e -f "$dir/sshd_config" \
			</dev/null >>"$MFP_DIR/sshd.log" 2>&1 &
		;;
	*) mfp_fatal "sshd_start: mode '$mode'" ;;
	esac
	pid=$!
	ns_bg_pid "$pid"
	if ! mfp_wait 10 sshd_listening "$mode"; then
		kill -0 "$pid" 2>/dev/null || mfp_fatal "sshd exited (see $MFP_DIR/sshd.log)"
		mfp_fatal "sshd not listening after 10 s"
	fi
}

# ready when the kernel shows the listener, for both families; with mptcp the
# listener must be an MPTCP one or the scenario would test nothing
sshd_listening() {
	local kind=-t l4 l6
	[[ "$1" != mptcp ]] || kind=-M
	l4=$(ns_exec srv ss -Hln -f inet "$kind" 'sport = :22' 2>/dev/null | wc -l)
	l6=$(ns_exec srv ss -Hln -f inet6 "$kind" 'sport = :22' 2>/dev/null | wc -l)
	((l4 > 0 && l6 > 0))
}

# ---------------------------------------------------------------- ssh_

# A wrapper around the helper, as the ProxyCommand: it keeps the helper's
# stderr and exit status per run (ssh reports neither) and leaves stdin and
# stdout, the socketpair the fd goes through, untouched. ssh signals its
# ProxyCommand (SIGHUP when a session ends); the wrapper passes that on, so
# the helper meets the signals it meets in production.
ssh_wrapper() {
	local w="$MFP_DIR/proxy-wrap"
	if [[ ! -x "$w" ]]; then
		cat >"$w" <<-'EOF'
			#!/bin/sh
			tag=$1
			shift
			# sh gives a background job /dev/null as stdin before any
			# redirection is applied, so stdin goes through fd 3
			exec 3<&0
			"$@" <&3 3<&- 2>>"$tag.helper.err" &
			exec 3<&-
			child=$!
			trap 'kill -HUP "$child" 2>/dev/null' HUP
			trap 'kill -TERM "$child" 2>/dev/null' TERM
			# a trapped signal ends "wait" early: wait until the child is gone
			while :; do
				wait "$child"
				rc=$?
				kill -0 "$child" 2>/dev/null || break
			done
			echo "$rc" >"$tag.helper.rc"
			exit "$rc"
		EOF
		chmod +x "$w"
	fi
	echo "$w"
}

# root's key for the client, made once per scenario
ssh_key() {
	[[ -e "$MFP_DIR/client_ed25519" ]] ||
		ssh-keygen -q -t ed25519 -N '' -C mfp-client -f "$MFP_DIR/client_ed25519"
}

# ssh_argv TAG HOST: the ssh command line, in the array SSH_ARGV.
# MFP_HELPER_ARGS adds options for the helper (e.g. "-m require").
ssh_argv() {
	local tag=$1 host=$2 wrap
	wrap=$(ssh_wrapper)
	ssh_key
	# IPQoS none: ssh would set IPV6_TCLASS/IP_TOS on the passed socket; that
	# is a TCP-level option the MPTCP socket may refuse (see
	# tests/netns/mptcp-two-paths-v6), and it is not what we are testing.
	SSH_ARGV=(ssh -F none -T
		-i "$MFP_DIR/client_ed25519"
		-o IdentitiesOnly=yes -o BatchMode=yes
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o GlobalKnownHostsFile=/dev/null
		-o LogLevel=ERROR -o IPQoS="${MFP_IPQOS:-none}"
		-o ConnectTimeout=20 -o ServerAliveInterval=0
		-o ProxyUseFdpass="${MFP_PROXY_FDPASS:-yes}" -p "${MFP_SSH_PORT:-22}"
		-o "ProxyCommand='$wrap' '$MFP_DIR/$tag' $MPTCP_FDPASS ${MFP_HELPER_ARGS:-} %h %p"
		"root@$host")
}

# ssh_run TAG HOST [COMMAND...]: one ssh session; stdin is the caller's,
# stdout goes to TAG.out and ssh's stderr to TAG.ssh.err; returns ssh's
# status.
ssh_run() {
	local tag=$1 host=$2 rc=0
	shift 2
	ssh_argv "$tag" "$host"
	ip netns exec "$(ns_name cli)" timeout -k 5 "${MFP_SSH_TIMEOUT:-60}" "${SSH_ARGV[@]}" "$@" \
		<&0 >"$MFP_DIR/$tag.out" 2>"$MFP_DIR/$tag.ssh.err" &
	mfp_wait_pid "$!" || rc=$?
	return "$rc"
}

# ssh_open TAG HOST COMMAND...: a session that stays open while the scenario
# looks at the kernel's sockets; its stdin is a fifo fed with ssh_feed and
# closed by ssh_close, its stdout goes to TAG.out.
ssh_open() {
	local tag=$1 host=$2
	shift 2
	ssh_argv "$tag" "$host"
	rm -f "$MFP_DIR/$tag.in"
	mkfifo "$MFP_DIR/$tag.in"
	ip netns exec "$(ns_name cli)" timeout -k 5 "${MFP_SSH_TIMEOUT:-60}" "${SSH_ARGV[@]}" "$@" \
		<"$MFP_DIR/$tag.in" >"$MFP_DIR/$tag.out" 2>"$MFP_DIR/$tag.ssh.err" &
	MFP_SESSION_PID=$!
	ns_bg_pid "$MFP_SESSION_PID"
	exec {MFP_SESSION_FD}>"$MFP_DIR/$tag.in"
}

ssh_feed() {
	cat "$1" >&"$MFP_SESSION_FD" &
	mfp_wait_pid "$!"
}

# wait until the session's output has a line matching PATTERN; give up at
# once when ssh is gone
ssh_expect() {
	local tag=$1 pattern=$2 timeout=${3:-30}
	mfp_wait "$timeout" ssh_output_has "$tag" "$pattern" && grep -qs -- "$pattern" "$MFP_DIR/$tag.out"
}

ssh_output_has() {
	grep -qs -- "$2" "$MFP_DIR/$1.out" && return 0
	kill -0 "$MFP_SESSION_PID" 2>/dev/null || return 0
	return 1
}

# close the session's stdin and return ssh's status
ssh_close() {
	local rc=0
	exec {MFP_SESSION_FD}>&-
	MFP_SESSION_FD=""
	wait "$MFP_SESSION_PID" || rc=$?
	MFP_SESSION_PID=""
	return "$rc"
}

# ssh_push TAG HOST FILE [TIMEOUT]: open a session, send FILE, and wait
# until the server has hashed all of it. The session stays open so that the
# scenario can look at the sockets (ssh_close ends it).
ssh_push() {
	local tag=$1 host=$2 file=$3 size
	size=$(stat -c %s "$file")
	ssh_open "$tag" "$host" "head -c $size | sha256sum; exec cat >/dev/null"
	# a dead ssh shows up as a missing hash, not as a failed write
	ssh_feed "$file" || true
	ssh_expect "$tag" ' -$' "${4:-60}"
}

# the hash that the server computed in ssh_push
ssh_remote_sha() { awk 'NR == 1 { print $1 }' "$MFP_DIR/$1.out" 2>/dev/null || true; }

# the helper's exit status and stderr for one run
ssh_helper_rc() { cat "$MFP_DIR/$1.helper.rc" 2>/dev/null || echo none; }
ssh_helper_err() { cat "$MFP_DIR/$1.helper.err" 2>/dev/null || true; }

# ---------------------------------------------------------------- obs_

# obs_nstat ROLE LABEL: a snapshot of the namespace's counters. -a ignores
# and -s leaves alone nstat's history file, which is per user and shared by
# every process; NSTAT_HISTORY points it at our dir all the same.
obs_nstat() {
	local role=$1 label=$2
	NSTAT_HISTORY="$MFP_DIR/nstat.$role.hist" ns_exec "$role" nstat -asz \
		>"$MFP_DIR/nstat.$role.$label"
}

# obs_counter ROLE LABEL NAME: one counter from a snapshot
obs_counter() {
	awk -v n="$3" '$1 == n { v = $2 } END { print v + 0 }' "$MFP_DIR/nstat.$1.$2"
}

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

# obs_capture ROLE PATH: headers of every packet on ROLE's path interface;
# returns once tcpdump is really capturing; once per interface
obs_capture() {
	local role=$1 p=$2 log="$MFP_DIR/tcpdump.$1.$2.log"
	[[ ! -e "$log" ]] || return 0
	ip netns exec "$(ns_name "$role")" tcpdump -i "eth-$p" -n -s 128 -U -Z root -w "$MFP_DIR/$role-$p.pcap" \
		</dev/null >"$log" 2>&1 &
	ns_bg_pid "$!"
	mfp_wait 10 grep -qs 'listening on' "$log" || mfp_fatal "tcpdump did not start on $role eth-$p"
}

# what goes into the artifacts folder when a scenario fails; one shell per
# namespace, because after meson's SIGTERM there is half a second
obs_collect() {
	local ns role
	for ns in "${MFP_NS[@]}"; do
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

# ---------------------------------------------------------------- check_

check_fail() {
	printf '[%s] FAIL: %s\n' "$MFP_NAME" "$*"
	MFP_FAILS=$((MFP_FAILS + 1))
}
check_ok() { mfp_log "ok: $*"; }

check() {
	local what=$1
	shift
	if "$@"; then check_ok "$what"; else check_fail "$what"; fi
}

check_eq() {
	if [[ "$2" == "$3" ]]; then check_ok "$1 ($2)"; else check_fail "$1: got '$2', expected '$3'"; fi
}

check_ge() {
	if (($2 >= $3)); then check_ok "$1 ($2 >= $3)"; else check_fail "$1: got $2, expected >= $3"; fi
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

# ---------------------------------------------------------------- cleanup

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

# every namespace of run ID (the reaper knows only the id)
cleanup_namespaces() {
	local id=$1 ns
	for ns in $(ip netns list 2>/dev/null | awk '{ print $1 }' | grep "^mfp-$id-" || true); do
		cleanup_ns "$ns"
	done
}

# meson sends SIGTERM to the process group on timeout and SIGKILL half a
# second later, which may cut the trap short. A reaper in its own session
# outlives that and clears the namespaces once the scenario is gone.
cleanup_guard() {
	local lib
	lib="$MFP_TOP/netns/lib.sh"
	# shellcheck disable=SC2016 # expanded by the reaper's shell, from its args
	setsid bash -c '
		echo "$$" >"$3/reaper.pid"
		while kill -0 "$2" 2>/dev/null; do sleep 0.2; done
		source "$1"
		cleanup_namespaces "$4"
	' mfp-reaper "$lib" "$$" "$MFP_DIR" "$MFP_ID" </dev/null >/dev/null 2>&1 &
	MFP_GUARD_PID=$!
}

cleanup() {
	local rc=$? pid ns
	trap - EXIT INT TERM HUP ERR
	set +eE
	if [[ -n "$MFP_SESSION_FD" ]]; then exec {MFP_SESSION_FD}>&-; fi
	if ((rc != 0 && rc != 77)); then
		obs_collect
	fi
	for ns in "${MFP_NS[@]}"; do
		cleanup_ns "$ns"
	done
	[[ -z "$MFP_ID" ]] || cleanup_namespaces "$MFP_ID"
	# what is left lives in the root namespace (a feeding "cat"); no "wait":
	# one that ignored TERM would hang the exit
	local left=()
	for pid in "${MFP_BG[@]}"; do
		! cleanup_ours "$pid" || kill "$pid" 2>/dev/null
	done
	for pid in "${MFP_BG[@]}"; do
		! { cleanup_ours "$pid" && cleanup_alive "$pid"; } || left+=("$pid")
	done
	if ((${#left[@]} > 0)); then
		sleep 0.2
		kill -KILL "${left[@]}" 2>/dev/null
	fi
	# the reaper has nothing left to do
	if [[ -n "$MFP_GUARD_PID" ]]; then
		pid=$(cat "$MFP_DIR/reaper.pid" 2>/dev/null || echo "$MFP_GUARD_PID")
		kill "$pid" 2>/dev/null
	fi
	if [[ -n "$MFP_DIR" ]]; then
		if ((rc == 0 || rc == 77)); then
			rm -rf "$MFP_DIR"
		else
			# the payloads are random and large; what failed is in the rest
			rm -f "$MFP_DIR"/*.bin "$MFP_DIR"/*.in
			echo "[$MFP_NAME] artifacts: $MFP_DIR"
		fi
	fi
	((rc == 0 || rc == 77)) || rc=1
	exit "$rc"
}
