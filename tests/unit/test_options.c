#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <net/if.h>
#include <string.h>

#include "options.h"

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])) - 1)

static enum parse_result parse(struct options *o, int argc, const char *const argv[])
{
	return options_parse(argc, (char **)argv, o);
}

/* Criterion hands parameters to a freshly executed worker: no pointers. */
struct bad_case {
	char argv[8][32];
	int argc;
};

ParameterizedTestParameters(options, rejects_bad_input)
{
	static struct bad_case cases[] = {
		{ { "mfp" }, 1 },				/* no arguments */
		{ { "mfp", "host" }, 2 },			/* one argument */
		{ { "mfp", "host", "22", "extra" }, 4 },	/* three */
		{ { "mfp", "host", "0" }, 3 },
		{ { "mfp", "host", "65536" }, 3 },
		{ { "mfp", "host", "99999" }, 3 },
		{ { "mfp", "host", "-1" }, 3 },
		{ { "mfp", "host", "22x" }, 3 },
		{ { "mfp", "host", "nosuchservice" }, 3 },
		{ { "mfp", "host", "" }, 3 },
		{ { "mfp", "host", "+22" }, 3 },
		{ { "mfp", "", "22" }, 3 },			/* empty host */
		{ { "mfp", "[10.0.0.1", "22" }, 3 },		/* unbalanced */
		{ { "mfp", "10.0.0.1]", "22" }, 3 },
		{ { "mfp", "[]", "22" }, 3 },
		{ { "mfp", "bad host", "22" }, 3 },
		{ { "mfp", "--bogus", "host", "22" }, 4 },
		{ { "mfp", "-x", "host", "22" }, 4 },
		{ { "mfp", "-m", "bogus", "host", "22" }, 5 },
		{ { "mfp", "-4", "-6", "host", "22" }, 5 },
		{ { "mfp", "-t", "0", "host", "22" }, 5 },
		{ { "mfp", "-t", "-1", "host", "22" }, 5 },
		{ { "mfp", "-t", "soon", "host", "22" }, 5 },
		{ { "mfp", "-t", "nan", "host", "22" }, 5 },
		{ { "mfp", "--rescue-delay=61", "host", "22" }, 4 },
		{ { "mfp", "-b", "not-an-address", "host", "22" }, 5 },
		{ { "mfp", "-4", "-b", "::1", "host", "22" }, 6 },
		{ { "mfp", "-I", "an-interface-name-too-long", "host", "22" }, 5 },
		{ { "mfp", "-q", "-v", "host", "22" }, 5 },
		{ { "mfp", "host", "22", "-m" }, 4 },	/* missing value */
		{ { "mfp", "-t", "-9.3e15", "host", "22" }, 5 },	/* beyond int64 ms */
		{ { "mfp", "-t", "1e300", "host", "22" }, 5 },
		{ { "mfp", "-4", "::1", "22" }, 4 },		/* literal of the wrong family */
		{ { "mfp", "-6", "127.0.0.1", "22" }, 4 },
		{ { "mfp", "-b", "fe80::1", "host", "22" }, 5 },	/* link-local, no zone */
		{ { "mfp", "fe80::1", "22" }, 3 },
		{ { "mfp", "--format=json", "host", "22" }, 4 },	/* without --check */
		{ { "mfp", "--check", "--format=xml", "host", "22" }, 5 },
		{ { "mfp", "--check", "--format=", "host", "22" }, 5 },
		{ { "mfp", "--check", "--format" }, 3 },
		{ { "mfp", "--wait=5", "host", "22" }, 4 },	/* without --check */
		{ { "mfp", "--check", "--wait=61", "host", "22" }, 5 },	/* beyond a minute */
		{ { "mfp", "--check", "--wait=-1", "host", "22" }, 5 },
		{ { "mfp", "--check", "--wait=soon", "host", "22" }, 5 },
		{ { "mfp", "--check", "--wait" }, 3 },
	};
	return cr_make_param_array(struct bad_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct bad_case *c, options, rejects_bad_input)
{
	struct options o;
	const char *argv[9] = { NULL };
	for (int i = 0; i < c->argc; i++)
		argv[i] = c->argv[i];
	cr_expect_eq(parse(&o, c->argc, argv), PARSE_USAGE, "argv[1]='%s' argv[2]='%s'",
		     argv[1] ? argv[1] : "", argv[2] ? argv[2] : "");
}

Test(options, defaults)
{
	struct options o;
	const char *argv[] = { "mfp", "example.org", "22", NULL };
	cr_assert_eq(parse(&o, ARGC(argv), argv), PARSE_RUN);
	cr_expect_str_eq(o.host, "example.org");
	cr_expect_eq(o.port, 22);
	cr_expect_str_eq(o.port_text, "22");
	cr_expect_eq(o.family, AF_UNSPEC);
	cr_expect_eq(o.mode, MPTCP_PREFER);
	cr_expect_eq(o.log_level, LOG_NORMAL);
	cr_expect_eq(o.timeout_ms, 0);
	cr_expect_eq(o.rescue_delay_ms, RESCUE_DELAY_DEFAULT_MS);
	cr_expect(o.keepalive);
	cr_expect(!o.has_bind);
	cr_expect_str_eq(o.interface, "");
}

Test(options, check_and_its_format)
{
	struct options o;
	const char *plain[] = { "mfp", "host", "22", NULL };
	cr_assert_eq(parse(&o, ARGC(plain), plain), PARSE_RUN);
	cr_expect(!o.check);
	cr_expect(!o.json);
	const char *text[] = { "mfp", "--check", "host", "22", NULL };
	cr_assert_eq(parse(&o, ARGC(text), text), PARSE_RUN);
	cr_expect(o.check);
	cr_expect(!o.json);
	const char *json[] = { "mfp", "--format=json", "--check", "-v", "host", "22", NULL };
	cr_assert_eq(parse(&o, ARGC(json), json), PARSE_RUN);
	cr_expect(o.check);
	cr_expect(o.json);
	const char *back[] = { "mfp", "--check", "--format", "json", "--format=text", "host", "22",
			       NULL };
	cr_assert_eq(parse(&o, ARGC(back), back), PARSE_RUN);
	cr_expect(!o.json, "the last --format wins");
}

Test(options, check_and_its_wait)
{
	struct options o;
	const char *plain[] = { "mfp", "--check", "host", "22", NULL };
	cr_assert_eq(parse(&o, ARGC(plain), plain), PARSE_RUN);
	cr_expect_eq(o.check_wait_ms, CHECK_WAIT_DEFAULT_MS);
	cr_expect_eq(o.check_wait_ms, 2000, "the man page says 2 seconds");
	const char *longer[] = { "mfp", "--check", "--wait=20", "host", "22", NULL };
	cr_assert_eq(parse(&o, ARGC(longer), longer), PARSE_RUN);
	cr_expect_eq(o.check_wait_ms, 20000);
	const char *none[] = { "mfp", "--wait", "0", "--check", "host", "22", NULL };
	cr_assert_eq(parse(&o, ARGC(none), none), PARSE_RUN);
	cr_expect_eq(o.check_wait_ms, 0, "0: report the subflows there are at once");
	const char *most[] = { "mfp", "--check", "--wait=0.25", "--wait=60", "host", "22", NULL };
	cr_assert_eq(parse(&o, ARGC(most), most), PARSE_RUN);
	cr_expect_eq(o.check_wait_ms, 60000, "the last --wait wins, up to a minute");
}

Test(options, service_name_port)
{
	uint16_t port = 0;
	cr_assert(options_parse_port("ssh", &port));
	cr_expect_eq(port, 22);
}

Test(options, port_bounds)
{
	uint16_t port = 0;
	cr_expect(options_parse_port("1", &port) && port == 1);
	cr_expect(options_parse_port("65535", &port) && port == 65535);
	cr_expect(options_parse_port("00022", &port) && port == 22);
	cr_expect(!options_parse_port("655350", &port));
	cr_expect(!options_parse_port("99999999999999999999", &port));
}

Test(options, host_brackets)
{
	char host[NI_MAXHOST];
	cr_assert(options_parse_host("host", "[10.0.0.1]", host, sizeof(host)));
	cr_expect_str_eq(host, "10.0.0.1");
	cr_assert(options_parse_host("host", "[2001:db8::1]", host, sizeof(host)));
	cr_expect_str_eq(host, "2001:db8::1");
	cr_assert(options_parse_host("host", "fe80::1%eth0", host, sizeof(host)));
	cr_expect_str_eq(host, "fe80::1%eth0");
	cr_expect(!options_parse_host("host", "[[::1]]", host, sizeof(host)));
	cr_expect(!options_parse_host("host", "a\tb", host, sizeof(host)));
}

Test(options, host_too_long)
{
	char name[NI_MAXHOST + 10];
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	char host[NI_MAXHOST];
	cr_expect(!options_parse_host("host", name, host, sizeof(host)));
}

Test(options, seconds_round_up_and_bounds)
{
	int64_t ms = -1;
	cr_expect(options_parse_seconds("t", "1.5", 1, 10000, &ms) && ms == 1500);
	cr_expect(options_parse_seconds("t", "0.0001", 1, 10000, &ms) && ms == 1);
	cr_expect(options_parse_seconds("t", "0", 0, 10000, &ms) && ms == 0);
	cr_expect(!options_parse_seconds("t", "0", 1, 10000, &ms));
	cr_expect(!options_parse_seconds("t", "11", 1, 10000, &ms));
	cr_expect(!options_parse_seconds("t", "1s", 1, 10000, &ms));
	cr_expect(!options_parse_seconds("t", " 1", 1, 10000, &ms));
	cr_expect(!options_parse_seconds("t", "inf", 1, 10000, &ms));
	cr_expect(!options_parse_seconds("t", "", 1, 10000, &ms));
}

Test(options, every_option)
{
	struct options o;
	const char *argv[] = { "mfp", "-6", "--mptcp=require", "-t", "2.5", "--rescue-delay",
			       "0", "-b", "::1", "-I", "lo", "--no-keepalive", "-v",
			       "[::1]", "ssh", NULL };
	cr_assert_eq(parse(&o, ARGC(argv), argv), PARSE_RUN);
	cr_expect_eq(o.family, AF_INET6);
	cr_expect_eq(o.mode, MPTCP_REQUIRE);
	cr_expect_eq(o.timeout_ms, 2500);
	cr_expect_eq(o.rescue_delay_ms, 0);
	cr_expect(o.has_bind);
	cr_expect_eq(o.bind_addr.ss_family, AF_INET6);
	cr_expect_str_eq(o.interface, "lo");
	cr_expect(!o.keepalive);
	cr_expect_eq(o.log_level, LOG_VERBOSE);
	cr_expect_str_eq(o.host, "::1");
	cr_expect_eq(o.port, 22);
}

Test(options, bind_sets_family)
{
	struct options o;
	const char *argv[] = { "mfp", "-b", "127.0.0.1", "host", "22", NULL };
	cr_assert_eq(parse(&o, ARGC(argv), argv), PARSE_RUN);
	cr_expect_eq(o.family, AF_INET);
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&o.bind_addr;
	cr_expect_eq(sin->sin_port, 0);
	cr_expect_eq(ntohl(sin->sin_addr.s_addr), INADDR_LOOPBACK);
}

Test(options, options_after_operands)
{
	struct options o;
	const char *argv[] = { "mfp", "host", "22", "-q", "-m", "off", NULL };
	cr_assert_eq(parse(&o, ARGC(argv), argv), PARSE_RUN);
	cr_expect_eq(o.log_level, LOG_QUIET);
	cr_expect_eq(o.mode, MPTCP_OFF);
}

Test(options, help_and_version)
{
	struct options o;
	const char *help[] = { "mfp", "--help", NULL };
	const char *version[] = { "mfp", "-V", NULL };
	cr_expect_eq(parse(&o, ARGC(help), help), PARSE_HELP);
	cr_expect_eq(parse(&o, ARGC(version), version), PARSE_VERSION);
}

Test(options, seconds_are_printed_without_exponent)
{
	char buf[32];
	options_format_seconds(1000000, buf, sizeof(buf));
	cr_expect_str_eq(buf, "1000");
	options_format_seconds(1500, buf, sizeof(buf));
	cr_expect_str_eq(buf, "1.5");
	options_format_seconds(250, buf, sizeof(buf));
	cr_expect_str_eq(buf, "0.25");
	options_format_seconds(86400001, buf, sizeof(buf));
	cr_expect_str_eq(buf, "86400.001");
}

Test(options, out_of_range_seconds_are_refused_not_converted)
{
	/* -9.3e15 s is -9.3e18 ms: beyond int64_t, so converting it first would
	 * be undefined behaviour (clang's float-cast-overflow). */
	int64_t ms = 42;
	cr_expect(!options_parse_seconds("t", "-9.3e15", 1, 10000, &ms));
	cr_expect(!options_parse_seconds("t", "9.3e15", 1, 10000, &ms));
	cr_expect(!options_parse_seconds("t", "-0.5", 0, 10000, &ms));
	cr_expect_eq(ms, 42, "untouched on error");
}

Test(options, link_local_bind_keeps_its_zone)
{
	struct options o;
	const char *argv[] = { "mfp", "-b", "fe80::1%lo", "fe80::2%lo", "22", NULL };
	cr_assert_eq(parse(&o, ARGC(argv), argv), PARSE_RUN);
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&o.bind_addr;
	cr_expect_eq(o.bind_addr.ss_family, AF_INET6);
	cr_expect_eq(sin6->sin6_scope_id, if_nametoindex("lo"));
	cr_expect_eq(o.bind_len, sizeof(struct sockaddr_in6));
}

Test(options, link_local_without_zone_takes_the_interface)
{
	struct options o;
	const char *argv[] = { "mfp", "-I", "lo", "-b", "fe80::1", "fe80::2", "22", NULL };
	cr_assert_eq(parse(&o, ARGC(argv), argv), PARSE_RUN);
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&o.bind_addr;
	cr_expect_eq(sin6->sin6_scope_id, if_nametoindex("lo"));
}

Test(options, a_half_read_cluster_does_not_leak_into_the_next_parse)
{
	struct options o;
	const char *bad[] = { "mfp", "-vxq", "host", "22", NULL };
	const char *good[] = { "mfp", "host", "22", NULL };
	cr_expect_eq(parse(&o, ARGC(bad), bad), PARSE_USAGE);
	cr_expect_eq(parse(&o, ARGC(good), good), PARSE_RUN);
	cr_expect_eq(o.log_level, LOG_NORMAL, "no -q from the earlier argv");
}
