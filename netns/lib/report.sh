# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
#
# report_: what happened between two moments, per path and per connection.
# report_mark takes a moment (counters, interface bytes, every TCP
# connection's packets and bytes in the routers, fault hits, path manager
# events); the report_*_data functions give what moved since, one record a
# line for programs and tests; report_text puts it in words for people.
# Files live in the work dir (MFP_DIR); a lab's state dir is one.

# report_size BYTES: "512 B", "12.0 KiB", "8.0 MiB"
report_size() {
	awk -v b="$1" 'BEGIN {
		if (b < 10240) printf "%d B", b; else if (b < 1048576) printf "%.1f KiB", b / 1024
		else printf "%.1f MiB", b / 1048576 }'
}

# report_acct_setup PATH: PATH's router counts every TCP connection's packets
# and bytes per direction, keyed by its original tuple, after the faults
# (what the router let through), in a table next to the faults' ("inet
# mfp"). The sets have no timeout: a closed subflow keeps its figures.
report_acct_setup() {
	ns_exec "rtr$1" nft -f - <<-'EOF'
		table inet mfpacct {
			set up4 { type ipv4_addr . inet_service . ipv4_addr . inet_service; flags dynamic; counter; size 65535; }
			set down4 { type ipv4_addr . inet_service . ipv4_addr . inet_service; flags dynamic; counter; size 65535; }
			set up6 { type ipv6_addr . inet_service . ipv6_addr . inet_service; flags dynamic; counter; size 65535; }
			set down6 { type ipv6_addr . inet_service . ipv6_addr . inet_service; flags dynamic; counter; size 65535; }
			chain acct {
				type filter hook forward priority filter + 10; policy accept;
				meta l4proto tcp ct direction original update @up4 { ct original ip saddr . ct original proto-src . ct original ip daddr . ct original proto-dst }
				meta l4proto tcp ct direction reply update @down4 { ct original ip saddr . ct original proto-src . ct original ip daddr . ct original proto-dst }
				meta l4proto tcp ct direction original update @up6 { ct original ip6 saddr . ct original proto-src . ct original ip6 daddr . ct original proto-dst }
				meta l4proto tcp ct direction reply update @down6 { ct original ip6 saddr . ct original proto-src . ct original ip6 daddr . ct original proto-dst }
			}
		}
	EOF
}

# report_acct_dump: "PATH DIR CLIENT:PORT SERVER:PORT PACKETS BYTES" for
# every connection the routers counted (DIR: up is client to server). One
# listing of the table per router, its four sets in order: in an emulated
# guest every "ip netns exec" costs most of a second.
report_acct_dump() {
	local p
	[[ "$(topo_get routed)" == 1 ]] || return 0
	for p in $(topo_paths); do
		ns_exec "rtr$p" nft list table inet mfpacct 2>/dev/null |
			awk -v p="$p" '
				BEGIN { RS = "[ \t\n,{}]+" }
				# each word, and the set (up4, down6, ...) it stands in
				{ t[++n] = $0; set[n] = (n > 1 && t[n - 1] == "set") ? $0 : set[n - 1] }
				END {
					for (i = 8; i + 4 <= n; i++) {
						if (t[i] != "counter" || t[i + 1] != "packets") continue
						d = substr(set[i], 1, length(set[i]) - 1)
						if (set[i] ~ /6$/) { s = "[" t[i - 7] "]"; c = "[" t[i - 3] "]" }
						else { s = t[i - 7]; c = t[i - 3] }
						print p, d, s ":" t[i - 5], c ":" t[i - 1], t[i + 2], t[i + 4]
					}
				}'
	done
}

# report_mark: the moment the next report counts from
report_mark() {
	local role p name arg rx tx
	for role in cli srv; do
		obs_nstat "$role" mark
		wc -l <"$MFP_DIR/monitor.$role" >"$MFP_DIR/monitor.$role.mark" 2>/dev/null ||
			echo 0 >"$MFP_DIR/monitor.$role.mark"
	done
	for p in $(topo_paths); do
		read -r rx tx <<<"$(link_bytes cli "$p" both)"
		echo "$p $tx $rx"
	done >"$MFP_DIR/bytes.mark"
	report_acct_dump >"$MFP_DIR/acct.mark"
	mfp_now_ms >"$MFP_DIR/time.mark"
	while read -r name p arg; do
		[[ -z "$name" ]] || echo "$name $p $(fault_hits "$p" "$name")"
	done <<<"$(fault_active)" >"$MFP_DIR/hits.mark"
}

# report_since: seconds since the mark, "1.23"
report_since() { mfp_since "$(cat "$MFP_DIR/time.mark")"; }

# report_paths_data: "PATH CLIENT SERVER OUT_BYTES IN_BYTES" on the client's
# interface of each path
report_paths_data() {
	local p tx rx tx0 rx0
	for p in $(topo_paths); do
		read -r tx0 rx0 <<<"$(awk -v p="$p" '$1 == p { print $2, $3 }' "$MFP_DIR/bytes.mark")"
		read -r rx tx <<<"$(link_bytes cli "$p" both)"
		echo "$p $(link_ip cli "$p" 4) $(link_ip srv "$p" 4) $((tx - ${tx0:-0})) $((rx - ${rx0:-0}))"
	done
}

# report_conns_data: each TCP connection through a router that moved since
# the mark, "PATH CLIENT:PORT SERVER:PORT KIND UP_PKTS UP_BYTES DOWN_PKTS
# DOWN_BYTES" (KIND: MPTCP, MPTCP-join or TCP, from the client's path
# manager events)
report_conns_data() {
	local p c s rest
	report_acct_dump >"$MFP_DIR/acct.now"
	# FILENAME, not NR == FNR: the mark is empty right after a build
	awk 'FILENAME == ARGV[1] { seen[$1 " " $2 " " $3 " " $4] = $5 " " $6; next }
		{
			k = $1 " " $2 " " $3 " " $4
			split(seen[k], o, " ")
			dp = $5 - o[1]; db = $6 - o[2]
			if (dp == 0) next
			c = $1 " " $3 " " $4
			if (!(c in order)) order[c] = ++n
			key[order[c]] = c
			pk[c, $2] = dp; by[c, $2] = db
		}
		END {
			for (i = 1; i <= n; i++) {
				c = key[i]
				print c, pk[c, "up"] + 0, by[c, "up"] + 0, pk[c, "down"] + 0, by[c, "down"] + 0
			}
		}' "$MFP_DIR/acct.mark" "$MFP_DIR/acct.now" | sort -k1,1 -k2,2 |
		while read -r p c s rest; do
			echo "$p $c $s $(report_conn_kind "$c") $rest"
		done
}

# what the client's path manager said about the subflow from ADDR:PORT
report_conn_kind() {
	local addr=${1%:*} port=${1##*:}
	addr=${addr#[}
	addr=${addr%]}
	awk -v a="$addr" -v p="sport=$port" '
		{ hit = 0; for (i = 1; i <= NF; i++) { if ($i == p) hit++; if ($i ~ ("^saddr[46]=" a "$")) hit++ } }
		hit == 2 && /CREATED\]/ { k = "MPTCP" }
		hit == 2 && /SF_ESTABLISHED\]/ { k = "MPTCP-join" }
		END { print (k == "" ? "TCP" : k) }' "$MFP_DIR/monitor.cli" 2>/dev/null || echo "?"
}

# report_faults_data: "NAME[=ARG] PATH SINCE_MARK TOTAL" per active fault
# ("-" where the fault is no counted rule)
report_faults_data() {
	local name p arg now before
	while read -r name p arg; do
		[[ -n "$name" ]] || continue
		now=$(fault_hits "$p" "$name" 2>/dev/null) || now=-
		before=$(awk -v n="$name" -v p="$p" '$1 == n && $2 == p { print $3 }' "$MFP_DIR/hits.mark")
		if [[ "$now" =~ ^[0-9]+$ && "${before:-0}" =~ ^[0-9]+$ ]]; then
			echo "$name${arg:+=$arg} $p $((now - ${before:-0})) $now"
		else
			echo "$name${arg:+=$arg} $p - -"
		fi
	done <<<"$(fault_active)"
}

# report_moved ROLE FROM TO [REGEX]: "NAME DELTA" for each counter (matching
# REGEX) that moved between two obs_nstat snapshots
report_moved() {
	awk -v re="${4:-.}" 'NR == FNR { a[$1] = $2; next }
		/^#/ || $1 !~ re { next }
		$2 - a[$1] != 0 { print $1, $2 - a[$1] }' "$MFP_DIR/nstat.$1.$2" "$MFP_DIR/nstat.$1.$3" | sort
}

# the counters the report shows: MPTCP's and a few TCP ones
report_counter_re='^(MPTcp|TcpActiveOpens$|TcpPassiveOpens$|TcpAttemptFails$|TcpEstabResets$|TcpOutRsts$|TcpRetransSegs$|TcpExtTCPAbortOn)'

# report_counters_data: "NAME CLIENT_DELTA SERVER_DELTA" since the mark
# (files, not process substitution: a guest's /dev may have no /dev/fd)
report_counters_data() {
	local role
	for role in cli srv; do
		obs_nstat "$role" now
		report_moved "$role" mark now "$report_counter_re" >"$MFP_DIR/moved.$role"
	done
	join -a1 -a2 -e0 -o0,1.2,2.2 "$MFP_DIR/moved.cli" "$MFP_DIR/moved.srv"
}

# report_helper_data: "TAG STATUS" of every ssh through the helper that
# ended since the last call (its messages are in TAG.helper.err)
report_helper_data() {
	local f tag
	touch "$MFP_DIR/sessions.reported"
	for f in "$MFP_DIR"/*.helper.rc; do
		[[ -e "$f" ]] || continue
		tag=$(basename "$f" .helper.rc)
		! grep -qxF "$tag" "$MFP_DIR/sessions.reported" || continue
		echo "$tag" >>"$MFP_DIR/sessions.reported"
		echo "$tag $(cat "$f")"
	done
}

# report_events ROLE: the path manager's events since the mark
report_events() {
	local from
	from=$(cat "$MFP_DIR/monitor.$1.mark" 2>/dev/null || echo 0)
	tail -n +$((from + 1)) "$MFP_DIR/monitor.$1"
}

# report_captures LIST: the pcaps of a capture (obs_captures_start's LIST)
# and the packets in each
report_captures() {
	local dir role p
	dir=$(head -n1 "$1")
	echo "pcaps in $dir (read with: tcpdump -nr FILE):"
	while read -r role p _; do
		printf '  %-10s path %s, %s side of the router: %s packets\n' "$role-$p.pcap" "$p" \
			"$([[ "$role" == cli ]] && echo client || echo server)" "$(tcpdump -nr "$dir/$role-$p.pcap" 2>/dev/null | wc -l)"
	done <<<"$(tail -n +2 "$1")"
}

# report_paths_text addr|iface: report_paths_data's lines (stdin) in words,
# each path named by its addresses or by the client's interface
report_paths_text() {
	local p c s up_b down_b
	while read -r p c s up_b down_b; do
		[[ -n "$p" ]] || continue
		if [[ "$1" == iface ]]; then printf '  path %s  eth-%s' "$p" "$p"; else printf '  path %s  %s -> %s' "$p" "$c" "$s"; fi
		echo "  out $(report_size "$up_b"), in $(report_size "$down_b")"
	done
}

# report_subflows_text path|nopath: obs_subflow_bytes lines (stdin) in
# words, with or without the path each subflow took
report_subflows_text() {
	local c s up_b down_b
	while read -r c s up_b down_b; do
		[[ -n "$c" ]] || continue
		if [[ "$1" == path ]]; then
			printf '  path %s  %-24s -> %-18s' "$(link_path_of cli "${c%:*}")" "$c" "$s"
		else
			printf '  %-22s -> %-18s' "$c" "$s"
		fi
		echo " sent $(report_size "$up_b"), received $(report_size "$down_b")"
	done
}

# report_text TITLE: all of the above since the mark, in words; then a new
# mark
report_text() {
	local p c s kind up_p up_b down_p down_b name hits total n tag rc role out
	echo "== $1, the last $(report_since) s =="
	echo "paths (client interface, bytes on the wire):"
	report_paths_text addr <<<"$(report_paths_data)"
	echo "TCP connections per path (subflows; counted in the routers, after the faults):"
	out=$(report_conns_data)
	[[ -n "$out" ]] || echo "  none"
	while read -r p c s kind up_p up_b down_p down_b; do
		[[ -z "$p" ]] || printf '  path %s  %-22s -> %-18s %-16s up %s (%s pkts), down %s (%s pkts)\n' "$p" "$c" "$s" \
			"${kind/-/ }" "$(report_size "$up_b")" "$up_p" "$(report_size "$down_b")" "$down_p"
	done <<<"$out"
	echo "subflows open now (client, from the kernel's tcp_info):"
	out=$(obs_subflow_bytes cli 2>/dev/null) || out=""
	[[ -n "$out" ]] || echo "  none"
	report_subflows_text nopath <<<"$out"
	echo "faults:"
	out=$(report_faults_data)
	[[ -n "$out" ]] || echo "  none"
	while read -r name p hits total; do
		if [[ "$hits" == - ]]; then
			[[ -z "$name" ]] || printf '  %-20s path %s  (no packet counter)\n' "$name" "$p"
		else
			printf '  %-20s path %s  %s packets matched (%s in all)\n' "$name" "$p" "$hits" "$total"
		fi
	done <<<"$out"
	echo "counters that moved (client, server):"
	out=$(report_counters_data)
	[[ -n "$out" ]] || echo "  none"
	while read -r name c s; do
		[[ -z "$name" ]] || printf '  %-36s %8d %8d\n' "$name" "$c" "$s"
	done <<<"$out"
	echo "ssh sessions through the helper ($MPTCP_FDPASS):"
	out=$(report_helper_data)
	[[ -n "$out" ]] || echo "  none ended"
	while read -r tag rc; do
		[[ -n "$tag" ]] || continue
		printf '  %s: helper exit %s%s\n' "$tag" "$rc" \
			"$([[ -s "$MFP_DIR/$tag.helper.err" ]] && echo ", said:" || echo ", silent (MPTCP worked)")"
		[[ ! -s "$MFP_DIR/$tag.helper.err" ]] || sed 's/^/    /' "$MFP_DIR/$tag.helper.err"
	done <<<"$out"
	for role in cli srv; do
		report_events "$role" >"$MFP_DIR/events.$role"
		n=$(wc -l <"$MFP_DIR/events.$role")
		echo "path manager events ($role, ip mptcp monitor): $n"
		head -n 40 "$MFP_DIR/events.$role" | sed 's/^/  /'
		((n <= 40)) || echo "  ... and $((n - 40)) more in $MFP_DIR/monitor.$role"
	done
	report_mark
}
