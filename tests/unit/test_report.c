/* The --check report's two forms: exact text and JSON for known facts, and
 * JSON string escaping for whatever bytes a host name or message holds. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

/* the report as report_write() writes it, in a heap string */
static char *format(const struct check_report *r, enum report_format f)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&buf, &size);
	cr_assert(out);
	cr_assert(report_write(out, r, f));
	fclose(out);
	return buf;
}

static char *json_string(const char *s)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&buf, &size);
	cr_assert(out);
	report_json_string(out, s);
	fclose(out);
	return buf;
}

/* an MPTCP connection with a second subflow on another path */
static void mptcp_report(struct check_report *r)
{
	memset(r, 0, sizeof(*r));
	r->host = "server.example";
	r->port = 22;
	r->resolved_count = 2;
	strcpy(r->resolved[0], "2001:db8:1::2");
	strcpy(r->resolved[1], "198.18.1.2");
	r->verdict = REPORT_MPTCP;
	r->exit_code = 0;
	strcpy(r->local.addr, "198.18.1.1");
	r->local.port = 40000;
	strcpy(r->remote.addr, "198.18.1.2");
	r->remote.port = 22;
	r->connect_ms = 3;
	r->socket_kind = "MPTCP";
	r->status = MPTCP_STATUS_ACTIVE;
	r->evidence = MPTCP_EVIDENCE_TCP_IS_MPTCP;
	r->have_info = true;
	r->info.subflows = 1;
	r->info.subflows_max = 2;
	r->info.add_addr_accepted_max = 2;
	r->info.local_addr_max = 1;
	r->subflows = 2;
	r->waited_ms = 12;
	r->wait_limit_ms = 2000;
	r->have_addrs = true;
	r->subflow_count = 2;
	r->subflow[0].local = r->local;
	r->subflow[0].remote = r->remote;
	strcpy(r->subflow[1].local.addr, "198.18.2.1");
	r->subflow[1].local.port = 41000;
	r->subflow[1].remote = r->remote;
}

Test(report, mptcp_as_text)
{
	struct check_report r;
	mptcp_report(&r);
	char *text = format(&r, REPORT_TEXT);
	cr_expect_str_eq(text,
		"check: server.example port 22\n"
		"resolved: 2001:db8:1::2\n"
		"resolved: 198.18.1.2\n"
		"connected: 198.18.1.1 port 40000 -> 198.18.1.2 port 22 over an MPTCP socket in 3 ms\n"
		"mptcp: MPTCP (evidence: TCP_IS_MPTCP)\n"
		"subflows: 2 after 12 ms (waited up to 2000 ms)\n"
		"subflow: 198.18.1.1 port 40000 -> 198.18.1.2 port 22\n"
		"subflow: 198.18.2.1 port 41000 -> 198.18.1.2 port 22\n"
		"server addresses accepted: 0 of at most 2 (the kernel tells how many, not which; "
		"a subflow to one shows it above)\n"
		"limits: 1 subflow endpoint(s) here, up to 2 more subflow(s)\n"
		"verdict: MPTCP\n");
	free(text);
}

Test(report, mptcp_as_json)
{
	struct check_report r;
	mptcp_report(&r);
	char *json = format(&r, REPORT_JSON);
	cr_expect_str_eq(json,
		"{\n"
		"  \"host\": \"server.example\",\n"
		"  \"port\": 22,\n"
		"  \"resolved\": [\"2001:db8:1::2\", \"198.18.1.2\"],\n"
		"  \"verdict\": \"MPTCP\",\n"
		"  \"mptcp\": true,\n"
		"  \"exit\": 0,\n"
		"  \"local\": {\"address\": \"198.18.1.1\", \"port\": 40000},\n"
		"  \"remote\": {\"address\": \"198.18.1.2\", \"port\": 22},\n"
		"  \"socket\": \"MPTCP\",\n"
		"  \"connect_ms\": 3,\n"
		"  \"status\": \"mptcp\",\n"
		"  \"evidence\": \"TCP_IS_MPTCP\",\n"
		"  \"reason\": null,\n"
		"  \"subflows\": {\"count\": 2, \"waited_ms\": 12, \"wait_limit_ms\": 2000, \"list\": "
		"[{\"local\": {\"address\": \"198.18.1.1\", \"port\": 40000}, \"remote\": "
		"{\"address\": \"198.18.1.2\", \"port\": 22}}, {\"local\": {\"address\": "
		"\"198.18.2.1\", \"port\": 41000}, \"remote\": {\"address\": \"198.18.1.2\", "
		"\"port\": 22}}]},\n"
		"  \"server_addresses_accepted\": 0,\n"
		"  \"limits\": {\"subflow_endpoints\": 1, \"subflows_max\": 2, "
		"\"add_addr_accepted_max\": 2},\n"
		"  \"advice\": null\n"
		"}\n");
	free(json);
}

Test(report, one_path_gives_the_advice)
{
	struct check_report r;
	mptcp_report(&r);
	r.info.local_addr_max = 0;
	r.info.add_addr_accepted_max = 0;
	r.subflows = 1;
	r.subflow_count = 1;
	r.advice = mptcp_path_advice(&r.info);
	cr_assert(r.advice);
	char *text = format(&r, REPORT_TEXT);
	cr_expect(strstr(text, "\nadvice: no MPTCP endpoints configured"), "%s", text);
	free(text);
	char *json = format(&r, REPORT_JSON);
	cr_expect(strstr(json, "\"advice\": \"no MPTCP endpoints configured"), "%s", json);
	free(json);
}

Test(report, no_subflow_addresses_on_an_older_kernel)
{
	struct check_report r;
	mptcp_report(&r);
	r.have_addrs = false;
	char *text = format(&r, REPORT_TEXT);
	cr_expect(strstr(text, "\nsubflow addresses: not told by this kernel"), "%s", text);
	cr_expect(!strstr(text, "\nsubflow: "), "%s", text);
	free(text);
	char *json = format(&r, REPORT_JSON);
	cr_expect(strstr(json, "\"list\": null}"), "%s", json);
	free(json);
}

Test(report, fallback_says_why_and_nothing_of_subflows)
{
	struct check_report r;
	mptcp_report(&r);
	r.verdict = REPORT_NOT_MPTCP;
	r.exit_code = 76;
	r.status = MPTCP_STATUS_FALLBACK;
	r.reason = "the server did not negotiate MPTCP";
	char *text = format(&r, REPORT_TEXT);
	cr_expect(strstr(text, "\nmptcp: fell back to TCP (evidence: TCP_IS_MPTCP)\n"
			       "why: the server did not negotiate MPTCP\n"
			       "verdict: not MPTCP\n"), "%s", text);
	cr_expect(!strstr(text, "subflow"), "%s", text);
	free(text);
	char *json = format(&r, REPORT_JSON);
	cr_expect(strstr(json, "\"verdict\": \"not MPTCP\",\n  \"mptcp\": false,\n  \"exit\": 76,"),
		  "%s", json);
	cr_expect(strstr(json, "\"status\": \"fallback\""), "%s", json);
	cr_expect(strstr(json, "\"reason\": \"the server did not negotiate MPTCP\"\n}"), "%s", json);
	cr_expect(!strstr(json, "subflows"), "%s", json);
	free(json);
}

Test(report, a_plain_tcp_socket_is_a_tcp_socket)
{
	struct check_report r;
	mptcp_report(&r);
	r.verdict = REPORT_NOT_MPTCP;
	r.exit_code = 76;
	r.socket_kind = "TCP";
	r.status = MPTCP_STATUS_TCP;
	r.reason = "MPTCP SYNs went unanswered";
	char *text = format(&r, REPORT_TEXT);
	cr_expect(strstr(text, "port 22 over a TCP socket in 3 ms\n"), "%s", text);
	free(text);
	char *json = format(&r, REPORT_JSON);
	cr_expect(strstr(json, "\"socket\": \"TCP\""), "%s", json);
	cr_expect(strstr(json, "\"status\": \"tcp\""), "%s", json);
	free(json);
}

Test(report, no_connection)
{
	struct check_report r;
	memset(&r, 0, sizeof(r));
	r.host = "192.0.2.1";
	r.port = 2222;
	r.resolved_count = 1;
	strcpy(r.resolved[0], "192.0.2.1");
	r.verdict = REPORT_NO_CONNECTION;
	r.error = "could not connect";
	r.exit_code = 69;
	char *text = format(&r, REPORT_TEXT);
	cr_expect_str_eq(text, "check: 192.0.2.1 port 2222\nresolved: 192.0.2.1\n"
			       "error: could not connect\nverdict: no connection\n");
	free(text);
	char *json = format(&r, REPORT_JSON);
	cr_expect_str_eq(json, "{\n  \"host\": \"192.0.2.1\",\n  \"port\": 2222,\n"
			       "  \"resolved\": [\"192.0.2.1\"],\n  \"verdict\": \"no connection\",\n"
			       "  \"mptcp\": false,\n  \"exit\": 69,\n"
			       "  \"error\": \"could not connect\"\n}\n");
	free(json);
}

Test(report, unresolved_name_lists_nothing)
{
	struct check_report r;
	memset(&r, 0, sizeof(r));
	r.host = "no-such-host.invalid";
	r.port = 22;
	r.verdict = REPORT_NO_CONNECTION;
	r.error = "the host name does not resolve";
	r.exit_code = 68;
	char *text = format(&r, REPORT_TEXT);
	cr_expect(strstr(text, "\nresolved: nothing\n"), "%s", text);
	free(text);
	char *json = format(&r, REPORT_JSON);
	cr_expect(strstr(json, "\"resolved\": [],"), "%s", json);
	free(json);
}

Test(report, more_addresses_than_kept_are_counted)
{
	struct check_report r;
	mptcp_report(&r);
	r.resolved_count = REPORT_MAX_RESOLVED + 3;
	char *text = format(&r, REPORT_TEXT);
	cr_expect(strstr(text, "\nresolved: ... 3 more\n"), "%s", text);
	free(text);
}

Test(report, json_escapes_what_json_forbids)
{
	struct {
		const char *in, *out;
	} cases[] = {
		{ "plain", "\"plain\"" },
		{ "", "\"\"" },
		{ "a\"b", "\"a\\\"b\"" },
		{ "a\\b", "\"a\\\\b\"" },
		{ "a\nb\rc\td", "\"a\\nb\\rc\\td\"" },
		{ "\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"" },
		{ "caf\xc3\xa9", "\"caf\xc3\xa9\"" },			/* UTF-8 stays */
		{ "\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\"" },	/* 4 bytes */
		{ "a\xff" "b", "\"a\\ufffdb\"" },			/* not UTF-8 */
		{ "\xc0\xaf", "\"\\ufffd\\ufffd\"" },			/* overlong */
		{ "\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"" },	/* a surrogate */
		{ "\xe2\x82", "\"\\ufffd\\ufffd\"" },			/* cut short */
		{ "</script>", "\"</script>\"" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = json_string(cases[i].in);
		cr_expect_str_eq(got, cases[i].out, "case %zu", i);
		free(got);
	}
	char *null = json_string(NULL);
	cr_expect_str_eq(null, "null");
	free(null);
}

Test(report, a_host_with_quotes_stays_one_json_string)
{
	struct check_report r;
	mptcp_report(&r);
	r.host = "x\",\"mptcp\": true, \"y";
	r.verdict = REPORT_NOT_MPTCP;
	char *json = format(&r, REPORT_JSON);
	cr_expect(strstr(json, "\"host\": \"x\\\",\\\"mptcp\\\": true, \\\"y\",\n"), "%s", json);
	free(json);
}

Test(report, names)
{
	cr_expect_str_eq(report_verdict_name(REPORT_MPTCP), "MPTCP");
	cr_expect_str_eq(report_verdict_name(REPORT_NOT_MPTCP), "not MPTCP");
	cr_expect_str_eq(report_verdict_name(REPORT_NO_CONNECTION), "no connection");
	cr_expect_str_eq(report_status_word(MPTCP_STATUS_ACTIVE), "mptcp");
	cr_expect_str_eq(report_status_word(MPTCP_STATUS_FALLBACK), "fallback");
	cr_expect_str_eq(report_status_word(MPTCP_STATUS_TCP), "tcp");
	cr_expect_str_eq(report_status_word(MPTCP_STATUS_UNKNOWN), "unknown");
}
