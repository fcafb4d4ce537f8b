# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
#
# symptom_: what the bug scenarios (tests/bugs/) add to the harness. A bug
# scenario names the kernel fix it checks (symptom_bug), asserts the fixed
# behaviour with symptom_check* (a failure names the bug), and ends with
# symptom_finish.
#
# Symptom mode (MFP_SYMPTOM=1): no Debian kernel old enough to carry these
# bugs can be installed, so the harness itself produces on the wire what an
# affected kernel would do (an injected reset, a truncated tail, a stall, a
# SYN without MPTCP after a false blackhole). The scenario must then fail and
# name the bug, which shows that it can. The faults below are the ones
# fault.sh does not have; like those, each is one tagged nft rule with a
# counter in a path's router. Sourced by the scenarios after lib.sh (uses
# fault_rule, fault_sysctl, check_*, mfp_*).

MFP__BUG=""
MFP__BUG_SYMPTOM=""

# symptom_bug HASH SYMPTOM: the fix this scenario checks, and what an
# affected kernel does
symptom_bug() {
	MFP__BUG=$1
	MFP__BUG_SYMPTOM=$2
	mfp_log "checks kernel fix $MFP__BUG; affected kernels: $MFP__BUG_SYMPTOM"
	if symptom_mode; then
		mfp_log "SYMPTOM MODE: the harness produces that symptom itself; this run must FAIL"
	fi
}

symptom_mode() { [[ "${MFP_SYMPTOM:-0}" == 1 ]]; }

# checks whose failure names the bug whose symptom it is
symptom_note() { printf ' (symptom of %s: %s)' "$MFP__BUG" "$MFP__BUG_SYMPTOM"; }
symptom_fail() { check_fail --note="$(symptom_note)" "$@"; }
symptom_check() { check --note="$(symptom_note)" "$@"; }
symptom_check_eq() { check_eq --note="$(symptom_note)" "$@"; }
symptom_check_ge() { check_ge --note="$(symptom_note)" "$@"; }

symptom_finish() {
	if ((MFP__FAILS > 0)); then
		mfp_log "FAIL: $MFP__FAILS check(s) failed: the kernel behaves as one without fix $MFP__BUG ($MFP__BUG_SYMPTOM)"
		exit 1
	fi
	mfp_finish
}

# the probes' names before probe.sh (scenarios written then still use them)
symptom_counter_exists() { probe_counter_exists "$@"; }
symptom_netstat() { probe_counter "$@"; }
symptom_netstat_reached() { probe_counter_reached "$@"; }
symptom_sysctl_exists() { probe_sysctl "$@"; }

# --- faults that fault.sh does not have --------------------------------

# symptom_drop_plain_syns PATH N: the first N SYNs without the MPTCP option
# that cross PATH's router are lost (with drop-mptcp-syn: all MP_CAPABLE
# SYNs and the kernel's first plain retries are lost, whatever the number
# of MP_CAPABLE retransmissions of this kernel)
symptom_drop_plain_syns() {
	fault_rule "$1" drop-plain-syns 'tcp flags & (syn | ack) == syn' tcp option mptcp missing \
		numgen inc mod 1000000 '<' "$2" counter drop
}

# symptom_remove NAME PATH: remove a fault of this file
symptom_remove() { fault_remove_tag "$2" "$1"; }

# --- faults that only symptom mode needs -------------------------------

# symptom_reset_after PATH N: the connection is reset once it is under way:
# every client-to-server packet after the first N of the connection is
# dropped and answered with a TCP reset (to the client, the reset looks like
# the server's); the client's own resets pass, so the server hears of it
symptom_reset_after() {
	local p=$1 n=$2
	fault_sysctl "rtr$p" net.netfilter.nf_conntrack_acct=1
	fault_rule "$p" symptom-reset ct direction original ct original packets '>' "$n" \
		'tcp flags & rst == 0' counter reject with tcp reset
}

# symptom_cut_after_bytes PATH BYTES: a transfer from the client is cut
# once more than BYTES went through: the server's next packet is dropped
# and the server gets a reset instead, so it sees the stream end early; the
# server's own resets pass, so the client hears of it too
symptom_cut_after_bytes() {
	local p=$1 bytes=$2
	# the rule first: its ct expressions load nf_conntrack, whose sysctl a
	# fresh guest does not have before (byte counts start with the
	# connections, which come later)
	fault_rule "$p" symptom-cut ct direction reply ct original bytes '>' "$bytes" \
		'tcp flags & rst == 0' counter reject with tcp reset
	fault_sysctl "rtr$p" net.netfilter.nf_conntrack_acct=1
}

# symptom_stall PATH: nothing gets through any more (TCP), in either
# direction, without a reset: what a connection stuck in a wrong state looks
# like from outside
symptom_stall() { fault_rule "$1" symptom-stall meta l4proto tcp counter drop; }
