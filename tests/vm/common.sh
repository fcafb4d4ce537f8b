# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
#
# What the guest tests of netns/vm share (meson suite "vm": each boots real
# guests, 10 to 60 s apiece under TCG, so none is in the unit suite or in
# `make check`; run them with `meson test -C build --suite vm`).
# KERNEL (default 6.12) is the guest kernel.

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck disable=SC2034 # used by the tests that source this
vm="$top/netns/vm"
kernel=${KERNEL:-6.12}
[[ "$kernel" != host ]] || kernel=6.12
failed=0

vmt_skip() {
	if [[ "${CI:-}" == true ]]; then
		echo "FAIL (would skip, but CI=true): $*"
		exit 1
	fi
	echo "SKIP: $*"
	exit 77
}

vmt_preflight() {
	((EUID == 0)) || vmt_skip "needs root (netns/vm boots guests)"
	command -v qemu-system-x86_64 >/dev/null || vmt_skip "missing qemu-system-x86_64 (ci/deps vm)"
}

vmt_fail() {
	echo "FAIL: $*"
	failed=$((failed + 1))
}

vmt_ok() { echo "ok: $*"; }

# vmt_cache: the kernel cache netns/vm uses, where its run dirs live
vmt_cache() { echo "${MFP_KERNEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mptcp-fdpass/kernels}"; }

# vmt_qemu_of PID: the qemu that netns/vm PID started (its child), if any
vmt_qemu_of() {
	local child
	for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do
		if { tr '\0' '\n' <"/proc/$child/cmdline"; } 2>/dev/null | grep -qx qemu-system-x86_64; then
			echo "$child"
			return 0
		fi
	done
	return 1
}

# vmt_run_dir QEMU_PID: the run dir of that qemu (from its -pidfile)
vmt_run_dir() {
	local pidfile
	pidfile=$({ tr '\0' '\n' <"/proc/$1/cmdline"; } 2>/dev/null | grep -A1 -x -- -pidfile | tail -n1)
	dirname "$pidfile"
}

# vmt_wait_guest PID: sets qemu and dir once the guest of netns/vm PID runs
# its command (its heartbeat exists); qemu is empty when netns/vm ended or
# 300 s passed first
vmt_wait_guest() {
	local pid=$1 i
	qemu="" dir=""
	for i in $(seq 1 600); do
		kill -0 "$pid" 2>/dev/null || break
		if qemu=$(vmt_qemu_of "$pid") && dir=$(vmt_run_dir "$qemu") && [[ -e "$dir/out/alive" ]]; then
			return 0
		fi
		qemu=""
		sleep 0.5
	done
	echo "no guest after $((i / 2)) s"
}

# vmt_gone PID DIR SECONDS: PID is no longer running and DIR no longer
# exists within SECONDS
vmt_gone() {
	local pid=$1 dir=$2 deadline=$((SECONDS + $3))
	while ((SECONDS < deadline)); do
		if ! kill -0 "$pid" 2>/dev/null && [[ ! -e "$dir" ]]; then
			return 0
		fi
		sleep 0.2
	done
	return 1
}

vmt_end() {
	echo "$(basename "$0"): $failed failure(s)"
	((failed == 0))
}
