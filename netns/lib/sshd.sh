# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
#
# sshd_: a real /usr/sbin/sshd in the srv namespace, from a config, host key
# and authorized key generated in the work dir; MPTCP through mptcpize, or
# through MPTCP listeners passed to sshd as systemd's socket activation
# passes them (no LD_PRELOAD).

# sshd_start [mptcp|tcp|activated] [ROLE]: a real sshd in ROLE (srv by default), from
# a config generated here, with its own host key and root's authorized key in
# the work dir (sshd/ for srv, sshd-ROLE/ for another namespace: a jump host's
# target, say).
sshd_start() {
	local mode=${1:-mptcp} role=${2:-srv} dir srv pid log
	dir="$MFP_DIR/sshd"
	log="$MFP_DIR/sshd.log"
	if [[ "$role" != srv ]]; then
		dir="$MFP_DIR/sshd-$role"
		log="$MFP_DIR/sshd-$role.log"
	fi
	srv=$(ns_name "$role")
	mkdir -p "$dir"
	# privilege separation wants this directory; it is a plain empty dir
	[[ -d /run/sshd ]] || mkdir -m 0755 /run/sshd
	# without PAM, sshd refuses a locked account ("!" in shadow) even for a key
	if [[ "$(getent shadow root | cut -d: -f2)" == '!'* ]]; then
		mfp_skip "root's account is locked (shadow '!'): sshd with UsePAM no refuses it"
	fi
	ssh-keygen -q -t ed25519 -N '' -C mfp-host -f "$dir/host_ed25519"
	ssh_key
	cp "$MFP_DIR/client_ed25519.pub" "$dir/authorized_keys"
	sshd_config "$dir"
	case "$mode" in
	mptcp)
		# mptcpize turns sshd's TCP sockets into MPTCP ones (LD_PRELOAD)
		ip netns exec "$srv" mptcpize run "$MFP__SSHD" -D -e -f "$dir/sshd_config" \
			</dev/null >>"$log" 2>&1 &
		;;
	tcp)
		ip netns exec "$srv" "$MFP__SSHD" -D -e -f "$dir/sshd_config" \
			</dev/null >>"$log" 2>&1 &
		;;
	activated)
		# what systemd does for Debian's ssh.socket (Accept=no) with
		# SocketProtocol=mptcp: MPTCP listeners made for sshd, passed
		# as LISTEN_FDS (Debian's sshd takes them, sd_listen_fds); sshd
		# itself runs untouched (env -i: no LD_PRELOAD from anywhere)
		ip netns exec "$srv" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
			python3 "$MFP_TOP/netns/lib/sshd-activate.py" 22 \
			"$MFP__SSHD" -D -e -f "$dir/sshd_config" </dev/null >>"$log" 2>&1 &
		;;
	*) mfp_fatal "sshd_start: mode '$mode'" ;;
	esac
	pid=$!
	ns_bg_pid "$pid"
	if ! mfp_wait 10 sshd_listening "$mode" "$role"; then
		kill -0 "$pid" 2>/dev/null || mfp_fatal "sshd exited (see $log)"
		mfp_fatal "sshd not listening after 10 s"
	fi
}

# sshd_config DIR: DIR/sshd_config, for the host key and authorized keys in
# DIR: keys only, root allowed, no PAM, verbose logs, in-process SFTP
sshd_config() {
	cat >"$1/sshd_config" <<-EOF
		Port 22
		ListenAddress 0.0.0.0
		ListenAddress ::
		HostKey $1/host_ed25519
		AuthorizedKeysFile $1/authorized_keys
		PidFile none
		PermitRootLogin prohibit-password
		PubkeyAuthentication yes
		PasswordAuthentication no
		KbdInteractiveAuthentication no
		UsePAM no
		StrictModes no
		UseDNS no
		PrintMotd no
		PrintLastLog no
		X11Forwarding no
		AcceptEnv none
		# A command over ssh runs in root's shell, and bash reads
		# root's ~/.bashrc for it when it is the first shell (SHLVL):
		# that is the machine's, not the scenario's, and here it
		# started 67 programs (pyenv) per session, a large part of a
		# second each in an emulated guest. A terminal's login shell
		# still reads it.
		SetEnv SHLVL=1
		LogLevel VERBOSE
		# scp (SFTP since OpenSSH 9.0) and sftp need it; in-process, so
		# no path to an sftp-server binary that differs between releases
		Subsystem sftp internal-sftp
	EOF
}

# ready when the kernel shows the listener, for both families; with mptcp the
# listener must be an MPTCP one or the scenario would test nothing
sshd_listening() {
	local kind=-t l4 l6 role=${2:-srv}
	[[ "$1" == tcp ]] || kind=-M
	# polled: no "| wc -l" (under emulation each program costs)
	l4=$(ns_exec "$role" ss -Hln -f inet "$kind" 'sport = :22' 2>/dev/null)
	l6=$(ns_exec "$role" ss -Hln -f inet6 "$kind" 'sport = :22' 2>/dev/null)
	[[ -n "$l4" && -n "$l6" ]]
}
