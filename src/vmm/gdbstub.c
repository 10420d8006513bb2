/* The GDB remote serial protocol (GDB manual, "Remote Protocol"): packet
 * framing, the packets a debugger uses on a one-vCPU i386 guest, the
 * target description, and the sockets (see gdbstub.h). */
#include "vmm/gdbstub.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/hex.h"

/* ---- the packet layer ---- */

enum { RX_IDLE, RX_DATA, RX_SUM1, RX_SUM2 };

void gdbstub_rx_init(struct gdbstub_rx *rx)
{
	rx->state = RX_IDLE;
	rx->overlong = false;
	rx->len = 0;
	rx->sum = rx->want = 0;
	rx->buf[0] = 0;
}

enum gdbstub_rx_event gdbstub_rx_byte(struct gdbstub_rx *rx, uint8_t c)
{
	int d;

	switch (rx->state) {
	case RX_IDLE:
		if (c == '$') {
			rx->state = RX_DATA;
			rx->len = 0;
			rx->sum = 0;
			rx->overlong = false;
			return GDBSTUB_RX_NONE;
		}
		if (c == 0x03)
			return GDBSTUB_RX_INTERRUPT;
		if (c == '+')
			return GDBSTUB_RX_ACK;
		if (c == '-')
			return GDBSTUB_RX_NAK;
		return GDBSTUB_RX_NONE; /* noise between packets */
	case RX_DATA:
		if (c == '#') {
			rx->state = RX_SUM1;
			return GDBSTUB_RX_NONE;
		}
		if (c == '$') {
			/* A packet never holds a bare '$' (X escapes it): the
			 * last one was cut short, this one starts afresh. */
			rx->len = 0;
			rx->sum = 0;
			rx->overlong = false;
			return GDBSTUB_RX_NONE;
		}
		rx->sum = (uint8_t)(rx->sum + c);
		if (rx->len < GDBSTUB_MAX_PACKET)
			rx->buf[rx->len++] = (char)c;
		else
			rx->overlong = true;
		return GDBSTUB_RX_NONE;
	case RX_SUM1:
		d = hex_digit(c);
		if (d < 0) {
			rx->state = RX_IDLE;
			return GDBSTUB_RX_BAD;
		}
		rx->want = (uint8_t)(d << 4);
		rx->state = RX_SUM2;
		return GDBSTUB_RX_NONE;
	default:
		rx->state = RX_IDLE;
		d = hex_digit(c);
		if (d < 0 || (uint8_t)(rx->want | d) != rx->sum || rx->overlong)
			return GDBSTUB_RX_BAD;
		rx->buf[rx->len] = 0;
		return GDBSTUB_RX_PACKET;
	}
}

int gdbstub_hex_decode(const char *hex, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int hi = hex_digit((unsigned char)hex[2 * i]);
		int lo = hi < 0 ? -1 : hex_digit((unsigned char)hex[2 * i + 1]);
		if (lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

void gdbstub_hex_encode(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
}

int gdbstub_parse_hex(const char **p, const char *end, uint64_t *v)
{
	const char *s = *p;
	uint64_t x = 0;
	unsigned n = 0;
	int d;

	while (s < end && (d = hex_digit((unsigned char)*s)) >= 0) {
		if (++n > 16)
			return -EINVAL;
		x = x << 4 | (uint64_t)d;
		s++;
	}
	if (!n)
		return -EINVAL;
	*p = s;
	*v = x;
	return 0;
}

int gdbstub_unescape(const char *in, size_t n, uint8_t *out, size_t max)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = (uint8_t)in[i];
		if (c == '}') {
			if (++i == n)
				return -EINVAL;
			c = (uint8_t)in[i] ^ 0x20;
		}
		if (o == max)
			return -EINVAL;
		out[o++] = c;
	}
	return (int)o;
}

size_t gdbstub_frame(const char *payload, size_t n, char *out, size_t max)
{
	static const char digits[] = "0123456789abcdef";
	uint8_t sum = 0;
	size_t o = 0;

	if (max < 4)
		return 0;
	out[o++] = '$';
	for (size_t i = 0; i < n; i++) {
		char c = payload[i];
		if (o + 2 + 3 > max)
			return 0;
		if (c == '$' || c == '#' || c == '}' || c == '*') {
			out[o++] = '}';
			sum = (uint8_t)(sum + '}');
			c ^= 0x20;
		}
		out[o++] = c;
		sum = (uint8_t)(sum + (uint8_t)c);
	}
	if (o + 3 > max)
		return 0;
	out[o++] = '#';
	out[o++] = digits[sum >> 4];
	out[o++] = digits[sum & 15];
	return o;
}

/* ---- the i386 registers, as the target description lists them ---- */

enum { F_CORE, F_SSE, F_SYS, F_NR };

static const char *const feature_name[F_NR] = {
	"org.gnu.gdb.i386.core", "org.gnu.gdb.i386.sse", "org.v2e.gdb.i386.sys",
};

struct reg_desc {
	const char *name;
	uint8_t size;
	uint8_t feature;
	const char *type;
	const char *group;
};

/* The 'g' packet is these registers in this order, and so is the XML. */
static const struct reg_desc regs[] = {
	{"eax", 4, F_CORE, "int32", NULL}, {"ecx", 4, F_CORE, "int32", NULL},
	{"edx", 4, F_CORE, "int32", NULL}, {"ebx", 4, F_CORE, "int32", NULL},
	{"esp", 4, F_CORE, "data_ptr", NULL}, {"ebp", 4, F_CORE, "data_ptr", NULL},
	{"esi", 4, F_CORE, "int32", NULL}, {"edi", 4, F_CORE, "int32", NULL},
	{"eip", 4, F_CORE, "code_ptr", NULL}, {"eflags", 4, F_CORE, "i386_eflags", NULL},
	{"cs", 4, F_CORE, "int32", NULL}, {"ss", 4, F_CORE, "int32", NULL},
	{"ds", 4, F_CORE, "int32", NULL}, {"es", 4, F_CORE, "int32", NULL},
	{"fs", 4, F_CORE, "int32", NULL}, {"gs", 4, F_CORE, "int32", NULL},
	{"st0", 10, F_CORE, "i387_ext", NULL}, {"st1", 10, F_CORE, "i387_ext", NULL},
	{"st2", 10, F_CORE, "i387_ext", NULL}, {"st3", 10, F_CORE, "i387_ext", NULL},
	{"st4", 10, F_CORE, "i387_ext", NULL}, {"st5", 10, F_CORE, "i387_ext", NULL},
	{"st6", 10, F_CORE, "i387_ext", NULL}, {"st7", 10, F_CORE, "i387_ext", NULL},
	{"fctrl", 4, F_CORE, "int", "float"}, {"fstat", 4, F_CORE, "int", "float"},
	{"ftag", 4, F_CORE, "int", "float"}, {"fiseg", 4, F_CORE, "int", "float"},
	{"fioff", 4, F_CORE, "int", "float"}, {"foseg", 4, F_CORE, "int", "float"},
	{"fooff", 4, F_CORE, "int", "float"}, {"fop", 4, F_CORE, "int", "float"},
	{"xmm0", 16, F_SSE, "vec128", NULL}, {"xmm1", 16, F_SSE, "vec128", NULL},
	{"xmm2", 16, F_SSE, "vec128", NULL}, {"xmm3", 16, F_SSE, "vec128", NULL},
	{"xmm4", 16, F_SSE, "vec128", NULL}, {"xmm5", 16, F_SSE, "vec128", NULL},
	{"xmm6", 16, F_SSE, "vec128", NULL}, {"xmm7", 16, F_SSE, "vec128", NULL},
	{"mxcsr", 4, F_SSE, "i386_mxcsr", "vector"},
	{"cs_base", 4, F_SYS, "data_ptr", NULL}, {"ss_base", 4, F_SYS, "data_ptr", NULL},
	{"ds_base", 4, F_SYS, "data_ptr", NULL}, {"es_base", 4, F_SYS, "data_ptr", NULL},
	{"fs_base", 4, F_SYS, "data_ptr", NULL}, {"gs_base", 4, F_SYS, "data_ptr", NULL},
	{"cr0", 4, F_SYS, "uint32", NULL}, {"cr2", 4, F_SYS, "uint32", NULL},
	{"cr3", 4, F_SYS, "uint32", NULL}, {"cr4", 4, F_SYS, "uint32", NULL},
};
#define N_REGS (sizeof(regs) / sizeof(regs[0]))

enum { REG_EIP = 8, REG_EFLAGS, REG_SEG0, REG_ST0 = 16, REG_FCTRL = 24,
       REG_XMM0 = 32, REG_MXCSR = 40, REG_BASE0, REG_CR0 = 47 };

/* gdb's segment order (cs ss ds es fs gs) in the state's. */
static const int seg_of[6] = {S_CS, S_SS, S_DS, S_ES, S_FS, S_GS};

/* The x87 part of the FXSAVE image (SDM vol. 1, 10.5.1). */
#define FX_FCW 0
#define FX_FSW 2
#define FX_FTW 4
#define FX_FOP 6
#define FX_FIP 8
#define FX_FCS 12
#define FX_FDP 16
#define FX_FDS 20
#define FX_MXCSR 24
#define FX_ST0 32
#define FX_XMM0 160

static uint32_t le_get(const uint8_t *p, unsigned n)
{
	uint32_t v = 0;
	for (unsigned i = n; i-- > 0;)
		v = v << 8 | p[i];
	return v;
}

static void le_put(uint8_t *p, unsigned n, uint64_t v)
{
	for (unsigned i = 0; i < n; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

/* FXSAVE keeps one "not empty" bit per physical register; gdb wants the
 * full tag word (00 valid, 01 zero, 10 special, 11 empty). */
static uint32_t full_tag_word(const uint8_t *fx)
{
	unsigned top = (le_get(fx + FX_FSW, 2) >> 11) & 7;
	uint32_t tw = 0;

	for (unsigned p = 0; p < 8; p++) {
		const uint8_t *st = fx + FX_ST0 + 16 * ((p - top) & 7);
		uint64_t mant = (uint64_t)le_get(st + 4, 4) << 32 | le_get(st, 4);
		unsigned exp = le_get(st + 8, 2) & 0x7fff, tag;
		if (!(fx[FX_FTW] >> p & 1))
			tag = 3;
		else if (exp == 0x7fff)
			tag = 2;
		else if (exp == 0)
			tag = mant ? 2 : 1;
		else
			tag = (mant >> 63) ? 0 : 2;
		tw |= tag << (2 * p);
	}
	return tw;
}

static void reg_get(const struct x86_state *s, unsigned r, uint8_t *out)
{
	const uint8_t *fx = s->fxsave;

	if (r < 8)
		le_put(out, 4, s->gpr[r]);
	else if (r == REG_EIP)
		le_put(out, 4, s->rip);
	else if (r == REG_EFLAGS)
		le_put(out, 4, s->rflags);
	else if (r < REG_ST0)
		le_put(out, 4, s->seg[seg_of[r - REG_SEG0]].selector);
	else if (r < REG_FCTRL)
		memcpy(out, fx + FX_ST0 + 16 * (r - REG_ST0), 10);
	else if (r < REG_XMM0) {
		static const uint8_t off[8] = {FX_FCW, FX_FSW, FX_FTW, FX_FCS,
					       FX_FIP, FX_FDS, FX_FDP, FX_FOP};
		static const uint8_t len[8] = {2, 2, 1, 2, 4, 2, 4, 2};
		unsigned i = r - REG_FCTRL;
		uint32_t v = le_get(fx + off[i], len[i]);
		if (i == 2)
			v = full_tag_word(fx);
		if (i == 7)
			v &= 0x7ff;
		le_put(out, 4, v);
	} else if (r < REG_MXCSR)
		memcpy(out, fx + FX_XMM0 + 16 * (r - REG_XMM0), 16);
	else if (r == REG_MXCSR)
		memcpy(out, fx + FX_MXCSR, 4);
	else if (r < REG_CR0)
		le_put(out, 4, s->seg[seg_of[r - REG_BASE0]].base);
	else
		le_put(out, 4, r == REG_CR0 ? s->cr0 : r == REG_CR0 + 1 ? s->cr2
			       : r == REG_CR0 + 2 ? s->cr3 : s->cr4);
}

static void reg_set(struct x86_state *s, unsigned r, const uint8_t *in)
{
	uint8_t *fx = s->fxsave;
	uint32_t v = le_get(in, 4 < regs[r].size ? 4 : regs[r].size);

	if (r < 8)
		s->gpr[r] = v;
	else if (r == REG_EIP)
		s->rip = v;
	else if (r == REG_EFLAGS)
		s->rflags = v;
	else if (r < REG_ST0)
		s->seg[seg_of[r - REG_SEG0]].selector = (uint16_t)v;
	else if (r < REG_FCTRL)
		memcpy(fx + FX_ST0 + 16 * (r - REG_ST0), in, 10);
	else if (r < REG_XMM0) {
		static const uint8_t off[8] = {FX_FCW, FX_FSW, FX_FTW, FX_FCS,
					       FX_FIP, FX_FDS, FX_FDP, FX_FOP};
		static const uint8_t len[8] = {2, 2, 1, 2, 4, 2, 4, 2};
		unsigned i = r - REG_FCTRL;
		if (i == 2) {
			uint8_t abridged = 0;
			for (unsigned p = 0; p < 8; p++)
				if (((v >> (2 * p)) & 3) != 3)
					abridged |= (uint8_t)(1u << p);
			v = abridged;
		}
		le_put(fx + off[i], len[i], i == 7 ? v & 0x7ff : v);
	} else if (r < REG_MXCSR)
		memcpy(fx + FX_XMM0 + 16 * (r - REG_XMM0), in, 16);
	else if (r == REG_MXCSR)
		memcpy(fx + FX_MXCSR, in, 4);
	else if (r < REG_CR0)
		s->seg[seg_of[r - REG_BASE0]].base = v;
	else if (r == REG_CR0)
		s->cr0 = v;
	else if (r == REG_CR0 + 1)
		s->cr2 = v;
	else if (r == REG_CR0 + 2)
		s->cr3 = v;
	else
		s->cr4 = v;
}

/* The target description (GDB manual, "Target Descriptions"): the
 * feature names and register names are the ones gdb's i386 code looks
 * for; the extra feature carries segment bases and control registers. */
static size_t target_xml(char *buf, size_t max)
{
	size_t o = 0;
	unsigned f = F_NR;

#define PUT(...) \
	do { \
		int n_ = snprintf(buf + o, o < max ? max - o : 0, __VA_ARGS__); \
		o += n_ > 0 ? (size_t)n_ : 0; \
	} while (0)
	PUT("<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
	    "<target version=\"1.0\">\n<architecture>i386</architecture>\n");
	for (unsigned r = 0; r < N_REGS; r++) {
		if (regs[r].feature != f) {
			if (f != F_NR)
				PUT("</feature>\n");
			f = regs[r].feature;
			PUT("<feature name=\"%s\">\n", feature_name[f]);
			if (f == F_CORE)
				PUT("<flags id=\"i386_eflags\" size=\"4\">"
				    "<field name=\"CF\" start=\"0\" end=\"0\"/>"
				    "<field name=\"\" start=\"1\" end=\"1\"/>"
				    "<field name=\"PF\" start=\"2\" end=\"2\"/>"
				    "<field name=\"AF\" start=\"4\" end=\"4\"/>"
				    "<field name=\"ZF\" start=\"6\" end=\"6\"/>"
				    "<field name=\"SF\" start=\"7\" end=\"7\"/>"
				    "<field name=\"TF\" start=\"8\" end=\"8\"/>"
				    "<field name=\"IF\" start=\"9\" end=\"9\"/>"
				    "<field name=\"DF\" start=\"10\" end=\"10\"/>"
				    "<field name=\"OF\" start=\"11\" end=\"11\"/>"
				    "<field name=\"NT\" start=\"14\" end=\"14\"/>"
				    "<field name=\"RF\" start=\"16\" end=\"16\"/>"
				    "<field name=\"VM\" start=\"17\" end=\"17\"/>"
				    "<field name=\"AC\" start=\"18\" end=\"18\"/>"
				    "<field name=\"VIF\" start=\"19\" end=\"19\"/>"
				    "<field name=\"VIP\" start=\"20\" end=\"20\"/>"
				    "<field name=\"ID\" start=\"21\" end=\"21\"/>"
				    "</flags>\n");
			if (f == F_SSE)
				PUT("<vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/>"
				    "<vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>"
				    "<vector id=\"v16i8\" type=\"int8\" count=\"16\"/>"
				    "<vector id=\"v8i16\" type=\"int16\" count=\"8\"/>"
				    "<vector id=\"v4i32\" type=\"int32\" count=\"4\"/>"
				    "<vector id=\"v2i64\" type=\"int64\" count=\"2\"/>"
				    "<union id=\"vec128\"><field name=\"v4_float\" type=\"v4f\"/>"
				    "<field name=\"v2_double\" type=\"v2d\"/>"
				    "<field name=\"v16_int8\" type=\"v16i8\"/>"
				    "<field name=\"v8_int16\" type=\"v8i16\"/>"
				    "<field name=\"v4_int32\" type=\"v4i32\"/>"
				    "<field name=\"v2_int64\" type=\"v2i64\"/>"
				    "<field name=\"uint128\" type=\"uint128\"/></union>\n"
				    "<flags id=\"i386_mxcsr\" size=\"4\">"
				    "<field name=\"IE\" start=\"0\" end=\"0\"/>"
				    "<field name=\"DE\" start=\"1\" end=\"1\"/>"
				    "<field name=\"ZE\" start=\"2\" end=\"2\"/>"
				    "<field name=\"OE\" start=\"3\" end=\"3\"/>"
				    "<field name=\"UE\" start=\"4\" end=\"4\"/>"
				    "<field name=\"PE\" start=\"5\" end=\"5\"/>"
				    "<field name=\"DAZ\" start=\"6\" end=\"6\"/>"
				    "<field name=\"IM\" start=\"7\" end=\"7\"/>"
				    "<field name=\"DM\" start=\"8\" end=\"8\"/>"
				    "<field name=\"ZM\" start=\"9\" end=\"9\"/>"
				    "<field name=\"OM\" start=\"10\" end=\"10\"/>"
				    "<field name=\"UM\" start=\"11\" end=\"11\"/>"
				    "<field name=\"PM\" start=\"12\" end=\"12\"/>"
				    "<field name=\"FZ\" start=\"15\" end=\"15\"/>"
				    "</flags>\n");
		}
		PUT("<reg name=\"%s\" bitsize=\"%u\" type=\"%s\" regnum=\"%u\"%s%s%s/>\n",
		    regs[r].name, regs[r].size * 8u, regs[r].type, r,
		    regs[r].group ? " group=\"" : "", regs[r].group ? regs[r].group : "",
		    regs[r].group ? "\"" : "");
	}
	PUT("</feature>\n</target>\n");
#undef PUT
	return o < max ? o : 0;
}

/* ---- the session ---- */

#define REPLY_MAX GDBSTUB_MAX_PACKET

void gdbstub_session_init(struct gdbstub_session *s, const struct gdbstub_ops *ops)
{
	memset(s, 0, sizeof(*s));
	s->ops = *ops;
	gdbstub_rx_init(&s->rx);
}

static void out_raw(struct gdbstub_session *s, const char *p, size_t n)
{
	if (n > sizeof(s->out) - s->out_len)
		n = sizeof(s->out) - s->out_len; /* input stops before this */
	memcpy(s->out + s->out_len, p, n);
	s->out_len += n;
}

static void send_packet(struct gdbstub_session *s, const char *payload, size_t n)
{
	size_t len = gdbstub_frame(payload, n, s->last, sizeof(s->last));
	s->last_len = len;
	out_raw(s, s->last, len);
}

static void send_str(struct gdbstub_session *s, const char *str)
{
	send_packet(s, str, strlen(str));
}

static void send_fmt(struct gdbstub_session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void send_fmt(struct gdbstub_session *s, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	send_packet(s, buf, n < 0 ? 0 : (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/* Console output of a monitor command: O packets of hex text. */
static void send_console(struct gdbstub_session *s, const char *text)
{
	char buf[REPLY_MAX];
	size_t n = strlen(text);

	while (n) {
		size_t k = n < (REPLY_MAX - 2) / 2 ? n : (REPLY_MAX - 2) / 2;
		buf[0] = 'O';
		gdbstub_hex_encode((const uint8_t *)text, k, buf + 1);
		send_packet(s, buf, 1 + 2 * k);
		text += k;
		n -= k;
	}
}

void gdbstub_session_stopped(struct gdbstub_session *s, int sig,
			     const struct cpu_debug_stop *why)
{
	static const char *const kind[4] = {"", "watch", "rwatch", "awatch"};

	s->running = false;
	if (why && why->reason == CPU_DEBUG_WATCH && why->kind >= 1 && why->kind <= 3)
		send_fmt(s, "T%02x%s:%llx;thread:01;", sig, kind[why->kind],
			 (unsigned long long)why->addr);
	else
		send_fmt(s, "T%02xthread:01;", sig);
}

void gdbstub_session_exited(struct gdbstub_session *s, int status)
{
	s->running = false;
	send_fmt(s, "W%02x", status & 0xff);
}

static void resume(struct gdbstub_session *s, bool step)
{
	struct cpu_debug d = s->dbg;
	d.step = step;
	if (s->ops.set_debug(s->ops.opaque, &d) < 0) {
		send_str(s, "E22");
		return;
	}
	s->running = true;
}

static void handle_g(struct gdbstub_session *s)
{
	struct x86_state st;
	char buf[REPLY_MAX];
	uint8_t v[16];
	size_t o = 0;

	s->ops.get_state(s->ops.opaque, &st);
	for (unsigned r = 0; r < N_REGS; r++) {
		reg_get(&st, r, v);
		gdbstub_hex_encode(v, regs[r].size, buf + o);
		o += 2u * regs[r].size;
	}
	send_packet(s, buf, o);
}

static void handle_G(struct gdbstub_session *s, const char *p, size_t n)
{
	struct x86_state st;
	uint8_t v[16];
	size_t o = 0;

	s->ops.get_state(s->ops.opaque, &st);
	for (unsigned r = 0; r < N_REGS; r++) {
		size_t len = 2u * regs[r].size;
		if (o + len > n)
			break; /* gdb may send fewer registers */
		if (gdbstub_hex_decode(p + o, v, regs[r].size) < 0) {
			send_str(s, "E22");
			return;
		}
		reg_set(&st, r, v);
		o += len;
	}
	s->ops.set_state(s->ops.opaque, &st);
	send_str(s, "OK");
}

static void handle_p(struct gdbstub_session *s, const char *p, const char *end)
{
	struct x86_state st;
	uint64_t r;
	uint8_t v[16];
	char buf[40];

	if (gdbstub_parse_hex(&p, end, &r) < 0 || p != end || r >= N_REGS) {
		send_str(s, "E22");
		return;
	}
	s->ops.get_state(s->ops.opaque, &st);
	reg_get(&st, (unsigned)r, v);
	gdbstub_hex_encode(v, regs[r].size, buf);
	send_packet(s, buf, 2u * regs[r].size);
}

static void handle_P(struct gdbstub_session *s, const char *p, const char *end)
{
	struct x86_state st;
	uint64_t r;
	uint8_t v[16];

	if (gdbstub_parse_hex(&p, end, &r) < 0 || p == end || *p++ != '=' ||
	    r >= N_REGS || (size_t)(end - p) != 2u * regs[r].size ||
	    gdbstub_hex_decode(p, v, regs[r].size) < 0) {
		send_str(s, "E22");
		return;
	}
	s->ops.get_state(s->ops.opaque, &st);
	reg_set(&st, (unsigned)r, v);
	s->ops.set_state(s->ops.opaque, &st);
	send_str(s, "OK");
}

/* "ADDR,LEN" then `sep` (or the end when sep is 0). */
static int parse_addr_len(const char **p, const char *end, char sep,
			  uint64_t *addr, uint64_t *len)
{
	if (gdbstub_parse_hex(p, end, addr) < 0 || *p == end || *(*p)++ != ',' ||
	    gdbstub_parse_hex(p, end, len) < 0)
		return -EINVAL;
	if (sep ? (*p == end || *(*p)++ != sep) : *p != end)
		return -EINVAL;
	return 0;
}

static void handle_m(struct gdbstub_session *s, const char *p, const char *end)
{
	uint8_t data[REPLY_MAX / 2];
	char buf[REPLY_MAX];
	uint64_t addr, len;

	if (parse_addr_len(&p, end, 0, &addr, &len) < 0) {
		send_str(s, "E22");
		return;
	}
	if (len > sizeof(data))
		len = sizeof(data); /* gdb asks again for the rest */
	if (s->ops.mem_rw(s->ops.opaque, addr, data, (size_t)len, false) < 0) {
		send_str(s, "E14");
		return;
	}
	gdbstub_hex_encode(data, (size_t)len, buf);
	send_packet(s, buf, 2 * (size_t)len);
}

static void handle_M(struct gdbstub_session *s, const char *p, const char *end,
		     bool binary)
{
	uint8_t data[GDBSTUB_MAX_PACKET];
	uint64_t addr, len;
	int n;

	if (parse_addr_len(&p, end, ':', &addr, &len) < 0 || len > sizeof(data)) {
		send_str(s, "E22");
		return;
	}
	if (binary) {
		n = gdbstub_unescape(p, (size_t)(end - p), data, sizeof(data));
		if (n < 0 || (uint64_t)n != len) {
			send_str(s, "E22");
			return;
		}
	} else if ((size_t)(end - p) != 2 * len ||
		   gdbstub_hex_decode(p, data, (size_t)len) < 0) {
		send_str(s, "E22");
		return;
	}
	if (len && s->ops.mem_rw(s->ops.opaque, addr, data, (size_t)len, true) < 0) {
		send_str(s, "E14");
		return;
	}
	send_str(s, "OK");
}

/* Z/z TYPE,ADDR,KIND: 0 and 1 are instruction breakpoints (both kept in
 * the engine: nothing is written into guest memory), 2-4 watchpoints. */
static void handle_Z(struct gdbstub_session *s, const char *p, const char *end,
		     bool insert)
{
	static const enum cpu_watch_kind wkind[5] = {0, 0, CPU_WATCH_WRITE,
						     CPU_WATCH_READ, CPU_WATCH_ACCESS};
	struct cpu_debug *d = &s->dbg;
	uint64_t type, addr, kind;

	if (gdbstub_parse_hex(&p, end, &type) < 0 || p == end || *p++ != ',' ||
	    gdbstub_parse_hex(&p, end, &addr) < 0 || p == end || *p++ != ',' ||
	    gdbstub_parse_hex(&p, end, &kind) < 0) {
		send_str(s, "E22");
		return;
	}
	/* Conditions and commands (";...") are gdb's to evaluate. */
	if (p != end && *p != ';') {
		send_str(s, "E22");
		return;
	}
	if (type > 4) {
		send_str(s, "");
		return;
	}
	if (type <= 1) {
		if (insert) {
			if (d->n_bp == CPU_DEBUG_MAX_BP) {
				send_str(s, "E28");
				return;
			}
			d->bp[d->n_bp++] = addr;
		} else {
			unsigned i;
			for (i = 0; i < d->n_bp && d->bp[i] != addr; i++)
				;
			if (i == d->n_bp) {
				send_str(s, "E22");
				return;
			}
			d->bp[i] = d->bp[--d->n_bp];
		}
	} else {
		if (kind == 0 || kind > 4096) {
			send_str(s, "E22");
			return;
		}
		if (insert) {
			if (d->n_wp == CPU_DEBUG_MAX_WP) {
				send_str(s, "E28");
				return;
			}
			d->wp[d->n_wp++] = (struct cpu_watch){addr, kind, wkind[type]};
		} else {
			unsigned i;
			for (i = 0; i < d->n_wp; i++)
				if (d->wp[i].addr == addr && d->wp[i].len == kind &&
				    d->wp[i].kind == wkind[type])
					break;
			if (i == d->n_wp) {
				send_str(s, "E22");
				return;
			}
			d->wp[i] = d->wp[--d->n_wp];
		}
	}
	send_str(s, "OK");
}

/* vCont;ACTION[:TID][;ACTION[:TID]]...: one vCPU, so the first action
 * for it (or for all) decides. */
static void handle_vcont(struct gdbstub_session *s, const char *p, const char *end)
{
	while (p < end && *p == ';') {
		const char *q = p + 2;
		char a = p + 1 < end ? p[1] : 0;
		uint64_t sig, tid;
		bool ours = true;

		if (!a)
			break;
		if ((a == 'C' || a == 'S') && gdbstub_parse_hex(&q, end, &sig) < 0)
			break;
		if (q < end && *q == ':') {
			q++;
			if (end - q >= 2 && q[0] == '-' && q[1] == '1')
				q += 2;
			else if (gdbstub_parse_hex(&q, end, &tid) < 0)
				break;
			else
				ours = tid <= 1;
		}
		if (q != end && *q != ';')
			break;
		if (ours && (a == 'c' || a == 'C' || a == 's' || a == 'S')) {
			resume(s, a == 's' || a == 'S');
			return;
		}
		if (ours && a == 't') {
			/* Stop: it is stopped already. */
			gdbstub_session_stopped(s, 0, NULL);
			return;
		}
		p = q;
	}
	send_str(s, "E22");
}

static void monitor_info_registers(struct gdbstub_session *s)
{
	struct x86_state st;
	char text[1024];
	static const char *const sname[S_NR] = {"ES", "CS", "SS", "DS", "FS", "GS"};
	int o;

	s->ops.get_state(s->ops.opaque, &st);
	o = snprintf(text, sizeof(text),
		     "EAX=%08llx EBX=%08llx ECX=%08llx EDX=%08llx\n"
		     "ESI=%08llx EDI=%08llx EBP=%08llx ESP=%08llx\n"
		     "EIP=%08llx EFL=%08llx\n",
		     (unsigned long long)st.gpr[R_AX], (unsigned long long)st.gpr[R_BX],
		     (unsigned long long)st.gpr[R_CX], (unsigned long long)st.gpr[R_DX],
		     (unsigned long long)st.gpr[R_SI], (unsigned long long)st.gpr[R_DI],
		     (unsigned long long)st.gpr[R_BP], (unsigned long long)st.gpr[R_SP],
		     (unsigned long long)st.rip, (unsigned long long)st.rflags);
	for (int i = 0; i < S_NR && o > 0 && (size_t)o < sizeof(text); i++)
		o += snprintf(text + o, sizeof(text) - (size_t)o,
			      "%s =%04x %08llx %08x %05x\n", sname[i],
			      st.seg[i].selector, (unsigned long long)st.seg[i].base,
			      st.seg[i].limit, st.seg[i].ar);
	if (o > 0 && (size_t)o < sizeof(text))
		snprintf(text + o, sizeof(text) - (size_t)o,
			 "GDT=     %08llx %08x\nIDT=     %08llx %08x\n"
			 "CR0=%08llx CR2=%08llx CR3=%08llx CR4=%08llx\n"
			 "EFER=%016llx\n",
			 (unsigned long long)st.gdtr.base, st.gdtr.limit,
			 (unsigned long long)st.idtr.base, st.idtr.limit,
			 (unsigned long long)st.cr0, (unsigned long long)st.cr2,
			 (unsigned long long)st.cr3, (unsigned long long)st.cr4,
			 (unsigned long long)st.efer);
	send_console(s, text);
}

/* qRcmd: gdb's `monitor CMD`, with QEMU's command names. */
static void handle_rcmd(struct gdbstub_session *s, const char *hex, const char *end)
{
	char cmd[256];
	size_t n = (size_t)(end - hex) / 2;

	if ((size_t)(end - hex) % 2 || n >= sizeof(cmd) ||
	    gdbstub_hex_decode(hex, (uint8_t *)cmd, n) < 0) {
		send_str(s, "E22");
		return;
	}
	cmd[n] = 0;
	if (!strcmp(cmd, "help") || !strcmp(cmd, "?")) {
		send_console(s, "help                 list these commands\n"
				"info registers       the vCPU's registers\n"
				"system_reset         reset the machine\n"
				"quit                 end v2e\n");
	} else if (!strcmp(cmd, "info registers")) {
		monitor_info_registers(s);
	} else if (!strcmp(cmd, "system_reset")) {
		s->ops.reset(s->ops.opaque);
	} else if (!strcmp(cmd, "quit") || !strcmp(cmd, "q")) {
		s->ops.quit(s->ops.opaque);
	} else {
		char msg[300];
		snprintf(msg, sizeof(msg), "unknown command: '%s' (try 'help')\n", cmd);
		send_console(s, msg);
	}
	send_str(s, "OK");
}

static bool starts(const char *p, const char *end, const char *word)
{
	size_t n = strlen(word);
	return (size_t)(end - p) >= n && !memcmp(p, word, n);
}

static void handle_xfer(struct gdbstub_session *s, const char *p, const char *end)
{
	static const char prefix[] = "features:read:target.xml:";
	char xml[8192], buf[REPLY_MAX];
	uint64_t off, len;
	size_t total;

	if (!starts(p, end, "features:read:")) {
		send_str(s, ""); /* an object gdb may ask for that v2e lacks */
		return;
	}
	if (!starts(p, end, prefix)) {
		send_str(s, "E00"); /* an annex that does not exist */
		return;
	}
	p += sizeof(prefix) - 1;
	if (parse_addr_len(&p, end, 0, &off, &len) < 0) {
		send_str(s, "E22");
		return;
	}
	total = target_xml(xml, sizeof(xml));
	if (off >= total) {
		send_str(s, "l");
		return;
	}
	/* Escaping can double a byte: half the room is always enough. */
	if (len > (REPLY_MAX - 1) / 2)
		len = (REPLY_MAX - 1) / 2;
	if (len > total - off)
		len = total - off;
	buf[0] = off + len == total ? 'l' : 'm';
	memcpy(buf + 1, xml + off, (size_t)len);
	send_packet(s, buf, 1 + (size_t)len);
}

static void handle_packet(struct gdbstub_session *s, const char *p, size_t n)
{
	const char *end = p + n;

	if (!n) {
		send_str(s, "");
		return;
	}
	switch (p[0]) {
	case '?':
		gdbstub_session_stopped(s, 5, NULL);
		return;
	case 'g':
		handle_g(s);
		return;
	case 'G':
		handle_G(s, p + 1, n - 1);
		return;
	case 'p':
		handle_p(s, p + 1, end);
		return;
	case 'P':
		handle_P(s, p + 1, end);
		return;
	case 'm':
		handle_m(s, p + 1, end);
		return;
	case 'M':
		handle_M(s, p + 1, end, false);
		return;
	case 'X':
		handle_M(s, p + 1, end, true);
		return;
	case 'c':
	case 's':
		if (n > 1) {
			/* cADDR / sADDR: resume at ADDR. */
			const char *q = p + 1;
			struct x86_state st;
			uint64_t addr;
			if (gdbstub_parse_hex(&q, end, &addr) < 0 || q != end) {
				send_str(s, "E22");
				return;
			}
			s->ops.get_state(s->ops.opaque, &st);
			st.rip = addr;
			s->ops.set_state(s->ops.opaque, &st);
		}
		resume(s, p[0] == 's');
		return;
	case 'Z':
	case 'z':
		handle_Z(s, p + 1, end, p[0] == 'Z');
		return;
	case 'H':
	case 'T':
		send_str(s, "OK"); /* one thread, always alive */
		return;
	case 'D':
		memset(&s->dbg, 0, sizeof(s->dbg));
		send_str(s, "OK");
		resume(s, false);
		s->detached = true;
		return;
	case 'k':
		s->ops.quit(s->ops.opaque);
		return; /* no reply */
	case 'v':
		if (n == 6 && !memcmp(p, "vCont?", 6))
			send_str(s, "vCont;c;C;s;S");
		else if (starts(p, end, "vCont;"))
			handle_vcont(s, p + 5, end);
		else if (starts(p, end, "vKill"))
			s->ops.quit(s->ops.opaque);
		else
			send_str(s, "");
		return;
	case 'q':
		if (starts(p, end, "qSupported"))
			send_fmt(s, "PacketSize=%x;qXfer:features:read+;"
				 "QStartNoAckMode+;vContSupported+", GDBSTUB_MAX_PACKET);
		else if (starts(p, end, "qXfer:"))
			handle_xfer(s, p + 6, end);
		else if (starts(p, end, "qAttached"))
			send_str(s, "1");
		else if (n == 2 && p[1] == 'C')
			send_str(s, "QC01");
		else if (starts(p, end, "qfThreadInfo"))
			send_str(s, "m01");
		else if (starts(p, end, "qsThreadInfo"))
			send_str(s, "l");
		else if (starts(p, end, "qRcmd,"))
			handle_rcmd(s, p + 6, end);
		else
			send_str(s, ""); /* qOffsets and others: not known here */
		return;
	case 'Q':
		if (n == 15 && !memcmp(p, "QStartNoAckMode", 15)) {
			send_str(s, "OK");
			s->no_ack = true; /* after acking this one */
		} else {
			send_str(s, "");
		}
		return;
	default:
		send_str(s, "");
	}
}

size_t gdbstub_session_input(struct gdbstub_session *s, const uint8_t *buf, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		/* Room for the largest reply set a packet can make (a monitor
		 * command's output and its OK), and the ack. */
		if (sizeof(s->out) - s->out_len < sizeof(s->out) / 2)
			break;
		switch (gdbstub_rx_byte(&s->rx, buf[i])) {
		case GDBSTUB_RX_PACKET:
			if (!s->no_ack)
				out_raw(s, "+", 1);
			if (s->running) {
				/* Only Ctrl-C means something while it runs;
				 * gdb sends nothing else then. */
				break;
			}
			handle_packet(s, s->rx.buf, s->rx.len);
			break;
		case GDBSTUB_RX_BAD:
			if (!s->no_ack)
				out_raw(s, "-", 1);
			break;
		case GDBSTUB_RX_NAK:
			if (!s->no_ack && s->last_len)
				out_raw(s, s->last, s->last_len);
			break;
		case GDBSTUB_RX_INTERRUPT:
			if (s->running)
				gdbstub_session_stopped(s, 2, NULL);
			break;
		default:
			break;
		}
	}
	return i;
}

/* ---- the stub: sockets ---- */

struct gdbstub {
	struct gdbstub_session sess;
	int listen_fd, conn_fd;
	bool wait_attach; /* -S: stopped until the first continue */
	char unix_path[108];
};

/* Splits a -gdb device into a TCP host and port or a unix path. */
static int parse_spec(const char *spec, char *host, size_t hostlen, char *port,
		      size_t portlen, char *path, size_t pathlen)
{
	host[0] = port[0] = path[0] = 0;
	if (!strncmp(spec, "tcp:", 4)) {
		const char *h = spec + 4, *colon = strrchr(h, ':');
		char *end;
		unsigned long v;
		if (!colon || (size_t)(colon - h) >= hostlen || strchr(colon, ','))
			return -EINVAL;
		memcpy(host, h, (size_t)(colon - h));
		host[colon - h] = 0;
		errno = 0;
		v = strtoul(colon + 1, &end, 10);
		if (errno || end == colon + 1 || *end || v > 65535 ||
		    strlen(colon + 1) >= portlen)
			return -EINVAL;
		snprintf(port, portlen, "%lu", v);
		return 0;
	}
	if (!strncmp(spec, "unix:", 5)) {
		const char *p = spec + 5;
		size_t len = strcspn(p, ",");
		const char *opt = p + len;
		if (!len || len >= pathlen)
			return -EINVAL;
		memcpy(path, p, len);
		path[len] = 0;
		/* QEMU's spelling: the stub is always a server that does not
		 * wait for its client before the VM starts. */
		while (*opt == ',') {
			size_t k = strcspn(opt + 1, ",");
			if (!((k == 9 && !strncmp(opt + 1, "server=on", 9)) ||
			      (k == 6 && !strncmp(opt + 1, "server", 6)) ||
			      (k == 8 && !strncmp(opt + 1, "wait=off", 8)) ||
			      (k == 6 && !strncmp(opt + 1, "nowait", 6))))
				return -EINVAL;
			opt += 1 + k;
		}
		return 0;
	}
	return -EINVAL;
}

int gdbstub_check_spec(const char *spec)
{
	char host[256], port[8], path[108];
	return parse_spec(spec, host, sizeof(host), port, sizeof(port), path, sizeof(path));
}

static int listen_tcp(const char *host, const char *port, char *err, size_t errlen)
{
	struct addrinfo hints, *res, *ai;
	int fd = -1, r, one = 1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	r = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
	if (r) {
		snprintf(err, errlen, "%s: %s", host, gai_strerror(r));
		return -EINVAL;
	}
	r = -EADDRNOTAVAIL;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
			    ai->ai_protocol);
		if (fd < 0) {
			r = -errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 1) == 0)
			break;
		r = -errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		snprintf(err, errlen, "cannot listen on port %s: %s", port, strerror(-r));
	return fd < 0 ? r : fd;
}

static int listen_unix(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	struct stat st;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), r;

	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "socket: %s", strerror(-r));
		return r;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	/* A socket left by an earlier run goes (as QEMU does); anything else
	 * at the path stays, and bind() says why. */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1) < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot listen on %.100s: %s", path, strerror(-r));
		close(fd);
		return r;
	}
	return fd;
}

int gdbstub_create(struct gdbstub **out, const char *spec, bool wait_attach,
		   const struct gdbstub_ops *ops, char *err, size_t errlen)
{
	char host[256], port[8], path[108];
	struct gdbstub *g;
	int fd;

	if (parse_spec(spec, host, sizeof(host), port, sizeof(port), path, sizeof(path))) {
		snprintf(err, errlen, "-gdb %.200s: tcp::PORT, tcp:HOST:PORT or unix:PATH", spec);
		return -EINVAL;
	}
	g = calloc(1, sizeof(*g));
	if (!g) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	fd = path[0] ? listen_unix(path, err, errlen) : listen_tcp(host, port, err, errlen);
	if (fd < 0) {
		free(g);
		return fd;
	}
	gdbstub_session_init(&g->sess, ops);
	g->listen_fd = fd;
	g->conn_fd = -1;
	g->wait_attach = wait_attach;
	snprintf(g->unix_path, sizeof(g->unix_path), "%s", path);
	*out = g;
	return 0;
}

void gdbstub_destroy(struct gdbstub *g)
{
	if (!g)
		return;
	if (g->conn_fd >= 0)
		close(g->conn_fd);
	close(g->listen_fd);
	if (g->unix_path[0])
		unlink(g->unix_path);
	free(g);
}

int gdbstub_fd(const struct gdbstub *g)
{
	return g->conn_fd >= 0 ? g->conn_fd : g->listen_fd;
}

bool gdbstub_stopped(const struct gdbstub *g)
{
	if (g->conn_fd < 0)
		return g->wait_attach;
	return !g->sess.running;
}

/* A debugger went away (detach, or the connection died): its breakpoints
 * go, the guest runs on, and the stub listens again. */
static void disconnect(struct gdbstub *g)
{
	struct cpu_debug none;
	close(g->conn_fd);
	g->conn_fd = -1;
	memset(&none, 0, sizeof(none));
	(void)g->sess.ops.set_debug(g->sess.ops.opaque, &none);
	g->wait_attach = false;
	g->sess.running = true;
}

/* Sends what the session queued; a debugger that stops reading (or
 * vanishes) is disconnected rather than waited for forever. */
static void flush(struct gdbstub *g)
{
	size_t done = 0;

	while (done < g->sess.out_len && g->conn_fd >= 0) {
		ssize_t k = send(g->conn_fd, g->sess.out + done, g->sess.out_len - done,
				 MSG_NOSIGNAL);
		if (k > 0) {
			done += (size_t)k;
		} else if (k < 0 && (errno == EAGAIN || errno == EINTR)) {
			struct pollfd p = {g->conn_fd, POLLOUT, 0};
			if (poll(&p, 1, 5000) <= 0)
				disconnect(g);
		} else {
			disconnect(g);
		}
	}
	g->sess.out_len = 0;
	if (g->conn_fd >= 0 && g->sess.detached) {
		g->sess.detached = false;
		disconnect(g);
	}
}

static void try_accept(struct gdbstub *g)
{
	int fd = accept4(g->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	struct gdbstub_ops ops = g->sess.ops;
	int one = 1;

	if (fd < 0)
		return;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)); /* fails on unix: fine */
	g->conn_fd = fd;
	/* A new debugger: a fresh session; the guest stops (as QEMU), and
	 * the debugger asks why with '?'. */
	gdbstub_session_init(&g->sess, &ops);
	g->sess.running = false;
}

void gdbstub_poll(struct gdbstub *g)
{
	uint8_t buf[4096];

	if (g->conn_fd < 0) {
		try_accept(g);
		if (g->conn_fd < 0)
			return;
	}
	for (;;) {
		ssize_t k = recv(g->conn_fd, buf, sizeof(buf), MSG_DONTWAIT);
		size_t done = 0;
		if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR)) {
			disconnect(g);
			return;
		}
		if (k < 0)
			return;
		while (done < (size_t)k && g->conn_fd >= 0) {
			done += gdbstub_session_input(&g->sess, buf + done, (size_t)k - done);
			flush(g);
		}
		if (g->conn_fd < 0)
			return;
	}
}

void gdbstub_cpu_stopped(struct gdbstub *g, const struct cpu_debug_stop *why)
{
	if (g->conn_fd < 0)
		return;
	gdbstub_session_stopped(&g->sess, 5, why);
	flush(g);
}

void gdbstub_vm_exited(struct gdbstub *g, int status)
{
	if (g->conn_fd < 0)
		return;
	gdbstub_session_exited(&g->sess, status);
	flush(g);
}
