/* The v2e command line: QEMU's spelling for what is supported, a named
 * error for everything else. */
#include <string.h>

#include "cpu/cpu.h"
#include "tests/tap.h"
#include "vmm/config.h"

static const struct dev_config *find_dev(const struct vm_config *c, const char *kind)
{
	for (unsigned i = 0; i < c->n_dev; i++)
		if (!strcmp(c->dev[i].props.kind->name, kind))
			return &c->dev[i];
	return NULL;
}

static int parse(struct vm_config *c, char *err, const char *line)
{
	char buf[512];
	char *argv[32];
	int argc = 0;
	char *save, *tok;
	strcpy(buf, line);
	argv[argc++] = "v2e";
	for (tok = strtok_r(buf, " ", &save); tok && argc < 31;
	     tok = strtok_r(NULL, " ", &save))
		argv[argc++] = tok;
	argv[argc] = NULL;
	return config_parse(c, argc, argv, err, 256);
}

int main(void)
{
	struct tap t = {0};
	struct vm_config c;
	char err[256];
	const struct dev_config *d;
	uint64_t v;

	tap_ok(&t, parse(&c, err, "") == 0 && c.ram_bytes == 128ull << 20 && c.smp == 1,
	       "defaults: 128 MiB, one vCPU");
	tap_ok(&t, parse(&c, err, "-m 512") == 0 && c.ram_bytes == 512ull << 20,
	       "-m 512 means MiB");
	tap_ok(&t, parse(&c, err, "-m 1G") == 0 && c.ram_bytes == 1ull << 30, "-m 1G");
	tap_ok(&t, parse(&c, err, "--m size=256M") == 0 && c.ram_bytes == 256ull << 20,
	       "--m size=256M (double dash, size=)");
	tap_ok(&t, parse(&c, err, "-m 1X") < 0 && strstr(err, "-m"), "bad size named: %s", err);
	tap_ok(&t, parse(&c, err, "-m 100T") < 0, "absurd size refused");
	tap_ok(&t, parse(&c, err, "-m") < 0 && strstr(err, "needs an argument"),
	       "missing argument: %s", err);
	tap_ok(&t, parse(&c, err, "-kernel bz -initrd rd -append console=ttyS0") == 0 &&
		       !strcmp(c.kernel, "bz") && !strcmp(c.initrd, "rd") &&
		       !strcmp(c.append, "console=ttyS0"),
	       "-kernel -initrd -append");
	tap_ok(&t, parse(&c, err, "-initrd rd") < 0 && strstr(err, "-kernel"),
	       "-initrd without -kernel: %s", err);
	tap_ok(&t, parse(&c, err, "-nographic") == 0 && c.n_serial == 1 &&
		       c.serial[0].kind == SERIAL_STDIO && c.display_none,
	       "-nographic: serial on stdio, no display");
	tap_ok(&t, parse(&c, err, "-serial file:/tmp/x -serial stdio -display none") == 0 &&
		       c.n_serial == 2 && c.serial[0].kind == SERIAL_FILE &&
		       !strcmp(c.serial[0].path, "/tmp/x") && c.serial[1].kind == SERIAL_STDIO,
	       "-serial in COM order");
	tap_ok(&t, parse(&c, err, "-serial stdio -serial stdio") < 0, "stdio twice refused");
	tap_ok(&t, parse(&c, err, "-serial tcp:1:2") < 0 && strstr(err, "-serial"),
	       "unsupported serial backend named: %s", err);
	tap_ok(&t, parse(&c, err, "-device isa-debug-exit,iobase=0xf4,iosize=0x04") == 0 &&
		       (d = find_dev(&c, "isa-debug-exit")) && d->props.num[0] == 0xf4 &&
		       d->props.num[1] == 4,
	       "-device isa-debug-exit,iobase=0xf4,iosize=0x04");
	tap_ok(&t, parse(&c, err, "-device isa-debug-exit") == 0 &&
		       (d = find_dev(&c, "isa-debug-exit")) && d->props.num[0] == 0x501 &&
		       d->props.num[1] == 2,
	       "isa-debug-exit defaults as QEMU's");
	tap_ok(&t, parse(&c, err, "-device e1000") < 0 && strstr(err, "e1000"),
	       "unsupported device named: %s", err);
	tap_ok(&t, parse(&c, err, "-device isa-debug-exit,foo=1") < 0 && strstr(err, "foo"),
	       "unknown property named: %s", err);
	tap_ok(&t, parse(&c, err, "-device isa-debug-exit,iobase=0x10000") < 0 &&
		       strstr(err, "iobase") && strstr(err, "0xffff"),
	       "a number out of range names the property and the range: %s", err);
	tap_ok(&t, parse(&c, err, "-device isa-debug-exit,iobase=12z") < 0 && strstr(err, "12z"),
	       "a bad number names the value: %s", err);
	tap_ok(&t, parse(&c, err, "-device isa-debug-exit,iosize=3") < 0 && strstr(err, "iosize"),
	       "the kind's own check refuses iosize=3: %s", err);
	tap_ok(&t, parse(&c, err, "-device isa-debug-exit,iobase") < 0 && strstr(err, "value"),
	       "a property without a value: %s", err);
	tap_ok(&t, parse(&c, err, "-device i8042") < 0 && strstr(err, "i8042"),
	       "a kind the board creates itself is refused: %s", err);
	tap_ok(&t, parse(&c, err, "-device help") == 0 && c.device_help, "-device help");
	tap_ok(&t, parse(&c, err, "-device isa-serial,help") == 0 && c.device_props &&
		       !strcmp(c.device_props->name, "isa-serial"), "-device isa-serial,help");
	tap_ok(&t, parse(&c, err, "-display none") == 0 && c.n_dev == 1 && c.n_com == 1 &&
		       !strcmp(c.dev[0].props.kind->name, "isa-serial") &&
		       !strcmp(c.dev[0].props.str[3], "null") && !strcmp(c.dev[0].id, "com1"),
	       "the default COM1, with nothing behind it");
	tap_ok(&t, parse(&c, err, "-display none -nodefaults") == 0 && c.n_dev == 0 && c.n_com == 0,
	       "-nodefaults: no COM1");
	tap_ok(&t, parse(&c, err, "-serial file:/tmp/x -serial stdio -display none "
			 "-device isa-debug-exit") == 0 && c.n_dev == 3 && c.n_com == 2 &&
		       c.stdio_dev && !strcmp(c.dev[0].props.str[3], "file:/tmp/x") &&
		       c.dev[1].props.num[0] == 1 && !strcmp(c.dev[1].props.str[3], "stdio") &&
		       !strcmp(c.dev[2].props.kind->name, "isa-debug-exit"),
	       "-serial makes isa-serial devices COM1, COM2 ahead of -device's");
	tap_ok(&t, parse(&c, err, "-serial null -device isa-serial,chardev=file:/tmp/y -display none")
		       == 0 && c.n_com == 2 && c.dev[1].props.num[0] == 1 && !strcmp(c.dev[1].id, "com2"),
	       "-device isa-serial takes the next free COM port");
	tap_ok(&t, parse(&c, err, "-device isa-serial,index=1 -display none") == 0 && c.n_com == 1 &&
		       c.dev[0].props.num[0] == 1,
	       "-device isa-serial replaces the default COM1 (QEMU's rule)");
	tap_ok(&t, parse(&c, err, "-serial stdio -device isa-serial,index=0") < 0 &&
		       strstr(err, "COM1"), "a COM port given twice: %s", err);
	tap_ok(&t, parse(&c, err, "-serial stdio -device isa-serial,chardev=stdio") < 0 &&
		       strstr(err, "terminal"), "two ports on the terminal: %s", err);
	tap_ok(&t, parse(&c, err, "-device isa-serial,chardev=tcp:1") < 0 && strstr(err, "chardev"),
	       "an unknown backend: %s", err);
	tap_ok(&t, parse(&c, err, "-icount -no-reboot") == 0 && c.icount && c.no_reboot,
	       "-icount without a value, -no-reboot");
	tap_ok(&t, parse(&c, err, "-icount shift=5") == 0 && c.icount_shift == 5, "-icount shift=5");
	tap_ok(&t, parse(&c, err, "-icount shift=4,sleep=off") == 0 && c.icount_shift == 4,
	       "-icount shift=4,sleep=off (QEMU's spelling of what v2e does)");
	tap_ok(&t, parse(&c, err, "-icount shift=4,sleep=on") < 0 && strstr(err, "sleep=on"),
	       "-icount sleep=on refused by name: %s", err);
	tap_ok(&t, parse(&c, err, "-smp 2") < 0 && strstr(err, "-smp"), "-smp 2 refused: %s", err);
	tap_ok(&t, parse(&c, err, "-qmp unix:/x") < 0 && strstr(err, "-qmp") &&
		       strstr(err, "not supported"),
	       "known QEMU option not supported yet: %s", err);
	/* The display: QEMU's spellings and defaults. */
	tap_ok(&t, parse(&c, err, "-kernel k") == 0 && c.display.vga && c.display.vnc_default &&
		       !c.display.vnc && c.implied_serial && c.serial[0].kind == SERIAL_STDIO,
	       "no display option: a VGA, VNC on localhost, COM1 on the terminal");
	tap_ok(&t, parse(&c, err, "-kernel k -nographic") == 0 && c.display.vga &&
		       !c.display.vnc_default && !c.display.vnc,
	       "-nographic: the VGA stays, no VNC");
	tap_ok(&t, parse(&c, err, "-kernel k -display none") == 0 && !c.display.vnc_default,
	       "-display none: no VNC");
	tap_ok(&t, parse(&c, err, "-kernel k -nodefaults") == 0 && !c.display.vga &&
		       !c.display.vnc_default,
	       "-nodefaults: no VGA, so no default VNC");
	tap_ok(&t, parse(&c, err, "-kernel k -vnc :3,to=9,websocket") == 0 && c.display.vnc &&
		       !c.display.vnc_host[0] && c.display.vnc_display == 3 && c.display.vnc_to == 9 &&
		       c.display.websocket && c.display.ws_port == -1 && !c.implied_serial,
	       "-vnc :3,to=9,websocket");
	tap_ok(&t, parse(&c, err, "-kernel k -vnc [::1]:2,websocket=127.0.0.1:5800") == 0 &&
		       !strcmp(c.display.vnc_host, "::1") && c.display.vnc_display == 2 &&
		       !strcmp(c.display.ws_host, "127.0.0.1") && c.display.ws_port == 5800,
	       "-vnc [::1]:2,websocket=HOST:PORT");
	tap_ok(&t, parse(&c, err, "-kernel k -vnc unix:/tmp/v.sock") == 0 &&
		       c.display.vnc_unix && !strcmp(c.display.vnc_unix, "/tmp/v.sock"),
	       "-vnc unix:PATH");
	tap_ok(&t, parse(&c, err, "-kernel k -display vnc=localhost:1") == 0 && c.display.vnc &&
		       !strcmp(c.display.vnc_host, "localhost") && c.display.vnc_display == 1,
	       "-display vnc=HOST:N");
	tap_ok(&t, parse(&c, err, "-kernel k -vnc :1,password-secret=pw "
			 "-object secret,id=pw,data=hunter2") == 0 &&
		       !strcmp(c.display.password_secret, "pw") && c.display.n_secret == 1,
	       "-vnc password-secret= with -object secret");
	tap_ok(&t, parse(&c, err, "-kernel k -vnc :1,password-secret=nope") < 0 &&
		       strstr(err, "nope"),
	       "password-secret naming no secret: %s", err);
	tap_ok(&t, parse(&c, err, "-kernel k -vnc :1,password=on") < 0 && strstr(err, "monitor"),
	       "password=on refused until a monitor exists: %s", err);
	tap_ok(&t, parse(&c, err, "-kernel k -vnc :1,lossy=on") < 0 && strstr(err, "lossy"),
	       "an unsupported -vnc option is named: %s", err);
	tap_ok(&t, parse(&c, err, "-kernel k -vnc 5900") < 0 && strstr(err, "DISPLAY"),
	       "-vnc without a display number: %s", err);
	tap_ok(&t, parse(&c, err, "-kernel k -vga cirrus") < 0 && strstr(err, "cirrus"),
	       "-vga cirrus refused by name: %s", err);
	tap_ok(&t, parse(&c, err, "-kernel k -vga none -vnc :1") < 0 && strstr(err, "VGA"),
	       "-vnc with -vga none: %s", err);
	tap_ok(&t, parse(&c, err, "-kernel k -object memory-backend-ram,id=m") < 0 &&
		       strstr(err, "secret"),
	       "-object other than secret: %s", err);
	tap_ok(&t, parse(&c, err, "-frobnicate") < 0 && strstr(err, "unknown option -frobnicate"),
	       "unknown option named: %s", err);
	tap_ok(&t, parse(&c, err, "-d int,in_asm -d guest_errors -D /tmp/log") == 0 &&
		       c.log_mask == (CPU_LOG_INT | CPU_LOG_IN_ASM | CPU_LOG_GUEST) &&
		       !strcmp(c.log_file, "/tmp/log") && !c.log_help,
	       "-d int,in_asm -d guest_errors -D FILE");
	tap_ok(&t, parse(&c, err, "-d exec,cpu,cpu_reset,unimp") == 0 &&
		       c.log_mask == (CPU_LOG_EXEC | CPU_LOG_CPU | CPU_LOG_RESET | CPU_LOG_UNIMP),
	       "-d exec,cpu,cpu_reset,unimp");
	tap_ok(&t, parse(&c, err, "-d help") == 0 && c.log_help && !c.log_mask, "-d help");
	tap_ok(&t, parse(&c, err, "-d int,intr") < 0 && strstr(err, "'intr'"),
	       "unknown log item named: %s", err);
	tap_ok(&t, parse(&c, err, "-d int,") < 0 && strstr(err, "''"),
	       "empty log item refused: %s", err);
	tap_ok(&t, parse(&c, err, "") == 0 && !c.log_mask && !c.log_file, "no logging by default");
	tap_ok(&t, parse(&c, err, "stray") < 0 && strstr(err, "stray"), "stray argument named");
	tap_ok(&t, parse(&c, err, "") == 0 && !c.dm_inprocess && c.n_dm_split == 0 &&
		       c.dm_timeout_ms == 10000, "device models: out of process, one, 10 s by default");
	tap_ok(&t, parse(&c, err, "-dm inprocess -dm-timeout 250") == 0 && c.dm_inprocess &&
		       c.dm_timeout_ms == 250, "-dm inprocess -dm-timeout 250");
	tap_ok(&t, parse(&c, err, "-dm sideways") < 0 && strstr(err, "inprocess"),
	       "-dm with a wrong mode names the choices: %s", err);
	tap_ok(&t, parse(&c, err, "-dm-split i8042,port92") == 0 && c.n_dm_split == 2 &&
		       !strcmp(c.dm_split[0], "i8042") && !strcmp(c.dm_split[1], "port92"),
	       "-dm-split i8042,port92");
	tap_ok(&t, parse(&c, err, "-dm-split i8042,vga") < 0 && strstr(err, "vga"),
	       "-dm-split names an unknown device: %s", err);
	tap_ok(&t, parse(&c, err, "-dm-timeout 0") < 0 && strstr(err, "-dm-timeout"),
	       "-dm-timeout 0 refused");
	tap_ok(&t, parse(&c, err, "") == 0 && !c.no_jit &&
		       parse(&c, err, "-jit off") == 0 && c.no_jit &&
		       parse(&c, err, "-jit on") == 0 && !c.no_jit,
	       "-jit: on by default, off and on");
	tap_ok(&t, parse(&c, err, "") == 0 && !c.perf_map &&
		       parse(&c, err, "-perfmap") == 0 && c.perf_map, "-perfmap");
	tap_ok(&t, parse(&c, err, "") == 0 && c.tick_slack_ns == 40000000 &&
		       parse(&c, err, "-tick-slack 0") == 0 && c.tick_slack_ns == 0 &&
		       parse(&c, err, "-tick-slack 20") == 0 && c.tick_slack_ns == 20000000,
	       "-tick-slack: 40 ms by default, 0 and 20");
	tap_ok(&t, parse(&c, err, "-tick-slack 1001") < 0 && strstr(err, "0..1000") &&
		       parse(&c, err, "-tick-slack -1") < 0 && parse(&c, err, "-tick-slack 5ms") < 0,
	       "-tick-slack out of range or not a number: %s", err);
	tap_ok(&t, parse(&c, err, "-jit maybe") < 0 && strstr(err, "-jit maybe") &&
		       strstr(err, "'off'"), "-jit with a wrong value names the choices: %s", err);
	tap_ok(&t, parse(&c, err, "-s -S") == 0 && !strcmp(c.gdb, "tcp::1234") && c.gdb_wait,
	       "-s -S: the GDB stub on tcp::1234, the vCPU waiting");
	tap_ok(&t, parse(&c, err, "") == 0 && !c.gdb && !c.gdb_wait, "no debugger by default");
	tap_ok(&t, parse(&c, err, "-S") < 0 && strstr(err, "-S") && strstr(err, "-gdb"),
	       "-S without a debugger refused: %s", err);
	tap_ok(&t, parse(&c, err, "-gdb tcp::5555") == 0 && !strcmp(c.gdb, "tcp::5555") &&
		       parse(&c, err, "-gdb tcp:127.0.0.1:1") == 0 &&
		       parse(&c, err, "-gdb unix:/tmp/g.sock,server=on,wait=off") == 0 &&
		       parse(&c, err, "-gdb unix:/tmp/g.sock") == 0,
	       "-gdb tcp::PORT, tcp:HOST:PORT, unix:PATH (QEMU's server=on,wait=off too)");
	tap_ok(&t, parse(&c, err, "-gdb tcp::70000") < 0 && parse(&c, err, "-gdb tcp:1234") < 0 &&
		       parse(&c, err, "-gdb unix:") < 0 && parse(&c, err, "-gdb unix:/x,wait=on") < 0 &&
		       parse(&c, err, "-gdb stdio") < 0 && strstr(err, "-gdb stdio"),
	       "bad -gdb devices refused by name: %s", err);
	tap_ok(&t, parse(&c, err, "-display none") == 0 && !c.kernel && !c.bios &&
		       c.boot.fail_wait_ms == -1,
	       "no -kernel: the default firmware, waiting for ever when nothing boots");
	tap_ok(&t, parse(&c, err, "-bios my.bin -L /a -L /b -boot reboot-timeout=100") == 0 &&
		       !strcmp(c.bios, "my.bin") && c.n_bios_dirs == 2 &&
		       !strcmp(c.bios_dirs[1], "/b") && c.boot.fail_wait_ms == 100,
	       "-bios FILE, -L DIR twice, -boot reboot-timeout=MS");
	tap_ok(&t, parse(&c, err, "-boot order=cx") < 0 && strstr(err, "order=cx") &&
		       parse(&c, err, "-boot order=cc") < 0 &&
		       parse(&c, err, "-boot bogus=1") < 0 && strstr(err, "bogus") &&
		       parse(&c, err, "-boot reboot-timeout=70000") < 0,
	       "bad -boot orders, unknown keys, a timeout past 65535, refused: %s", err);
	tap_ok(&t, parse(&c, err, "-boot order=dc,once=a,menu=on,strict=off -display none") == 0 &&
		       !strcmp(c.boot.order, "dc") && !strcmp(c.boot.once, "a") && c.boot.menu &&
		       !c.boot.strict && parse(&c, err, "-boot d -display none") == 0 &&
		       !strcmp(c.boot.order, "d"),
	       "-boot order=,once=,menu=, and the old -boot d");
	{
		unsigned char r3d, r38;
		boot_cmos_order("", &r3d, &r38);
		tap_ok(&t, r3d == 0x12 && r38 == 0x30, "the default order cad in CMOS: 0x3d=0x12, "
		       "0x38=0x30 (%#x %#x)", r3d, r38);
		boot_cmos_order("dc", &r3d, &r38);
		tap_ok(&t, r3d == 0x23 && r38 == 0x00, "order=dc in CMOS (%#x %#x)", r3d, r38);
	}
	{
		const struct drive_config *dr;
		tap_ok(&t, parse(&c, err, "-hda a.img -hdb b.img -cdrom c.iso -display none") == 0 &&
			       c.drives.n == 4 && (dr = drive_at(&c.drives, DRIVE_IF_IDE, 1)) &&
			       !strcmp(dr->file, "b.img") && !strcmp(dr->id, "ide0-hd1") &&
			       (dr = drive_at(&c.drives, DRIVE_IF_IDE, 2)) &&
			       dr->media == DRIVE_MEDIA_CDROM && dr->read_only &&
			       !strcmp(dr->id, "ide1-cd0"),
		       "-hda, -hdb, -cdrom: units 0, 1, 2 with QEMU's names");
		tap_ok(&t, parse(&c, err, "-display none") == 0 && c.drives.n == 2 &&
			       (dr = drive_at(&c.drives, DRIVE_IF_IDE, 2)) && !dr->file[0] &&
			       dr->media == DRIVE_MEDIA_CDROM &&
			       parse(&c, err, "-display none -nodefaults") == 0 && c.drives.n == 0,
		       "QEMU's default empty CD-ROM on ide1-cd0 and floppy A, none with -nodefaults");
		tap_ok(&t, parse(&c, err, "-drive file=x,,y.img,format=qcow2,cache=unsafe "
					  "-drive file=z,if=ide,bus=1,unit=1,media=disk -snapshot "
					  "-display none") == 0 &&
			       (dr = drive_at(&c.drives, DRIVE_IF_IDE, 0)) &&
			       !strcmp(dr->file, "x,y.img") && !strcmp(dr->format, "qcow2") &&
			       dr->cache == DRIVE_CACHE_UNSAFE && dr->snapshot &&
			       (dr = drive_at(&c.drives, DRIVE_IF_IDE, 3)) && !strcmp(dr->file, "z"),
		       "-drive with ',,', format, cache, bus/unit; -snapshot applies to all");
		tap_ok(&t, parse(&c, err, "-drive file=a,if=scsi") < 0 && strstr(err, "if=scsi") &&
			       parse(&c, err, "-drive file=a,format=vmdk") < 0 &&
			       parse(&c, err, "-drive file=a,index=4") < 0 &&
			       parse(&c, err, "-drive file=a,index=0,bus=0") < 0 &&
			       parse(&c, err, "-drive file=a,werror=stop") < 0 && strstr(err, "werror") &&
			       parse(&c, err, "-drive media=disk") < 0 &&
			       parse(&c, err, "-drive a.img") < 0 &&
			       parse(&c, err, "-hda a -drive file=b,index=0") < 0 &&
			       strstr(err, "two drives") &&
			       parse(&c, err, "-hda a -hdb b -hdc c -hdd d -drive file=e") < 0 &&
			       strstr(err, "taken"),
		       "bad drives refused by name: %s", err);
		tap_ok(&t, parse(&c, err, "-usb -device usb-tablet -device usb-kbd,port=2 -display none") == 0 &&
			       c.usb && find_dev(&c, "usb-tablet") && find_dev(&c, "usb-kbd") &&
			       parse(&c, err, "-usbdevice tablet -display none") == 0 && c.usb &&
			       find_dev(&c, "usb-tablet") &&
			       parse(&c, err, "-device piix3-usb-uhci -device usb-kbd -display none") == 0 &&
			       !c.usb,
		       "-usb, -usbdevice tablet, or the controller as a -device, before USB devices");
		tap_ok(&t, parse(&c, err, "-device usb-tablet -display none") < 0 && strstr(err, "-usb") &&
			       parse(&c, err, "-usb -device piix3-usb-uhci") < 0 &&
			       parse(&c, err, "-usbdevice mouse") < 0 && strstr(err, "mouse"),
		       "a USB device without a controller, two controllers, an unknown "
		       "-usbdevice: refused (%s)", err);
		tap_ok(&t, parse(&c, err, "-fda f.img -drive if=floppy,index=1 -display none") == 0 &&
			       (dr = drive_at(&c.drives, DRIVE_IF_FLOPPY, 0)) && !strcmp(dr->id, "fda") &&
			       (dr = drive_at(&c.drives, DRIVE_IF_FLOPPY, 1)) && !dr->file[0],
		       "-fda and an empty floppy drive B");
	}
	tap_ok(&t, parse(&c, err, "-bios x.bin -kernel k") < 0 && strstr(err, "-bios"),
	       "-bios with -kernel refused: %s", err);
	tap_ok(&t, parse(&c, err, "-device isa-debugcon,iobase=0x402,chardev=dbg "
				  "-chardev file,id=dbg,path=/tmp/fw.log -display none") == 0 &&
		       (d = find_dev(&c, "isa-debugcon")) && d->props.num[0] == 0x402 &&
		       !strcmp(d->props.str[1], "file:/tmp/fw.log"),
	       "-device isa-debugcon,chardev=ID with a -chardev given after it");
	tap_ok(&t, parse(&c, err, "-debugcon file:/tmp/e9.log -display none") == 0 &&
		       (d = find_dev(&c, "isa-debugcon")) && d->props.num[0] == 0xe9 &&
		       !strcmp(d->props.str[1], "file:/tmp/e9.log"),
	       "-debugcon file:PATH: an isa-debugcon at 0xe9");
	tap_ok(&t, parse(&c, err, "-chardev stdio,id=t -debugcon chardev:t -display none") == 0 &&
		       (d = find_dev(&c, "isa-debugcon")) && !strcmp(d->props.str[1], "stdio") &&
		       c.stdio_dev,
	       "-debugcon chardev:ID on the terminal");
	tap_ok(&t, parse(&c, err, "-chardev socket,id=s") < 0 && strstr(err, "socket") &&
		       parse(&c, err, "-chardev file,id=f") < 0 && strstr(err, "path") &&
		       parse(&c, err, "-chardev null") < 0 && strstr(err, "id=") &&
		       parse(&c, err, "-device isa-debugcon,chardev=nosuch") < 0 &&
		       strstr(err, "nosuch"),
	       "bad -chardev and unknown chardev ids refused by name: %s", err);
	tap_ok(&t, parse(&c, err, "-nographic -debugcon stdio") < 0 && strstr(err, "terminal"),
	       "-debugcon stdio with the serial port on the terminal refused: %s", err);
	tap_ok(&t, config_parse_size("4k", 1, &v) == 0 && v == 4096 &&
		       config_parse_size("-1", 1, &v) < 0 &&
		       config_parse_size("99999999999999999999", 1, &v) < 0,
	       "size parser: suffixes, negatives, overflow");
	return tap_done(&t);
}
