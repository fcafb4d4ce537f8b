/* The floor for connect-latency: only what a ProxyUseFdpass helper must do,
 * so that the bench can say how far a real helper is from it. An MPTCP
 * socket, a blocking connect to a numeric IPv4 address, the descriptor sent
 * over stdout, exit. No option parsing, no name resolution, no fallback, no
 * messages: a helper cannot be faster than this, built the same way.
 *
 *   floor HOST PORT   (HOST numeric IPv4; exits 1 on any failure) */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

int main(int argc, char *argv[])
{
	if (argc != 3)
		return 2;
	struct sockaddr_in sin = { .sin_family = AF_INET };
	sin.sin_port = htons((unsigned short)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &sin.sin_addr) != 1)
		return 2;
	int fd = socket(AF_INET, SOCK_STREAM, IPPROTO_MPTCP);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0)
		return 1;

	char byte = '\0';
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	memset(&control, 0, sizeof(control));
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	return sendmsg(STDOUT_FILENO, &msg, MSG_NOSIGNAL) == 1 ? 0 : 1;
}
