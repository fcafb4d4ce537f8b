/* The built program, run as ssh runs it: stdin and stdout on a socketpair. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <string.h>
#include <unistd.h>

#include "dial.h"
#include "helpers.h"
#include "mptcp.h"

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* Criterion hands parameters to a freshly executed worker: no pointers. */
struct usage_case {
	char argv[4][32];
	int argc;
};

ParameterizedTestParameters(cli, usage_errors_exit_64_with_one_line)
{
	static struct usage_case cases[] = {
		{ { "" }, 0 },
		{ { "host" }, 1 },
		{ { "host", "22", "x" }, 3 },
		{ { "host", "0" }, 2 },
		{ { "host", "65536" }, 2 },
		{ { "host", "99999" }, 2 },
		{ { "host", "-1" }, 2 },
		{ { "host", "22x" }, 2 },
		{ { "host", "nosuchservice" }, 2 },
		{ { "", "22" }, 2 },
		{ { "[10.0.0.1", "22" }, 2 },
		{ { "--bogus", "host", "22" }, 3 },
		{ { "-m", "bogus", "host", "22" }, 4 },
		{ { "-4", "-6", "host", "22" }, 4 },
	};
	return cr_make_param_array(struct usage_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct usage_case *c, cli, usage_errors_exit_64_with_one_line)
{
	struct run r;
	const char *argv[5] = { NULL };
	for (int i = 0; i < c->argc; i++)
		argv[i] = c->argv[i];
	run_connector(&r, argv);
	cr_expect_eq(r.status, 64, "exit %d for %d args '%s' '%s': %s", r.status, c->argc,
		     c->argv[0], c->argv[1], r.err);
	cr_expect_eq(count_lines(r.err), 1, "stderr: %s", r.err);
	cr_expect(strncmp(r.err, "mptcp-fdpass: error: ", 21) == 0, "stderr: %s", r.err);
	cr_expect_eq(r.passed_fd, -1, "nothing may be passed");
}

Test(cli, bad_values_are_named)
{
	struct run r;
	run_connector(&r, ARGS("host", "99999"));
	cr_expect(strstr(r.err, "'99999'"), "%s", r.err);
	run_connector(&r, ARGS("-m", "bogus", "host", "22"));
	cr_expect(strstr(r.err, "'bogus'"), "%s", r.err);
	run_connector(&r, ARGS("[10.0.0.1", "22"));
	cr_expect(strstr(r.err, "[10.0.0.1"), "%s", r.err);
}

Test(cli, unresolvable_name_exits_68)
{
	struct run r;
	run_connector(&r, ARGS("no-such-host.invalid", "22"));
	cr_expect_eq(r.status, 68, "%s", r.err);
	cr_expect(strstr(r.err, "no-such-host.invalid"), "%s", r.err);
	cr_expect_eq(r.passed_fd, -1);
}

Test(cli, refused_port_exits_69)
{
	char port[8];
	snprintf(port, sizeof(port), "%u", refused_port());
	struct run r;
	run_connector(&r, ARGS("127.0.0.1", port));
	cr_expect_eq(r.status, 69, "%s", r.err);
	cr_expect(strstr(r.err, "refused"), "%s", r.err);
	cr_expect_eq(count_lines(r.err), 1, "%s", r.err);
}

Test(cli, service_name_is_a_port)
{
	struct run r;
	/* Nothing listens on 127.0.0.1:22 here; "ssh" must still parse as 22. */
	run_connector(&r, ARGS("-v", "127.0.0.1", "ssh"));
	cr_expect_neq(r.status, 64, "%s", r.err);
	cr_expect(strstr(r.err, "127.0.0.1 port 22"), "%s", r.err);
}

static int protocol_of(int fd)
{
	int proto = 0;
	socklen_t len = sizeof(proto);
	cr_assert(getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) == 0);
	return proto;
}

struct mode_case {
	int listener;		/* IPPROTO_MPTCP or IPPROTO_TCP */
	char mode[8];
	bool quiet;
	int status;
	int passed_proto;	/* 0: nothing may be passed */
	size_t err_lines;
	char err_has[32];	/* "" for nothing to look for */
};

ParameterizedTestParameters(cli, each_mode_outcome)
{
	static struct mode_case cases[] = {
		{ IPPROTO_MPTCP, "prefer", false, 0, IPPROTO_MPTCP, 0, "" },
		{ IPPROTO_MPTCP, "require", false, 0, IPPROTO_MPTCP, 0, "" },
		{ IPPROTO_MPTCP, "off", false, 0, IPPROTO_TCP, 0, "" },
		{ IPPROTO_TCP, "prefer", false, 0, IPPROTO_MPTCP, 1, "fell back to plain TCP" },
		{ IPPROTO_TCP, "prefer", true, 0, IPPROTO_MPTCP, 0, "" },
		{ IPPROTO_TCP, "require", false, 76, 0, 1, "MPTCP required" },
		{ IPPROTO_TCP, "require", true, 76, 0, 1, "MPTCP required" },
		{ IPPROTO_TCP, "off", false, 0, IPPROTO_TCP, 0, "" },
	};
	return cr_make_param_array(struct mode_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct mode_case *c, cli, each_mode_outcome)
{
	uint16_t port;
	int l = listen_loopback(c->listener, &port);
	char port_text[8];
	snprintf(port_text, sizeof(port_text), "%u", port);
	const char *argv[6] = { "-m", c->mode, "127.0.0.1", port_text, NULL, NULL };
	if (c->quiet)
		argv[4] = "-q";
	struct run r;
	run_connector(&r, argv);

	const char *what = c->listener == IPPROTO_MPTCP ? "MPTCP" : "TCP";
	cr_expect_eq(r.status, c->status, "%s listener, -m %s%s: exit %d: %s", what,
		     c->mode, c->quiet ? " -q" : "", r.status, r.err);
	cr_expect_eq(count_lines(r.err), c->err_lines, "%s listener, -m %s%s: stderr: %s",
		     what, c->mode, c->quiet ? " -q" : "", r.err);
	if (c->err_has[0])
		cr_expect(strstr(r.err, c->err_has), "stderr: %s", r.err);
	if (c->passed_proto) {
		cr_assert(r.passed_fd >= 0, "no connection passed");
		cr_expect_eq(protocol_of(r.passed_fd), c->passed_proto);
		int status = mptcp_status_of(r.passed_fd, protocol_of(r.passed_fd) == IPPROTO_MPTCP, NULL);
		if (c->listener == IPPROTO_MPTCP && c->passed_proto == IPPROTO_MPTCP)
			cr_expect_eq(status, MPTCP_STATUS_ACTIVE);
		close(r.passed_fd);
	} else {
		cr_expect_eq(r.passed_fd, -1, "nothing may be passed");
	}
	close(l);
}

Test(cli, bracketed_ipv4_literal_connects)
{
	uint16_t port;
	int l = listen_loopback(IPPROTO_MPTCP, &port);
	char port_text[8];
	snprintf(port_text, sizeof(port_text), "%u", port);
	struct run r;
	run_connector(&r, ARGS("[127.0.0.1]", port_text));
	cr_expect_eq(r.status, 0, "%s", r.err);
	cr_expect_str_eq(r.err, "", "silent when MPTCP worked");
	cr_expect(r.passed_fd >= 0);
	close(r.passed_fd);
	close(l);
}

Test(cli, timeout_on_a_blackhole_exits_69)
{
	struct blackhole hole;
	blackhole_open(&hole);
	struct run r;
	int64_t t0 = dial_now_ms();
	run_connector(&r, ARGS("-t", "0.5", "127.0.0.1", hole.port_text));
	int64_t took = dial_now_ms() - t0;
	cr_expect_eq(r.status, 69, "%s", r.err);
	cr_expect(strstr(r.err, "timed out"), "%s", r.err);
	cr_expect_geq(took, 490);
	cr_expect_lt(took, 2000, "the deadline is the behaviour: took %lld ms", (long long)took);
	blackhole_close(&hole);
}

Test(cli, rescue_races_tcp_only_in_prefer_mode)
{
	struct blackhole hole;
	blackhole_open(&hole);
	struct run r;
	run_connector(&r, ARGS("-v", "--rescue-delay=0.2", "-t", "0.6", "127.0.0.1",
			       hole.port_text));
	cr_expect(strstr(r.err, "over TCP: MPTCP SYNs unanswered"), "%s", r.err);
	run_connector(&r, ARGS("-v", "-m", "require", "--rescue-delay=0.2", "-t", "0.6",
			       "127.0.0.1", hole.port_text));
	cr_expect_null(strstr(r.err, "over TCP"), "no TCP in require mode: %s", r.err);
	cr_expect_eq(r.status, 69);
	blackhole_close(&hole);
}

Test(cli, relays_when_stdout_is_not_a_socket)
{
	/* Covered end to end by the relay-mode scenario; here only that the
	 * program chooses the relay rather than failing with 71. */
	uint16_t port;
	int l = listen_loopback(IPPROTO_MPTCP, &port);
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "printf ping | %s 127.0.0.1 %u > /dev/null",
		 getenv("MPTCP_FDPASS_BIN"), port);
	FILE *p = popen(cmd, "r");
	cr_assert(p);
	struct pollfd incoming = { .fd = l, .events = POLLIN };
	cr_assert_eq(poll(&incoming, 1, 5000), 1, "the connector never connected");
	int server = accept(l, NULL, NULL);
	char buf[8] = { 0 };
	cr_assert_eq(read(server, buf, 4), 4);
	cr_expect_str_eq(buf, "ping");
	cr_expect_eq(read(server, buf, 1), 0, "stdin EOF reached the server as EOF");
	close(server);
	cr_expect_eq(pclose(p), 0);
	close(l);
}

Test(cli, bad_interface_is_one_line)
{
	struct run r;
	run_connector(&r, ARGS("-I", "mfpnosuch0", "127.0.0.1", "22"));
	cr_expect_eq(r.status, 69, "%s", r.err);
	cr_expect_eq(count_lines(r.err), 1, "%s", r.err);
	cr_expect(strstr(r.err, "mfpnosuch0"), "%s", r.err);
	run_connector(&r, ARGS("-b", "192.0.2.1", "127.0.0.1", "22"));
	cr_expect_eq(r.status, 69, "%s", r.err);
	cr_expect_eq(count_lines(r.err), 1, "%s", r.err);
	cr_expect(strstr(r.err, "192.0.2.1"), "%s", r.err);
}

Test(cli, a_newline_in_argv_stays_one_line)
{
	struct run r;
	run_connector(&r, ARGS("bad\nhost", "22"));
	cr_expect_eq(r.status, 64, "%s", r.err);
	cr_expect_eq(count_lines(r.err), 1, "%s", r.err);
	run_connector(&r, ARGS("-m", "x\ny", "host", "22"));
	cr_expect_eq(count_lines(r.err), 1, "%s", r.err);
}

Test(cli, bind_family_must_match_a_literal_host)
{
	struct run r;
	run_connector(&r, ARGS("-b", "::1", "127.0.0.1", "22"));
	cr_expect_eq(r.status, 64, "%s", r.err);
	cr_expect_eq(count_lines(r.err), 1, "%s", r.err);
}

Test(cli, closed_stderr_keeps_messages_out_of_the_connection)
{
	/* With fd 2 closed, socket() would return 2 and the fallback warning
	 * would travel to the server inside the TCP stream. */
	uint16_t port;
	int l = listen_loopback(IPPROTO_TCP, &port);
	char port_text[8];
	snprintf(port_text, sizeof(port_text), "%u", port);
	int sp[2];
	cr_assert(socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		dup2(sp[1], STDIN_FILENO);
		dup2(sp[1], STDOUT_FILENO);
		close(STDERR_FILENO);
		close(sp[0]);
		close(sp[1]);
		execl(getenv("MPTCP_FDPASS_BIN"), "mptcp-fdpass", "127.0.0.1", port_text, NULL);
		_exit(127);
	}
	close(sp[1]);
	int status;
	cr_assert(waitpid(pid, &status, 0) == pid);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);
	int passed = recv_fd(sp[0], 1000);
	cr_expect(passed >= 0, "the connection was passed");
	int server = accept(l, NULL, NULL);
	cr_assert(server >= 0);
	struct pollfd p = { .fd = server, .events = POLLIN };
	cr_expect_eq(poll(&p, 1, 200), 0, "the server received bytes it never asked for");
	close(server);
	close(passed);
	close(sp[0]);
	close(l);
}

/* One error line that names exactly what was wrong, and nothing else. */
struct message_case {
	char argv[5][24];
	int argc;
	int status;
	char says[80];
};

ParameterizedTestParameters(cli, messages_name_the_right_thing)
{
	static struct message_case cases[] = {
		{ { "-xy", "host", "22" }, 3, 64, "unknown option '-x'" },
		{ { "-4x", "host", "22" }, 3, 64, "unknown option '-x'" },
		{ { "-vm" }, 1, 64, "option '-m' needs a value" },
		{ { "--quiet=1", "host", "22" }, 3, 64, "option '--quiet' takes no value" },
		{ { "--bogus=1", "host", "22" }, 3, 64, "option '--bogus'" },
		{ { "-1", "host", "22" }, 3, 64, "bad port '-1'" },
		{ { "-b", "nonsense", "host", "22" }, 4, 64, "bad bind address 'nonsense'" },
		{ { "-b", "[::1", "host", "22" }, 4, 64, "bad bind address '[::1'" },
		{ { "-b", "", "host", "22" }, 4, 64, "empty bind address" },
		{ { "-b", "fe80::1", "host", "22" }, 4, 64, "needs its zone" },
		{ { "fe80::1", "22" }, 2, 64, "link-local host 'fe80::1' needs its zone" },
		{ { "-4", "::1", "22" }, 3, 64, "IPv6 address, but -4 allows IPv4 only" },
		{ { "-6", "127.0.0.1", "22" }, 3, 64, "IPv4 address, but -6 allows IPv6 only" },
		{ { "-b", "::1", "127.0.0.1", "22" }, 4, 64, "but the -b address allows IPv6" },
		{ { "-t", "-9.3e15", "host", "22" }, 4, 64, "must be from 0.001 to 86400 seconds" },
	};
	return cr_make_param_array(struct message_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct message_case *c, cli, messages_name_the_right_thing)
{
	struct run r;
	const char *argv[6] = { NULL };
	for (int i = 0; i < c->argc; i++)
		argv[i] = c->argv[i];
	run_connector(&r, argv);
	cr_expect_eq(r.status, c->status, "%s: exit %d: %s", c->argv[0], r.status, r.err);
	cr_expect_eq(count_lines(r.err), 1, "%s", r.err);
	cr_expect(strstr(r.err, c->says), "%s: wanted '%s' in: %s", c->argv[0], c->says, r.err);
	cr_expect_null(strstr(r.err, "bad host"), "%s", r.err);
	cr_expect_eq(r.passed_fd, -1);
}

static int run_into_full_disk(const char *option)
{
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		int full = open("/dev/full", O_WRONLY);
		int null = open("/dev/null", O_WRONLY);
		dup2(full, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		execl(getenv("MPTCP_FDPASS_BIN"), "mptcp-fdpass", option, NULL);
		_exit(127);
	}
	int status;
	cr_assert(waitpid(pid, &status, 0) == pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

Test(cli, help_and_version_into_a_full_disk_fail)
{
	cr_expect_eq(run_into_full_disk("--help"), 71);
	cr_expect_eq(run_into_full_disk("--version"), 71);
}

Test(cli, a_long_timeout_is_printed_in_plain_seconds)
{
	/* A blackhole and -t 1000 would take 1000 s; the same formatter says
	 * how long the resolver and the race took, so check it on the range
	 * message, which prints the 86400 s bound through it. */
	struct run r;
	run_connector(&r, ARGS("-t", "100000", "host", "22"));
	cr_expect(strstr(r.err, "to 86400 seconds"), "%s", r.err);
	cr_expect_null(strstr(r.err, "e+"), "%s", r.err);
}

Test(cli, mptcp_refused_with_a_reset_gets_one_tcp_attempt)
{
	/* Nothing listens: the MPTCP SYN is answered with a reset, one plain
	 * TCP attempt follows at once, is refused too, and that is exit 69 in
	 * both modes. (A reset for MPTCP alone needs a firewall rule: the
	 * mptcp-syn-reset netns scenario.) */
	char port_text[8];
	snprintf(port_text, sizeof(port_text), "%u", refused_port());
	const char *modes[] = { "prefer", "require" };
	for (size_t i = 0; i < 2; i++) {
		struct run r;
		run_connector(&r, ARGS("-v", "-m", modes[i], "127.0.0.1", port_text));
		cr_expect_eq(r.status, 69, "%s: %s", modes[i], r.err);
		cr_expect(strstr(r.err, "over TCP: the MPTCP SYN was answered with a reset"),
			  "%s: %s", modes[i], r.err);
	}
	struct run r;
	run_connector(&r, ARGS("-v", "-m", "off", "127.0.0.1", port_text));
	cr_expect_null(strstr(r.err, "answered with a reset"), "no MPTCP, no retry: %s", r.err);
}

/* ---- resource pressure: the documented status and one line ---- */

struct pressure_case {
	char what[40];
	int spare_fds;		/* descriptors left free by RLIMIT_NOFILE; -1: no limit */
	bool to_full_disk;	/* stdout /dev/full (relay) instead of a socketpair */
	char host[16];
	int status;
	size_t err_lines;
	char err_has[48];
};

ParameterizedTestParameters(cli, resource_pressure)
{
	static struct pressure_case cases[] = {
		/* ld.so takes the one spare descriptor for libc and gives it back */
		{ "one spare descriptor", 1, false, "127.0.0.1", 0, 0, "" },
		{ "one spare, a name to look up", 1, false, "localhost", 0, 0, "" },
		{ "relay into a full disk", -1, true, "127.0.0.1", 71, 1, "No space left on device" },
	};
	return cr_make_param_array(struct pressure_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct pressure_case *c, cli, resource_pressure)
{
	uint16_t port;
	int l = listen_loopback(IPPROTO_MPTCP, &port);
	char port_text[8];
	snprintf(port_text, sizeof(port_text), "%u", port);
	int sp[2], err[2];
	cr_assert(socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0);
	cr_assert(pipe(err) == 0);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		int out = c->to_full_disk ? open("/dev/full", O_WRONLY) : sp[1];
		dup2(c->to_full_disk ? open("/dev/null", O_RDONLY) : sp[1], STDIN_FILENO);
		dup2(out, STDOUT_FILENO);
		dup2(err[1], STDERR_FILENO);
		for (int fd = 3; fd < 1024; fd++)
			close(fd);
		if (c->spare_fds >= 0) {
			struct rlimit lim = { (rlim_t)(3 + c->spare_fds), (rlim_t)(3 + c->spare_fds) };
			setrlimit(RLIMIT_NOFILE, &lim);
		}
		execl(getenv("MPTCP_FDPASS_BIN"), "mptcp-fdpass", c->host, port_text, NULL);
		_exit(127);
	}
	close(sp[1]);
	close(err[1]);
	if (c->to_full_disk) {
		/* bytes for the relay to write: the server greets, as sshd does */
		struct pollfd p = { .fd = l, .events = POLLIN };
		cr_assert_eq(poll(&p, 1, 5000), 1, "%s: the helper never connected", c->what);
		int a = accept(l, NULL, NULL);
		cr_assert(a >= 0);
		cr_assert_eq(write(a, "SSH-2.0-x\r\n", 11), 11);
		close(a);
	}
	char text[4096];
	size_t used = 0;
	ssize_t n;
	while (used + 1 < sizeof(text) && (n = read(err[0], text + used, sizeof(text) - 1 - used)) > 0)
		used += (size_t)n;
	text[used] = '\0';
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	int passed = recv_fd(sp[0], 0);
	cr_expect_eq(code, c->status, "%s: exit %d: %s", c->what, code, text);
	cr_expect_eq(count_lines(text), c->err_lines, "%s: stderr: %s", c->what, text);
	if (c->err_has[0])
		cr_expect(strstr(text, c->err_has), "%s: stderr: %s", c->what, text);
	if (c->status == 0 && !c->to_full_disk)
		cr_expect_geq(passed, 0, "%s: nothing passed", c->what);
	if (passed >= 0)
		close(passed);
	close(sp[0]);
	close(err[0]);
	close(l);
}
