/* Runs the bare-metal system test programs (the .asm files of tests/sys,
 * built to flat binaries beside this runner) on the test machine: each is loaded
 * at 0x8000, reached from the reset vector by a far jump, and runs under
 * an instruction budget. Its port-0xe9 output is compared line by line
 * with the lines its source marks with ";= ". TAP: one test per program
 * (it exited through port 0xf4 with status 0 and printed nothing
 * unexpected) and one per expected line. Option lines (";! " in the
 * source, "!" in the .expect file): "nx" reports NX in CPUID; "shutdown"
 * means the program must end in a triple fault instead. An argument restricts the run to the programs whose name
 * contains it. */
#include <errno.h>
#include <glob.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/cpu/testbus.h"
#include "tests/tap.h"

#define RAM_SIZE (32u << 20)
#define LOAD_ADDR 0x8000u
#define MAX_BIN (RAM_SIZE / 2)
#define BUDGET 50000000ull

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		return NULL;
	}
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		fclose(f);
		return NULL;
	}
	buf[n] = 0;
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* Splits `s` in place into at most `max` lines. */
static size_t split_lines(char *s, char **lines, size_t max)
{
	size_t n = 0;
	while (*s && n < max) {
		char *nl = strchr(s, '\n');
		lines[n++] = s;
		if (!nl)
			break;
		*nl = 0;
		s = nl + 1;
	}
	return n;
}

static const char *exit_name(enum cpu_exit r)
{
	switch (r) {
	case CPU_EXIT_BUDGET: return "ran out of its instruction budget";
	case CPU_EXIT_HALT: return "halted";
	case CPU_EXIT_SHUTDOWN: return "triple-faulted";
	default: return "stopped";
	}
}

#define MAX_LINES 1024

static void run_one(struct tap *t, const char *bin_path)
{
	char name[256], exp_path[4096];
	char *bin, *expect = NULL;
	size_t bin_len, exp_len = 0;
	struct testbus tb;
	struct cpu_model model;
	enum cpu_exit r;
	char *out_lines[MAX_LINES], *exp_lines[MAX_LINES];
	size_t nout, nexp;
	bool clean, want_shutdown;
	char *copy;

	snprintf(name, sizeof(name), "%s", bin_path);
	snprintf(name, sizeof(name), "%s", basename(name));
	name[strcspn(name, ".")] = 0;
	snprintf(exp_path, sizeof(exp_path), "%.*s.expect",
		 (int)(strlen(bin_path) - 4), bin_path);

	bin = slurp(bin_path, &bin_len);
	if (bin)
		expect = slurp(exp_path, &exp_len);
	if (!bin || !expect || bin_len > MAX_BIN) {
		tap_ok(t, 0, "%s: cannot load %s or %s", name, bin_path, exp_path);
		free(bin);
		free(expect);
		return;
	}
	cpu_model_default(&model);
	if (strstr(expect, "!nx\n"))
		model.ext_features_edx |= 1u << 20;
	want_shutdown = strstr(expect, "!shutdown\n") != NULL;
	if (testbus_init_model(&tb, RAM_SIZE, &model) != 0) {
		tap_ok(t, 0, "%s: out of memory", name);
		free(bin);
		free(expect);
		return;
	}
	memcpy(tb.ram + LOAD_ADDR, bin, bin_len);
	/* jmp 0000:8000 at the reset vector (F000:FFF0). */
	memcpy(tb.ram + RAM_SIZE - 16, "\xea\x00\x80\x00\x00", 5);
	r = testbus_run(&tb, BUDGET);

	copy = strdup(tb.out);
	nout = copy ? split_lines(copy, out_lines, MAX_LINES) : 0;
	nexp = split_lines(expect, exp_lines, MAX_LINES);
	{
		size_t k = 0;
		for (size_t i = 0; i < nexp; i++)
			if (exp_lines[i][0] != '!')
				exp_lines[k++] = exp_lines[i];
		nexp = k;
	}
	if (want_shutdown) {
		clean = !tb.exited && r == CPU_EXIT_SHUTDOWN && nout <= nexp;
		tap_ok(t, clean, "%s: %s after %llu instructions (wanted a triple fault)%s",
		       name, tb.exited ? "exited" : exit_name(r),
		       (unsigned long long)cpu_icount(tb.cpu),
		       nout > nexp ? ", printing more than expected" : "");
	} else if ((clean = tb.exited && tb.exit_code == 0 && nout <= nexp),
		   tb.exited)
		tap_ok(t, clean, "%s: exited with status %u after %llu instructions%s",
		       name, tb.exit_code,
		       (unsigned long long)cpu_icount(tb.cpu),
		       nout > nexp ? ", printing more than expected" : "");
	else
		tap_ok(t, 0, "%s: %s after %llu instructions", name,
		       exit_name(r), (unsigned long long)cpu_icount(tb.cpu));
	for (size_t i = 0; i < nexp; i++) {
		if (i < nout && strcmp(out_lines[i], exp_lines[i]) == 0)
			tap_ok(t, 1, "%s: %s", name, exp_lines[i]);
		else
			tap_ok(t, 0, "%s: expected \"%s\", got \"%s\"", name,
			       exp_lines[i], i < nout ? out_lines[i] : "(nothing)");
	}
	if (!clean) {
		struct x86_state s;
		cpu_get_state(tb.cpu, &s);
		tap_diag("%s: cs:eip %04x:%08llx cr0 %08llx, output was:", name,
			 s.seg[S_CS].selector, (unsigned long long)s.rip,
			 (unsigned long long)s.cr0);
		for (size_t i = 0; i < nout && i < 40; i++)
			tap_diag("  %s", out_lines[i]);
		if (nout > 40)
			tap_diag("  (%zu more lines)", nout - 40);
	}
	free(copy);
	testbus_free(&tb);
	free(bin);
	free(expect);
}

int main(int argc, char **argv)
{
	struct tap t = {0};
	char self[4096], pattern[4200];
	glob_t g;

	snprintf(self, sizeof(self), "%s", argv[0]);
	snprintf(pattern, sizeof(pattern), "%s/sys/*.bin", dirname(self));
	if (glob(pattern, 0, NULL, &g) != 0) {
		tap_ok(&t, 0, "no programs match %s", pattern);
		return tap_done(&t);
	}
	for (size_t i = 0; i < g.gl_pathc; i++) {
		if (argc > 1 && !strstr(g.gl_pathv[i], argv[1]))
			continue;
		run_one(&t, g.gl_pathv[i]);
	}
	globfree(&g);
	return tap_done(&t);
}
