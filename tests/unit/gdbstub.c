/* The GDB stub without a VM: packet framing and checksums, overlong and
 * broken packets, hex and binary helpers, and a session's replies against
 * a fake target (registers, memory, breakpoints, resume and stop,
 * no-ack mode, the target description, monitor commands). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tests/tap.h"
#include "vmm/gdbstub.h"

#define MEM_BASE 0x1000
#define MEM_SIZE 0x2000

struct fake {
	struct x86_state st;
	uint8_t mem[MEM_SIZE];
	struct cpu_debug dbg;
	int n_debug, n_reset, n_quit;
};

static void fake_get(void *o, struct x86_state *s) { *s = ((struct fake *)o)->st; }
static void fake_set(void *o, const struct x86_state *s) { ((struct fake *)o)->st = *s; }

static int fake_rw(void *o, uint64_t addr, void *buf, size_t len, bool write)
{
	struct fake *f = o;
	if (addr < MEM_BASE || addr - MEM_BASE > MEM_SIZE ||
	    len > MEM_SIZE - (addr - MEM_BASE))
		return -EFAULT;
	if (write)
		memcpy(f->mem + (addr - MEM_BASE), buf, len);
	else
		memcpy(buf, f->mem + (addr - MEM_BASE), len);
	return 0;
}

static int fake_debug(void *o, const struct cpu_debug *d)
{
	struct fake *f = o;
	f->dbg = *d;
	f->n_debug++;
	return 0;
}

static void fake_reset(void *o) { ((struct fake *)o)->n_reset++; }
static void fake_quit(void *o) { ((struct fake *)o)->n_quit++; }

static char reply[GDBSTUB_OUT_SIZE + 1];

/* Feeds `in` (n bytes) and returns what the session sent. */
static const char *feed(struct gdbstub_session *s, const char *in, size_t n)
{
	size_t at = 0;
	reply[0] = 0;
	while (at < n) {
		at += gdbstub_session_input(s, (const uint8_t *)in + at, n - at);
		memcpy(reply, s->out, s->out_len);
		reply[s->out_len] = 0;
		s->out_len = 0;
	}
	return reply;
}

/* Sends one framed packet. */
static const char *cmd(struct gdbstub_session *s, const char *payload)
{
	static char framed[2 * GDBSTUB_MAX_PACKET + 8];
	size_t n = gdbstub_frame(payload, strlen(payload), framed, sizeof(framed));
	return feed(s, framed, n);
}

static enum gdbstub_rx_event rx_str(struct gdbstub_rx *rx, const char *s, size_t n)
{
	enum gdbstub_rx_event e = GDBSTUB_RX_NONE;
	for (size_t i = 0; i < n; i++) {
		e = gdbstub_rx_byte(rx, (uint8_t)s[i]);
		if (e != GDBSTUB_RX_NONE && i + 1 < n)
			return (enum gdbstub_rx_event)-1; /* too early */
	}
	return e;
}

static void test_packets(struct tap *t)
{
	struct gdbstub_rx *rx = malloc(sizeof(*rx));
	char out[64], big[GDBSTUB_MAX_PACKET + 16];
	uint8_t bytes[8];
	uint64_t v;
	const char *p;
	size_t n;
	int r;

	gdbstub_rx_init(rx);
	n = gdbstub_frame("OK", 2, out, sizeof(out));
	tap_ok(t, n == 6 && !memcmp(out, "$OK#9a", 6), "frame: $OK#9a");
	n = gdbstub_frame("a$#}*", 5, out, sizeof(out));
	out[n] = 0;
	tap_ok(t, !strncmp(out, "$a}\x04}\x03}]}\x0a#", 11), "frame escapes $ # } *");
	tap_ok(t, rx_str(rx, out, n) == GDBSTUB_RX_PACKET, "an escaped frame's checksum is right");
	tap_ok(t, gdbstub_frame("OK", 2, out, 5) == 0, "frame: no room is 0, not an overflow");

	tap_ok(t, rx_str(rx, "$OK#9a", 6) == GDBSTUB_RX_PACKET && rx->len == 2 &&
		      !strcmp(rx->buf, "OK"), "rx: a packet");
	tap_ok(t, rx_str(rx, "$OK#9A", 6) == GDBSTUB_RX_PACKET, "rx: checksum digits in upper case");
	tap_ok(t, rx_str(rx, "$OK#00", 6) == GDBSTUB_RX_BAD, "rx: wrong checksum");
	tap_ok(t, rx_str(rx, "$OK#zz", 5) == GDBSTUB_RX_BAD, "rx: checksum not hex");
	tap_ok(t, rx_str(rx, "$$$x$OK#9a", 10) == GDBSTUB_RX_PACKET && !strcmp(rx->buf, "OK"),
	       "rx: a '$' inside a packet starts it afresh");
	tap_ok(t, gdbstub_rx_byte(rx, 3) == GDBSTUB_RX_INTERRUPT &&
		      gdbstub_rx_byte(rx, '+') == GDBSTUB_RX_ACK &&
		      gdbstub_rx_byte(rx, '-') == GDBSTUB_RX_NAK &&
		      gdbstub_rx_byte(rx, 'x') == GDBSTUB_RX_NONE,
	       "rx: Ctrl-C, acks, noise between packets");
	{
		/* One byte over the limit, with the right checksum. */
		size_t len = GDBSTUB_MAX_PACKET + 1;
		big[0] = '$';
		memset(big + 1, 'A', len);
		snprintf(big + 1 + len, 4, "#%02x", (unsigned)((len * 'A') & 0xff));
		tap_ok(t, rx_str(rx, big, len + 4) == GDBSTUB_RX_BAD, "rx: an overlong packet is refused");
		snprintf(big + len, 4, "#%02x", (unsigned)(((len - 1) * 'A') & 0xff));
		tap_ok(t, rx_str(rx, big, len + 3) == GDBSTUB_RX_PACKET &&
			      rx->len == GDBSTUB_MAX_PACKET, "rx: a packet of exactly the limit");
	}

	tap_ok(t, gdbstub_hex_decode("00fFa5", bytes, 3) == 0 && bytes[0] == 0 &&
		      bytes[1] == 0xff && bytes[2] == 0xa5, "hex decode");
	tap_ok(t, gdbstub_hex_decode("0g", bytes, 1) < 0 && gdbstub_hex_decode("0", bytes, 1) < 0,
	       "hex decode refuses bad digits and a short string");
	gdbstub_hex_encode((const uint8_t *)"\x01\xab", 2, out);
	tap_ok(t, !memcmp(out, "01ab", 4), "hex encode");
	p = "ffffffffffffffff,";
	r = gdbstub_parse_hex(&p, p + 17, &v);
	tap_ok(t, r == 0 && v == ~0ull && *p == ',', "a 16-digit number");
	p = "10000000000000000";
	tap_ok(t, gdbstub_parse_hex(&p, p + 17, &v) < 0, "a 17-digit number is refused");
	p = ",";
	tap_ok(t, gdbstub_parse_hex(&p, p + 1, &v) < 0, "no digits is refused");
	p = "12";
	tap_ok(t, gdbstub_parse_hex(&p, p + 1, &v) == 0 && v == 1, "parsing stops at the end given");

	r = gdbstub_unescape("a}\x03}]", 5, bytes, sizeof(bytes));
	tap_ok(t, r == 3 && bytes[0] == 'a' && bytes[1] == '#' && bytes[2] == '}',
	       "binary unescape");
	tap_ok(t, gdbstub_unescape("ab}", 3, bytes, sizeof(bytes)) < 0, "a trailing escape is refused");
	tap_ok(t, gdbstub_unescape("abc", 3, bytes, 2) < 0, "unescape never writes past its room");
	free(rx);
}

static void test_session(struct tap *t)
{
	struct gdbstub_session *s = malloc(sizeof(*s));
	struct fake *f = calloc(1, sizeof(*f));
	struct gdbstub_ops ops = {f, fake_get, fake_set, fake_rw, fake_debug, fake_reset,
				  fake_quit};
	const char *r;
	char xml[16384] = "";
	size_t xml_len = 0;

	gdbstub_session_init(s, &ops);
	f->st.gpr[R_AX] = 0x12345678;
	f->st.rip = 0x100000;
	f->st.cr0 = 0x80000011;
	memcpy(f->mem, "\xde\xad\xbe\xef", 4);

	r = cmd(s, "qSupported:xmlRegisters=i386");
	{
		static const char want[] = "+$PacketSize=1000;qXfer:features:read+;"
					   "QStartNoAckMode+;vContSupported+#";
		tap_ok(t, !strncmp(r, want, sizeof(want) - 1), "qSupported (%s)", r);
	}
	r = cmd(s, "?");
	tap_ok(t, !strncmp(r, "+$T05thread:01;#", 16), "? answers a stop reply (%s)", r);
	r = cmd(s, "g");
	tap_ok(t, strlen(r) == 1 + 1 + 2 * 348 + 3 && !strncmp(r + 2, "78563412", 8) &&
		      !strncmp(r + 2 + 64, "00001000", 8),
	       "g: %zu hex digits, eax and eip little-endian", strlen(r) - 5);
	r = cmd(s, "p2f");
	tap_ok(t, !strncmp(r, "+$11000080#", 11), "p for cr0 (register 0x2f) (%s)", r);
	r = cmd(s, "P0=efbeadde");
	tap_ok(t, !strncmp(r, "+$OK#", 5) && f->st.gpr[R_AX] == 0xdeadbeef, "P writes eax");
	r = cmd(s, "P99=00");
	tap_ok(t, !strncmp(r, "+$E22#", 6), "P of an unknown register is an error");
	r = cmd(s, "m1000,4");
	tap_ok(t, !strncmp(r, "+$deadbeef#", 11), "m reads memory (%s)", r);
	r = cmd(s, "m10,4");
	tap_ok(t, !strncmp(r, "+$E14#", 6), "m of unmapped memory: E14");
	r = cmd(s, "M1004,2:cafe");
	tap_ok(t, !strncmp(r, "+$OK#", 5) && f->mem[4] == 0xca && f->mem[5] == 0xfe, "M writes");
	r = cmd(s, "M1004,2:caf");
	tap_ok(t, !strncmp(r, "+$E22#", 6), "M with a short payload is refused");
	{
		/* X with the escapes gdb sends: '#' and '}' in the data. */
		static const char x[] = "$X1008,3:a}\x03}]#";
		char buf[32];
		unsigned sum = 0;
		for (size_t i = 1; i < sizeof(x) - 2; i++)
			sum += (uint8_t)x[i];
		snprintf(buf, sizeof(buf), "%s%02x", x, sum & 0xff);
		r = feed(s, buf, strlen(buf));
		tap_ok(t, !strncmp(r, "+$OK#", 5) && !memcmp(f->mem + 8, "a#}", 3),
		       "X writes binary data with escapes");
	}
	r = cmd(s, "Z0,100010,1");
	r = cmd(s, "Z2,1000,4");
	tap_ok(t, !strncmp(r, "+$OK#", 5), "Z0 and Z2 accepted");
	r = cmd(s, "Z9,1000,4");
	tap_ok(t, !strcmp(r, "+$#00"), "an unknown Z type: empty reply");
	r = cmd(s, "vCont;s:1");
	tap_ok(t, s->running && f->dbg.step && f->dbg.n_bp == 1 && f->dbg.bp[0] == 0x100010 &&
		      f->dbg.n_wp == 1 && f->dbg.wp[0].kind == CPU_WATCH_WRITE &&
		      f->dbg.wp[0].len == 4, "vCont;s: the target gets the step, breakpoint and watchpoint");
	r = cmd(s, "g");
	tap_ok(t, !strcmp(r, "+"), "while running, packets get only an ack");
	gdbstub_session_stopped(s, 5, &(struct cpu_debug_stop){CPU_DEBUG_WATCH, 0x1000,
								CPU_WATCH_WRITE});
	memcpy(reply, s->out, s->out_len);
	reply[s->out_len] = 0;
	s->out_len = 0;
	tap_ok(t, !strncmp(reply, "$T05watch:1000;thread:01;#", 26), "a watchpoint's stop reply (%s)", reply);
	r = cmd(s, "z0,100010,1");
	r = cmd(s, "c");
	tap_ok(t, s->running && !f->dbg.step && f->dbg.n_bp == 0, "z0 removes, c continues");
	r = feed(s, "\x03", 1);
	r = cmd(s, "c100020");
	tap_ok(t, s->running && f->st.rip == 0x100020, "cADDR resumes at ADDR");
	r = feed(s, "\x03", 1);
	tap_ok(t, !strncmp(r, "$T02thread:01;#", 15) && !s->running, "Ctrl-C stops with SIGINT");
	r = feed(s, "$g#00", 5);
	tap_ok(t, !strcmp(r, "-"), "a bad checksum gets '-'");
	r = cmd(s, "qC");
	r = feed(s, "-", 1);
	tap_ok(t, !strncmp(r, "$QC01#", 6), "'-' resends the last packet (%s)", r);
	r = cmd(s, "vKillXYZ"); /* unknown v packets are empty; vKill quits */
	tap_ok(t, f->n_quit == 1, "vKill quits");
	r = cmd(s, "qRcmd,68656c70");
	tap_ok(t, r[0] == '+' && r[1] == '$' && r[2] == 'O' && strstr(r, "#") &&
		      strstr(r, "$OK#"), "monitor help: O packets, then OK");
	r = cmd(s, "qRcmd,73797374656d5f7265736574");
	tap_ok(t, f->n_reset == 1, "monitor system_reset");
	r = cmd(s, "QStartNoAckMode");
	tap_ok(t, !strncmp(r, "+$OK#", 5), "QStartNoAckMode is acked once");
	r = cmd(s, "qAttached");
	tap_ok(t, !strncmp(r, "$1#", 3), "no acks after it");
	r = cmd(s, "qXfer:features:read:other.xml:0,10");
	tap_ok(t, !strncmp(r, "$E00#", 5), "qXfer of an annex that does not exist: E00");
	r = cmd(s, "qOffsets");
	tap_ok(t, !strcmp(r, "$#00"), "qOffsets: empty reply");
	for (int i = 0; i < 20; i++) {
		char q[80];
		snprintf(q, sizeof(q), "qXfer:features:read:target.xml:%zx,200", xml_len);
		r = cmd(s, q);
		if (r[0] != '$' || (r[1] != 'm' && r[1] != 'l'))
			break;
		{
			const char *end = strrchr(r, '#');
			size_t k = (size_t)(end - r - 2);
			if (xml_len + k >= sizeof(xml))
				break;
			memcpy(xml + xml_len, r + 2, k);
			xml_len += k;
			xml[xml_len] = 0;
		}
		if (r[1] == 'l')
			break;
	}
	{
		unsigned regs = 0;
		for (const char *q = xml; (q = strstr(q, "<reg ")); q++)
			regs++;
		tap_ok(t, strstr(xml, "<architecture>i386</architecture>") &&
			      strstr(xml, "org.gnu.gdb.i386.core") &&
			      strstr(xml, "org.gnu.gdb.i386.sse") && strstr(xml, "name=\"cr3\"") &&
			      strstr(xml, "</target>") && regs == 51,
		       "target.xml read in pieces: i386 core, sse and the extra feature, %u registers",
		       regs);
	}
	r = cmd(s, "D");
	tap_ok(t, !strncmp(r, "$OK#", 4) && s->detached && s->running && f->dbg.n_bp == 0 &&
		      f->dbg.n_wp == 0, "D: breakpoints cleared, the guest runs");
	free(s);
	free(f);
}

int main(void)
{
	struct tap t = {0};
	test_packets(&t);
	test_session(&t);
	printf("1..%d\n", t.n);
	return t.failed ? 1 : 0;
}
