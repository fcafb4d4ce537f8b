# mptcp-fdpass: build and test in Debian 12 (or another release).
#
#   docker build -t mptcp-fdpass .        (or: podman build ...)
#   docker build --build-arg RELEASE=13 -t mptcp-fdpass:13 .   (Debian 13)
#   docker run --rm --privileged mptcp-fdpass
#
# ci/container does both with whichever engine can, and runs the command in
# the image's filesystem with chroot where no engine can start a container.
#
# The tests create network namespaces, so the container must run with
# --privileged, and it shares the host's kernel, so the HOST must have MPTCP
# (/proc/sys/net/mptcp present, net.mptcp.enabled=1). Add -e CI=true to make
# a missing prerequisite a failure instead of a skip.
# The Debian release of the image: 12 (bookworm) or 13 (trixie).
ARG RELEASE=12
FROM debian:${RELEASE}

WORKDIR /src

# The project's own list of Debian packages (compiler, meson, criterion,
# iproute2, nftables, OpenSSH, mptcpize, tcpdump, ...). Copied alone first so
# that this layer is rebuilt only when the list changes.
COPY ci/deps /src/ci/deps
RUN ./ci/deps && rm -rf /var/lib/apt/lists/*

COPY . /src

# Built exactly as CI builds it (ci/run: warnings are errors, ASan and UBSan)
# into build-ci. A build directory copied from the host would point at the
# host's paths: start afresh.
RUN rm -rf build build-* && ./ci/run build

CMD ["make", "check", "BUILD=build-ci"]
