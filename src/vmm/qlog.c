/* QEMU's -d logging (qlog.h): the item table, the file, and the lines
 * for what the engine reports. Disassembly is Capstone's. */
#include "vmm/qlog.h"

#include <capstone/capstone.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

_Static_assert(sizeof(csh) == sizeof(size_t), "a Capstone handle is a size_t");

static const struct {
	const char *name;
	unsigned mask;
	const char *help;
} items[] = {
	{"int", CPU_LOG_INT,
	 "each interrupt and exception delivered: vector, error code, CS:EIP, CPL"},
	{"in_asm", CPU_LOG_IN_ASM, "disassembly of each block of guest code as it is decoded"},
	{"exec", CPU_LOG_EXEC, "one line per block of guest code entered (very verbose)"},
	{"cpu", CPU_LOG_CPU, "the registers before each block entered (very verbose)"},
	{"cpu_reset", CPU_LOG_RESET, "the whole CPU state at each reset"},
	{"guest_errors", CPU_LOG_GUEST,
	 "guest mistakes v2e survives: unclaimed ports and MMIO, bad MSRs, triple faults"},
	{"unimp", CPU_LOG_UNIMP, "what the guest uses that v2e lacks: MSRs, CPUID leaves, opcodes"},
};

#define N_ITEMS (sizeof(items) / sizeof(items[0]))

int qlog_parse_items(const char *arg, unsigned *mask, bool *help, char *err,
		     size_t n)
{
	const char *p = arg;
	unsigned m = 0;

	*help = false;
	if (!strcmp(arg, "help")) {
		*help = true;
		*mask = 0;
		return 0;
	}
	for (;;) {
		size_t len = strcspn(p, ",");
		size_t i;
		if (len == 3 && !strncmp(p, "all", 3)) {
			for (i = 0; i < N_ITEMS; i++)
				m |= items[i].mask;
		} else {
			for (i = 0; i < N_ITEMS; i++)
				if (strlen(items[i].name) == len && !strncmp(items[i].name, p, len))
					break;
			if (i == N_ITEMS) {
				snprintf(err, n, "-d: unknown log item '%.*s' (-d help lists them)",
					 (int)(len > 64 ? 64 : len), p);
				return -EINVAL;
			}
			m |= items[i].mask;
		}
		if (!p[len])
			break;
		p += len + 1;
	}
	*mask = m;
	return 0;
}

void qlog_print_help(FILE *out)
{
	fprintf(out, "-d ITEM[,ITEM...] logs (to stderr, or the -D file):\n");
	for (size_t i = 0; i < N_ITEMS; i++)
		fprintf(out, "%-15s %s\n", items[i].name, items[i].help);
	fprintf(out, "%-15s %s\n", "all", "every item above");
}

int qlog_open(struct qlog *q, unsigned mask, const char *path)
{
	static const cs_mode modes[3] = {CS_MODE_16, CS_MODE_32, CS_MODE_64};
	int fd;

	memset(q, 0, sizeof(*q));
	if (path) {
		/* As QEMU: a %d in the name is the process ID (one log per
		 * run when several run side by side). */
		const char *pct = strstr(path, "%d");
		char named[4096];
		if (pct) {
			if (snprintf(named, sizeof(named), "%.*s%d%s", (int)(pct - path), path,
				     (int)getpid(), pct + 2) >= (int)sizeof(named))
				return -ENAMETOOLONG;
			path = named;
		}
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	} else {
		fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	}
	if (fd < 0)
		return -errno;
	q->f = fdopen(fd, "w");
	if (!q->f) {
		int e = errno;
		close(fd);
		return -e;
	}
	/* Lines go out in blocks: a line per block executed would
	 * otherwise be a system call each. Flushed after each burst. */
	setvbuf(q->f, NULL, _IOFBF, 1 << 16);
	q->mask = mask;
	if (mask & CPU_LOG_IN_ASM)
		for (int i = 0; i < 3; i++) {
			csh h;
			q->cs_ok[i] = cs_open(CS_ARCH_X86, modes[i], &h) == CS_ERR_OK;
			q->cs[i] = q->cs_ok[i] ? h : 0;
		}
	return 0;
}

void qlog_flush(struct qlog *q)
{
	if (q->f)
		fflush(q->f);
}

void qlog_close(struct qlog *q)
{
	for (int i = 0; i < 3; i++)
		if (q->cs_ok[i]) {
			csh h = q->cs[i];
			cs_close(&h);
		}
	if (q->f)
		fclose(q->f);
	memset(q, 0, sizeof(*q));
}

void qlog_printf(struct qlog *q, unsigned item, const char *fmt, ...)
{
	va_list ap;
	if (!q->f || !(q->mask & item))
		return;
	va_start(ap, fmt);
	vfprintf(q->f, fmt, ap);
	va_end(ap);
	fputc('\n', q->f);
}

static void dump_seg(FILE *f, const char *name, const struct x86_segment *s)
{
	fprintf(f, "%-3s=%04x %08" PRIx64 " %08x %08x\n", name, s->selector, s->base,
		s->limit, s->ar);
}

void qlog_dump_state(struct qlog *q, const struct x86_state *s)
{
	static const char *const sn[S_NR] = {"ES", "CS", "SS", "DS", "FS", "GS"};
	static const char flag_ch[] = "ODITSZ-A-P-C";
	FILE *f = q->f;
	char fl[13];
	if (!f)
		return;
	for (int i = 0; i < 12; i++)
		fl[i] = flag_ch[i] != '-' && (s->rflags >> (11 - i)) & 1 ? flag_ch[i] : '-';
	fl[12] = 0;
	fprintf(f, "EAX=%08" PRIx64 " EBX=%08" PRIx64 " ECX=%08" PRIx64 " EDX=%08" PRIx64 "\n",
		s->gpr[0], s->gpr[3], s->gpr[1], s->gpr[2]);
	fprintf(f, "ESI=%08" PRIx64 " EDI=%08" PRIx64 " EBP=%08" PRIx64 " ESP=%08" PRIx64 "\n",
		s->gpr[6], s->gpr[7], s->gpr[5], s->gpr[4]);
	fprintf(f, "EIP=%08" PRIx64 " EFL=%08" PRIx64 " [%s] CPL=%u HLT=%u\n", s->rip,
		s->rflags, fl, (s->seg[S_SS].ar >> 5) & 3, s->ev.halted);
	for (int i = 0; i < S_NR; i++)
		dump_seg(f, sn[i], &s->seg[i]);
	dump_seg(f, "LDT", &s->ldtr);
	dump_seg(f, "TR", &s->tr);
	fprintf(f, "GDT=     %08" PRIx64 " %08x\n", s->gdtr.base, s->gdtr.limit);
	fprintf(f, "IDT=     %08" PRIx64 " %08x\n", s->idtr.base, s->idtr.limit);
	fprintf(f, "CR0=%08" PRIx64 " CR2=%08" PRIx64 " CR3=%08" PRIx64 " CR4=%08" PRIx64 "\n",
		s->cr0, s->cr2, s->cr3, s->cr4);
	fprintf(f, "DR6=%08" PRIx64 " DR7=%08" PRIx64 " EFER=%016" PRIx64 "\n", s->dr[6],
		s->dr[7], s->efer);
}

void qlog_unclaimed(struct qlog *q, const char *space, uint64_t addr,
		    unsigned size, bool write, uint64_t value, struct cpu *cpu)
{
	uint16_t cs = 0;
	uint64_t rip = 0;
	if (!q->f || !(q->mask & CPU_LOG_GUEST))
		return;
	if (cpu)
		cpu_log_where(cpu, &cs, &rip);
	if (write)
		fprintf(q->f, "unclaimed %s write: addr 0x%" PRIx64 " size %u value 0x%" PRIx64,
			space, addr, size, value);
	else
		fprintf(q->f, "unclaimed %s read: addr 0x%" PRIx64 " size %u", space, addr, size);
	fprintf(q->f, " at %04x:%08" PRIx64 " (icount %" PRIu64 ")\n", cs, rip,
		cpu ? cpu_icount(cpu) : 0);
}

/* ---- the engine's sink ---- */

static void log_intr(void *opaque, const struct cpu_log_intr *e)
{
	struct qlog *q = opaque;
	static const char *const kinds[] = {"hw", "int", "exc"};
	char err[8];
	if (e->has_error)
		snprintf(err, sizeof(err), "%04x", e->error);
	else
		snprintf(err, sizeof(err), "----");
	fprintf(q->f,
		"%6" PRIu64 ": v=%02x e=%s i=%d %s cpl=%u IP=%04x:%08" PRIx64 " pc=%08" PRIx64
		" SP=%04x:%08" PRIx64 " CR2=%08" PRIx64 "\n",
		e->icount, e->vector, err, e->kind == CPU_INTR_SOFT,
		kinds[e->kind < 3 ? e->kind : 2], e->cpl, e->cs, e->rip, e->pc, e->ss,
		e->sp, e->cr2);
}

static void log_reset(void *opaque, const struct x86_state *s)
{
	struct qlog *q = opaque;
	fprintf(q->f, "CPU Reset (CPU 0)\n");
	qlog_dump_state(q, s);
}

static void log_asm(struct qlog *q, const struct cpu_log_block *b)
{
	int mi = b->code_size == 2 ? 0 : b->code_size == 4 ? 1 : 2;
	cs_insn *insn = NULL;
	size_t count = 0, done = 0;

	fprintf(q->f, "----------------\nIN: %04x:%08" PRIx64 " pc=%08" PRIx64
		" paddr=%08" PRIx64 " %u-bit, %u insns, %u bytes\n",
		b->cs, b->rip, b->pc, b->paddr, b->code_size * 8, b->n_insns, b->len);
	if (q->cs_ok[mi])
		count = cs_disasm(q->cs[mi], b->bytes, b->len, b->pc, 0, &insn);
	for (size_t i = 0; i < count; i++) {
		char hex[3 * 16 + 1] = "";
		for (unsigned k = 0; k < insn[i].size && k < 15; k++)
			snprintf(hex + 3 * k, 4, "%02x ", insn[i].bytes[k]);
		fprintf(q->f, "0x%08" PRIx64 ":  %-24s %s %s\n", insn[i].address, hex,
			insn[i].mnemonic, insn[i].op_str);
		done += insn[i].size;
	}
	if (count)
		cs_free(insn, count);
	if (done < b->len) {
		/* Bytes Capstone does not know (the decoder's #UD forms). */
		fprintf(q->f, "0x%08" PRIx64 ":  ", b->pc + done);
		for (size_t k = done; k < b->len; k++)
			fprintf(q->f, "%02x ", b->bytes[k]);
		fprintf(q->f, "(not disassembled)\n");
	}
	fputc('\n', q->f);
}

static void log_block(void *opaque, unsigned item, const struct cpu_log_block *b)
{
	struct qlog *q = opaque;
	if (item & CPU_LOG_IN_ASM) {
		log_asm(q, b);
		return;
	}
	if ((item & CPU_LOG_EXEC) && b->paddr != ~0ull)
		fprintf(q->f, "Trace 0: [%04x:%08" PRIx64 "] pc=%08" PRIx64 " paddr=%08" PRIx64
			" n=%u\n", b->cs, b->rip, b->pc, b->paddr, b->n_insns);
	else if (item & CPU_LOG_EXEC) /* one instruction, run on its own */
		fprintf(q->f, "Trace 0: [%04x:%08" PRIx64 "] pc=%08" PRIx64 " n=1\n", b->cs,
			b->rip, b->pc);
	if ((item & CPU_LOG_CPU) && b->state)
		qlog_dump_state(q, b->state);
}

static void log_note(void *opaque, const struct cpu_log_note *n)
{
	struct qlog *q = opaque;
	if (!(q->mask & n->item))
		return;
	switch (n->kind) {
	case CPU_NOTE_RDMSR:
		fprintf(q->f, "rdmsr 0x%08" PRIx64 ": MSR not implemented, #GP at %04x:%08"
			PRIx64 "\n", n->value, n->cs, n->rip);
		break;
	case CPU_NOTE_WRMSR:
		fprintf(q->f, "wrmsr 0x%08" PRIx64 " value 0x%016" PRIx64
			": MSR not implemented or value reserved, #GP at %04x:%08" PRIx64 "\n",
			n->value, n->value2, n->cs, n->rip);
		break;
	case CPU_NOTE_CPUID:
		fprintf(q->f, "cpuid leaf 0x%08" PRIx64 " (ecx 0x%" PRIx64
			") beyond the model's: answered as the highest basic leaf, at %04x:%08"
			PRIx64 "\n", n->value, n->value2, n->cs, n->rip);
		break;
	case CPU_NOTE_NO_INSN:
		if (n->value2)
			fprintf(q->f, "%02" PRIx64 " ", n->value2);
		if (n->value >> 8)
			fprintf(q->f, "0f ");
		fprintf(q->f, "%02" PRIx64 ": no handler in v2e, #UD at %04x:%08" PRIx64 "\n",
			n->value & 0xff, n->cs, n->rip);
		break;
	}
}

void qlog_cpu_sink(struct qlog *q, struct cpu_log_sink *sink)
{
	*sink = (struct cpu_log_sink){
		.opaque = q,
		.intr = log_intr,
		.reset = log_reset,
		.block = log_block,
		.note = log_note,
	};
}
