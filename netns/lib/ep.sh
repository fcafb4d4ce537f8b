# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
#
# ep_: the MPTCP path manager's limits and endpoints, per namespace.

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
