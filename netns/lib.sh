# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The end-to-end harness of mptcp-fdpass: real sshd, real ssh, the connector as
# its ProxyCommand, all inside throw-away network namespaces.
#
#   +----------- mfp-<id>-cli -----------+          +----------- mfp-<id>-srv -----------+
#   | ssh                                 |  path a  | sshd :22                          |
#   |  `- ProxyCommand $MPTCP_FDPASS %h %p| eth-a    | (MPTCP through mptcpize,          |
#   |                                     |----------|  or plain TCP)                    |
#   |  198.18.1.1  2001:db8:1::1          |          |  198.18.1.2  2001:db8:1::2        |
#   |                                     |  path b  |                                   |
#   |                                     | eth-b    |                                   |
#   |                                     |----------|                                   |
#   |  198.18.2.1  2001:db8:2::1          |          |  198.18.2.2  2001:db8:2::2        |
#   +-------------------------------------+          +-----------------------------------+
#
# A path may instead go through a router namespace of its own, where the
# middlebox faults (nftables) live and where shaping can be applied:
#
#   cli eth-a --- to-cli [ mfp-<id>-rtra ] to-srv --- eth-a srv
#   198.18.1.1    198.18.1.2        198.19.1.1        198.19.1.2
#   2001:db8:1::1 2001:db8:1::2     2001:db8:1:1::1   2001:db8:1:1::2
#
# Addresses come from the benchmarking range 198.18.0.0/15 and the IPv6
# documentation prefix: nothing here can be mistaken for a real network, and
# none of it exists outside our namespaces anyway.
#
# Each client address has its own routing table (policy rule "from ADDR"), so
# a subflow bound to path b leaves through path b even when it heads for the
# server's path-a address, which is what an MPTCP "subflow" endpoint does.
#
# The library is one file per prefix under netns/lib/, each readable on its
# own; this file holds the shared state and sources them all.
#
# Prefixes: ns_ namespaces, link_ veths/addresses/shaping, ep_ MPTCP limits and
# endpoints, fault_ middlebox rules and sysctls, sshd_ / ssh_ the real OpenSSH,
# obs_ kernel counters and captures, chart_ SVG charts of the bytes per path,
# check_ assertions, mfp_ the scenario's
# life (init, skip, finish), cleanup the one trap.
#
# A scenario sources this file, calls mfp_init, builds its topology, asserts
# with check_*, and ends with mfp_finish. Exit codes: 0 pass, 1 fail, 77 skip
# (a failure when CI=true).

MFP_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# The helper under test; may carry arguments ("nc -F"), so it is word-split
# into the ProxyCommand string, never quoted as one word. Under meson it
# arrives as "BUILT\nCALLER'S" when the caller set one (tests/netns/meson.build
# says why): the last line wins.
: "${MPTCP_FDPASS:=$MFP_TOP/build/src/mptcp-fdpass}"
MPTCP_FDPASS=${MPTCP_FDPASS##*$'\n'}
MFP_SSHD=/usr/sbin/sshd

MFP_NAME=${MFP_NAME:-$(basename "$0")}
MFP_ID=""
MFP_DIR=""
MFP_FAILS=0
MFP_NS=()
MFP_BG=()
MFP_GUARD_PID=""
MFP_SESSION_FD=""
MFP_SESSION_PID=""
MFP_TOOL_PID=""
# link_path captures every path from the start; the lab sets 0
MFP_AUTO_CAPTURE=1

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
# shellcheck source=SCRIPTDIR/lib/obs.sh
source "$MFP_TOP/netns/lib/obs.sh"
# shellcheck source=SCRIPTDIR/lib/chart.sh
source "$MFP_TOP/netns/lib/chart.sh"
# shellcheck source=SCRIPTDIR/lib/check.sh
source "$MFP_TOP/netns/lib/check.sh"
# shellcheck source=SCRIPTDIR/lib/cleanup.sh
source "$MFP_TOP/netns/lib/cleanup.sh"
