# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
#
# fault_: what a middlebox does to MPTCP, as nftables rules in the router
# namespace of one path, each with a counter; and sysctls inside our
# namespaces. Needs the path to be built with "link_path PATH routed".

# All middlebox rules go into one table of the path's router, in a chain on
# the forward hook (not named "fwd": that is an nft keyword). Every rule
# counts, so a scenario can prove that its fault really hit packets.
fault_table() {
	local p=$1 ns
	ns=$(ns_name "rtr$p")
	link_routed "$p" || mfp_fatal "path $p has no router: use link_path $p routed"
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

# fault_rule PATH NAME EXPR...: one rule in PATH's router, tagged with NAME
# (the rule's comment) so that it can be counted and removed on its own
fault_rule() {
	local p=$1 name=$2
	shift 2
	fault_table "$p"
	ip netns exec "$(ns_name "rtr$p")" nft add rule inet mfp forward_faults "$@" \
		comment "\"mfp:$name\""
}

# a middlebox that removes the option it does not know (NOPs in its place)
fault_strip_mptcp() { fault_rule "$1" strip tcp option mptcp exists counter reset tcp option mptcp; }
# ... only from the handshake: the connection never negotiates MPTCP
fault_strip_mptcp_syn() {
	fault_rule "$1" strip-syn 'tcp flags & syn == syn' tcp option mptcp exists counter \
		reset tcp option mptcp
}
# ... only once a connection is under way: each direction keeps its first N
# packets (conntrack counts them), so the handshake and the first data carry
# MPTCP and what follows does not. Packets dropped before conntrack confirms
# a connection are not counted, which does not matter on a path that only
# strips.
fault_strip_mptcp_after() {
	local p=$1 n=${2:-3} dir
	for dir in original reply; do
		fault_rule "$p" strip-after-data ct "$dir" packets '>' "$n" tcp option mptcp exists counter \
			reset tcp option mptcp
	done
	# the counts need conntrack accounting; nft turns it on for "ct packets"
	# on current kernels, not on every kernel we run on
	fault_sysctl "rtr$p" net.netfilter.nf_conntrack_acct=1
}
# a middlebox that drops SYNs carrying MPTCP (the connection looks blackholed)
fault_drop_mptcp_syn() {
	fault_rule "$1" drop-mptcp-syn 'tcp flags & (syn | ack) == syn' tcp option mptcp exists counter drop
}
# ordinary SYN loss: of every N+1 SYNs (of any kind), the first N are lost.
# A dropped SYN never gets a confirmed conntrack entry, so the count is the
# rule's own (numgen), not the connection's.
fault_drop_syns() {
	local p=$1 n=${2:-3}
	fault_rule "$p" drop-syns 'tcp flags & (syn | ack) == syn' numgen inc mod $((n + 1)) '<=' $((n - 1)) counter drop
}
# every SYN lost: the server looks unreachable
fault_drop_syn() { fault_rule "$1" blackhole 'tcp flags & (syn | ack) == syn' counter drop; }
# a middlebox that resets connections whose SYN carries an option it does
# not know, and lets plain TCP through
fault_reset_mptcp_syn() {
	fault_rule "$1" reset-mptcp-syn 'tcp flags & (syn | ack) == syn' tcp option mptcp exists counter \
		reject with tcp reset
}
# a silent blackhole: every packet of the path dropped, both ways, while
# every link stays up (nothing tells either end)
fault_drop_all() { fault_rule "$1" drop-all counter drop; }
# random loss without netem: PERCENT of the path's TCP packets (nft takes
# no "< 100" against a number below 100: "<= PERCENT-1")
fault_loss() {
	fault_rule "$1" loss meta l4proto tcp numgen random mod 100 '<=' $((${2:-5} - 1)) counter drop
}

# The named faults, for the lab and for scenarios that take a fault from
# the command line: "NAME [ARG]<TAB>what it does".
fault_names() {
	cat <<-'EOF'
		strip	remove the MPTCP option from every packet
		strip-syn	remove the MPTCP option from SYN and SYN/ACK only
		strip-after-data [N]	remove it after the first N packets of each direction (0-1000, default 3: handshake and first data)
		drop-mptcp-syn	drop SYNs that carry the MPTCP option (an MPTCP blackhole)
		drop-syns [N]	drop the first N of every N+1 SYNs, MPTCP or not (1-1000, default 3)
		blackhole	drop every SYN: the server looks unreachable
		reset-mptcp-syn	answer SYNs that carry the MPTCP option with a TCP reset
		drop-all	drop every packet, links up: a silent blackhole
		loss [PERCENT]	drop PERCENT of the TCP packets at random (1-100, default 5)
		path-down	take the path's client interface down (fault_remove brings it up)
		move-dsn [BYTES]	move one client mapping's DSN BYTES ahead (a power of two, default 1048576: beyond the receive window), after 40 client packets; marks the connection
		strip-after-move	remove the MPTCP option from the client's packets once move-dsn has moved one (the fallback trigger)
	EOF
}

fault_known() { fault_names | cut -f1 | awk '{ print $1 }' | grep -qxF -- "$1"; }

# fault_arg_range NAME: "MIN MAX" of the fault's argument; nothing for a
# fault that takes none
fault_arg_range() {
	case "$1" in
	strip-after-data) echo 0 1000 ;;
	drop-syns) echo 1 1000 ;;
	loss) echo 1 100 ;;
	# a power of two besides (fault_parse checks that)
	move-dsn) echo 4096 1099511627776 ;;
	esac
}

# fault_parse SPEC: NAME[=ARG][@PATH] checked (a known name, an argument
# only where the fault takes one, in decimal and in its range, path a or b)
# and printed as "NAME PATH [ARG]" (PATH a when not given); otherwise the
# reason is printed and the status is 1. Nothing is applied.
fault_parse() {
	local spec=$1 name arg="" p=a range
	if [[ "$spec" == *@* ]]; then
		p=${spec##*@}
		spec=${spec%@*}
	fi
	name=${spec%%=*}
	[[ "$spec" != *=* ]] || arg=${spec#*=}
	[[ -n "$name" ]] || { echo "empty fault name"; return 1; }
	fault_known "$name" || { echo "unknown fault '$name' (known: $(fault_names | awk '{ print $1 }' | xargs))"; return 1; }
	[[ "$p" == a || "$p" == b ]] || { echo "fault $name: no path '$p' (a or b)"; return 1; }
	[[ "$spec" == *=* ]] || { echo "$name $p"; return 0; }
	range=$(fault_arg_range "$name")
	[[ -n "$range" ]] || { echo "fault $name takes no argument (not '$arg')"; return 1; }
	# decimal: a leading zero is not octal
	[[ "$arg" =~ ^[0-9]{1,13}$ ]] || { echo "fault $name: '$arg' is not a number (${range/ /-})"; return 1; }
	arg=$((10#$arg))
	((arg >= ${range% *} && arg <= ${range#* })) || { echo "fault $name: $arg is out of range (${range/ /-})"; return 1; }
	# move-dsn moves by setting one DSN bit: only a power of two can be had
	[[ "$name" != move-dsn ]] || (((arg & (arg - 1)) == 0)) ||
		{ echo "fault $name: $arg is not a power of two (4096, 8192, ... 2^40)"; return 1; }
	echo "$name $p $arg"
}

# The active faults of this run, one line each: "NAME PATH [ARG]" (in the
# work dir, so that a lab's later commands see them too).
fault_active() { [[ ! -f "$MFP_DIR/faults" ]] || cat "$MFP_DIR/faults"; }

fault_is_active() {
	fault_active | awk -v n="$1" -v p="$2" '$1 == n && $2 == p { f = 1 } END { exit !f }'
}

# fault_apply NAME PATH [ARG]: the named fault on PATH, recorded as active
fault_apply() {
	local name=$1 p=$2 arg=${3:-} why
	why=$(fault_parse "$name${arg:+=$arg}@$p") || mfp_fatal "$why"
	! fault_is_active "$name" "$p" || mfp_fatal "fault $name is already on path $p"
	[[ -z "$arg" ]] || arg=$((10#$arg))
	case "$name" in
	strip) fault_strip_mptcp "$p" ;;
	strip-syn) fault_strip_mptcp_syn "$p" ;;
	strip-after-data) fault_strip_mptcp_after "$p" ${arg:+"$arg"} ;;
	drop-mptcp-syn) fault_drop_mptcp_syn "$p" ;;
	drop-syns) fault_drop_syns "$p" ${arg:+"$arg"} ;;
	blackhole) fault_drop_syn "$p" ;;
	reset-mptcp-syn) fault_reset_mptcp_syn "$p" ;;
	drop-all) fault_drop_all "$p" ;;
	loss) fault_loss "$p" ${arg:+"$arg"} ;;
	path-down) link_down cli "$p" ;;
	move-dsn) fault_move_dsn "$p" ${arg:+"$arg"} ;;
	strip-after-move) fault_strip_after_move "$p" ;;
	esac
	echo "$name $p${arg:+ $arg}" >>"$MFP_DIR/faults"
}

# fault_remove NAME PATH: the named fault's rules go, the others stay
fault_remove() {
	local name=$1 p=$2
	fault_known "$name" || mfp_fatal "unknown fault '$name'"
	if [[ "$name" == path-down ]]; then
		link_up cli "$p"
	else
		fault_remove_tag "$p" "$name"
	fi
	fault_active | awk -v n="$name" -v p="$p" '!($1 == n && $2 == p)' >"$MFP_DIR/faults.new"
	mv "$MFP_DIR/faults.new" "$MFP_DIR/faults"
}

# fault_remove_tag PATH TAG: every rule of PATH's router tagged TAG goes
# (the named faults and symptom.sh's alike)
fault_remove_tag() {
	local handle
	for handle in $(fault_handles "$1" "$2"); do
		ip netns exec "$(ns_name "rtr$1")" nft delete rule inet mfp forward_faults handle "$handle"
	done
}

fault_handles() {
	ip netns exec "$(ns_name "rtr$1")" nft -a list chain inet mfp forward_faults 2>/dev/null |
		awk -v c="\"mfp:$2\"" '$0 ~ "comment " c " " { print $NF }'
}

# packets that the fault rules of PATH's router matched (only NAME's, when
# given); "-" for path-down, which is no rule
fault_hits() {
	local p=$1 name=${2:-}
	if [[ "$name" == path-down ]]; then
		echo -
		return 0
	fi
	ip netns exec "$(ns_name "rtr$p")" nft list chain inet mfp forward_faults 2>/dev/null |
		awk -v c="${name:+\"mfp:$name\"}" '
			c != "" && index($0, "comment " c) == 0 { next }
			{ for (i = 1; i < NF; i++) if ($i == "packets") n += $(i + 1) }
			END { print n + 0 }'
}

# the active faults as "NAME=ARG on path P, ..." ("none")
fault_summary() {
	local name p arg out=""
	while read -r name p arg; do
		[[ -n "$name" ]] || continue
		out+="${out:+, }$name${arg:+=$arg} on path $p"
	done <<<"$(fault_active)"
	echo "${out:-none}"
}

# fault_list: the active faults, a line each, with the packets their rules
# matched ("? (root)" for an ordinary user), or "  none"
fault_list() {
	local name p arg
	[[ -n "$(fault_active)" ]] || echo "  none"
	while read -r name p arg; do
		[[ -z "$name" ]] || printf '  %-20s path %s  %s packets matched\n' "$name${arg:+=$arg}" "$p" \
			"$( ((EUID == 0)) && fault_hits "$p" "$name" || echo "? (root)")"
	done <<<"$(fault_active)"
}

fault_sysctl() { ns_sysctl "$@"; }

# --- move-dsn: an MPTCP-level hole (issue 18, finding c) --------------------
# A middlebox that rewrites one DSS mapping: the client's first data packet
# after KEEP packets of its connection (conntrack's count) that carries a
# mapping of its own gets its data sequence number moved BYTES ahead, BYTES a
# power of two (2^12 to 2^40): the rule sets DSN bit log2(BYTES) where it is
# clear, which adds exactly BYTES (a packet whose bit is set is left alone,
# the next one is taken). One packet per connection: the rule marks the
# connection (ct mark 1), which strip-after-move and scenarios look at.
# The layout is Linux's DSS on a data packet: after the 20-byte TCP header,
# NOP NOP TS (12 bytes), kind 30 at byte 32, subtype 2 (high nibble of byte
# 34), flags 0x0f at byte 35 (64-bit DATA_ACK and mapping), DATA_ACK at
# 36..43, DSN at 44..51: DSN bit B is header bit 415 - B. The client should
# send one segment per skb (gso_max_segs 1), or the moved packet is often the
# middle of a mapping and taken as corrupt instead.
MFP__DSS_MAPPING=("@th,256,8" 30 "@th,272,4" 2 "@th,280,8" 0x0f)
fault_move_dsn() {
	local p=$1 bytes=${2:-1048576} keep=${3:-40} bit=0
	if [[ ! "$bytes" =~ ^[1-9][0-9]{0,12}$ ]] || (((bytes & (bytes - 1)) != 0)); then
		mfp_fatal "move-dsn: BYTES must be a power of two, not '$bytes'"
	fi
	while (((1 << bit) < bytes)); do bit=$((bit + 1)); done
	((bit >= 12 && bit <= 40)) || mfp_fatal "move-dsn: BYTES must be 4096 to 2^40, not $bytes"
	fault_rule "$p" move-dsn ct direction original ct original packets '>' "$keep" ct mark 0 \
		"${MFP__DSS_MAPPING[@]}" "@th,$((415 - bit)),1" 0 counter \
		"@th,$((415 - bit)),1" set 1 ct mark set 1
	fault_sysctl "rtr$p" net.netfilter.nf_conntrack_acct=1
}
# the fallback trigger after a move: every later client packet of a marked
# connection loses its option (a DSS corruption). Inserted at the head of the
# chain, so that the moved packet itself, which sets the mark further down,
# keeps its option whichever fault was applied first.
fault_strip_after_move() {
	fault_table "$1"
	ip netns exec "$(ns_name "rtr$1")" nft insert rule inet mfp forward_faults \
		ct direction original ct mark 1 tcp option mptcp exists counter reset tcp option mptcp \
		comment '"mfp:strip-after-move"'
}

# fault_ooo_jump PATH LOW KEEP: data out of order, inside the window. The
# first client packet after KEEP (conntrack's count) that carries a mapping
# of its own (the DSS layout above) gets its DSN moved 2^(LOW + k) ahead, for
# the lowest clear bit LOW + k among DSN bits LOW..LOW+3, and marks its
# connection (ct mark 1): one packet per connection, whichever rule takes it.
fault_ooo_jump() {
	local p=$1 low=$2 keep=$3 k j ones
	for k in 3 2 1 0; do
		ones=()
		for ((j = 0; j < k; j++)); do ones+=("@th,$((415 - low - j)),1" 1); done
		fault_rule "$p" ooo-mangle ct direction original ct original packets '>' "$keep" ct mark 0 \
			"${MFP__DSS_MAPPING[@]}" "${ones[@]}" "@th,$((415 - low - k)),1" 0 counter \
			"@th,$((415 - low - k)),1" set 1 ct mark set 1
	done
	fault_sysctl "rtr$p" net.netfilter.nf_conntrack_acct=1
}

# fault_ooo_mark PATH KEEP: the same packet's connection marked, nothing
# moved (symptom mode's stand-in for fault_ooo_jump)
fault_ooo_mark() {
	fault_rule "$1" ooo-mark ct direction original ct original packets '>' "$2" ct mark 0 \
		"${MFP__DSS_MAPPING[@]}" counter ct mark set 1
	fault_sysctl "rtr$1" net.netfilter.nf_conntrack_acct=1
}
