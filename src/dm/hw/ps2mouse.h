/* A PS/2 mouse with the IntelliMouse wheel, as it sits on an i8042's
 * auxiliary port: it takes the bytes the host sends it and answers with
 * bytes the controller passes on. Sources: the IBM PS/2 Mouse Technical
 * Reference's command set and packet format, and Microsoft's IntelliMouse
 * extension (the sample-rate sequence 200, 100, 80 turns device ID 3 and
 * a fourth packet byte for the wheel on), as Linux's psmouse and SeaBIOS
 * drive them.
 *
 * Modes: stream (a packet for each movement while reporting is on, the
 * default after reset is off), remote (packets only for Read Data) and
 * wrap (every byte echoed but Reset and Reset Wrap Mode). The sample rate
 * and resolution are kept and reported but do not pace or scale motion:
 * the board's input gives it in the guest's units, as QEMU does.
 *
 * Output is a byte queue the controller drains; motion that does not fit
 * waits, summed, until a packet does. */
#ifndef V2E_DM_HW_PS2MOUSE_H
#define V2E_DM_HW_PS2MOUSE_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/vstate.h"

#define PS2M_QUEUE 16

/* Buttons, as the board's input gives them */
#define PS2M_LEFT 0x01
#define PS2M_RIGHT 0x02
#define PS2M_MIDDLE 0x04

struct ps2_mouse {
	uint8_t q[PS2M_QUEUE];  /* bytes toward the controller */
	uint8_t q_head, q_len;
	uint8_t cmd;            /* command waiting for its parameter, or 0 */
	uint8_t last;           /* last byte sent, for Resend */
	bool remote, wrap, reporting;
	bool scale21;
	uint8_t rate, resolution;
	uint8_t id;             /* 0 standard, 3 IntelliMouse */
	uint8_t rates[3];       /* the last three sample rates set */
	/* motion not yet sent */
	int32_t dx, dy, dz;
	uint8_t buttons;
	bool moved;             /* buttons or motion changed since the last packet */
};

void ps2_mouse_reset(struct ps2_mouse *m);
/* A byte from the host (the controller's 0xd4). */
void ps2_mouse_write(struct ps2_mouse *m, uint8_t v);
/* Motion from the board's input: dx right, dy down (screen sense; the
 * packet's Y is up), dz wheel steps down, buttons PS2M_*. */
void ps2_mouse_event(struct ps2_mouse *m, int dx, int dy, int dz, uint8_t buttons);
/* The next byte toward the controller; false when there is none. */
bool ps2_mouse_pop(struct ps2_mouse *m, uint8_t *b);

/* Its fields in the controller's saved state (lib/vstate.h), added in
 * the controller's state version `since`: an older state loads a mouse
 * just reset. Motion sums are stored as their 32-bit patterns. */
#define PS2M_VS_FIELDS(T, m, since)                                           \
	VS_FIELD(T, m.q, VS_U8, PS2M_QUEUE, since, 0, 0),                     \
	VS_FIELD(T, m.q_head, VS_U8, 1, since, PS2M_QUEUE - 1, 0),            \
	VS_FIELD(T, m.q_len, VS_U8, 1, since, PS2M_QUEUE, 0),                 \
	VS_FIELD(T, m.cmd, VS_U8, 1, since, 0, 0),                            \
	VS_FIELD(T, m.last, VS_U8, 1, since, 0, 0),                           \
	VS_FIELD(T, m.remote, VS_BOOL, 1, since, 1, 0),                       \
	VS_FIELD(T, m.wrap, VS_BOOL, 1, since, 1, 0),                         \
	VS_FIELD(T, m.reporting, VS_BOOL, 1, since, 1, 0),                    \
	VS_FIELD(T, m.scale21, VS_BOOL, 1, since, 1, 0),                      \
	VS_FIELD(T, m.rate, VS_U8, 1, since, 0, 100),                         \
	VS_FIELD(T, m.resolution, VS_U8, 1, since, 3, 2),                     \
	VS_FIELD(T, m.id, VS_U8, 1, since, 0, 0),                             \
	VS_FIELD(T, m.rates, VS_U8, 3, since, 0, 0),                          \
	VS_FIELD(T, m.dx, VS_U32, 1, since, 0, 0),                            \
	VS_FIELD(T, m.dy, VS_U32, 1, since, 0, 0),                            \
	VS_FIELD(T, m.dz, VS_U32, 1, since, 0, 0),                            \
	VS_FIELD(T, m.buttons, VS_U8, 1, since, 7, 0),                        \
	VS_FIELD(T, m.moved, VS_BOOL, 1, since, 1, 0)

#endif
