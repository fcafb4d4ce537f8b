# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
#
# chart_: pictures of what the paths carried. A sampler reads one namespace's
# per-path interface byte counters every few tens of milliseconds; gnuplot
# turns the samples into an SVG: the bytes each path carried over time, or
# each path's throughput over time with the moment a path went down marked.
# The charts go to MFP_CHARTS (default: build/ at the top of the tree).
# Uses: ns_ (ns.sh), mfp_ (mfp.sh), ssh_ (ssh.sh), link_ (link.sh).

chart_dir() {
	local dir=${MFP_CHARTS:-$MFP_TOP/build}
	mkdir -p "$dir"
	(cd "$dir" && pwd)
}

# chart_sample_start ROLE NAME DIR PATH...: sample the DIR (rx or tx) byte
# counters of ROLE's path interfaces into NAME.samples, one line per sample:
# "milliseconds bytes_path1 bytes_path2 ..."; CHART_PID is the sampler. It
# runs in the namespace (the counters are only visible there), in one bash
# that reads the counters without forking, so the samples stay evenly spaced.
chart_sample_start() {
	local role=$1 name=$2 dir=$3
	shift 3
	local files=() p
	for p in "$@"; do
		files+=("/sys/class/net/eth-$p/statistics/${dir}_bytes")
	done
	# shellcheck disable=SC2016 # expanded by the sampler's bash
	ip netns exec "$(ns_name "$role")" bash -c '
		out=$1 interval=$2
		shift 2
		while :; do
			t=${EPOCHREALTIME//[!0-9]/}
			line=$((10#$t / 1000))
			for f in "$@"; do
				v=0
				read -r v <"$f" 2>/dev/null || v=0
				line+=" $v"
			done
			echo "$line" >>"$out"
			sleep "$interval"
		done
	' chart-sampler "$MFP_DIR/$name.samples" "${CHART_INTERVAL:-0.05}" "${files[@]}" </dev/null &
	CHART_PID=$!
	ns_bg_pid "$CHART_PID"
}

chart_sample_stop() {
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# chart_data NAME: NAME.dat from NAME.samples: seconds since the first
# sample, per path the MiB carried since then; then the middle of a window of
# WINDOW seconds (0.2: shorter ones show tbf's bursts, not the rate) and per
# path the throughput over it in Mbit/s. The rate is placed at the middle of
# its window so that a change shows where it happened, not a window later.
chart_data() {
	awk -v w="${CHART_WINDOW:-0.2}" '
		{ t[NR] = $1; n = NF - 1; for (i = 1; i <= n; i++) b[NR, i] = $(i + 1) }
		END {
			j = 1
			for (r = 1; r <= NR; r++) {
				while (j < r && (t[r] - t[j + 1]) / 1000 >= w) j++
				line = sprintf("%.3f", (t[r] - t[1]) / 1000)
				for (i = 1; i <= n; i++) line = line sprintf(" %.3f", (b[r, i] - b[1, i]) / 1048576)
				dt = (t[r] - t[j]) / 1000
				line = line sprintf(" %.3f", ((t[r] + t[j]) / 2 - t[1]) / 1000)
				for (i = 1; i <= n; i++)
					line = line sprintf(" %.1f", dt > 0 ? (b[r, i] - b[j, i]) * 8 / dt / 1e6 : 0)
				print line
			}
		}' "$MFP_DIR/$1.samples" >"$MFP_DIR/$1.dat"
}

# the gnuplot preamble shared by every chart
chart_preamble() {
	cat <<-EOF
		set terminal svg size 900,500 dynamic enhanced font "sans,13" background rgb "white"
		set output "$1"
		set title "$2" noenhanced
		set xlabel "time since ssh started (s)"
		set grid
		set key top left box opaque
		set style line 1 lw 2.5 lc rgb "#1f77b4"
		set style line 2 lw 2.5 lc rgb "#d62728"
		set style line 3 lw 1.5 lc rgb "#555555" dt 2
	EOF
}

# "100mbit" as people write it
chart_rate_text() { sed -E 's/^([0-9.]+)mbit$/\1 Mbit\/s/; s/^([0-9.]+)gbit$/\1 Gbit\/s/' <<<"$1"; }

# chart_bytes NAME OUT TITLE: bytes per path (paths a and b), and their sum
chart_bytes() {
	local name=$1 out=$2 title=$3
	chart_data "$name"
	{
		chart_preamble "$out" "$title"
		cat <<-EOF
			set ylabel "data carried (MiB)"
			set yrange [0:*]
			plot "$MFP_DIR/$name.dat" using 1:(\$2+\$3) with lines ls 3 title "both paths together", \\
			     "" using 1:2 with lines ls 1 title "path a", \\
			     "" using 1:3 with lines ls 2 title "path b"
		EOF
	} | gnuplot 2>"$MFP_DIR/$name.gnuplot.err" || mfp_fatal "gnuplot failed: $(head -n 3 "$MFP_DIR/$name.gnuplot.err")"
}

# chart_rates [--ylabel=TEXT] [--cut-label=TEXT] [--more=GNUPLOT] NAME OUT
# TITLE CUT: throughput per path over time; CUT, in seconds since the first
# sample, marks when path a went down (--cut-label says how); --more adds
# gnuplot commands (labels, shading)
chart_rates() {
	local ylabel="throughput (Mbit/s)" cut_label="path a goes down" more="" name out title cut
	while [[ "$1" == --* ]]; do
		case "$1" in
		--ylabel=*) ylabel=${1#*=} ;;
		--cut-label=*) cut_label=${1#*=} ;;
		--more=*) more=${1#*=} ;;
		*) mfp_fatal "chart_rates: unknown option '$1'" ;;
		esac
		shift
	done
	name=$1 out=$2 title=$3 cut=$4
	chart_data "$name"
	{
		chart_preamble "$out" "$title"
		[[ -z "$more" ]] || printf '%s\n' "$more"
		cat <<-EOF
			set ylabel "$ylabel"
			set yrange [0:*]
			set arrow 1 from $cut, graph 0 to $cut, graph 1 nohead lw 2 lc rgb "black" dt 3
			set label 1 "$cut_label" at $cut, graph 0.55 offset 0.7,0 left
			plot "$MFP_DIR/$name.dat" using 4:5 with lines ls 1 title "path a", \\
			     "" using 4:6 with lines ls 2 title "path b"
		EOF
	} | gnuplot 2>"$MFP_DIR/$name.gnuplot.err" || mfp_fatal "gnuplot failed: $(head -n 3 "$MFP_DIR/$name.gnuplot.err")"
}

# chart_failover TAG HOST SIZE OUT SUBTITLE: upload SIZE bytes over a session
# to HOST, take path a down when half has reached the server, and chart each
# path's throughput (client side) with the cut marked. Sets CHART_OK to 1 when
# the server received every byte, and CHART_REST to the seconds the rest took.
# Path a stays down: this is the last thing a topology does.
chart_failover() {
	local tag=$1 host=$2 size=$3 out=$4 subtitle=$5 data start cut feeder sampler first
	# read by the caller
	# shellcheck disable=SC2034
	CHART_OK=0
	CHART_REST=""
	data=$(mfp_data "$tag.bin" "$size")
	start=$(link_rx_sum srv a b)
	chart_sample_start cli "$tag" tx a b
	sampler=$CHART_PID
	ssh_open "$tag" "$host" "head -c $size | sha256sum; exec cat >/dev/null"
	ssh_feed "$data" &
	feeder=$!
	ns_bg_pid "$feeder"
	if mfp_wait 60 link_rx_reached srv $((start + size / 2)) a b; then
		cut=$(mfp_now_ms)
		link_down cli a
		# the link went down somewhere in the time "ip" took
		cut=$(((cut + $(mfp_now_ms)) / 2))
		if ssh_expect "$tag" ' -$' 90 && [[ "$(ssh_remote_sha "$tag")" == "$(mfp_sha "$data")" ]]; then
			# shellcheck disable=SC2034
			CHART_OK=1
		fi
		CHART_REST=$(mfp_since "$cut")
	fi
	wait "$feeder" || true
	# shellcheck disable=SC2034
	ssh_close || CHART_OK=0
	sleep 0.3 # the chart shows path a staying at zero
	chart_sample_stop "$sampler"
	[[ -n "$CHART_REST" ]] || return 0
	# the cut on the samples' clock
	first=$(awk 'NR == 1 { print $1 }' "$MFP_DIR/$tag.samples")
	chart_rates "$tag" "$out" \
		"ssh upload of $((size >> 20)) MiB through mptcp-fdpass ($subtitle)\\npath a taken down halfway: the session carries on over path b" \
		"$(awk -v c="$cut" -v f="$first" 'BEGIN { printf "%.3f", (c - f) / 1000 }')"
}
