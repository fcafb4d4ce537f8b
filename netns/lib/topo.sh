# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
#
# topo_: a whole topology from a short spec, for those that are not about
# their setup (the lab, the demo, the bench); a scenario about its setup
# builds it step by step with ns_, link_, ep_ and sshd_ instead. The state
# can be saved and loaded again by a later process (the lab's commands).
#
# topo_up SPEC...: words of
#   paths=1|2        path a, or paths a and b (default 2)
#   routed           every path through a router namespace (faults, counting)
#   endpoints=subflow|signal|none   (default: subflow with two paths)
#   server=mptcp|tcp|none           the sshd (default mptcp)
#   rate=RATE        tbf on both ends of every path (e.g. 100mbit)
#   capture=on|off   pcaps of every path from the start, as a scenario has
#                    them (default on; the lab captures when told to)
#   fault=NAME[=ARG][@PATH]   a named fault (fault_parse), once it is built
#                    (repeated for more)

declare -gA MFP__TOPO=()

# topo_check SPEC...: the spec is valid; otherwise the reason, status 1 ("KEY:
# why", or a word of a KEY), or status 2 for a fault that fault_parse refuses
# (its own words)
topo_check() {
	local w paths=2 endpoints="" faults=() p
	for w in "$@"; do
		case "$w" in
		paths=1 | paths=2) paths=${w#*=} ;;
		paths=*) echo "paths: 1 or 2, not '${w#*=}'"; return 1 ;;
		routed | server=mptcp | server=tcp | server=none | capture=on | capture=off) ;;
		server=*) echo "server: mptcp or tcp, not '${w#*=}'"; return 1 ;;
		endpoints=none | endpoints=subflow | endpoints=signal) endpoints=${w#*=} ;;
		endpoints=*) echo "endpoints: subflow, signal or none, not '${w#*=}'"; return 1 ;;
		rate=*)
			[[ "${w#*=}" =~ ^[0-9]+(\.[0-9]+)?[kKmMgG]?(bit|bps)$ ]] ||
				{ echo "rate: a tc rate such as 100mbit, not '${w#*=}'"; return 1; }
			;;
		fault=*) faults+=("${w#fault=}") ;;
		*) echo "topology: unknown word '$w'"; return 1 ;;
		esac
	done
	if [[ "$endpoints" == subflow || "$endpoints" == signal ]] && ((paths < 2)); then
		echo "endpoints $endpoints needs 2 paths"
		return 1
	fi
	for w in "${faults[@]}"; do
		w=$(fault_parse "$w") || { echo "$w"; return 2; }
		read -r _ p _ <<<"$w"
		[[ "$p" == a || "$paths" == 2 ]] || { echo "fault: no path $p with --paths $paths"; return 1; }
	done
}

topo_up() {
	local why w p name arg faults=()
	why=$(topo_check "$@") || mfp_fatal "$why"
	MFP__TOPO=([paths]=2 [routed]=0 [server]=mptcp [endpoints]="" [rate]="" [since]="$(mfp_now_ms)")
	for w in "$@"; do
		case "$w" in
		routed) MFP__TOPO[routed]=1 ;;
		fault=*) faults+=("$(fault_parse "${w#fault=}")") ;;
		*) MFP__TOPO[${w%%=*}]=${w#*=} ;;
		esac
	done
	# shellcheck disable=SC2034 # read by link_capture (link.sh)
	[[ "${MFP__TOPO[capture]:-on}" == on ]] || MFP__AUTO_CAPTURE=0
	if [[ -z "${MFP__TOPO[endpoints]}" ]]; then
		MFP__TOPO[endpoints]=none
		((MFP__TOPO[paths] == 1)) || MFP__TOPO[endpoints]=subflow
	fi
	ns_add cli
	ns_add srv
	for p in $(topo_paths); do
		if ((MFP__TOPO[routed])); then link_path "$p" routed; else link_path "$p"; fi
		if [[ -n "${MFP__TOPO[rate]}" ]]; then
			link_shape cli "$p" "${MFP__TOPO[rate]}"
			link_shape srv "$p" "${MFP__TOPO[rate]}"
		fi
	done
	topo_endpoints "${MFP__TOPO[endpoints]}"
	[[ "${MFP__TOPO[server]}" == none ]] || sshd_start "${MFP__TOPO[server]}"
	for w in "${faults[@]}"; do
		read -r name p arg <<<"$w"
		fault_apply "$name" "$p" "$arg"
	done
}

topo_endpoints() {
	case "$1" in
	subflow)
		ep_limits cli 2 2
		ep_limits srv 2 2
		ep_add cli b 4 subflow
		;;
	signal)
		ep_limits cli 2 1
		ep_limits srv 2 0
		ep_add srv b 4 signal
		;;
	esac
}

# topo_get KEY: paths, routed, server, endpoints or rate of the topology, or
# since: when topo_up began (mfp_now_ms)
topo_get() { echo "${MFP__TOPO[$1]:-}"; }

# the path letters of the topology
topo_paths() {
	local letters=(a b)
	echo "${letters[@]:0:${MFP__TOPO[paths]:-2}}"
}

# topo_has ROLE: ROLE's namespace is part of the topology
topo_has() { [[ " ${MFP__NS[*]} " == *" $(ns_name "$1") "* ]]; }

# topo_health: "up", or "broken: WHAT, ..."; an ordinary user gets what
# can be seen without entering the namespaces
topo_health() {
	local ns bad=()
	for ns in "${MFP__NS[@]}"; do
		[[ -e "/run/netns/$ns" ]] || bad+=("$ns missing")
	done
	if ((${#bad[@]} == 0 && EUID != 0)); then
		echo "up (namespaces present; sshd not checked: needs root)"
		return 0
	fi
	((${#bad[@]} > 0)) || [[ "${MFP__TOPO[server]:-none}" == none ]] || sshd_listening "${MFP__TOPO[server]}" ||
		bad+=("sshd not listening")
	if ((${#bad[@]} == 0)); then echo up; else
		local IFS=,
		echo "broken: ${bad[*]}"
	fi
}

# topo_save FILE [VAR...]: the topology and the run's id (and the caller's
# VARs) as declarations that topo_load makes global again
topo_save() {
	local file=$1
	shift
	{
		declare -p MFP_ID MFP__NS MFP__TOPO "$@"
		link_declare
	} |
		sed -e 's/^declare --/declare -g/' -e 't' -e 's/^declare -/declare -g/' >"$file.new"
	mv "$file.new" "$file"
}

# shellcheck source=/dev/null
topo_load() { source "$1"; }

# one line: the paths, addresses, namespaces, endpoints and rate
topo_describe() {
	local p out="" via
	for p in $(topo_paths); do
		via=""
		! link_routed "$p" || via=" -> rtr-$p"
		out+="${out:+, }path $p cli $(link_ip cli "$p" 4)$via -> srv $(link_ip srv "$p" 4)"
	done
	echo "$out; namespaces mfp-$MFP_ID-*; endpoints ${MFP__TOPO[endpoints]}${MFP__TOPO[rate]:+; ${MFP__TOPO[rate]} per path}"
}
