/* How long a ProxyCommand helper takes from exec to a passed descriptor, the
 * cost ssh pays on every connection. Each helper runs as ssh runs it (stdin
 * and stdout on one end of a socketpair) against an MPTCP listener on
 * loopback, so only the helpers' own start-up and connect work differ.
 *
 *   connect-latency RUNS 'NAME=CMD ARGS' ...   (CMD gets HOST PORT appended)
 *
 * Runs are interleaved across helpers so that machine noise hits all alike.
 * The first helper is the reference for the ratio column: `make bench` puts
 * the floor there (floor.c, what any helper must do and nothing else), so
 * the column says how far each helper is from the least possible. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
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
	double *cpu_ms;		/* the helper's own user + system time */
	double *faults;		/* its minor page faults */
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

static double tv_ms(struct timeval tv)
{
	return (double)tv.tv_sec * 1e3 + (double)tv.tv_usec / 1e3;
}

/* One run: exec to passed descriptor, then wait for the helper's exit too,
 * since ssh waits for it before going on. The helper's own CPU time and page
 * faults (from wait4) go to *cpu_ms and *faults: unlike the wall clock they
 * hardly move when other work competes for the CPUs. */
static double run_once(struct helper *h, int listener, double *cpu_ms, double *faults)
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
	struct rusage ru;
	memset(&ru, 0, sizeof(ru));
	wait4(pid, &status, 0, &ru);
	double took = now_ms() - t0;
	*cpu_ms = tv_ms(ru.ru_utime) + tv_ms(ru.ru_stime);
	*faults = (double)ru.ru_minflt;
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
		helpers[i].cpu_ms = calloc((size_t)runs, sizeof(double));
		helpers[i].faults = calloc((size_t)runs, sizeof(double));
	}

	int counts[MAX_HELPERS] = { 0 };
	for (int r = 0; r < runs; r++) {
		for (int i = 0; i < nhelpers; i++) {
			double cpu = 0, faults = 0;
			double ms = run_once(&helpers[i], listener, &cpu, &faults);
			if (ms < 0) {
				helpers[i].failures++;
				continue;
			}
			helpers[i].cpu_ms[counts[i]] = cpu;
			helpers[i].faults[counts[i]] = faults;
			helpers[i].ms[counts[i]++] = ms;
		}
	}

	printf("connect latency, exec to passed descriptor and exit, %d runs each "
	       "(MPTCP listener on 127.0.0.1)\n", runs);
	printf("%-16s %9s %9s %9s %6s %9s %6s %7s %s\n", "helper", "median", "p90", "mean",
	       "ratio", "cpu", "ratio", "faults", "failed");
	double ref = 0, ref_cpu = 0;
	int rc = 0;
	for (int i = 0; i < nhelpers; i++) {
		struct helper *h = &helpers[i];
		size_t n = (size_t)counts[i];
		if (n == 0) {
			printf("%-16s %9s %9s %9s %6s %9s %6s %7s %d\n", h->name, "-", "-", "-", "-",
			       "-", "-", "-", h->failures);
			rc = 1;
			continue;
		}
		double sum = 0;
		for (size_t k = 0; k < n; k++)
			sum += h->ms[k];
		qsort(h->ms, n, sizeof(double), cmp_double);
		qsort(h->cpu_ms, n, sizeof(double), cmp_double);
		qsort(h->faults, n, sizeof(double), cmp_double);
		double median = h->ms[n / 2];
		double p90 = h->ms[(n * 9) / 10];
		double cpu = h->cpu_ms[n / 2];
		if (i == 0) {
			ref = median;
			ref_cpu = cpu;
		}
		printf("%-16s %7.2fms %7.2fms %7.2fms %5.2fx %7.3fms %5.2fx %7.0f %d\n", h->name,
		       median, p90, sum / (double)n, median / ref, cpu,
		       ref_cpu > 0 ? cpu / ref_cpu : 0.0, h->faults[n / 2], h->failures);
	}
	printf("ratio: each helper's median over %s's; cpu: the helper's own user + system\n"
	       "time (median, from wait4), which load changes far less than the wall clock;\n"
	       "faults: its minor page faults (median)\n", helpers[0].name);
	printf("runs interleaved: one of each helper per round, so load hits all alike\n");
	return rc;
}
