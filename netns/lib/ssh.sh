# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
#
# ssh_: a real ssh in the cli namespace with the helper under test as its
# ProxyCommand (through a wrapper that keeps the helper's stderr and exit
# status); one-shot runs and sessions that stay open while a scenario looks.

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
			# one line per run: ControlMaster's sessions are counted so
			echo "$$" >>"$tag.helper.runs"
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

# ssh_argv [OPTION...] TAG HOST: the ssh command line, in the array
# SSH_ARGV. Options (also taken by ssh_run, ssh_open and ssh_push):
#   --args=HELPER_OPTIONS  to the helper, word by word, before %h %p
#                          (e.g. "-m require")
#   --helper=COMMAND       another helper than $MPTCP_FDPASS (word-split)
#   --relay                ProxyUseFdpass no: ssh gives pipes, the helper
#                          relays
#   --tty                  no -T: the harness's ssh never wants a terminal,
#                          a person at the lab may
#   --opt=WORD             an ssh option word of the caller's (repeated),
#                          before the harness's: ssh keeps the first value
ssh_argv() {
	local hargs="" helper=$MPTCP_FDPASS fdpass=yes tty=(-T) opts=() tag host wrap
	while [[ "$1" == --* ]]; do
		case "$1" in
		--args=*) hargs=${1#--args=} ;;
		--opt=*) opts+=("${1#--opt=}") ;;
		--helper=*) helper=${1#--helper=} ;;
		--relay) fdpass=no ;;
		--tty) tty=() ;;
		*) mfp_fatal "ssh_argv: unknown option '$1'" ;;
		esac
		shift
	done
	tag=$1 host=$2
	# the old ways, through the environment, would be silently ignored now
	[[ -z "${MFP_HELPER_ARGS+set}" ]] || mfp_fatal "MFP_HELPER_ARGS is not read: pass ssh_run/ssh_open/ssh_argv --args='$MFP_HELPER_ARGS'"
	[[ -z "${MFP_PROXY_FDPASS+set}" ]] || mfp_fatal "MFP_PROXY_FDPASS is not read: pass ssh_run/ssh_open/ssh_argv --relay"
	wrap=$(ssh_wrapper)
	ssh_key
	# IPQoS none: ssh would set IPV6_TCLASS/IP_TOS on the passed socket; that
	# is a TCP-level option the MPTCP socket may refuse (see
	# tests/netns/mptcp-two-paths-v6), and it is not what we are testing.
	SSH_ARGV=(ssh "${opts[@]}" -F none "${tty[@]}"
		-i "$MFP_DIR/client_ed25519"
		-o IdentitiesOnly=yes -o BatchMode=yes
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o GlobalKnownHostsFile=/dev/null
		-o LogLevel=ERROR -o IPQoS="${MFP_IPQOS:-none}"
		-o ConnectTimeout="$(mfp_slow 20)" -o ServerAliveInterval=0
		-o ProxyUseFdpass="$fdpass" -p "${MFP_SSH_PORT:-22}"
		-o "ProxyCommand='$wrap' '$MFP_DIR/$tag' $helper${hargs:+ $hargs} %h %p"
		"root@$host")
}

# ssh_config [OPTION...] TAG [FILE]: the options of ssh_argv as a config
# file (default MFP_DIR/ssh_config), for the programs that run ssh themselves
# (scp, sftp, rsync -e, git); prints its path. Options: ssh_argv's --args,
# --helper and --relay, and --head=TEXT: "Host *" comes last, so that a
# scenario may put its own Host blocks (TEXT) first (ssh takes the first
# value it reads).
ssh_config() {
	local hargs="" helper=$MPTCP_FDPASS fdpass=yes head="" tag file wrap
	while [[ "$1" == --* ]]; do
		case "$1" in
		--args=*) hargs=${1#--args=} ;;
		--helper=*) helper=${1#--helper=} ;;
		--relay) fdpass=no ;;
		--head=*) head=${1#--head=} ;;
		*) mfp_fatal "ssh_config: unknown option '$1'" ;;
		esac
		shift
	done
	tag=$1 file=${2:-$MFP_DIR/ssh_config}
	[[ -z "${MFP_SSH_CONFIG_HEAD+set}" ]] || mfp_fatal "MFP_SSH_CONFIG_HEAD is not read: pass ssh_config --head=TEXT"
	wrap=$(ssh_wrapper)
	ssh_key
	{
		[[ -z "$head" ]] || printf '%s\n' "$head"
		cat <<-EOF
			Host *
			  User root
			  Port ${MFP_SSH_PORT:-22}
			  IdentityFile $MFP_DIR/client_ed25519
			  IdentitiesOnly yes
			  BatchMode yes
			  StrictHostKeyChecking no
			  UserKnownHostsFile /dev/null
			  GlobalKnownHostsFile /dev/null
			  LogLevel ERROR
			  IPQoS ${MFP_IPQOS:-none}
			  ConnectTimeout $(mfp_slow 20)
			  ServerAliveInterval 0
			  ProxyUseFdpass $fdpass
			  ProxyCommand '$wrap' '$MFP_DIR/$tag' $helper${hargs:+ $hargs} %h %p
		EOF
	} >"$file"
	echo "$file"
}

# ssh_tool [--dir=DIR] TAG COMMAND...: a program that runs ssh itself (scp,
# rsync, git) in the cli namespace, in DIR (default: the work dir); stdout to
# TAG.out, stderr to TAG.err; returns its status. Bounded like ssh_run.
ssh_tool() {
	local rc=0
	ssh_tool_start "$@"
	ssh_tool_wait || rc=$?
	return "$rc"
}

# ssh_tool_start [--dir=DIR] TAG COMMAND...: the same in the background, so
# that the scenario can break a path while it runs; ssh_tool_wait returns its
# status
ssh_tool_start() {
	local dir=$MFP_DIR tag
	[[ "$1" != --dir=* ]] || { dir=${1#--dir=}; shift; }
	[[ -z "${MFP_TOOL_DIR+set}" ]] || mfp_fatal "MFP_TOOL_DIR is not read: pass ssh_tool/ssh_tool_start --dir=DIR"
	tag=$1
	shift
	(cd "$dir" &&
		exec ip netns exec "$(ns_name cli)" timeout -k 5 "$(mfp_slow "${MFP_SSH_TIMEOUT:-60}")" "$@") \
		</dev/null >"$MFP_DIR/$tag.out" 2>"$MFP_DIR/$tag.err" &
	MFP__TOOL_PID=$!
}

ssh_tool_wait() {
	local rc=0
	mfp_wait_pid "$MFP__TOOL_PID" || rc=$?
	MFP__TOOL_PID=""
	return "$rc"
}

# ssh_run [OPTION...] TAG HOST [COMMAND...]: one ssh session (options: see
# ssh_argv); stdin is the caller's, stdout goes to TAG.out and ssh's stderr
# to TAG.ssh.err; returns ssh's status.
ssh_run() {
	local opts=() tag host rc=0
	while [[ "$1" == --* ]]; do opts+=("$1") && shift; done
	tag=$1 host=$2
	shift 2
	ssh_argv "${opts[@]}" "$tag" "$host"
	ip netns exec "$(ns_name cli)" timeout -k 5 "$(mfp_slow "${MFP_SSH_TIMEOUT:-60}")" "${SSH_ARGV[@]}" "$@" \
		<&0 >"$MFP_DIR/$tag.out" 2>"$MFP_DIR/$tag.ssh.err" &
	mfp_wait_pid "$!" || rc=$?
	return "$rc"
}

# ssh_open [OPTION...] TAG HOST COMMAND...: a session that stays open while
# the scenario looks at the kernel's sockets; its stdin is a fifo fed with
# ssh_feed and closed by ssh_close, its stdout goes to TAG.out.
ssh_open() {
	local opts=() tag host
	while [[ "$1" == --* ]]; do opts+=("$1") && shift; done
	tag=$1 host=$2
	shift 2
	ssh_argv "${opts[@]}" "$tag" "$host"
	rm -f "$MFP_DIR/$tag.in"
	mkfifo "$MFP_DIR/$tag.in"
	ip netns exec "$(ns_name cli)" timeout -k 5 "$(mfp_slow "${MFP_SSH_TIMEOUT:-60}")" "${SSH_ARGV[@]}" "$@" \
		<"$MFP_DIR/$tag.in" >"$MFP_DIR/$tag.out" 2>"$MFP_DIR/$tag.ssh.err" &
	MFP__SESSION_PID=$!
	ns_bg_pid "$MFP__SESSION_PID"
	exec {MFP__SESSION_FD}>"$MFP_DIR/$tag.in"
}

ssh_feed() {
	cat "$1" >&"$MFP__SESSION_FD" &
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
	kill -0 "$MFP__SESSION_PID" 2>/dev/null || return 0
	return 1
}

# close the session's stdin and return ssh's status
# the pid of the session ssh_open started (empty when none is open)
ssh_session_pid() { echo "$MFP__SESSION_PID"; }

# ssh_abort: end the open session's ssh now, for a scenario that knows its
# connection is dead (ssh would wait out its limit); ssh_close follows
ssh_abort() { [[ -z "${MFP__SESSION_PID:-}" ]] || kill "$MFP__SESSION_PID" 2>/dev/null || true; }

ssh_close() {
	local rc=0
	exec {MFP__SESSION_FD}>&-
	MFP__SESSION_FD=""
	wait "$MFP__SESSION_PID" || rc=$?
	MFP__SESSION_PID=""
	return "$rc"
}

# ssh_push [--subflows=N] [OPTION...] TAG HOST FILE [TIMEOUT]: open a
# session (options: see ssh_argv), send FILE, and wait until the server has
# hashed all of it. The session stays open so that the scenario can look
# at the sockets (ssh_close ends it).
ssh_push() {
	local opts=() subflows="" tag host file size
	while [[ "$1" == --* ]]; do
		if [[ "$1" == --subflows=* ]]; then subflows=${1#--subflows=}; else opts+=("$1"); fi
		shift
	done
	[[ -z "${MFP_PUSH_SUBFLOWS+set}" ]] || mfp_fatal "MFP_PUSH_SUBFLOWS is not read: pass ssh_push --subflows=$MFP_PUSH_SUBFLOWS"
	tag=$1 host=$2 file=$3
	size=$(stat -c %s "$file")
	ssh_open "${opts[@]}" "$tag" "$host" "head -c $size | sha256sum; exec cat >/dev/null"
	# --subflows=N: the paths under test must exist before the data goes; in
	# an emulated guest a join can come after a few MiB have passed
	if [[ -n "$subflows" ]] && ! mfp_wait 10 obs_subflows_at_least srv "$subflows"; then
		mfp_log "only $(obs_subflow_count srv) subflow(s) when the data went"
	fi
	# a dead ssh shows up as a missing hash, not as a failed write
	ssh_feed "$file" || true
	ssh_expect "$tag" ' -$' "${4:-60}"
}

# the hash that the server computed in ssh_push
ssh_remote_sha() { awk 'NR == 1 { print $1 }' "$MFP_DIR/$1.out" 2>/dev/null || true; }

# the helper's exit status and stderr for one run (the last, when TAG ran it
# more than once), and how many times TAG ran it
ssh_helper_rc() { cat "$MFP_DIR/$1.helper.rc" 2>/dev/null || echo none; }
ssh_helper_runs() { wc -l <"$MFP_DIR/$1.helper.runs" 2>/dev/null || echo 0; }
ssh_helper_err() { cat "$MFP_DIR/$1.helper.err" 2>/dev/null || true; }
