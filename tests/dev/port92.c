/* Port 0x92: the A20 line follows bit 1, a 0->1 write of bit 0 pulses
 * reset, reads show A20 and never the reset bit. */
#include "dm/hw/port92.h"
#include "tests/tap.h"

struct lines {
	int a20, a20_changes, resets;
};

static void a20_set(void *opaque, unsigned pin, bool level)
{
	struct lines *l = opaque;
	l->a20 = level;
	l->a20_changes++;
}

static void reset_set(void *opaque, unsigned pin, bool level)
{
	struct lines *l = opaque;
	if (level)
		l->resets++;
}

int main(void)
{
	struct tap t = {0};
	struct lines l = {0};
	struct irq_line a20 = {a20_set, &l, 0}, reset = {reset_set, &l, 0};
	struct port92 p;

	port92_init(&p, &a20, &reset);
	tap_ok(&t, l.a20 == 0 && port92_ops.read(&p, 0, 1) == 0, "A20 off after power-on");
	port92_ops.write(&p, 0, 1, 0x02);
	tap_ok(&t, l.a20 == 1 && port92_ops.read(&p, 0, 1) == 0x02, "bit 1 enables A20");
	port92_ops.write(&p, 0, 1, 0x02);
	tap_ok(&t, l.a20_changes == 2, "rewriting the same value changes nothing");
	tap_ok(&t, l.resets == 0, "no reset yet");
	port92_ops.write(&p, 0, 1, 0x03);
	tap_ok(&t, l.resets == 1 && port92_ops.read(&p, 0, 1) == 0x02,
	       "0->1 on bit 0 pulses reset once; the bit reads back 0");
	port92_ops.write(&p, 0, 1, 0x03);
	tap_ok(&t, l.resets == 2, "after the pulse the bit is 0 again, so another write resets again");
	port92_ops.write(&p, 0, 1, 0xfc);
	tap_ok(&t, l.a20 == 0 && port92_ops.read(&p, 0, 1) == 0, "other bits ignored; A20 off");
	return tap_done(&t);
}
