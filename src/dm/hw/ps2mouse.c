/* A PS/2 mouse with the IntelliMouse wheel (see ps2mouse.h). */
#include "dm/hw/ps2mouse.h"

#include <string.h>

#define ACK 0xfa
#define RESEND 0xfe
#define BAT_OK 0xaa

static unsigned room(const struct ps2_mouse *m)
{
	return PS2M_QUEUE - m->q_len;
}

static void put(struct ps2_mouse *m, uint8_t b)
{
	if (!room(m))
		return; /* a host that never reads loses replies, not memory */
	m->q[(m->q_head + m->q_len) % PS2M_QUEUE] = b;
	m->q_len++;
	m->last = b;
}

static void stream(struct ps2_mouse *m);

bool ps2_mouse_pop(struct ps2_mouse *m, uint8_t *b)
{
	if (!m->q_len)
		return false;
	*b = m->q[m->q_head];
	m->q_head = (uint8_t)((m->q_head + 1) % PS2M_QUEUE);
	m->q_len--;
	/* Motion that did not fit (a big jump) goes out as the guest makes
	 * room, not only with the next movement. */
	stream(m);
	return true;
}

static void defaults(struct ps2_mouse *m)
{
	m->remote = false;
	m->reporting = false;
	m->scale21 = false;
	m->rate = 100;
	m->resolution = 2;
	m->dx = m->dy = m->dz = 0;
	m->moved = false;
}

void ps2_mouse_reset(struct ps2_mouse *m)
{
	memset(m, 0, sizeof(*m));
	defaults(m);
}

static int clamp(int32_t v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : (int)v;
}

static unsigned packet_len(const struct ps2_mouse *m)
{
	return m->id == 3 ? 4 : 3;
}

/* One packet from the pending motion: as much of it as the 9-bit deltas
 * (and the wheel's 4 bits) carry; the rest waits for the next one.
 * -256 is left out: its low byte is 0, which Linux's psmouse reads as
 * no motion whatever the sign bit says. */
static void packet(struct ps2_mouse *m)
{
	int dx = clamp(m->dx, -255, 255), dy = clamp(-m->dy, -255, 255);
	int dz = clamp(m->dz, -8, 7);
	uint8_t b0 = (uint8_t)(0x08 | (m->buttons & PS2M_LEFT ? 0x01 : 0) |
			       (m->buttons & PS2M_RIGHT ? 0x02 : 0) |
			       (m->buttons & PS2M_MIDDLE ? 0x04 : 0) | (dx < 0 ? 0x10 : 0) |
			       (dy < 0 ? 0x20 : 0));

	m->dx -= dx;
	m->dy += dy;
	put(m, b0);
	put(m, (uint8_t)dx);
	put(m, (uint8_t)dy);
	if (packet_len(m) == 4) {
		put(m, (uint8_t)(dz & 0x0f));
		m->dz -= dz;
	} else {
		m->dz = 0;
	}
	m->moved = m->dx || m->dy || m->dz;
}

/* Stream mode sends what it has while the queue takes whole packets. */
static void stream(struct ps2_mouse *m)
{
	while (!m->remote && !m->wrap && m->reporting && m->moved &&
	       room(m) >= packet_len(m))
		packet(m);
}

/* Sums saturate rather than wrap: a guest that never reads loses
 * distance, never direction. */
static int32_t sat_add(int32_t a, int b, int32_t lim)
{
	int64_t v = (int64_t)a + b;
	return v < -lim ? -lim : v > lim ? lim : (int32_t)v;
}

void ps2_mouse_event(struct ps2_mouse *m, int dx, int dy, int dz, uint8_t buttons)
{
	m->dx = sat_add(m->dx, dx, 1 << 20);
	m->dy = sat_add(m->dy, dy, 1 << 20);
	m->dz = sat_add(m->dz, dz, 1 << 10);
	if (dx || dy || dz || buttons != m->buttons)
		m->moved = true;
	m->buttons = buttons & 7;
	stream(m);
}

/* The wheel's handshake: rates 200, 100, 80 in a row. */
static void rate_set(struct ps2_mouse *m, uint8_t v)
{
	m->rate = v;
	m->rates[0] = m->rates[1];
	m->rates[1] = m->rates[2];
	m->rates[2] = v;
	if (m->rates[0] == 200 && m->rates[1] == 100 && m->rates[2] == 80)
		m->id = 3;
}

static bool rate_ok(uint8_t v)
{
	static const uint8_t ok[] = {10, 20, 40, 60, 80, 100, 200};
	for (unsigned i = 0; i < sizeof(ok); i++)
		if (v == ok[i])
			return true;
	return false;
}

void ps2_mouse_write(struct ps2_mouse *m, uint8_t v)
{
	if (m->cmd) {
		uint8_t c = m->cmd;
		m->cmd = 0;
		if (c == 0xf3 && rate_ok(v)) {
			rate_set(m, v);
			put(m, ACK);
			return;
		}
		if (c == 0xe8 && v <= 3) {
			m->resolution = v;
			put(m, ACK);
			return;
		}
		put(m, RESEND); /* a bad parameter */
		return;
	}
	if (m->wrap && v != 0xec && v != 0xff) {
		put(m, v);
		return;
	}
	switch (v) {
	case 0xff: /* Reset: ACK, the self-test passed, the ID */
		ps2_mouse_reset(m);
		put(m, ACK);
		put(m, BAT_OK);
		put(m, 0x00);
		break;
	case 0xfe: /* Resend */
		put(m, m->last);
		break;
	case 0xf6: /* Set Defaults */
		defaults(m);
		put(m, ACK);
		break;
	case 0xf5: /* Disable Data Reporting */
		m->reporting = false;
		put(m, ACK);
		break;
	case 0xf4: /* Enable Data Reporting */
		m->reporting = true;
		put(m, ACK);
		stream(m);
		break;
	case 0xf3: /* Set Sample Rate */
	case 0xe8: /* Set Resolution */
		m->cmd = v;
		put(m, ACK);
		break;
	case 0xf2: /* Get Device ID */
		put(m, ACK);
		put(m, m->id);
		break;
	case 0xf0: /* Set Remote Mode */
		m->remote = true;
		put(m, ACK);
		break;
	case 0xee: /* Set Wrap Mode */
		m->wrap = true;
		put(m, ACK);
		break;
	case 0xec: /* Reset Wrap Mode */
		m->wrap = false;
		put(m, ACK);
		break;
	case 0xeb: /* Read Data: a packet now, moved or not */
		put(m, ACK);
		if (room(m) >= packet_len(m))
			packet(m);
		break;
	case 0xea: /* Set Stream Mode */
		m->remote = false;
		put(m, ACK);
		break;
	case 0xe9: /* Status Request */
		put(m, ACK);
		put(m, (uint8_t)((m->remote ? 0x40 : 0) | (m->reporting ? 0x20 : 0) |
				 (m->scale21 ? 0x10 : 0) | (m->buttons & PS2M_LEFT ? 0x04 : 0) |
				 (m->buttons & PS2M_MIDDLE ? 0x02 : 0) |
				 (m->buttons & PS2M_RIGHT ? 0x01 : 0)));
		put(m, m->resolution);
		put(m, m->rate);
		break;
	case 0xe7: /* Set Scaling 2:1 */
		m->scale21 = true;
		put(m, ACK);
		break;
	case 0xe6: /* Set Scaling 1:1 */
		m->scale21 = false;
		put(m, ACK);
		break;
	default:
		put(m, RESEND);
		break;
	}
}
