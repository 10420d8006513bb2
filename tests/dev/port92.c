/* Port 0x92: the A20 line follows bit 1, a 0->1 write of bit 0 pulses
 * reset, reads show A20 and never the reset bit. */
#include "dm/hw/port92.h"
#include "tests/dev/irqrec.h"
#include "tests/tap.h"

int main(void)
{
	struct tap t = {0};
	struct irqrec a20_rec = {0}, reset_rec = {0};
	struct irq_line a20 = irqrec_line(&a20_rec, 0),
			reset = irqrec_line(&reset_rec, 0);
	struct port92 p;

	port92_init(&p, &a20, &reset);
	tap_ok(&t, a20_rec.level == 0 && port92_ops.read(&p, 0, 1) == 0, "A20 off after power-on");
	port92_ops.write(&p, 0, 1, 0x02);
	tap_ok(&t, a20_rec.level == 1 && port92_ops.read(&p, 0, 1) == 0x02, "bit 1 enables A20");
	port92_ops.write(&p, 0, 1, 0x02);
	tap_ok(&t, a20_rec.calls == 2, "rewriting the same value changes nothing");
	tap_ok(&t, reset_rec.rises == 0, "no reset yet");
	port92_ops.write(&p, 0, 1, 0x03);
	tap_ok(&t, reset_rec.rises == 1 && port92_ops.read(&p, 0, 1) == 0x02,
	       "0->1 on bit 0 pulses reset once; the bit reads back 0");
	port92_ops.write(&p, 0, 1, 0x03);
	tap_ok(&t, reset_rec.rises == 2, "after the pulse the bit is 0 again, so another write resets again");
	port92_ops.write(&p, 0, 1, 0xfc);
	tap_ok(&t, a20_rec.level == 0 && port92_ops.read(&p, 0, 1) == 0, "other bits ignored; A20 off");
	return tap_done(&t);
}
