/* Device state across the device-model boundary: a real sandboxed v2e-dm
 * (and the in-process board) saves its devices' versioned states through
 * SAVE, and takes them back through STATE + LOAD, all or none; and the
 * vmm answers published reads past the buffered writes that are quiet
 * for them, and no others.
 *
 *   ioreq-dm_state.t [PATH-TO-v2e-dm]   (default: the one beside tests/) */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/tap.h"
#include "vmm/dm_link.h"

struct fake_vm {
	struct region_map ports, mem;
	struct vclock clock;
	struct guest_mem gm;
	bool failed;
	char why[256];
};

static uint64_t h_now(void *o)
{
	struct fake_vm *vm = o;
	return vclock_now(&vm->clock);
}

static void h_line(void *o, unsigned line, bool level) {}
static void h_exit(void *o, int status, const char *why) {}
static void h_reset(void *o) {}
static void h_dirty(void *o, uint64_t gpa, uint64_t len) {}

static void h_failed(void *o, const char *why)
{
	struct fake_vm *vm = o;
	vm->failed = true;
	snprintf(vm->why, sizeof(vm->why), "%s", why);
}

static int dma_rd(void *o, uint64_t gpa, void *buf, size_t n)
{
	struct fake_vm *vm = o;
	return guest_mem_read(&vm->gm, gpa, buf, n);
}

static int dma_wr(void *o, uint64_t gpa, const void *buf, size_t n)
{
	struct fake_vm *vm = o;
	return guest_mem_write(&vm->gm, gpa, buf, n);
}

/* What a SAVE brought back. */
struct saved {
	unsigned n;
	char id[8][CTL_NAME_LEN];
	uint8_t *data[8];
	size_t len[8];
};

static int collect(void *opaque, const char *id, const void *data, size_t len)
{
	struct saved *s = opaque;
	if (s->n == 8)
		return -E2BIG;
	snprintf(s->id[s->n], CTL_NAME_LEN, "%s", id);
	s->data[s->n] = malloc(len);
	memcpy(s->data[s->n], data, len);
	s->len[s->n++] = len;
	return 0;
}

static void saved_free(struct saved *s)
{
	for (unsigned i = 0; i < s->n; i++)
		free(s->data[i]);
	s->n = 0;
}

static int find(const struct saved *s, const char *id)
{
	for (unsigned i = 0; i < s->n; i++)
		if (!strcmp(s->id[i], id))
			return (int)i;
	return -1;
}

static void vm_open(struct fake_vm *vm, struct dm_link_host *host)
{
	memset(vm, 0, sizeof(*vm));
	if (region_map_init(&vm->ports, "port", 0x10000) < 0 ||
	    region_map_init(&vm->mem, "mmio", 0) < 0)
		exit(1);
	vclock_init(&vm->clock, 0);
	if (guest_mem_create(&vm->gm, 16u << 20) < 0)
		exit(1);
	*host = (struct dm_link_host){&vm->ports, &vm->mem, &vm->clock, &vm->gm,
				      {dma_rd, dma_wr, vm}, true, 0, vm,
				      h_now, h_line, h_exit, h_reset, h_dirty, h_failed, NULL};
}

static void vm_close(struct fake_vm *vm)
{
	guest_mem_destroy(&vm->gm);
	region_map_destroy(&vm->mem);
	region_map_destroy(&vm->ports);
}

static void run(struct tap *t, const char *dm_path, bool inprocess)
{
	const char *how = inprocess ? "in process" : "v2e-dm";
	struct fake_vm vm;
	struct dm_link_host host;
	struct dm_link_options o = {inprocess ? "dm-inprocess" : "dm0", dm_path,
				    inprocess, 5000000000ull, 0};
	struct dm_device_spec specs[2] = {{.id = "com1"}, {.id = "kbd"}};
	struct dm_state_rec rec[2];
	struct saved s = {0};
	struct dm_link l;
	char err[512];
	int r, com, kbd;

	dev_props_init(&specs[0].props, dev_kind_find("isa-serial"));
	dev_props_init(&specs[1].props, dev_kind_find("i8042"));
	vm_open(&vm, &host);
	r = dm_link_start(&l, &o, &host, specs, 2, err, sizeof(err));
	tap_ok(t, r == 0, "%s: a board with a UART and an i8042 starts (%s)", how,
	       r ? err : "ok");
	if (r)
		exit(1);

	/* The UART's scratch register and line control; the i8042's
	 * command byte (0x60 command, then its value). */
	region_write(&vm.ports, 0x3ff, 1, 0x5a);
	region_write(&vm.ports, 0x3fb, 1, 0x1b);
	region_write(&vm.ports, 0x64, 1, 0x60);
	region_write(&vm.ports, 0x60, 1, 0x45);
	r = dm_link_save(&l, collect, &s);
	com = find(&s, "com1");
	kbd = find(&s, "kbd");
	tap_ok(t, r == 0 && s.n == 2 && com >= 0 && kbd >= 0,
	       "%s: SAVE brings back one state per device (%d, %u states)", how, r, s.n);
	if (com < 0 || kbd < 0)
		exit(1);

	region_write(&vm.ports, 0x3ff, 1, 0x11);
	region_write(&vm.ports, 0x3fb, 1, 0x03);
	region_write(&vm.ports, 0x64, 1, 0x60);
	region_write(&vm.ports, 0x60, 1, 0x01);

	/* A state cut short, next to a good one: refused, and neither
	 * device changes (all or none). */
	rec[0] = (struct dm_state_rec){"kbd", s.data[kbd], s.len[kbd]};
	rec[1] = (struct dm_state_rec){"com1", s.data[com], s.len[com] - 3};
	r = dm_link_load(&l, rec, 2);
	tap_ok(t, r < 0 && r != -EIO && !vm.failed,
	       "%s: a truncated state is refused, the dm lives on (%d)", how, r);
	region_write(&vm.ports, 0x64, 1, 0x20);
	tap_ok(t, region_read(&vm.ports, 0x3ff, 1) == 0x11 &&
		  region_read(&vm.ports, 0x60, 1) == 0x01,
	       "%s: after a refused load no device changed", how);

	rec[0] = (struct dm_state_rec){"nobody", s.data[com], s.len[com]};
	r = dm_link_load(&l, rec, 1);
	tap_ok(t, r == -ENOENT, "%s: a state for a device not on the board is refused (%d)",
	       how, r);
	rec[0] = (struct dm_state_rec){"kbd", s.data[com], s.len[com]};
	r = dm_link_load(&l, rec, 1);
	tap_ok(t, r < 0 && r != -EIO, "%s: a UART's state for the i8042 is refused (%d)",
	       how, r);

	rec[0] = (struct dm_state_rec){"com1", s.data[com], s.len[com]};
	rec[1] = (struct dm_state_rec){"kbd", s.data[kbd], s.len[kbd]};
	r = dm_link_load(&l, rec, 2);
	tap_ok(t, r == 0, "%s: the saved states load (%d)", how, r);
	tap_ok(t, region_read(&vm.ports, 0x3ff, 1) == 0x5a &&
		  region_read(&vm.ports, 0x3fb, 1) == 0x1b,
	       "%s: the UART reads back what was saved", how);
	region_write(&vm.ports, 0x64, 1, 0x20);
	tap_ok(t, region_read(&vm.ports, 0x60, 1) == 0x45,
	       "%s: the i8042's command byte is the saved one", how);
	tap_ok(t, !vm.failed, "%s: the link never failed (%s)", how,
	       vm.failed ? vm.why : "ok");

	saved_free(&s);
	dm_link_stop(&l);
	vm_close(&vm);
}

/* Published reads past buffered writes (ioreq.h): with the dm stopped,
 * a read behind a quiet write must be answered without a request, and
 * one behind a write that is not quiet, or to the written port itself,
 * must wait for the dm and see the write. */
#define QBASE 0x780 /* as the spec below says */

struct resume {
	pid_t pid;
	pthread_t thread;
};

static void *resume_later(void *opaque)
{
	struct resume *r = opaque;
	nanosleep(&(struct timespec){0, 200000000}, NULL);
	kill(r->pid, SIGCONT);
	return NULL;
}

/* Reads `port` while the dm is stopped; a thread resumes it 200 ms later,
 * so a read that needs the dm waits for it. Returns the byte and how many
 * requests the read made. */
static unsigned read_stopped(struct fake_vm *vm, struct dm_link *l, unsigned port,
			     uint64_t *requests)
{
	struct resume r = {l->child.pid, 0};
	uint64_t before = l->requests;
	unsigned v;

	if (pthread_create(&r.thread, NULL, resume_later, &r) != 0)
		exit(1);
	v = (unsigned)region_read(&vm->ports, port, 1);
	pthread_join(r.thread, NULL);
	*requests = l->requests - before;
	return v;
}

static void quiet_writes(struct tap *t, const char *dm_path)
{
	struct fake_vm vm;
	struct dm_link_host host;
	struct dm_link_options o = {"dm0", dm_path, false, 5000000000ull, 0};
	struct dm_device_spec spec = {.id = "tq"};
	struct dm_link l;
	uint64_t reqs;
	char err[512];
	unsigned v;
	int r;

	dev_props_init(&spec.props, dev_kind_find("test-quiet"));
	r = dev_props_parse(&spec.props, "iobase=0x780", err, sizeof(err));
	vm_open(&vm, &host);
	if (r == 0)
		r = dm_link_start(&l, &o, &host, &spec, 1, err, sizeof(err));
	tap_ok(t, r == 0, "quiet writes: a dm with test-quiet starts (%s)", r ? err : "ok");
	if (r)
		exit(1);
	region_write(&vm.ports, QBASE + 1, 1, 0x11);
	v = (unsigned)region_read(&vm.ports, QBASE + 2, 1);
	tap_ok(t, v == 0x11, "quiet writes: a write through the ring is read back (%#x)", v);

	kill(l.child.pid, SIGSTOP);
	region_write(&vm.ports, QBASE + 0, 1, 0x77);
	v = read_stopped(&vm, &l, QBASE + 2, &reqs);
	tap_ok(t, v == 0x11 && reqs == 0 && !vm.failed,
	       "quiet writes: behind a quiet write, the published byte without a request "
	       "(%#x, %llu requests)", v, (unsigned long long)reqs);

	kill(l.child.pid, SIGSTOP);
	region_write(&vm.ports, QBASE + 1, 1, 0x22);
	v = read_stopped(&vm, &l, QBASE + 2, &reqs);
	tap_ok(t, v == 0x22 && reqs == 1 && !vm.failed,
	       "quiet writes: behind one that is not, a request that sees it (%#x, %llu requests)",
	       v, (unsigned long long)reqs);

	kill(l.child.pid, SIGSTOP);
	region_write(&vm.ports, QBASE + 0, 1, 0x33);
	v = read_stopped(&vm, &l, QBASE + 0, &reqs);
	tap_ok(t, v == 0x33 && reqs == 1 && !vm.failed,
	       "quiet writes: the written port itself asks the dm (%#x, %llu requests)", v,
	       (unsigned long long)reqs);
	tap_ok(t, !vm.failed, "quiet writes: the link never failed (%s)",
	       vm.failed ? vm.why : "ok");
	dm_link_stop(&l);
	vm_close(&vm);
}

int main(int argc, char **argv)
{
	struct tap t = {0};
	char path[PATH_MAX];

	if (argc > 1) {
		snprintf(path, sizeof(path), "%s", argv[1]);
	} else {
		/* build/MODE/tests/ioreq-dm_state.t -> build/MODE/v2e-dm */
		ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 16);
		char *slash;
		if (n <= 0)
			return 1;
		path[n] = 0;
		slash = strrchr(path, '/');
		*slash = 0;
		slash = strrchr(path, '/');
		strcpy(slash + 1, "v2e-dm");
	}
	run(&t, path, false);
	run(&t, path, true);
	quiet_writes(&t, path);
	return tap_done(&t);
}
