#include "report.h"

#include <inttypes.h>
#include <string.h>

const char *report_verdict_name(enum report_verdict verdict)
{
	switch (verdict) {
	case REPORT_MPTCP:
		return "MPTCP";
	case REPORT_NOT_MPTCP:
		return "not MPTCP";
	case REPORT_NO_CONNECTION:
		return "no connection";
	}
	return "?";
}

const char *report_status_word(enum mptcp_status status)
{
	switch (status) {
	case MPTCP_STATUS_ACTIVE:
		return "mptcp";
	case MPTCP_STATUS_FALLBACK:
		return "fallback";
	case MPTCP_STATUS_TCP:
		return "tcp";
	case MPTCP_STATUS_UNKNOWN:
		break;
	}
	return "unknown";
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when it is not one
 * (overlong forms, surrogates and values past U+10FFFF included). */
static size_t utf8_length(const unsigned char *s)
{
	unsigned int c = s[0];
	size_t n;
	unsigned int min, cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		min = 0x80;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		min = 0x800;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		min = 0x10000;
		cp = c & 0x07;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

void report_json_string(FILE *out, const char *s)
{
	if (!s) {
		fputs("null", out);
		return;
	}
	fputc('"', out);
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		size_t n = utf8_length(p);
		if (n == 0) {
			fputs("\\ufffd", out);
			p++;
			continue;
		}
		if (n > 1) {
			fwrite(p, 1, n, out);
			p += n;
			continue;
		}
		switch (*p) {
		case '"':
			fputs("\\\"", out);
			break;
		case '\\':
			fputs("\\\\", out);
			break;
		case '\n':
			fputs("\\n", out);
			break;
		case '\r':
			fputs("\\r", out);
			break;
		case '\t':
			fputs("\\t", out);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(out, "\\u%04x", *p);
			else
				fputc(*p, out);
		}
		p++;
	}
	fputc('"', out);
}

static bool connected(const struct check_report *r)
{
	return r->verdict != REPORT_NO_CONNECTION;
}

/* "MPTCP (evidence: TCP_IS_MPTCP)" and the like, for the text form */
static void text_status(FILE *out, const struct check_report *r)
{
	fprintf(out, "mptcp: %s (evidence: %s)\n", mptcp_status_name(r->status),
		mptcp_evidence_name(r->evidence));
	if (r->reason)
		fprintf(out, "why: %s\n", r->reason);
}

static void text_subflows(FILE *out, const struct check_report *r)
{
	if (!r->have_info) {
		fprintf(out, "subflows: unknown (no MPTCP_INFO)\n");
		return;
	}
	fprintf(out, "subflows: %u after %" PRId64 " ms (waited up to %" PRId64 " ms)\n",
		r->subflows, r->waited_ms, r->wait_limit_ms);
	if (r->have_addrs) {
		for (size_t i = 0; i < r->subflow_count; i++)
			fprintf(out, "subflow: %s port %u -> %s port %u\n",
				r->subflow[i].local.addr, r->subflow[i].local.port,
				r->subflow[i].remote.addr, r->subflow[i].remote.port);
	} else {
		fprintf(out, "subflow addresses: not told by this kernel (MPTCP_SUBFLOW_ADDRS)\n");
	}
	fprintf(out, "server addresses accepted: %u of at most %u (the kernel tells how many, "
		"not which; a subflow to one shows it above)\n",
		r->info.add_addr_accepted, r->info.add_addr_accepted_max);
	fprintf(out, "limits: %u subflow endpoint(s) here, up to %u more subflow(s)\n",
		r->info.local_addr_max, r->info.subflows_max);
	if (r->advice)
		fprintf(out, "advice: %s\n", r->advice);
}

static void write_text(FILE *out, const struct check_report *r)
{
	fprintf(out, "check: %s port %u\n", r->host, r->port);
	if (r->resolved_count == 0)
		fprintf(out, "resolved: nothing\n");
	for (size_t i = 0; i < r->resolved_count && i < REPORT_MAX_RESOLVED; i++)
		fprintf(out, "resolved: %s\n", r->resolved[i]);
	if (r->resolved_count > REPORT_MAX_RESOLVED)
		fprintf(out, "resolved: ... %zu more\n", r->resolved_count - REPORT_MAX_RESOLVED);
	if (!connected(r)) {
		fprintf(out, "error: %s\n", r->error ? r->error : "no connection");
	} else {
		/* "an MPTCP socket", "a TCP socket": the article goes by the sound */
		fprintf(out, "connected: %s port %u -> %s port %u over %s %s socket in %" PRId64
			" ms\n", r->local.addr, r->local.port, r->remote.addr, r->remote.port,
			strcmp(r->socket_kind, "MPTCP") == 0 ? "an" : "a", r->socket_kind,
			r->connect_ms);
		text_status(out, r);
		if (r->status == MPTCP_STATUS_ACTIVE)
			text_subflows(out, r);
	}
	fprintf(out, "verdict: %s\n", report_verdict_name(r->verdict));
}

static void json_endpoint(FILE *out, const struct report_endpoint *e)
{
	fputs("{\"address\": ", out);
	report_json_string(out, e->addr);
	fprintf(out, ", \"port\": %u}", e->port);
}

static void json_subflows(FILE *out, const struct check_report *r)
{
	if (!r->have_info) {
		fputs(",\n  \"subflows\": null", out);
		return;
	}
	fprintf(out, ",\n  \"subflows\": {\"count\": %u, \"waited_ms\": %" PRId64
		", \"wait_limit_ms\": %" PRId64 ", \"list\": ", r->subflows, r->waited_ms,
		r->wait_limit_ms);
	if (r->have_addrs) {
		fputc('[', out);
		for (size_t i = 0; i < r->subflow_count; i++) {
			fputs(i ? ", {\"local\": " : "{\"local\": ", out);
			json_endpoint(out, &r->subflow[i].local);
			fputs(", \"remote\": ", out);
			json_endpoint(out, &r->subflow[i].remote);
			fputc('}', out);
		}
		fputc(']', out);
	} else {
		fputs("null", out);
	}
	fputs("}", out);
	fprintf(out, ",\n  \"server_addresses_accepted\": %u", r->info.add_addr_accepted);
	fprintf(out, ",\n  \"limits\": {\"subflow_endpoints\": %u, \"subflows_max\": %u, "
		"\"add_addr_accepted_max\": %u}", r->info.local_addr_max, r->info.subflows_max,
		r->info.add_addr_accepted_max);
}

static void write_json(FILE *out, const struct check_report *r)
{
	fputs("{\n  \"host\": ", out);
	report_json_string(out, r->host);
	fprintf(out, ",\n  \"port\": %u,\n  \"resolved\": [", r->port);
	for (size_t i = 0; i < r->resolved_count && i < REPORT_MAX_RESOLVED; i++) {
		if (i)
			fputs(", ", out);
		report_json_string(out, r->resolved[i]);
	}
	fputs("],\n  \"verdict\": ", out);
	report_json_string(out, report_verdict_name(r->verdict));
	fprintf(out, ",\n  \"mptcp\": %s", r->verdict == REPORT_MPTCP ? "true" : "false");
	fprintf(out, ",\n  \"exit\": %d", r->exit_code);
	if (!connected(r)) {
		fputs(",\n  \"error\": ", out);
		report_json_string(out, r->error ? r->error : "no connection");
		fputs("\n}\n", out);
		return;
	}
	fputs(",\n  \"local\": ", out);
	json_endpoint(out, &r->local);
	fputs(",\n  \"remote\": ", out);
	json_endpoint(out, &r->remote);
	fputs(",\n  \"socket\": ", out);
	report_json_string(out, r->socket_kind);
	fprintf(out, ",\n  \"connect_ms\": %" PRId64, r->connect_ms);
	fputs(",\n  \"status\": ", out);
	report_json_string(out, report_status_word(r->status));
	fputs(",\n  \"evidence\": ", out);
	report_json_string(out, mptcp_evidence_name(r->evidence));
	fputs(",\n  \"reason\": ", out);
	report_json_string(out, r->reason);
	if (r->status == MPTCP_STATUS_ACTIVE) {
		json_subflows(out, r);
		fputs(",\n  \"advice\": ", out);
		report_json_string(out, r->advice);
	}
	fputs("\n}\n", out);
}

bool report_write(FILE *out, const struct check_report *r, enum report_format format)
{
	if (format == REPORT_JSON)
		write_json(out, r);
	else
		write_text(out, r);
	return fflush(out) == 0 && !ferror(out);
}
