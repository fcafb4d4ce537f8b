/* How long a ProxyCommand helper takes from exec to a passed descriptor, the
 * cost ssh pays on every connection. Each helper runs as ssh runs it (stdin
 * and stdout on one end of a socketpair) against an MPTCP listener on
 * loopback, so only the helpers' own start-up and connect work differ.
 *
 *   connect-latency RUNS 'NAME=CMD ARGS' ...   (CMD gets HOST PORT appended)
 *
 * Runs are interleaved across helpers so that machine noise hits all alike.
 * The first helper is the reference for the ratio column. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "recv-fd.h"

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

#define MAX_HELPERS 8
#define MAX_ARGS 16

struct helper {
	char *name;
	char *argv[MAX_ARGS + 3];
	double *ms;
	int failures;
};

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* One run: exec to passed descriptor, then wait for the helper's exit too,
 * since ssh waits for it before going on. */
static double run_once(struct helper *h, int listener)
{
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) != 0)
		return -1;
	int devnull = open("/dev/null", O_WRONLY);
	double t0 = now_ms();
	pid_t pid = fork();
	if (pid == 0) {
		dup2(sp[1], 0);
		dup2(sp[1], 1);
		dup2(devnull, 2);
		close(sp[0]);
		close(sp[1]);
		execvp(h->argv[0], h->argv);
		_exit(127);
	}
	close(sp[1]);
	close(devnull);
	int fd = recv_fd(sp[0], 5000);
	int status = 0;
	waitpid(pid, &status, 0);
	double took = now_ms() - t0;
	close(sp[0]);
	int conn = accept(listener, NULL, NULL);
	if (conn >= 0)
		close(conn);
	if (fd < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -1;
	close(fd);
	return took;
}

static void split(struct helper *h, char *spec, const char *port)
{
	char *eq = strchr(spec, '=');
	if (!eq) {
		fprintf(stderr, "helper spec needs NAME=CMD: %s\n", spec);
		exit(2);
	}
	*eq = '\0';
	h->name = spec;
	int n = 0;
	for (char *tok = strtok(eq + 1, " "); tok && n < MAX_ARGS; tok = strtok(NULL, " "))
		h->argv[n++] = tok;
	h->argv[n++] = "127.0.0.1";
	h->argv[n++] = (char *)port;
	h->argv[n] = NULL;
}

int main(int argc, char *argv[])
{
	if (argc < 3 || argc - 2 > MAX_HELPERS) {
		fprintf(stderr, "usage: %s RUNS 'NAME=CMD ARGS' ...\n", argv[0]);
		return 2;
	}
	int runs = atoi(argv[1]);
	int nhelpers = argc - 2;

	int listener = socket(AF_INET, SOCK_STREAM, IPPROTO_MPTCP);
	struct sockaddr_in sin = { .sin_family = AF_INET };
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof(sin);
	if (listener < 0 || bind(listener, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    listen(listener, 64) != 0 ||
	    getsockname(listener, (struct sockaddr *)&sin, &len) != 0) {
		perror("MPTCP listener on 127.0.0.1");
		return 1;
	}
	static char port[8];
	snprintf(port, sizeof(port), "%u", ntohs(sin.sin_port));

	struct helper helpers[MAX_HELPERS];
	memset(helpers, 0, sizeof(helpers));
	for (int i = 0; i < nhelpers; i++) {
		split(&helpers[i], argv[i + 2], port);
		helpers[i].ms = calloc((size_t)runs, sizeof(double));
	}

	int counts[MAX_HELPERS] = { 0 };
	for (int r = 0; r < runs; r++) {
		for (int i = 0; i < nhelpers; i++) {
			double ms = run_once(&helpers[i], listener);
			if (ms < 0)
				helpers[i].failures++;
			else
				helpers[i].ms[counts[i]++] = ms;
		}
	}

	printf("connect latency, exec to passed descriptor and exit, %d runs each "
	       "(MPTCP listener on 127.0.0.1)\n", runs);
	printf("%-16s %9s %9s %9s %9s %s\n", "helper", "median", "p90", "mean", "ratio", "failed");
	double ref = 0;
	int rc = 0;
	for (int i = 0; i < nhelpers; i++) {
		struct helper *h = &helpers[i];
		if (counts[i] == 0) {
			printf("%-16s %9s %9s %9s %9s %d\n", h->name, "-", "-", "-", "-", h->failures);
			rc = 1;
			continue;
		}
		qsort(h->ms, (size_t)counts[i], sizeof(double), cmp_double);
		double sum = 0;
		for (int k = 0; k < counts[i]; k++)
			sum += h->ms[k];
		double median = h->ms[counts[i] / 2];
		double p90 = h->ms[(counts[i] * 9) / 10];
		if (i == 0)
			ref = median;
		printf("%-16s %7.2fms %7.2fms %7.2fms %8.2fx %d\n", h->name, median, p90,
		       sum / counts[i], median / ref, h->failures);
	}
	printf("ratio: median of each helper over the median of %s\n", helpers[0].name);
	return rc;
}
