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
