# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The end-to-end harness of mptcp-fdpass: real sshd, real ssh, the connector as
# its ProxyCommand, all inside throw-away network namespaces. One run model
# for the scenarios, the lab, the demo and the bench, in five verbs:
# build (topo_, ns_, link_, ep_, sshd_), break (fault_, symptom_), drive
# (ssh_, helper_), look (obs_, probe_, report_, chart_), judge (check_,
# mfp_, cleanup). One file per prefix under netns/lib/.
#
# Public functions (arguments are explicit; options come first, --name=VALUE)
#   mfp_     init, preflight(_why), finish, skip, not_applicable, fatal, log,
#            wait, wait_pid, slow, now_ms, since, data, sha, require_tools,
#            artifacts_dir, short_dir (/tmp/mfp-<id>: unix socket paths),
#            in_guest, klog_start (in a netns/vm guest:
#            klog.sh's klog_mark, klog_check fail a run on the kernel's own
#            warnings), traps HANDLER, exit_status, new_id; a saved run (one
#            that outlives its builder, a lab): saved_new, saved_detach,
#            saved_wait, attach (a later process carries it on), lock, unlock
#   topo_    check SPEC, up SPEC (a whole topology: paths=1|2 routed
#            endpoints= server= rate= capture= fault=), get, paths, has, health,
#            describe, save FILE [VAR...], load FILE
#   ns_      add, name, exec, sysctl, strays, bg_pid
#   link_    path PATH [routed], hop A B PATH (a jump host's link), ip,
#            path_of, up, down, shape, delay, bytes, rx_sum, rx_reached,
#            routed, declare
#   ep_      limits, add
#   sshd_    start [mptcp|tcp|activated] [ROLE], listening, config DIR
#   fault_   parse NAME[=ARG][@PATH], names, apply, remove, active,
#            is_active, summary, list, hits, rule (a tagged rule), remove_tag,
#            sysctl; strip_mptcp, drop_syn, ooo_jump, ooo_mark, ... (the
#            faults' rules)
#   symptom_ bug, mode, check, check_eq, check_ge, fail, finish, and the
#            symptom-mode faults (tests/bugs only; source lib/symptom.sh)
#   ssh_     run, open, push, feed, expect, close, session_pid, argv
#            (--args= --helper= --relay --tty --opt=), config (the same options and
#            --head=TEXT, as an ssh_config file), tool, tool_start, tool_wait
#            (scp/rsync/git running ssh themselves; --dir=DIR), remote_sha,
#            helper_rc, helper_err, wrapper
#   helper_  run, start, wait: the helper without ssh (--in= --out= --timeout=);
#            file_server (an MPTCP peer that serves a file, for readers of
#            their own: tests/bugs)
#   obs_     nstat ROLE... LABEL, counter, has_counter, delta, listening,
#            mptcp_socks, subflows, subflow_bytes, subflow_count, subflows_at_least,
#            capture, capture_start, capture_wait (several started at once),
#            captures_start, captures_stop, collect
#   probe_   sysctl, counter_exists, counter, counter_reached, watch, nft,
#            qdisc: does this kernel have X, what does a counter say now
#   report_  mark, since, paths_data, conns_data, faults_data, counters_data,
#            helper_data, events, moved, size, text, captures, acct_setup,
#            acct_dump
#   chart_   dir, sample_start, sample_stop, bytes, failover, rate_text
#   open_    bug, check, check_eq, check_ge, need, need_eq, need_ge,
#            finish, counter_known (tests/open only; source lib/open.sh)
#   check    check, check_eq, check_ge, check_grep, check_count, check_delta,
#            check_ok, check_fail (each takes --note=TEXT first)
#   cleanup  the one EXIT trap; cleanup_guard (the reaper), cleanup_teardown,
#            cleanup_abandon, cleanup_saved_run, cleanup_ns, cleanup_alive
#
# Run values (set by the library, read by scenarios): MFP_TOP (the tree),
# MFP_NAME (the log prefix), MFP_ID (mfp-<id>-<role>), MFP_DIR (the work
# dir), SSH_ARGV (ssh_argv), HELPER_PID/HELPER_MS (helper_), CHART_PID,
# CHART_OK, CHART_REST (chart_). Private state is MFP__*: never set or read
# it outside netns/lib.
#
# User settings (environment; name, default, meaning):
#   MPTCP_FDPASS      build/src/mptcp-fdpass  the helper under test (may carry
#                                             arguments: word-split)
#   CI                (unset)     "true": a skip is a failure
#   MFP_ARTIFACTS     build/netns-artifacts   where failures keep their files
#   MFP_CAPTURE       1           0: no pcaps of every path from the start
#   MFP_SLOW          1 (10 under TCG)  how much hang-catching limits stretch
#   MFP_SSH_TIMEOUT   60          seconds before a hung ssh is ended
#   MFP_SSH_PORT      22          the server's ssh port
#   MFP_IPQOS         none        ssh's IPQoS
#   MFP_SYMPTOM       0           1: bug scenarios produce the symptom, must fail
#   MFP_CHARTS        build       where the SVG charts go
#   CHART_INTERVAL    0.05        seconds between chart samples
#   CHART_WINDOW      0.2         seconds per throughput point
#   MFP_NAME          the script's name   the log prefix
#   the lab's own: MFP_LAB, MFP_LAB_ROOT, MFP_LAB_ID, MFP_LAB_HOST,
#   MFP_HELPER_ARGS (netns/lab help)
#
# (no dirname: every lab command sources this, and under emulation each
# program costs a large part of a second)
MFP_TOP=${BASH_SOURCE[0]%/*}
[[ "$MFP_TOP" != "${BASH_SOURCE[0]}" ]] || MFP_TOP=.
MFP_TOP=$(cd "$MFP_TOP/.." && pwd)
# The helper under test; may carry arguments ("nc -F"), so it is word-split
# into the ProxyCommand string, never quoted as one word. Under meson it
# arrives as "BUILT\nCALLER'S" when the caller set one (tests/netns/meson.build
# says why): the last line wins.
: "${MPTCP_FDPASS:=$MFP_TOP/build/src/mptcp-fdpass}"
MPTCP_FDPASS=${MPTCP_FDPASS##*$'\n'}
MFP__SSHD=/usr/sbin/sshd

MFP_NAME=${MFP_NAME:-$(basename "$0")}
MFP_ID=""
MFP_DIR=""
MFP__FAILS=0
MFP__NS=()
MFP__BG=()
# commands cleanup_teardown runs first (cleanup_on_exit)
MFP__ON_EXIT=()
MFP__GUARD_PID=""
MFP__SESSION_FD=""
MFP__SESSION_PID=""
MFP__TOOL_PID=""
# link_path captures every path from the start; topo_up capture=off sets 0
MFP__AUTO_CAPTURE=1
# ROLE -> the pid of a sleeper in ROLE's namespace (probe_watch), whose
# /proc/PID/net probe_counter and link_bytes read without a program
declare -gA MFP__WATCH=()

# shellcheck source=SCRIPTDIR/lib/mfp.sh
source "$MFP_TOP/netns/lib/mfp.sh"
# shellcheck source=SCRIPTDIR/lib/ns.sh
source "$MFP_TOP/netns/lib/ns.sh"
# shellcheck source=SCRIPTDIR/lib/link.sh
source "$MFP_TOP/netns/lib/link.sh"
# shellcheck source=SCRIPTDIR/lib/ep.sh
source "$MFP_TOP/netns/lib/ep.sh"
# shellcheck source=SCRIPTDIR/lib/fault.sh
source "$MFP_TOP/netns/lib/fault.sh"
# shellcheck source=SCRIPTDIR/lib/sshd.sh
source "$MFP_TOP/netns/lib/sshd.sh"
# shellcheck source=SCRIPTDIR/lib/ssh.sh
source "$MFP_TOP/netns/lib/ssh.sh"
# shellcheck source=SCRIPTDIR/lib/helper.sh
source "$MFP_TOP/netns/lib/helper.sh"
# shellcheck source=SCRIPTDIR/lib/obs.sh
source "$MFP_TOP/netns/lib/obs.sh"
# shellcheck source=SCRIPTDIR/lib/probe.sh
source "$MFP_TOP/netns/lib/probe.sh"
# shellcheck source=SCRIPTDIR/lib/topo.sh
source "$MFP_TOP/netns/lib/topo.sh"
# shellcheck source=SCRIPTDIR/lib/report.sh
source "$MFP_TOP/netns/lib/report.sh"
# shellcheck source=SCRIPTDIR/lib/chart.sh
source "$MFP_TOP/netns/lib/chart.sh"
# shellcheck source=SCRIPTDIR/lib/check.sh
source "$MFP_TOP/netns/lib/check.sh"
# shellcheck source=SCRIPTDIR/lib/cleanup.sh
source "$MFP_TOP/netns/lib/cleanup.sh"
