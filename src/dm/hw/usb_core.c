/* The USB device layer (see usb.h): device state, endpoint 0's control
 * transfers and the standard requests of USB 1.1 chapter 9. */
#include "dm/hw/usb.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static struct usb_setup setup_of(const uint8_t *p)
{
	return (struct usb_setup){p[0], p[1], (uint16_t)(p[2] | p[3] << 8),
				  (uint16_t)(p[4] | p[5] << 8), (uint16_t)(p[6] | p[7] << 8)};
}

void usb_dev_reset(struct usb_dev *d)
{
	d->state = USB_STATE_DEFAULT;
	d->addr = 0;
	d->config = 0;
	d->remote_wakeup = false;
	d->halted = 0;
	memset(&d->ctrl, 0, sizeof(d->ctrl));
	if (d->cls->reset)
		d->cls->reset(d);
}

/* The configuration's bConfigurationValue and bmAttributes. */
static uint8_t config_value(const struct usb_dev *d)
{
	return d->cls->config_len >= 9 ? d->cls->config_desc[5] : 1;
}

static bool self_powered(const struct usb_dev *d)
{
	return d->cls->config_len >= 9 && (d->cls->config_desc[7] & 0x40);
}

/* Whether the configuration has IN endpoint `ep` (an endpoint descriptor
 * with address 0x80 | ep). */
static bool has_in_endpoint(const struct usb_dev *d, unsigned ep)
{
	const uint8_t *p = d->cls->config_desc;
	unsigned len = d->cls->config_len;

	for (unsigned at = 0; at + 2 <= len && p[at] >= 2; at += p[at])
		if (p[at + 1] == 5 && at + 3 <= len && p[at + 2] == (0x80 | ep))
			return true;
	return false;
}

/* String descriptor i (0: the language list, US English) into out. */
static int string_desc(const struct usb_dev *d, unsigned i, uint8_t *out, unsigned max)
{
	const char *s;
	unsigned n = 2;

	if (i == 0) {
		static const uint8_t langs[4] = {4, USB_DT_STRING, 0x09, 0x04};
		memcpy(out, langs, 4);
		return 4;
	}
	if (i > d->cls->n_strings || !d->cls->strings[i - 1])
		return USB_RET_STALL;
	s = d->cls->strings[i - 1];
	for (; *s && n + 2 <= max && n + 2 <= 254; s++) {
		out[n++] = (uint8_t)*s;
		out[n++] = 0;
	}
	out[0] = (uint8_t)n;
	out[1] = USB_DT_STRING;
	return (int)n;
}

static int get_descriptor(struct usb_dev *d, const struct usb_setup *s, uint8_t *out,
			  unsigned max)
{
	unsigned type = s->value >> 8, index = s->value & 0xff;

	if ((s->type & USB_RECIP_MASK) != USB_RECIP_DEVICE)
		return d->cls->control(d, s, out, max);
	switch (type) {
	case USB_DT_DEVICE:
		memcpy(out, d->cls->device_desc, 18);
		return 18;
	case USB_DT_CONFIG:
		if (index != 0 || d->cls->config_len > max)
			return USB_RET_STALL;
		memcpy(out, d->cls->config_desc, d->cls->config_len);
		return d->cls->config_len;
	case USB_DT_STRING:
		return string_desc(d, index, out, max);
	default:
		return d->cls->control(d, s, out, max);
	}
}

/* A standard request or the function's; bytes for the IN data stage
 * (or 0) or USB_RET_STALL. The OUT data stage, if any, is in buf. */
static int request(struct usb_dev *d, const struct usb_setup *s, uint8_t *buf)
{
	unsigned recip = s->type & USB_RECIP_MASK, ep = s->index & 0x0f;
	bool in_dir = s->type & USB_DIR_IN;

	if ((s->type & USB_TYPE_MASK) != USB_TYPE_STANDARD)
		return d->cls->control(d, s, buf, USB_CTRL_BUF);
	switch (s->request) {
	case USB_REQ_GET_STATUS:
		if (!in_dir)
			return USB_RET_STALL;
		buf[1] = 0;
		if (recip == USB_RECIP_DEVICE)
			buf[0] = (uint8_t)((self_powered(d) ? 1 : 0) | (d->remote_wakeup ? 2 : 0));
		else if (recip == USB_RECIP_INTERFACE && d->state == USB_STATE_CONFIGURED)
			buf[0] = 0;
		else if (recip == USB_RECIP_ENDPOINT && (ep == 0 || d->state == USB_STATE_CONFIGURED))
			buf[0] = (d->halted >> ep) & 1;
		else
			return USB_RET_STALL;
		return 2;
	case USB_REQ_CLEAR_FEATURE:
	case USB_REQ_SET_FEATURE: {
		bool set = s->request == USB_REQ_SET_FEATURE;
		if (in_dir)
			return USB_RET_STALL;
		if (recip == USB_RECIP_DEVICE && s->value == USB_FEAT_REMOTE_WAKEUP) {
			d->remote_wakeup = set;
			return 0;
		}
		if (recip == USB_RECIP_ENDPOINT && s->value == USB_FEAT_ENDPOINT_HALT &&
		    (ep == 0 || (d->state == USB_STATE_CONFIGURED && (s->index & 0x80) &&
				 has_in_endpoint(d, ep)))) {
			/* Endpoint 0 cannot stay halted: a SETUP clears it. */
			if (set && ep)
				d->halted |= (uint16_t)(1u << ep);
			else
				d->halted &= (uint16_t)~(1u << ep);
			return 0;
		}
		return USB_RET_STALL;
	}
	case USB_REQ_SET_ADDRESS:
		if (in_dir || s->value > USB_MAX_ADDR || s->index || s->length ||
		    d->state == USB_STATE_CONFIGURED)
			return USB_RET_STALL;
		d->ctrl.new_addr = (uint8_t)s->value;
		d->ctrl.set_addr = true;
		return 0;
	case USB_REQ_GET_DESCRIPTOR:
		if (!in_dir)
			return USB_RET_STALL;
		return get_descriptor(d, s, buf, USB_CTRL_BUF);
	case USB_REQ_GET_CONFIGURATION:
		if (!in_dir)
			return USB_RET_STALL;
		buf[0] = d->config;
		return 1;
	case USB_REQ_SET_CONFIGURATION:
		if (in_dir || d->state == USB_STATE_DEFAULT)
			return USB_RET_STALL;
		if (s->value == 0) {
			d->config = 0;
			d->state = USB_STATE_ADDRESS;
		} else if (s->value == config_value(d)) {
			d->config = (uint8_t)s->value;
			d->state = USB_STATE_CONFIGURED;
		} else {
			return USB_RET_STALL;
		}
		d->halted = 0;
		if (d->cls->reset)
			d->cls->reset(d);
		return 0;
	case USB_REQ_GET_INTERFACE:
		if (!in_dir || d->state != USB_STATE_CONFIGURED || s->index != 0)
			return USB_RET_STALL;
		buf[0] = 0;
		return 1;
	case USB_REQ_SET_INTERFACE:
		/* One interface with one setting: selecting it again resets
		 * its endpoints (9.4.10). */
		if (in_dir || d->state != USB_STATE_CONFIGURED || s->index != 0 || s->value != 0)
			return USB_RET_STALL;
		d->halted = 0;
		return 0;
	default:
		return USB_RET_STALL;
	}
}

static int stall(struct usb_dev *d)
{
	d->ctrl.stage = USB_CTRL_STALLED;
	return USB_RET_STALL;
}

/* A SETUP packet starts a control transfer, whatever came before
 * (8.5.3: it also clears a stalled endpoint 0). */
static int ctrl_setup(struct usb_dev *d, const uint8_t *buf, unsigned len)
{
	struct usb_ctrl *c = &d->ctrl;
	struct usb_setup s;
	int r;

	if (len != 8)
		return stall(d);
	memcpy(c->setup, buf, 8);
	s = setup_of(c->setup);
	c->pos = 0;
	c->len = 0;
	c->set_addr = false;
	c->out_toggle = 1;
	if (!(s.type & USB_DIR_IN) && s.length) {
		if (s.length > USB_CTRL_BUF)
			return stall(d);
		c->len = s.length;
		c->stage = USB_CTRL_DATA_OUT;
		return 8;
	}
	r = request(d, &s, c->buf);
	if (r < 0) {
		/* A SETUP is always acknowledged; the refusal is the next
		 * stage's STALL. */
		(void)stall(d);
		return 8;
	}
	if (s.type & USB_DIR_IN) {
		c->len = (uint16_t)(r < s.length ? r : s.length);
		if (c->len > USB_CTRL_BUF)
			c->len = USB_CTRL_BUF;
		c->stage = s.length ? USB_CTRL_DATA_IN : USB_CTRL_STATUS_IN;
	} else {
		c->stage = USB_CTRL_STATUS_IN;
	}
	return 8;
}

/* The status stage went through: what waited for it takes effect. */
static void ctrl_done(struct usb_dev *d)
{
	struct usb_ctrl *c = &d->ctrl;
	if (c->set_addr) {
		d->addr = c->new_addr;
		d->state = c->new_addr ? USB_STATE_ADDRESS : USB_STATE_DEFAULT;
		c->set_addr = false;
	}
	c->stage = USB_CTRL_IDLE;
}

static int ctrl_in(struct usb_dev *d, uint8_t *buf)
{
	struct usb_ctrl *c = &d->ctrl;
	unsigned max0 = d->cls->device_desc[7], n;
	struct usb_setup s;
	int r;

	if (max0 < 8 || max0 > USB_MAX_PACKET)
		max0 = 8;
	switch (c->stage) {
	case USB_CTRL_DATA_IN:
		n = c->len > c->pos ? c->len - c->pos : 0;
		if (n > max0)
			n = max0;
		memcpy(buf, c->buf + c->pos, n);
		c->pos = (uint16_t)(c->pos + n);
		return (int)n;
	case USB_CTRL_DATA_OUT:
		/* The host ends the data stage early or on time: the request
		 * runs with what came. */
		if (c->pos < c->len)
			return stall(d);
		s = setup_of(c->setup);
		r = request(d, &s, c->buf);
		if (r < 0)
			return stall(d);
		ctrl_done(d);
		return 0;
	case USB_CTRL_STATUS_IN:
		ctrl_done(d);
		return 0;
	default:
		return stall(d);
	}
}

static int ctrl_out(struct usb_dev *d, bool toggle, const uint8_t *buf, unsigned len)
{
	struct usb_ctrl *c = &d->ctrl;

	switch (c->stage) {
	case USB_CTRL_DATA_IN:
		/* The status stage (a zero-length OUT), possibly before all
		 * the data was read: that is the host's choice. */
		ctrl_done(d);
		return 0;
	case USB_CTRL_DATA_OUT:
		if (toggle != c->out_toggle)
			return (int)len; /* a retry of a packet we have: ACK, drop */
		if (len > (unsigned)(c->len - c->pos))
			return stall(d);
		memcpy(c->buf + c->pos, buf, len);
		c->pos = (uint16_t)(c->pos + len);
		c->out_toggle ^= 1;
		return (int)len;
	default:
		return stall(d);
	}
}

int usb_dev_packet(struct usb_dev *d, uint8_t pid, unsigned ep, bool toggle,
		   uint8_t *buf, unsigned len, uint64_t now)
{
	if (ep >= USB_MAX_ENDPOINTS)
		return USB_RET_STALL;
	if (ep == 0) {
		if (pid == USB_PID_SETUP)
			return ctrl_setup(d, buf, len);
		if (d->ctrl.stage == USB_CTRL_STALLED)
			return USB_RET_STALL;
		if (pid == USB_PID_IN)
			return ctrl_in(d, buf);
		if (pid == USB_PID_OUT)
			return ctrl_out(d, toggle, buf, len);
		return USB_RET_STALL;
	}
	if (pid != USB_PID_IN || d->state != USB_STATE_CONFIGURED || !has_in_endpoint(d, ep) ||
	    (d->halted >> ep & 1))
		return USB_RET_STALL;
	return d->cls->in(d, ep, buf, now);
}

uint64_t usb_dev_next_data(const struct usb_dev *d)
{
	if (d->state != USB_STATE_CONFIGURED || !d->cls->next_data)
		return VCLOCK_NEVER;
	return d->cls->next_data(d);
}

int usb_dev_state_check(const struct usb_dev *d, const char *kind, char *err, size_t n)
{
	const struct usb_ctrl *c = &d->ctrl;
	const char *bad = NULL;

	if (c->pos > c->len)
		bad = "ctrl.pos";
	else if ((d->state == USB_STATE_DEFAULT) != (d->addr == 0))
		bad = "addr";
	else if ((d->state == USB_STATE_CONFIGURED) != (d->config != 0))
		bad = "config";
	if (bad) {
		snprintf(err, n, "%s: field '%s' impossible", kind, bad);
		return -EINVAL;
	}
	return 0;
}
