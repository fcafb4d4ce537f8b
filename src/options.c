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
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static const char short_options[] = ":46m:t:b:I:qvhV";

void options_usage(int fd)
{
	dprintf(fd,
		"Usage: %s [OPTIONS] HOST PORT\n"
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
		"  -I, --interface=IFNAME   bind the first subflow to this interface\n"
		"      --no-keepalive       do not turn on SO_KEEPALIVE on the connection\n"
		"  -q, --quiet              print errors only\n"
		"  -v, --verbose            say what happens: addresses, paths, MPTCP status\n"
		"  -h, --help               show this help\n"
		"  -V, --version            show the version\n"
		"\n"
		"Without ProxyUseFdpass (stdin and stdout are not a socket), the bytes are\n"
		"relayed instead.\n"
		"Exit: 0 handed over, 64 usage, 68 unknown host, 69 cannot connect,\n"
		"71 cannot hand over, 76 MPTCP required but not negotiated.\n",
		PROGRAM_NAME, PROGRAM_NAME);
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

bool options_parse_host(const char *text, char *host, size_t size)
{
	size_t len = strlen(text);
	if (len == 0) {
		log_error("empty host");
		return false;
	}
	/* ssh passes %h with IPv6 literals in brackets when the user wrote them so. */
	if (text[0] == '[' || text[len - 1] == ']') {
		if (len < 3 || text[0] != '[' || text[len - 1] != ']') {
			log_error("bad host '%s': unbalanced brackets", text);
			return false;
		}
		text++;
		len -= 2;
	}
	if (len >= size) {
		log_error("bad host: longer than %zu characters", size - 1);
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c <= ' ' || c == 0x7f || c == '[' || c == ']' || c == '/') {
			log_error("bad host '%.*s': it contains '%s'", (int)len, text,
				  c == ' ' ? "a space" : c < ' ' || c == 0x7f ? "a control character"
				  : c == '/' ? "/" : "a bracket");
			return false;
		}
	}
	memcpy(host, text, len);
	host[len] = '\0';
	return true;
}

bool options_parse_seconds(const char *what, const char *text, int64_t min_ms,
			   int64_t max_ms, int64_t *ms)
{
	char *end = NULL;
	errno = 0;
	double seconds = strtod(text, &end);
	if (*text == '\0' || *end != '\0' || errno != 0 || !isfinite(seconds) ||
	    isspace((unsigned char)text[0])) {
		log_error("bad %s '%s': give seconds, like 2 or 0.5", what, text);
		return false;
	}
	/* Round up: a requested 0.0001 s is a short deadline, not "none". */
	double value = seconds * 1000.0;
	int64_t rounded = value > (double)max_ms ? max_ms + 1 : (int64_t)value;
	if (value > 0 && (double)rounded < value)
		rounded++;
	if (value < 0 || rounded < min_ms || rounded > max_ms) {
		log_error("bad %s '%s': must be from %g to %g seconds", what, text,
			  (double)min_ms / 1000.0, (double)max_ms / 1000.0);
		return false;
	}
	*ms = rounded;
	return true;
}

static int literal_family(const char *host)
{
	struct in6_addr any;
	if (inet_pton(AF_INET, host, &any) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, host, &any) == 1)
		return AF_INET6;
	return AF_UNSPEC;
}

static bool parse_bind(const char *text, struct options *opts)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&opts->bind_addr;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&opts->bind_addr;
	char host[NI_MAXHOST];

	if (!options_parse_host(text, host, sizeof(host)))
		return false;
	memset(&opts->bind_addr, 0, sizeof(opts->bind_addr));
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		opts->bind_len = sizeof(*sin);
	} else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		opts->bind_len = sizeof(*sin6);
	} else {
		log_error("bad bind address '%s': give an IPv4 or IPv6 address", text);
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

/* getopt's own messages name argv[0] (maybe a long path) and say too little. */
static void report_bad_option(int argc, char *argv[], int opt)
{
	const char *word = (optind > 0 && optind <= argc) ? argv[optind - 1] : "";
	if (opt == ':') {
		log_error("option '%s' needs a value", word);
		return;
	}
	/* "-1" reaches us as an option; most likely it was meant as a port. */
	if (word[0] == '-' && isdigit((unsigned char)word[1]))
		log_error("bad port '%s': use a number from 1 to 65535 or a service name", word);
	else if (optopt && word[0] == '-' && word[1] != '-')
		log_error("unknown option '-%c' (see --help)", optopt);
	else
		log_error("unknown option '%s' (see --help)", word);
}

static void set_defaults(struct options *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->family = AF_UNSPEC;
	opts->mode = MPTCP_PREFER;
	opts->log_level = LOG_NORMAL;
	opts->rescue_delay_ms = RESCUE_DELAY_DEFAULT_MS;
	opts->keepalive = true;
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

enum parse_result options_parse(int argc, char *argv[], struct options *opts)
{
	bool v4 = false, v6 = false, quiet = false, verbose = false;
	int opt;

	set_defaults(opts);
	opterr = 0;
	optind = 1;	/* the unit tests parse many argv in one process */
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
	if (opts->has_bind && opts->family == AF_UNSPEC)
		opts->family = opts->bind_addr.ss_family;

	int operands = argc - optind;
	if (operands != 2) {
		log_error("%s: expected HOST PORT (see --help)",
			  operands < 2 ? "missing arguments" : "too many arguments");
		return PARSE_USAGE;
	}
	if (!options_parse_host(argv[optind], opts->host, sizeof(opts->host)) ||
	    !options_parse_port(argv[optind + 1], &opts->port))
		return PARSE_USAGE;
	snprintf(opts->port_text, sizeof(opts->port_text), "%u", (unsigned)opts->port);
	if (opts->has_bind && literal_family(opts->host) != AF_UNSPEC &&
	    literal_family(opts->host) != opts->bind_addr.ss_family) {
		log_error("bind address and host '%s' are of different families", opts->host);
		return PARSE_USAGE;
	}
	return PARSE_RUN;
}
