# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
#
# benchmd_: the benches' tables as one generated file, build/bench.md (under
# MFP_CHARTS when set). Each bench writes its own section; bench.md is put
# together again after each, with the date, the kernel, the machine and the
# load it ran under, so that a figure is never read without them. The docs
# link this file; nobody copies figures out of it by hand.

benchmd_dir() {
	local dir=${MFP_CHARTS:-${MFP_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/build}
	mkdir -p "$dir/bench.d"
	(cd "$dir" && pwd)
}

# the load right now, as uptime says it ("load average: 1.02, 0.80, 0.55")
benchmd_load() { uptime | sed 's/.*load average/load average/'; }

# benchmd_section NAME TITLE: the section's markdown comes on stdin
benchmd_section() {
	local name=$1 title=$2 dir
	dir=$(benchmd_dir)
	{
		echo "## $title"
		echo
		echo "Generated $(date -u '+%Y-%m-%d %H:%M UTC') by \`$name\`; $(benchmd_load) at the end."
		echo
		cat
		echo
	} >"$dir/bench.d/$name.md"
	benchmd_assemble "$dir"
}

benchmd_assemble() {
	local dir=$1 name cpu
	cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
	{
		echo "# mptcp-fdpass bench results"
		echo
		echo "Written by \`make bench\`; do not edit. Kernel $(uname -r) ($(uname -m)),"
		echo "${cpu:-unknown CPU}, $(nproc) CPU(s); each section says when it ran and the"
		echo "load then. Ratios come from interleaved rounds and hold better than the"
		echo "absolute figures on a busy machine."
		echo
		for name in connect-latency path-aggregation unequal-paths failover-gap; do
			[[ ! -f "$dir/bench.d/$name.md" ]] || cat "$dir/bench.d/$name.md"
		done
	} >"$dir/bench.md"
}
