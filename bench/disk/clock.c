/* clock: the host side of bench/disk/run.sh. Runs a command with its
 * output (stdout and stderr) into a pipe and copies it to LOG (and each
 * line, carriage returns dropped, to LOG.lines as "SECONDS LINE"), prints
 * when, counted from just before the command's exec, a line holding each
 * marker's TEXT first ended, then when the command exited and the CPU
 * time it and its reaped children used:
 *
 *   clock LOG TIMEOUT KEY=TEXT... -- COMMAND [ARG...]
 *
 * prints "mark KEY SECONDS" (or "mark KEY -" if never seen),
 * "exit SECONDS STATUS" and "cpu USER SYS" (the command and the children
 * it reaped). After TIMEOUT seconds the
 * command gets SIGKILL (status "killed"). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_MARKS 16

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	const char *mark[MAX_MARKS], *key[MAX_MARKS];
	double seen[MAX_MARKS], t0, timeout, end;
	int nmark = 0, i, p[2], logfd, st;
	FILE *lines;
	char *lname;
	char line[4096], buf[65536];
	size_t len = 0;
	struct rusage ru;
	pid_t pid;

	if (argc < 5)
		goto usage;
	timeout = atof(argv[2]);
	for (i = 3; i < argc && strcmp(argv[i], "--"); i++) {
		if (nmark == MAX_MARKS)
			goto usage;
		char *eq = strchr(argv[i], '=');
		if (!eq || eq == argv[i] || !eq[1])
			goto usage;
		*eq = 0;
		seen[nmark] = -1;
		key[nmark] = argv[i];
		mark[nmark++] = eq + 1;
	}
	if (i + 1 >= argc)
		goto usage;
	logfd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (asprintf(&lname, "%s.lines", argv[1]) < 0)
		return 1;
	lines = fopen(lname, "w");
	if (logfd < 0 || !lines || pipe(p) < 0) {
		perror("clock");
		return 1;
	}
	t0 = now();
	pid = fork();
	if (pid < 0) {
		perror("clock: fork");
		return 1;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);
		dup2(null, 0);
		dup2(p[1], 1);
		dup2(p[1], 2);
		close(p[0]);
		close(p[1]);
		execvp(argv[i + 1], argv + i + 1);
		perror("clock: exec");
		_exit(127);
	}
	close(p[1]);
	end = t0 + timeout;
	for (;;) {
		struct pollfd pf = { .fd = p[0], .events = POLLIN };
		int wait_ms = (int)((end - now()) * 1000);
		ssize_t n;

		if (wait_ms <= 0) {
			kill(pid, SIGKILL);
			break;
		}
		if (poll(&pf, 1, wait_ms) < 0 && errno != EINTR)
			break;
		if (!pf.revents)
			continue;
		n = read(p[0], buf, sizeof(buf));
		if (n <= 0)
			break;
		double t = now() - t0;
		if (write(logfd, buf, (size_t)n) != n)
			perror("clock: log");
		for (ssize_t k = 0; k < n; k++) {
			char c = buf[k];
			if (c == '\r')
				continue;
			if (c != '\n') {
				if (len < sizeof(line) - 1)
					line[len++] = c;
				continue;
			}
			line[len] = 0;
			fprintf(lines, "%.3f %s\n", t, line);
			for (int m = 0; m < nmark; m++)
				if (seen[m] < 0 && strstr(line, mark[m]))
					seen[m] = t;
			len = 0;
		}
		fflush(lines); /* for whoever watches the run */
	}
	fclose(lines);
	if (wait4(pid, &st, 0, &ru) < 0) {
		perror("clock: wait4");
		return 1;
	}
	double t = now() - t0;
	for (i = 0; i < nmark; i++) {
		if (seen[i] < 0)
			printf("mark %s -\n", key[i]);
		else
			printf("mark %s %.3f\n", key[i], seen[i]);
	}
	if (WIFEXITED(st))
		printf("exit %.3f %d\n", t, WEXITSTATUS(st));
	else
		printf("exit %.3f killed\n", t);
	/* wait4 reports the command and the children it reaped (v2e's
	 * device models and block backend). */
	printf("cpu %.3f %.3f\n", ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
	       ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
	return 0;
usage:
	fprintf(stderr, "usage: clock LOG TIMEOUT KEY=TEXT... -- COMMAND [ARG...]\n");
	return 2;
}
