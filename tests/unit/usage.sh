# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The table of a tool's usage test (tests/unit/*-usage), as in vm-usage: each
# row runs the tool once on bad input and must end with the documented
# status, say why in exactly one line on stderr, and leave nothing behind.
# A tool runs from a copy of its file in a scratch tree whose neighbours
# (ci/deps, netns/vm, meson, make...) are stubs that only write down that
# they were called: a tool that starts work it should have refused is seen,
# and can damage nothing (`ci/run bogus` once deleted and rebuilt build-ci).
#
#   source "$(dirname "$0")/usage.sh"
#   usage_init TOOL...        copy TOOL (paths under the top) into the tree
#   usage_stub PATH [BODY]    a stub at PATH in the tree (default: exit 0)
#   expect [--user] STATUS PATTERN TOOL ARGS...
#   usage_done                the summary line and the exit status
# Environment of a row: `expect` runs in a subshell, so `VAR=x expect ...`
# sets VAR for that row alone. --user runs the row as nobody (setpriv) when
# the suite runs as root, as the user running it otherwise.
# Left behind: any file that appeared in the tree or in its build directory,
# any stub that was called. (Namespaces are not counted here: other runs on
# the machine make theirs meanwhile; the demo's rows look for their own.)

usage_top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
usage_work=$(mktemp -d)
trap 'rm -rf "$usage_work"' EXIT
usage_tree="$usage_work/tree"
usage_failed=0
usage_cases=0

usage_init() {
	local f
	mkdir -p "$usage_tree/build" "$usage_work/bin" "$usage_work/calls"
	touch "$usage_tree/build/build.ninja"
	mkdir -p "$usage_tree/build/src"
	printf '#!/bin/sh\nexit 0\n' >"$usage_tree/build/src/mptcp-fdpass"
	chmod 755 "$usage_tree/build/src/mptcp-fdpass"
	for f in "$@"; do
		mkdir -p "$usage_tree/$(dirname "$f")"
		cp "$usage_top/$f" "$usage_tree/$f"
	done
	# commands found on PATH: record the call, succeed
	for f in meson make apt-get dpkg-buildpackage lintian podman docker debootstrap \
		qemu-system-x86_64 ip tc nft; do
		usage_stub_cmd "$f"
	done
	# nobody must be able to read the tree and run its tools
	chmod -R a+rX "$usage_work"
	chmod a+rwx "$usage_work/calls"
}

# a stub at PATH (relative to the tree): records its call, runs BODY
usage_stub() {
	local path=$1 body=${2:-exit 0}
	mkdir -p "$usage_tree/$(dirname "$path")"
	printf '#!/bin/sh\necho "%s $*" >>"%s/calls/%s.$$"\n%s\n' "$path" "$usage_work" \
		"${path//\//_}" "$body" >"$usage_tree/$path"
	chmod 755 "$usage_tree/$path"
}

# a command on PATH: records its call; meson's lists are reading, not work
usage_stub_cmd() {
	local reads=""
	[[ "$1" != meson ]] || reads='case "$*" in *--list* | introspect*) exit 0 ;; esac'
	printf '#!/bin/sh\n%s\necho "%s $*" >>"%s/calls/%s.$$"\nexit 0\n' "$reads" "$1" "$usage_work" "$1" \
		>"$usage_work/bin/$1"
	chmod 755 "$usage_work/bin/$1"
}

# usage_await_pid PATTERN: the pid of the first process whose command line
# matches PATTERN (pgrep -f), waited for up to 10 s; nothing if none came
usage_await_pid() {
	local i found
	for ((i = 0; i < 100; i++)); do
		found=$(pgrep -f "$1" | head -n1 || true)
		[[ -z "$found" ]] || break
		sleep 0.1
	done
	echo "${found:-}"
}

# usage_await_gone PID TENTHS: waits up to TENTHS tenths of a second for PID
# to end; the status says whether it did (an empty PID never ran)
usage_await_gone() {
	local i
	[[ -n "$1" ]] || return 1
	for ((i = 0; i < $2; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	! kill -0 "$1" 2>/dev/null
}

usage_snapshot() {
	(cd "$usage_tree" && find . | sort)
}

# usage_nobody_path: the entries of PATH that nobody can search; root's PATH
# may hold a directory only root can enter (/root/bin), which would hide
# bash itself from a row run as nobody
usage_nobody_path() {
	local d out="" IFS=:
	for d in $PATH; do
		if setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/test -x "$d" 2>/dev/null; then
			out+="${out:+:}$d"
		fi
	done
	echo "${out:-/usr/bin:/bin}"
}

# expect [--user] STATUS PATTERN TOOL ARGS...
expect() {
	local as=() user="" want pattern tool rc=0 lines left calls
	if [[ "$1" == --user ]]; then
		# an ordinary user already, when the suite does not run as root
		((EUID != 0)) || as=(setpriv --reuid=65534 --regid=65534 --clear-groups
			env "PATH=$usage_work/bin:$(usage_nobody_path)")
		user=" (as an ordinary user)"
		shift
	fi
	want=$1 pattern=$2 tool=$3
	shift 3
	usage_cases=$((usage_cases + 1))
	rm -f "$usage_work/calls/"*
	usage_snapshot >"$usage_work/before"
	(cd "$usage_tree" && PATH="$usage_work/bin:$PATH" timeout 60 "${as[@]}" "./$tool" "$@" \
		</dev/null >"$usage_work/out" 2>"$usage_work/err") || rc=$?
	lines=$(wc -l <"$usage_work/err")
	usage_snapshot >"$usage_work/after"
	left=$(comm -13 "$usage_work/before" "$usage_work/after" | head -n3 | xargs)
	calls=$({ cat "$usage_work/calls/"* 2>/dev/null || true; } | head -n3 | xargs)
	# what a row left goes, so that the next row starts from the same tree
	comm -13 "$usage_work/before" "$usage_work/after" | (cd "$usage_tree" && xargs -r rm -rf --)
	if ((rc != want)) || ((lines != 1)) || ! grep -qE -- "$pattern" "$usage_work/err" ||
		[[ -n "$left" || -n "$calls" ]]; then
		echo "FAIL: $tool $*$user: status $rc (want $want), $lines stderr lines (want 1)," \
			"left: ${left:-nothing}, started: ${calls:-nothing}"
		sed 's/^/  | /' "$usage_work/err"
		usage_failed=$((usage_failed + 1))
	else
		echo "ok: $tool $*$user: $rc, $(cat "$usage_work/err")"
	fi
}

# usage_root_rows WHAT CHECK...: whether the root rows about WHAT can run
# here: as root, where CHECK (a command) succeeds. Where they cannot (not
# root, or a package build's chroot without namespaces) one line says so,
# and under CI=true that is a failure, as for the scenarios.
usage_root_rows() {
	local what=$1
	shift
	((EUID == 0)) && "$@" >/dev/null 2>&1 && return 0
	if [[ "${CI:-}" == true ]]; then
		echo "FAIL: $what: cannot run here ($( ((EUID == 0)) && echo "$* failed" || echo "not root")), and CI=true"
		usage_failed=$((usage_failed + 1))
	else
		echo "not run: $what ($( ((EUID == 0)) && echo "$* failed" || echo "not root"))"
	fi
	return 1
}

usage_done() {
	echo "$(basename "$0"): $((usage_cases - usage_failed)) of $usage_cases cases as documented"
	((usage_failed == 0))
}
