#include "recv-fd.h"

#include <poll.h>
#include <string.h>
#include <sys/socket.h>

int recv_fd(int channel, int timeout_ms)
{
	struct pollfd p = { .fd = channel, .events = POLLIN };
	if (poll(&p, 1, timeout_ms) != 1)
		return -1;
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = control.buf,
			      .msg_controllen = sizeof(control.buf) };
	if (recvmsg(channel, &msg, MSG_DONTWAIT) != 1)
		return -1;
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
	if (!cmsg || cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS)
		return -1;
	int fd;
	memcpy(&fd, CMSG_DATA(cmsg), sizeof(fd));
	return fd;
}
