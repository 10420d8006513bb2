/* USB HID tablet and keyboard (see usb_hid.h). */
#include "dm/hw/usb_hid.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dev/kind.h"
#include "dm/hw/uhci.h"

#define HID_DT_HID 0x21
#define HID_DT_REPORT 0x22
#define HID_GET_REPORT 0x01
#define HID_GET_IDLE 0x02
#define HID_GET_PROTOCOL 0x03
#define HID_SET_REPORT 0x09
#define HID_SET_IDLE 0x0a
#define HID_SET_PROTOCOL 0x0b
#define HID_REPORT_INPUT 1
#define HID_REPORT_OUTPUT 2
#define HID_IDLE_UNIT_NS 4000000ull
#define KBD_IDLE_DEFAULT 125  /* 500 ms (HID 1.11, 7.2.4) */

/* ---- descriptors ---- */

/* Report descriptors, item by item (HID 1.11, 6.2.2). */
static const uint8_t tablet_report_desc[] = {
	0x05, 0x01,       /* Usage Page (Generic Desktop) */
	0x09, 0x02,       /* Usage (Mouse) */
	0xa1, 0x01,       /* Collection (Application) */
	0x09, 0x01,       /*   Usage (Pointer) */
	0xa1, 0x00,       /*   Collection (Physical) */
	0x05, 0x09,       /*     Usage Page (Button) */
	0x19, 0x01,       /*     Usage Minimum (1) */
	0x29, 0x03,       /*     Usage Maximum (3) */
	0x15, 0x00,       /*     Logical Minimum (0) */
	0x25, 0x01,       /*     Logical Maximum (1) */
	0x95, 0x03,       /*     Report Count (3) */
	0x75, 0x01,       /*     Report Size (1) */
	0x81, 0x02,       /*     Input (Data, Variable, Absolute) */
	0x95, 0x01,       /*     Report Count (1) */
	0x75, 0x05,       /*     Report Size (5) */
	0x81, 0x01,       /*     Input (Constant): padding */
	0x05, 0x01,       /*     Usage Page (Generic Desktop) */
	0x09, 0x30,       /*     Usage (X) */
	0x09, 0x31,       /*     Usage (Y) */
	0x15, 0x00,       /*     Logical Minimum (0) */
	0x26, 0xff, 0x7f, /*     Logical Maximum (32767) */
	0x35, 0x00,       /*     Physical Minimum (0) */
	0x46, 0xff, 0x7f, /*     Physical Maximum (32767) */
	0x75, 0x10,       /*     Report Size (16) */
	0x95, 0x02,       /*     Report Count (2) */
	0x81, 0x02,       /*     Input (Data, Variable, Absolute) */
	0x09, 0x38,       /*     Usage (Wheel) */
	0x15, 0x81,       /*     Logical Minimum (-127) */
	0x25, 0x7f,       /*     Logical Maximum (127) */
	0x35, 0x00,       /*     Physical Minimum (0) */
	0x45, 0x00,       /*     Physical Maximum (0): none */
	0x75, 0x08,       /*     Report Size (8) */
	0x95, 0x01,       /*     Report Count (1) */
	0x81, 0x06,       /*     Input (Data, Variable, Relative) */
	0xc0,             /*   End Collection */
	0xc0,             /* End Collection */
};

/* The boot keyboard's report (HID 1.11, appendix B.1). */
static const uint8_t kbd_report_desc[] = {
	0x05, 0x01,       /* Usage Page (Generic Desktop) */
	0x09, 0x06,       /* Usage (Keyboard) */
	0xa1, 0x01,       /* Collection (Application) */
	0x05, 0x07,       /*   Usage Page (Key Codes) */
	0x19, 0xe0,       /*   Usage Minimum (224): the modifiers */
	0x29, 0xe7,       /*   Usage Maximum (231) */
	0x15, 0x00,       /*   Logical Minimum (0) */
	0x25, 0x01,       /*   Logical Maximum (1) */
	0x75, 0x01,       /*   Report Size (1) */
	0x95, 0x08,       /*   Report Count (8) */
	0x81, 0x02,       /*   Input (Data, Variable, Absolute) */
	0x95, 0x01,       /*   Report Count (1) */
	0x75, 0x08,       /*   Report Size (8) */
	0x81, 0x01,       /*   Input (Constant): reserved */
	0x95, 0x05,       /*   Report Count (5) */
	0x75, 0x01,       /*   Report Size (1) */
	0x05, 0x08,       /*   Usage Page (LEDs) */
	0x19, 0x01,       /*   Usage Minimum (1) */
	0x29, 0x05,       /*   Usage Maximum (5) */
	0x91, 0x02,       /*   Output (Data, Variable, Absolute) */
	0x95, 0x01,       /*   Report Count (1) */
	0x75, 0x03,       /*   Report Size (3) */
	0x91, 0x01,       /*   Output (Constant): padding */
	0x95, 0x06,       /*   Report Count (6) */
	0x75, 0x08,       /*   Report Size (8) */
	0x15, 0x00,       /*   Logical Minimum (0) */
	0x25, 0xff,       /*   Logical Maximum (255) */
	0x05, 0x07,       /*   Usage Page (Key Codes) */
	0x19, 0x00,       /*   Usage Minimum (0) */
	0x29, 0xff,       /*   Usage Maximum (255) */
	0x81, 0x00,       /*   Input (Data, Array) */
	0xc0,             /* End Collection */
};

/* Device descriptor: USB 1.1, class per interface, 8-byte endpoint 0,
 * 0627:0001 as QEMU's HID devices, strings 1-3. */
static const uint8_t hid_device_desc[18] = {
	18, 1, 0x10, 0x01, 0, 0, 0, 8, 0x27, 0x06, 0x01, 0x00, 0x00, 0x00, 1, 2, 3, 1,
};

#define CONFIG_LEN (9 + 9 + 9 + 7)
#define HID_DESC_AT 18 /* the HID descriptor's offset in the configuration */

/* Configuration 1: bus powered with remote wakeup, 100 mA; interface 0
 * (HID, subclass and protocol as given), its HID descriptor, endpoint
 * 81h (interrupt, 8 bytes, 10 ms). */
#define HID_CONFIG(subclass, protocol, report_len)                              \
	{9, 2, CONFIG_LEN, 0, 1, 1, 0, 0xa0, 50,                                \
	 9, 4, 0, 0, 1, 3, subclass, protocol, 0,                               \
	 9, HID_DT_HID, 0x01, 0x01, 0, 1, HID_DT_REPORT, (uint8_t)(report_len), \
	 (uint8_t)((report_len) >> 8),                                          \
	 7, 5, 0x81, 3, 8, 0, 10}

static const uint8_t tablet_config_desc[CONFIG_LEN] =
	HID_CONFIG(0, 0, sizeof(tablet_report_desc));
static const uint8_t kbd_config_desc[CONFIG_LEN] = HID_CONFIG(1, 1, sizeof(kbd_report_desc));

static const char *const tablet_strings[] = {"v2e", "v2e USB Tablet", "1"};
static const char *const kbd_strings[] = {"v2e", "v2e USB Keyboard", "1"};

/* ---- reports ---- */

static bool is_kbd(const struct usb_hid *h)
{
	return h->kind == USB_HID_KBD;
}

static unsigned report_len(const struct usb_hid *h)
{
	return is_kbd(h) ? USB_KBD_REPORT : USB_TABLET_REPORT;
}

static void tablet_report(const struct usb_hid *h, int8_t wheel, uint8_t *r)
{
	r[0] = h->buttons & 7;
	r[1] = (uint8_t)h->x;
	r[2] = (uint8_t)(h->x >> 8);
	r[3] = (uint8_t)h->y;
	r[4] = (uint8_t)(h->y >> 8);
	r[5] = (uint8_t)wheel;
}

/* Modifiers from usages E0h-E7h, then up to six other keys held in
 * usage order; more than six: ErrorRollOver in every slot. */
static void kbd_report(const struct usb_hid *h, uint8_t *r)
{
	unsigned n = 0;

	memset(r, 0, USB_KBD_REPORT);
	r[0] = h->keys[0xe0 / 8];
	for (unsigned u = 4; u < 0xe0; u++) {
		if (!(h->keys[u / 8] >> (u % 8) & 1))
			continue;
		if (n < 6)
			r[2 + n] = (uint8_t)u;
		n++;
	}
	if (n > 6)
		memset(r + 2, 0x01, 6);
}

static void current_report(const struct usb_hid *h, uint8_t *r)
{
	if (is_kbd(h))
		kbd_report(h, r);
	else
		tablet_report(h, 0, r);
}

static uint8_t *q_newest(struct usb_hid *h)
{
	return h->q[(h->q_head + h->q_len - 1) % USB_HID_QUEUE];
}

static void q_push(struct usb_hid *h, const uint8_t *r)
{
	if (h->q_len == USB_HID_QUEUE) {
		/* Full: the newest entry takes the latest state. */
		memcpy(q_newest(h), r, USB_HID_REPORT_MAX);
		h->dropped++;
		return;
	}
	memcpy(h->q[(h->q_head + h->q_len) % USB_HID_QUEUE], r, USB_HID_REPORT_MAX);
	h->q_len++;
}

static bool configured(const struct usb_hid *h)
{
	return h->usb.state == USB_STATE_CONFIGURED;
}

uint16_t usb_tablet_scale(int pos, unsigned size)
{
	if (size <= 1 || pos <= 0)
		return 0;
	if ((unsigned)pos >= size - 1)
		return USB_TABLET_MAX;
	return (uint16_t)((uint64_t)(unsigned)pos * USB_TABLET_MAX / (size - 1));
}

void usb_tablet_event(struct usb_hid *t, int x, int y, unsigned width, unsigned height,
		      unsigned buttons, int dz)
{
	int wheel = dz < -127 ? 127 : dz > 127 ? -127 : -dz;
	uint8_t r[USB_HID_REPORT_MAX] = {0};

	if (is_kbd(t))
		return;
	t->x = usb_tablet_scale(x, width);
	t->y = usb_tablet_scale(y, height);
	t->buttons = (uint8_t)(buttons & 7);
	if (!configured(t))
		return;
	tablet_report(t, (int8_t)wheel, r);
	if (t->q_len) {
		uint8_t *last = q_newest(t);
		int sum = (int8_t)last[5] + wheel;
		if (last[0] == r[0] && sum >= -127 && sum <= 127) {
			/* Only a move: the newest queued report goes there. */
			r[5] = (uint8_t)(int8_t)sum;
			memcpy(last, r, USB_HID_REPORT_MAX);
			usb_dev_wakeup(&t->usb);
			return;
		}
	}
	q_push(t, r);
	usb_dev_wakeup(&t->usb);
}

void usb_kbd_key(struct usb_hid *k, uint8_t usage, bool pressed)
{
	uint8_t r[USB_HID_REPORT_MAX] = {0};

	if (!is_kbd(k) || usage < 4 || usage > 0xe7)
		return;
	if (pressed)
		k->keys[usage / 8] |= (uint8_t)(1u << (usage % 8));
	else
		k->keys[usage / 8] &= (uint8_t)~(1u << (usage % 8));
	if (!configured(k))
		return;
	kbd_report(k, r);
	if (!memcmp(r, k->cur, USB_KBD_REPORT))
		return;
	memcpy(k->cur, r, USB_HID_REPORT_MAX);
	q_push(k, r);
	usb_dev_wakeup(&k->usb);
}

/* ---- the USB function ---- */

static struct usb_hid *hid_of(struct usb_dev *d)
{
	return (struct usb_hid *)d;
}

/* Endpoint 1: the oldest queued report; without one, the current
 * report again once the idle duration passed since the last; else NAK. */
static int hid_in(struct usb_dev *d, unsigned ep, uint8_t *buf, uint64_t now)
{
	struct usb_hid *h = hid_of(d);

	if (ep != 1)
		return USB_RET_STALL;
	if (h->q_len) {
		memcpy(buf, h->q[h->q_head], USB_HID_REPORT_MAX);
		h->q_head = (uint8_t)((h->q_head + 1) % USB_HID_QUEUE);
		h->q_len--;
	} else if (h->idle && now >= h->last_report + h->idle * HID_IDLE_UNIT_NS) {
		current_report(h, buf);
	} else {
		return USB_RET_NAK;
	}
	h->last_report = now;
	return (int)report_len(h);
}

static uint64_t hid_next_data(const struct usb_dev *d)
{
	const struct usb_hid *h = (const struct usb_hid *)d;
	if (h->q_len)
		return 0;
	return h->idle ? h->last_report + h->idle * HID_IDLE_UNIT_NS : VCLOCK_NEVER;
}

static int hid_control(struct usb_dev *d, const struct usb_setup *s, uint8_t *data,
		       unsigned max)
{
	struct usb_hid *h = hid_of(d);
	bool kbd = is_kbd(h);
	unsigned type = s->value >> 8;

	if ((s->type & USB_RECIP_MASK) != USB_RECIP_INTERFACE || s->index != 0)
		return USB_RET_STALL;
	if ((s->type & USB_TYPE_MASK) == USB_TYPE_STANDARD) {
		const uint8_t *desc;
		unsigned len;
		if (s->request != USB_REQ_GET_DESCRIPTOR || !(s->type & USB_DIR_IN))
			return USB_RET_STALL;
		if (type == HID_DT_REPORT) {
			desc = kbd ? kbd_report_desc : tablet_report_desc;
			len = kbd ? sizeof(kbd_report_desc) : sizeof(tablet_report_desc);
		} else if (type == HID_DT_HID) {
			desc = (kbd ? kbd_config_desc : tablet_config_desc) + HID_DESC_AT;
			len = 9;
		} else {
			return USB_RET_STALL;
		}
		if (len > max)
			return USB_RET_STALL;
		memcpy(data, desc, len);
		return (int)len;
	}
	if ((s->type & USB_TYPE_MASK) != USB_TYPE_CLASS)
		return USB_RET_STALL;
	switch (s->type & USB_DIR_IN ? s->request : s->request | 0x100) {
	case HID_GET_REPORT:
		if (type == HID_REPORT_INPUT) {
			current_report(h, data);
			return (int)report_len(h);
		}
		if (type == HID_REPORT_OUTPUT && kbd) {
			data[0] = h->leds;
			return 1;
		}
		return USB_RET_STALL;
	case HID_GET_IDLE:
		data[0] = h->idle;
		return 1;
	case HID_GET_PROTOCOL:
		if (!kbd)
			return USB_RET_STALL;
		data[0] = h->protocol;
		return 1;
	case HID_SET_REPORT | 0x100:
		if (!kbd || type != HID_REPORT_OUTPUT || s->length < 1)
			return USB_RET_STALL;
		h->leds = data[0] & 0x1f;
		return 0;
	case HID_SET_IDLE | 0x100:
		h->idle = (uint8_t)(s->value >> 8);
		/* The duration counts from now. */
		h->last_report = vclock_now(h->clock);
		return 0;
	case HID_SET_PROTOCOL | 0x100:
		if (!kbd || s->value > 1)
			return USB_RET_STALL;
		h->protocol = (uint8_t)s->value;
		return 0;
	default:
		return USB_RET_STALL;
	}
}

/* A bus reset or a new configuration: the class state starts over
 * (report protocol, the default idle rate, nothing queued); what the
 * user holds stays held. */
static void hid_reset(struct usb_dev *d)
{
	struct usb_hid *h = hid_of(d);

	h->protocol = 1;
	h->idle = is_kbd(h) ? KBD_IDLE_DEFAULT : 0;
	h->leds = 0;
	h->q_head = h->q_len = 0;
	memset(h->cur, 0, sizeof(h->cur));
	h->last_report = h->clock ? vclock_now(h->clock) : 0;
}

static const struct usb_dev_class tablet_class = {
	hid_device_desc, tablet_config_desc, CONFIG_LEN, tablet_strings,
	ARRAY_SIZE(tablet_strings), hid_control, hid_in, hid_next_data, hid_reset,
};

static const struct usb_dev_class kbd_class = {
	hid_device_desc, kbd_config_desc, CONFIG_LEN, kbd_strings,
	ARRAY_SIZE(kbd_strings), hid_control, hid_in, hid_next_data, hid_reset,
};

void usb_hid_init(struct usb_hid *h, enum usb_hid_kind kind, struct vclock *clock)
{
	memset(h, 0, sizeof(*h));
	h->kind = (uint8_t)kind;
	h->clock = clock;
	h->usb.cls = kind == USB_HID_KBD ? &kbd_class : &tablet_class;
	usb_dev_reset(&h->usb);
}

/* ---- the kinds ---- */

static const struct dev_prop hid_props[] = {
	{"port", DEV_PROP_NUM, false, 0, UHCI_PORTS, 0, NULL,
	 "root port of the piix3-usb-uhci: 1 or 2 (0: the first free)"},
};

static int hid_create(void *dev, const struct dev_ctx *c, const struct dev_props *p,
		      enum usb_hid_kind kind, char *err, size_t n)
{
	struct usb_hid *h = dev;
	struct uhci *u = c->peer ? c->peer(c, "piix3-usb-uhci") : NULL;
	int r;

	usb_hid_init(h, kind, c->clock);
	if (!u) {
		snprintf(err, n, "%s: no piix3-usb-uhci on the board before it (-usb)", c->id);
		return -ENODEV;
	}
	r = uhci_attach(u, (unsigned)p->num[0], &h->usb);
	if (r < 0) {
		if (p->num[0])
			snprintf(err, n, "%s: USB port %u is taken", c->id, (unsigned)p->num[0]);
		else
			snprintf(err, n, "%s: both USB ports are taken", c->id);
		return r;
	}
	return 0;
}

static int tablet_create(void *dev, const struct dev_ctx *c, const struct dev_props *p,
			 char *err, size_t n)
{
	return hid_create(dev, c, p, USB_HID_TABLET, err, n);
}

static int kbd_create(void *dev, const struct dev_ctx *c, const struct dev_props *p,
		      char *err, size_t n)
{
	return hid_create(dev, c, p, USB_HID_KBD, err, n);
}

static void hid_kind_reset(void *dev)
{
	struct usb_hid *h = dev;
	usb_dev_reset(&h->usb);
}

static void hid_destroy(void *dev)
{
	struct usb_hid *h = dev;
	if (h->usb.wakeup_opaque)
		uhci_detach(h->usb.wakeup_opaque, &h->usb);
}

/* ---- saved state ---- */

/* The USB device (address, configuration, endpoint 0's transfer), the
 * class state, what the user holds, the queued reports and when a
 * report last went out (the idle rate counts from it). */
static const struct vs_field hid_fields[] = {
	USB_DEV_VS_FIELDS(struct usb_hid, usb),
	VS_MAX(struct usb_hid, protocol, VS_U8, 1),
	VS_U8(struct usb_hid, idle),
	VS_MAX(struct usb_hid, leds, VS_U8, 0x1f),
	VS_MAX(struct usb_hid, x, VS_U16, USB_TABLET_MAX),
	VS_MAX(struct usb_hid, y, VS_U16, USB_TABLET_MAX),
	VS_MAX(struct usb_hid, buttons, VS_U8, 7),
	VS_BYTES(struct usb_hid, keys),
	VS_BYTES(struct usb_hid, q),
	VS_MAX(struct usb_hid, q_head, VS_U8, USB_HID_QUEUE - 1),
	VS_MAX(struct usb_hid, q_len, VS_U8, USB_HID_QUEUE),
	VS_BYTES(struct usb_hid, cur),
	VS_U64(struct usb_hid, last_report),
};

static int tablet_state_check(const void *obj, char *err, size_t n)
{
	return usb_dev_state_check(&((const struct usb_hid *)obj)->usb, "usb-tablet", err, n);
}

static int kbd_state_check(const void *obj, char *err, size_t n)
{
	return usb_dev_state_check(&((const struct usb_hid *)obj)->usb, "usb-kbd", err, n);
}

const struct vs_desc usb_tablet_state = {
	.name = "usb-tablet",
	.version = 1,
	.fields = hid_fields,
	.n_fields = ARRAY_SIZE(hid_fields),
	.check = tablet_state_check,
};

const struct vs_desc usb_kbd_state = {
	.name = "usb-kbd",
	.version = 1,
	.fields = hid_fields,
	.n_fields = ARRAY_SIZE(hid_fields),
	.check = kbd_state_check,
};

DEV_KIND(usb_tablet) = {
	.name = "usb-tablet",
	.help = "USB HID tablet: absolute pointer on the piix3-usb-uhci",
	.where = DEV_IN_DM,
	.category = DEV_CAT_USB,
	.user = true,
	DEV_PROPS(hid_props),
	.size = sizeof(struct usb_hid),
	.create = tablet_create,
	.reset = hid_kind_reset,
	.destroy = hid_destroy,
	.state = &usb_tablet_state,
};

DEV_KIND(usb_kbd) = {
	.name = "usb-kbd",
	.help = "USB HID boot keyboard on the piix3-usb-uhci",
	.where = DEV_IN_DM,
	.category = DEV_CAT_USB,
	.user = true,
	DEV_PROPS(hid_props),
	.size = sizeof(struct usb_hid),
	.create = kbd_create,
	.reset = hid_kind_reset,
	.destroy = hid_destroy,
	.state = &usb_kbd_state,
};
