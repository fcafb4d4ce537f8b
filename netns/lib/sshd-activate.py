# SPDX-License-Identifier: BSD-3-Clause
#
# sshd-activate.py PORT COMMAND...: socket activation the way systemd does
# it for Debian's ssh.socket (Accept=no) with SocketProtocol=mptcp: MPTCP
# listeners on PORT (IPv4 and IPv6) passed as descriptors 3 and 4 with
# LISTEN_FDS and LISTEN_PID, to COMMAND ("sshd -D ...", which Debian builds
# with sd_listen_fds()), run in this process as systemd runs it in the
# service's. Used by sshd_start activated (netns/lib/sshd.sh), inside a test
# namespace.
import fcntl
import os
import socket
import sys

IPPROTO_MPTCP = 262
SD_LISTEN_FDS_START = 3


def listener(family, address, port):
    s = socket.socket(family, socket.SOCK_STREAM, IPPROTO_MPTCP)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind((address, port))
    s.listen(128)
    return s


def main():
    port, command = int(sys.argv[1]), sys.argv[2:]
    socks = [listener(socket.AF_INET, "0.0.0.0", port), listener(socket.AF_INET6, "::", port)]
    # out of the way first, so that moving one to 3 or 4 never closes another
    orig = [s.detach() for s in socks]
    high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 64) for fd in orig]
    for fd in orig:
        os.close(fd)
    for i, fd in enumerate(high):
        os.dup2(fd, SD_LISTEN_FDS_START + i, inheritable=True)
        os.close(fd)
    env = {
        "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
        "LISTEN_FDS": str(len(socks)),
        "LISTEN_PID": str(os.getpid()),
        "LISTEN_FDNAMES": ":".join(["ssh.socket"] * len(socks)),
    }
    os.execve(command[0], command, env)


main()
