/* Images refused before the guest starts, each with one line naming the
 * file: missing, unreadable or not writable, locked by another user
 * (a second blk_host, or QEMU), corrupt, a backing file missing. */
#include <sys/stat.h>

#include "../tap.h"
#include "helpers.h"

static struct tap t;
static struct guest_mem gm;

/* Starts one drive; expects a refusal whose message has `want`. */
static void refused(const struct blk_drive_spec *d, const char *want,
		    const char *what)
{
	struct blk_host *h = NULL;
	char err[512] = "";
	int r = blk_host_start(&h, tbi_program(), d, 1, &gm, err, sizeof(err));
	tap_ok(&t, r < 0 && !h && strstr(err, want) && strstr(err, d->file),
	       "%s: %s", what, err);
	if (r >= 0)
		blk_host_stop(h);
}

int main(void)
{
	struct blk_drive_spec d = {.id = "d", .format = "raw"};
	struct blk_host *h1, *h2 = NULL;
	char err[512] = "";
	int r;

	if (guest_mem_create(&gm, TBI_RAM) < 0) {
		printf("Bail out! no guest RAM\n");
		return 1;
	}
	if (tb_sh("qemu-img create -q -f raw disk.raw 1M && "
		  "qemu-img create -q -f qcow2 disk.qcow2 1M && "
		  "qemu-img create -q -f qcow2 -u -b gone.raw -F raw orphan.qcow2 1M && "
		  "printf 'QFI\\373garbage' > bad.qcow2 && truncate -s 1M bad.qcow2 && "
		  "cp disk.raw noperm.raw && chmod 0 noperm.raw") != 0) {
		printf("Bail out! cannot make the images\n");
		return 1;
	}

	d.file = tb_path("nosuch.raw");
	refused(&d, "No such file or directory", "a missing file");

	/* root reads anything: the check needs an ordinary user. */
	d.file = tb_path("noperm.raw");
	if (geteuid() != 0)
		refused(&d, "Permission denied", "an unreadable file");
	else
		tap_ok(&t, 1, "# SKIP an unreadable file (running as root)");

	d.file = tb_tmpdir();
	refused(&d, "Is a directory", "a directory");

	d.file = tb_path("bad.qcow2");
	d.format = "qcow2";
	refused(&d, "cannot open as qcow2", "a corrupt qcow2 image");
	d.format = NULL;
	refused(&d, "cannot open as qcow2", "a corrupt image probed as qcow2");

	d.file = tb_path("orphan.qcow2");
	refused(&d, "gone.raw", "a missing backing file is named");

	d.file = tb_path("disk.raw");
	d.format = "vmdk";
	refused(&d, "not supported", "an unsupported format");
	d.format = "raw";

	d.file = tb_path("disk.qcow2");
	d.format = "qcow2";
	h1 = tbi_start(&d, 1, &gm);
	r = h1 ? blk_host_start(&h2, tbi_program(), &d, 1, &gm, err, sizeof(err)) : 0;
	tap_ok(&t, h1 && r == -EAGAIN &&
	       strstr(err, "is locked: another process has it open for writing"),
	       "a second writer is refused: %s", err);
	tap_ok(&t, h1 && tb_sh("qemu-img info disk.qcow2 >/dev/null 2>&1") != 0,
	       "QEMU sees the image locked too");
	d.read_only = true;
	r = h1 ? blk_host_start(&h2, tbi_program(), &d, 1, &gm, err, sizeof(err)) : 0;
	tap_ok(&t, h1 && r == -EAGAIN && strstr(err, "is locked"),
	       "so is a reader while it is written");
	blk_host_stop(h1);
	h1 = tbi_start(&d, 1, &gm);
	h2 = h1 ? tbi_start(&d, 1, &gm) : NULL;
	tap_ok(&t, h1 && h2, "two readers share an image");
	blk_host_stop(h2);
	d.read_only = false;
	d.snapshot = true;
	h2 = h1 ? tbi_start(&d, 1, &gm) : NULL;
	tap_ok(&t, h2 != NULL, "-snapshot reads an image another reader has open");
	blk_host_stop(h2);
	blk_host_stop(h1);
	d.snapshot = false;
	h1 = tbi_start(&d, 1, &gm);
	tap_ok(&t, h1 != NULL, "after stop the image is free again");
	blk_host_stop(h1);

	guest_mem_destroy(&gm);
	tb_cleanup();
	return tap_done(&t);
}
