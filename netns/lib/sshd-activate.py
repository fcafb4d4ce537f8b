# SPDX-License-Identifier: BSD-3-Clause
#
# sshd-activate.py PORT COMMAND...: socket activation the way systemd does
# it for a socket unit with SocketProtocol=mptcp and Accept=yes: MPTCP
# listeners on PORT (IPv4 and IPv6), and for each connection COMMAND
# ("sshd -i ...") started with the connection as its stdin and stdout. Used
# by sshd_start activated (netns/lib/sshd.sh), inside a test namespace.
import os
import selectors
import signal
import socket
import sys

IPPROTO_MPTCP = 262


def listener(family, address, port):
    s = socket.socket(family, socket.SOCK_STREAM, IPPROTO_MPTCP)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind((address, port))
    s.listen(64)
    return s


def serve(conn, command):
    pid = os.fork()
    if pid == 0:
        fd = conn.fileno()
        os.dup2(fd, 0)
        os.dup2(fd, 1)
        os.closerange(3, 256)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.execv(command[0], command)
    conn.close()


def main():
    port, command = int(sys.argv[1]), sys.argv[2:]
    # children are not waited for: the kernel reaps them
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    sel = selectors.DefaultSelector()
    for family, address in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
        sel.register(listener(family, address, port), selectors.EVENT_READ)
    while True:
        for key, _ in sel.select():
            conn, _ = key.fileobj.accept()
            serve(conn, command)


main()
