#include "options.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

enum {
	OPT_NO_KEEPALIVE = 256,
	OPT_RESCUE_DELAY,
	OPT_CHECK,
	OPT_FORMAT,
	OPT_WAIT,
};

static const struct option long_options[] = {
	{ "ipv4", no_argument, NULL, '4' },
	{ "ipv6", no_argument, NULL, '6' },
	{ "mptcp", required_argument, NULL, 'm' },
	{ "timeout", required_argument, NULL, 't' },
	{ "rescue-delay", required_argument, NULL, OPT_RESCUE_DELAY },
	{ "bind", required_argument, NULL, 'b' },
	{ "interface", required_argument, NULL, 'I' },
	{ "no-keepalive", no_argument, NULL, OPT_NO_KEEPALIVE },
	{ "check", no_argument, NULL, OPT_CHECK },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "wait", required_argument, NULL, OPT_WAIT },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static const char short_options[] = ":46m:t:b:I:qvhV";

bool options_usage(int fd)
{
	int n = dprintf(fd,
		"Usage: %s [OPTIONS] HOST PORT\n"
		"       %s --check [--format=text|json] [OPTIONS] HOST PORT\n"
		"Connect to HOST:PORT over Multipath TCP and hand the socket to ssh.\n"
		"In ssh_config:  ProxyCommand %s %%h %%p\n"
		"                ProxyUseFdpass yes\n"
		"\n"
		"  -4, --ipv4               use IPv4 addresses only\n"
		"  -6, --ipv6               use IPv6 addresses only\n"
		"  -m, --mptcp=MODE         prefer (default): MPTCP, plain TCP when it cannot be had;\n"
		"                           require: MPTCP or exit 76; off: plain TCP\n"
		"  -t, --timeout=SECONDS    give up resolving and connecting after SECONDS\n"
		"                           (fractions allowed; default: no limit of our own)\n"
		"      --rescue-delay=SECONDS  race plain TCP when MPTCP SYNs go unanswered this\n"
		"                           long (prefer mode; default 1.5; 0 turns it off)\n"
		"  -b, --bind=ADDRESS       source address of the first subflow\n"
		"                           (link-local with its zone: fe80::1%%eth0)\n"
		"  -I, --interface=IFNAME   bind the first subflow to this interface\n"
		"      --no-keepalive       do not turn on SO_KEEPALIVE on the connection\n"
		"      --check              connect, report what the kernel says about the\n"
		"                           connection (MPTCP or not, subflows), close\n"
		"      --format=FORMAT      the --check report: text (default) or json\n"
		"      --wait=SECONDS       how long --check waits for more subflows (default 2)\n"
		"  -q, --quiet              print errors only\n"
		"  -v, --verbose            say what happens: addresses, paths, MPTCP status\n"
		"  -h, --help               show this help\n"
		"  -V, --version            show the version\n"
		"\n"
		"Without ProxyUseFdpass (stdin and stdout are not a socket), the bytes are\n"
		"relayed instead.\n"
		"MPTCP SYNs answered with a reset get one plain TCP attempt at once.\n"
		"Exit: 0 handed over, 64 usage, 68 host does not resolve, 69 cannot connect,\n"
		"71 cannot hand over, 76 MPTCP required but not negotiated.\n"
		"With --check: 0 MPTCP, 76 not MPTCP, the others as above.\n",
		PROGRAM_NAME, PROGRAM_NAME, PROGRAM_NAME);
	return n > 0;
}

const char *options_mode_name(enum mptcp_mode mode)
{
	switch (mode) {
	case MPTCP_PREFER:
		return "prefer";
	case MPTCP_REQUIRE:
		return "require";
	case MPTCP_OFF:
		return "off";
	}
	return "?";
}

static bool parse_mode(const char *text, enum mptcp_mode *mode)
{
	static const enum mptcp_mode modes[] = { MPTCP_PREFER, MPTCP_REQUIRE, MPTCP_OFF };
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (strcmp(text, options_mode_name(modes[i])) == 0) {
			*mode = modes[i];
			return true;
		}
	}
	log_error("bad MPTCP mode '%s': use prefer, require or off", text);
	return false;
}

bool options_parse_port(const char *text, uint16_t *port)
{
	if (*text == '\0') {
		log_error("empty port: use a number from 1 to 65535 or a service name");
		return false;
	}
	if (isdigit((unsigned char)text[0]) || text[0] == '-' || text[0] == '+') {
		/* Digits only: strtoul would take "22x", " 22" or "+22". */
		unsigned long value = 0;
		for (const char *p = text; *p; p++) {
			if (!isdigit((unsigned char)*p) || value > 65535) {
				value = 0;
				break;
			}
			value = value * 10 + (unsigned long)(*p - '0');
		}
		if (value < 1 || value > 65535) {
			log_error("bad port '%s': use a number from 1 to 65535 or a service name", text);
			return false;
		}
		*port = (uint16_t)value;
		return true;
	}
	struct servent *service = getservbyname(text, "tcp");
	if (!service) {
		log_error("bad port '%s': no such TCP service", text);
		return false;
	}
	*port = ntohs((uint16_t)service->s_port);
	return true;
}

bool options_parse_host(const char *what, const char *text, char *host, size_t size)
{
	size_t len = strlen(text);
	if (len == 0) {
		log_error("empty %s", what);
		return false;
	}
	/* ssh passes %h with IPv6 literals in brackets when the user wrote them so. */
	if (text[0] == '[' || text[len - 1] == ']') {
		if (len < 3 || text[0] != '[' || text[len - 1] != ']') {
			log_error("bad %s '%s': unbalanced brackets", what, text);
			return false;
		}
		text++;
		len -= 2;
	}
	if (len >= size) {
		log_error("bad %s: longer than %zu characters", what, size - 1);
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c <= ' ' || c == 0x7f || c == '[' || c == ']' || c == '/') {
			log_error("bad %s '%.*s': it contains '%s'", what, (int)len, text,
				  c == ' ' ? "a space" : c < ' ' || c == 0x7f ? "a control character"
				  : c == '/' ? "/" : "a bracket");
			return false;
		}
	}
	memcpy(host, text, len);
	host[len] = '\0';
	return true;
}

void options_format_seconds(int64_t ms, char *buf, size_t size)
{
	/* "%g" would turn 1000 s into "1e+03 s"; whole milliseconds are exact. */
	int64_t whole = ms / 1000, frac = ms % 1000;
	if (frac == 0) {
		snprintf(buf, size, "%lld", (long long)whole);
		return;
	}
	int digits = 3;
	while (frac % 10 == 0) {
		frac /= 10;
		digits--;
	}
	snprintf(buf, size, "%lld.%0*lld", (long long)whole, digits, (long long)frac);
}

bool options_parse_seconds(const char *what, const char *text, int64_t min_ms,
			   int64_t max_ms, int64_t *ms)
{
	char *end = NULL;
	errno = 0;
	double seconds = strtod(text, &end);
	if (*text == '\0' || *end != '\0' || errno != 0 ||
	    !isfinite(seconds) || isspace((unsigned char)text[0])) {
		log_error("bad %s '%s': give seconds, like 2 or 0.5", what, text);
		return false;
	}
	/* Compare as doubles first: converting a double outside int64_t's
	 * range is undefined behaviour. Round up: a requested 0.0001 s is a
	 * short deadline, not "none". */
	double value = ceil(seconds * 1000.0);
	if (!(value >= (double)min_ms && value <= (double)max_ms) || seconds < 0) {
		char lo[32], hi[32];
		options_format_seconds(min_ms, lo, sizeof(lo));
		options_format_seconds(max_ms, hi, sizeof(hi));
		log_error("bad %s '%s': must be from %s to %s seconds", what, text, lo, hi);
		return false;
	}
	*ms = (int64_t)value;
	return true;
}

/* Parse a numeric address, with an IPv6 zone ("fe80::1%eth0") if given. */
static bool numeric_address(const char *text, struct sockaddr_storage *ss, socklen_t *len)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL;
	if (getaddrinfo(text, NULL, &hints, &res) != 0 || !res)
		return false;
	bool ok = res->ai_addrlen <= sizeof(*ss) &&
		  (res->ai_family == AF_INET || res->ai_family == AF_INET6);
	if (ok) {
		memset(ss, 0, sizeof(*ss));
		memcpy(ss, res->ai_addr, res->ai_addrlen);
		*len = res->ai_addrlen;
	}
	freeaddrinfo(res);
	return ok;
}

/* A link-local IPv6 address names a different host on every link: without a
 * zone the kernel refuses it with a bare EINVAL, unless -I names the link. */
static bool lacks_zone(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
	return ss->ss_family == AF_INET6 && IN6_IS_ADDR_LINKLOCAL(&sin6->sin6_addr) &&
	       sin6->sin6_scope_id == 0;
}

static bool parse_bind(const char *text, struct options *opts)
{
	char host[NI_MAXHOST];

	if (!options_parse_host("bind address", text, host, sizeof(host)))
		return false;
	if (!numeric_address(host, &opts->bind_addr, &opts->bind_len)) {
		log_error("bad bind address '%s': give an IPv4 or IPv6 address "
			  "(link-local with its zone: fe80::1%%eth0)", text);
		return false;
	}
	opts->has_bind = true;
	return true;
}

static bool parse_interface(const char *text, struct options *opts)
{
	size_t len = strlen(text);
	if (len == 0 || len >= sizeof(opts->interface) || strchr(text, '/') ||
	    strpbrk(text, " \t\n")) {
		log_error("bad interface name '%s'", text);
		return false;
	}
	memcpy(opts->interface, text, len + 1);
	return true;
}

/* The argv word that holds an unknown short option: getopt has moved optind
 * past it when it was the last letter of its word, not while a cluster such
 * as "-xy" still has letters left. */
static const char *short_option_word(int argc, char *argv[], int letter)
{
	for (int i = optind - 1; i <= optind; i++) {
		if (i < 1 || i >= argc)
			continue;
		const char *w = argv[i];
		if (w[0] == '-' && w[1] != '-' && w[1] != '\0' && strchr(w + 1, letter))
			return w;
	}
	return "";
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* getopt's own messages name argv[0] (maybe a long path) and say too little.
 * Long options consume their whole word, so argv[optind - 1] is theirs; a
 * short option is named by its letter, whatever cluster it came in. */
static void report_bad_option(int argc, char *argv[], int opt)
{
	const char *word = (optind > 1 && optind <= argc) ? argv[optind - 1] : "";
	bool is_long = strncmp(word, "--", 2) == 0 && word[2] != '\0';
	int name_len = (int)strcspn(word, "=");
	/* glibc stores the letter as a (signed) char. */
	unsigned char letter = (unsigned char)optopt;

	if (is_long && opt == ':') {
		log_error("option '%.*s' needs a value", name_len, word);
	} else if (is_long && optopt && word[name_len] == '=') {
		log_error("option '%.*s' takes no value", name_len, word);
	} else if (is_long) {
		log_error("unknown or ambiguous option '%.*s' (see --help)", name_len, word);
	} else if (opt == ':') {
		log_error("option '-%c' needs a value", letter);
	} else if (isdigit(letter) && (word = short_option_word(argc, argv, letter)) &&
		   word[1] == (char)letter && all_digits(word + 1)) {
		/* "-1" reaches us as an option; most likely it was meant as a port. */
		log_error("bad port '%s': use a number from 1 to 65535 or a service name", word);
	} else if (isprint(letter)) {
		log_error("unknown option '-%c' (see --help)", letter);
	} else {
		log_error("unknown option (byte %#x) (see --help)", (unsigned)letter);
	}
}

static bool parse_format(const char *text, bool *given, bool *json)
{
	*given = true;
	if (strcmp(text, "text") == 0 || strcmp(text, "json") == 0) {
		*json = strcmp(text, "json") == 0;
		return true;
	}
	log_error("bad format '%s': use text or json", text);
	return false;
}

static void set_defaults(struct options *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->family = AF_UNSPEC;
	opts->mode = MPTCP_PREFER;
	opts->log_level = LOG_NORMAL;
	opts->rescue_delay_ms = RESCUE_DELAY_DEFAULT_MS;
	opts->keepalive = true;
	opts->check_wait_ms = CHECK_WAIT_DEFAULT_MS;
}

static const char *family_name(int family)
{
	return family == AF_INET ? "IPv4" : "IPv6";
}

static bool check_combination(const struct options *opts, bool v4, bool v6,
			      bool quiet, bool verbose)
{
	if (v4 && v6) {
		log_error("-4 and -6 exclude each other");
		return false;
	}
	if (quiet && verbose) {
		log_error("-q and -v exclude each other");
		return false;
	}
	if (opts->has_bind && opts->family != AF_UNSPEC &&
	    opts->bind_addr.ss_family != opts->family) {
		log_error("bind address family does not match %s", v4 ? "-4" : "-6");
		return false;
	}
	return true;
}

/* What a literal host or -b address implies, decided before any network
 * traffic: both are usage errors (64), whatever the resolver would say. */
static bool check_addresses(struct options *opts, bool v4, bool v6)
{
	struct sockaddr_storage host;
	socklen_t host_len;
	bool literal = numeric_address(opts->host, &host, &host_len);

	if (literal && opts->family != AF_UNSPEC && host.ss_family != opts->family) {
		log_error("host '%s' is an %s address, but %s allows %s only", opts->host,
			  family_name(host.ss_family),
			  v4 ? "-4" : v6 ? "-6" : "the -b address", family_name(opts->family));
		return false;
	}
	unsigned int ifindex = opts->interface[0] ? if_nametoindex(opts->interface) : 0;
	if (opts->has_bind && lacks_zone(&opts->bind_addr)) {
		if (!opts->interface[0]) {
			log_error("link-local bind address needs its zone, like fe80::1%%eth0, "
				  "or -I IFNAME");
			return false;
		}
		((struct sockaddr_in6 *)&opts->bind_addr)->sin6_scope_id = ifindex;
	}
	if (literal && lacks_zone(&host) && !opts->interface[0]) {
		log_error("link-local host '%s' needs its zone, like %s%%eth0, or -I IFNAME",
			  opts->host, opts->host);
		return false;
	}
	return true;
}

enum parse_result options_parse(int argc, char *argv[], struct options *opts)
{
	bool v4 = false, v6 = false, quiet = false, verbose = false, format_given = false;
	bool wait_given = false;
	int opt;

	set_defaults(opts);
	opterr = 0;
	/* 0, not 1: glibc then also forgets a cluster left half-read by an
	 * earlier call (the unit tests and the fuzzer parse many argv). */
	optind = 0;
	while ((opt = getopt_long(argc, argv, short_options, long_options, NULL)) != -1) {
		bool ok = true;
		switch (opt) {
		case '4':
			v4 = true;
			break;
		case '6':
			v6 = true;
			break;
		case 'm':
			ok = parse_mode(optarg, &opts->mode);
			break;
		case 't':
			ok = options_parse_seconds("timeout", optarg, 1, TIMEOUT_MAX_MS,
						   &opts->timeout_ms);
			break;
		case OPT_RESCUE_DELAY:
			ok = options_parse_seconds("rescue delay", optarg, 0,
						   RESCUE_DELAY_MAX_MS, &opts->rescue_delay_ms);
			break;
		case 'b':
			ok = parse_bind(optarg, opts);
			break;
		case 'I':
			ok = parse_interface(optarg, opts);
			break;
		case OPT_NO_KEEPALIVE:
			opts->keepalive = false;
			break;
		case OPT_CHECK:
			opts->check = true;
			break;
		case OPT_FORMAT:
			ok = parse_format(optarg, &format_given, &opts->json);
			break;
		case OPT_WAIT:
			wait_given = true;
			ok = options_parse_seconds("wait", optarg, 0, CHECK_WAIT_MAX_MS,
						   &opts->check_wait_ms);
			break;
		case 'q':
			quiet = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			return PARSE_HELP;
		case 'V':
			return PARSE_VERSION;
		default:
			report_bad_option(argc, argv, opt);
			return PARSE_USAGE;
		}
		if (!ok)
			return PARSE_USAGE;
	}

	opts->family = v4 ? AF_INET : v6 ? AF_INET6 : AF_UNSPEC;
	opts->log_level = quiet ? LOG_QUIET : verbose ? LOG_VERBOSE : LOG_NORMAL;
	if (!check_combination(opts, v4, v6, quiet, verbose))
		return PARSE_USAGE;
	if (format_given && !opts->check) {
		log_error("--format applies to --check only");
		return PARSE_USAGE;
	}
	if (wait_given && !opts->check) {
		log_error("--wait applies to --check only");
		return PARSE_USAGE;
	}
	if (opts->has_bind && opts->family == AF_UNSPEC)
		opts->family = opts->bind_addr.ss_family;

	int operands = argc - optind;
	if (operands != 2) {
		log_error("%s: expected HOST PORT (see --help)",
			  operands < 2 ? "missing arguments" : "too many arguments");
		return PARSE_USAGE;
	}
	if (!options_parse_host("host", argv[optind], opts->host, sizeof(opts->host)) ||
	    !options_parse_port(argv[optind + 1], &opts->port))
		return PARSE_USAGE;
	snprintf(opts->port_text, sizeof(opts->port_text), "%u", (unsigned)opts->port);
	if (!check_addresses(opts, v4, v6))
		return PARSE_USAGE;
	return PARSE_RUN;
}
