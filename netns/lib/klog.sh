# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
#
# klog_: the guest kernel's own reports of trouble (WARNING, BUG, Oops,
# lockdep, hung tasks, KASAN, UBSAN, RCU stalls) while a scenario runs fail
# that scenario. Sourced by mfp_init ONLY inside one of netns/vm's guests
# (the kernel command line says mfp_guest=1 and /.mfp-vm/booted exists):
# there the kernel is ours. On the host the kernel log belongs to the
# machine and is never read.
#
# mfp_init marks the position (the sequence number of the newest record of
# /dev/kmsg); the cleanup trap reads what came after it. Scenarios that run
# at the same time in one guest share its kernel: a report fails each of
# them, which is right, since none can tell whose traffic caused it.

# what starts a kernel report of its own damage or doubt
KLOG_RE='WARNING:|BUG:|Oops|general protection|invalid opcode|kernel BUG at|Kernel panic|'
KLOG_RE+='possible circular locking|possible recursive locking|inconsistent lock state|'
KLOG_RE+='INFO: task .* blocked for more than|hung_task|KASAN:|UBSAN:|detected stalls|soft lockup|hard LOCKUP'
KLOG_SEQ=""

# klog_records: every record /dev/kmsg still holds, as "SEQ<tab>TEXT",
# oldest first; a nonblocking read ends at the newest (dd then reports
# EAGAIN, which is the end, not an error). Continuation lines (" KEY=VALUE")
# are metadata and dropped.
klog_records() {
	dd if=/dev/kmsg iflag=nonblock bs=65536 2>/dev/null |
		awk '/^ / { next } {
			i = index($0, ";"); split(substr($0, 1, i - 1), h, ",")
			printf "%s\t%s\n", h[2], substr($0, i + 1)
		}' || true
}

klog_mark() {
	KLOG_SEQ=$(klog_records | tail -n1 | cut -f1)
	[[ -n "$KLOG_SEQ" ]] || KLOG_SEQ=-1
}

# klog_check: 1, with the first 30 lines of the first report shown (and the
# whole log since the mark kept in the scenario's work dir), when the
# kernel reported trouble since klog_mark; 0 otherwise
klog_check() {
	[[ -n "$KLOG_SEQ" ]] || return 0
	local since first
	since=$(klog_records | awk -F'\t' -v s="$KLOG_SEQ" '$1 > s { print substr($0, index($0, "\t") + 1) }')
	first=$(grep -nE -m1 -- "$KLOG_RE" <<<"$since" | cut -d: -f1 || true)
	[[ -n "$first" ]] || return 0
	mfp_log "FAIL: the guest kernel reported trouble while this scenario ran (first 30 lines):"
	tail -n "+$first" <<<"$since" | head -n 30 | sed 's/^/  | /'
	if [[ -n "$MFP_DIR" && -d "$MFP_DIR" ]]; then
		printf '%s\n' "$since" >"$MFP_DIR/guest-kernel.log"
	fi
	return 1
}
