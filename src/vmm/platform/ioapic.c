/* The I/O APIC (see ioapic.h): the indirect register window, redirection
 * entries with edge and level triggering, Remote IRR and the EOI paths. */
#include "vmm/platform/ioapic.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* ---- saved state ---- */

/* The ID, the register select, the input levels and the entries (with
 * Remote IRR). Messages already sent are the LAPIC's state, so a load
 * sends nothing. */
static const struct vs_field ioapic_fields[] = {
	VS_MAX(struct ioapic, id, VS_U32, 0x0f000000u),
	VS_U8(struct ioapic, regsel),
	VS_MAX(struct ioapic, lines, VS_U32, (1u << IOAPIC_PINS) - 1),
	VS_ARRAY(struct ioapic, rte, VS_U64, IOAPIC_PINS),
};

/* Bits an entry can hold: the writable ones and Remote IRR. */
#define RTE_KEPT (0x0001afffull | 0xff00000000000000ull | IOAPIC_RTE_REMOTE_IRR)

static int ioapic_state_check(const void *obj, char *err, size_t n)
{
	const struct ioapic *io = obj;
	if (io->id & ~0x0f000000u) {
		snprintf(err, n, "ioapic: field 'id' has bits outside 24-27");
		return -EINVAL;
	}
	for (unsigned i = 0; i < IOAPIC_PINS; i++)
		if (io->rte[i] & ~RTE_KEPT) {
			snprintf(err, n, "ioapic: field 'rte'[%u] has read-only "
				 "bits set", i);
			return -EINVAL;
		}
	return 0;
}

const struct vs_desc ioapic_state = {
	"ioapic", 1, ioapic_fields, ARRAY_SIZE(ioapic_fields),
	ioapic_state_check, NULL,
};

/* Writable bits of an entry's low half: vector, delivery mode,
 * destination mode, polarity, trigger mode, mask (delivery status and
 * Remote IRR are read-only); of the high half: the destination. */
#define RTE_LO_WRITABLE 0x0001afffull
#define RTE_HI_WRITABLE 0xff000000ull

static bool asserted(const struct ioapic *io, unsigned pin)
{
	bool level = (io->lines >> pin) & 1;
	return level != !!(io->rte[pin] & IOAPIC_RTE_ACTIVE_LOW);
}

static void send(struct ioapic *io, unsigned pin)
{
	uint64_t e = io->rte[pin];
	struct apic_msg m = {
		.vector = (uint8_t)e,
		.mode = (uint8_t)((e >> 8) & 7),
		.dest = (uint8_t)(e >> 56),
		.logical = e & IOAPIC_RTE_LOGICAL,
		.level = e & IOAPIC_RTE_LEVEL,
	};
	if (io->deliver)
		io->deliver(io->opaque, &m);
}

/* A level-triggered entry sends while asserted, unmasked and not
 * already in service (Remote IRR). */
static void service_level(struct ioapic *io, unsigned pin)
{
	uint64_t *e = &io->rte[pin];
	if (!(*e & IOAPIC_RTE_LEVEL) || (*e & (IOAPIC_RTE_MASKED | IOAPIC_RTE_REMOTE_IRR)))
		return;
	if (!asserted(io, pin))
		return;
	*e |= IOAPIC_RTE_REMOTE_IRR;
	send(io, pin);
}

void ioapic_set_irq(void *opaque, unsigned pin, bool level)
{
	struct ioapic *io = opaque;
	bool before;
	uint64_t e;

	if (pin >= IOAPIC_PINS)
		return;
	before = asserted(io, pin);
	if (level)
		io->lines |= 1u << pin;
	else
		io->lines &= ~(1u << pin);
	e = io->rte[pin];
	if (e & IOAPIC_RTE_LEVEL)
		service_level(io, pin);
	else if (!before && asserted(io, pin) && !(e & IOAPIC_RTE_MASKED))
		send(io, pin);
}

void ioapic_eoi(void *opaque, uint8_t vector)
{
	struct ioapic *io = opaque;
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
		uint64_t *e = &io->rte[pin];
		if ((*e & IOAPIC_RTE_REMOTE_IRR) && (uint8_t)*e == vector) {
			*e &= ~IOAPIC_RTE_REMOTE_IRR;
			service_level(io, pin);
		}
	}
}

static uint32_t reg_read(const struct ioapic *io)
{
	unsigned r = io->regsel;
	switch (r) {
	case IOAPIC_REG_ID:
	case IOAPIC_REG_ARB:
		return io->id;
	case IOAPIC_REG_VER:
		return IOAPIC_VERSION_VALUE;
	default:
		if (r >= IOAPIC_REG_REDTBL && r < IOAPIC_REG_REDTBL + 2 * IOAPIC_PINS) {
			uint64_t e = io->rte[(r - IOAPIC_REG_REDTBL) / 2];
			return (r & 1) ? (uint32_t)(e >> 32) : (uint32_t)e;
		}
		return 0;
	}
}

static void reg_write(struct ioapic *io, uint32_t v)
{
	unsigned r = io->regsel, pin;
	uint64_t *e;

	if (r == IOAPIC_REG_ID) {
		io->id = v & 0x0f000000u;
		return;
	}
	if (r < IOAPIC_REG_REDTBL || r >= IOAPIC_REG_REDTBL + 2 * IOAPIC_PINS)
		return; /* version, arbitration: read-only */
	pin = (r - IOAPIC_REG_REDTBL) / 2;
	e = &io->rte[pin];
	if (r & 1) {
		*e = (*e & 0xffffffffull) | (((uint64_t)v << 32) & (RTE_HI_WRITABLE << 32));
		return;
	}
	*e = (*e & ~RTE_LO_WRITABLE) | (v & RTE_LO_WRITABLE);
	/* Remote IRR means nothing for an edge entry; kernels switch an
	 * entry to edge and back to clear a stuck one. */
	if (!(*e & IOAPIC_RTE_LEVEL))
		*e &= ~IOAPIC_RTE_REMOTE_IRR;
	service_level(io, pin);
}

static uint64_t ioapic_read(void *opaque, uint64_t off, unsigned size)
{
	struct ioapic *io = opaque;
	switch (off) {
	case IOAPIC_REGSEL:
		return io->regsel;
	case IOAPIC_WIN:
		return reg_read(io);
	default:
		return 0;
	}
}

static void ioapic_write(void *opaque, uint64_t off, unsigned size, uint64_t v)
{
	struct ioapic *io = opaque;
	switch (off) {
	case IOAPIC_REGSEL:
		io->regsel = (uint8_t)v;
		break;
	case IOAPIC_WIN:
		reg_write(io, (uint32_t)v);
		break;
	case IOAPIC_EOI:
		ioapic_eoi(io, (uint8_t)v);
		break;
	default:
		break;
	}
}

const struct io_ops ioapic_ops = {
	ioapic_read, ioapic_write,
	IO_SIZE_1 | IO_SIZE_2 | IO_SIZE_4, IO_SIZE_4,
};

void ioapic_reset(struct ioapic *io)
{
	io->regsel = 0;
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++)
		io->rte[pin] = IOAPIC_RTE_MASKED;
}

void ioapic_init(struct ioapic *io, uint8_t id,
		 void (*deliver)(void *opaque, const struct apic_msg *m),
		 void *opaque)
{
	memset(io, 0, sizeof(*io));
	io->id = (uint32_t)(id & 0xf) << 24;
	io->deliver = deliver;
	io->opaque = opaque;
	ioapic_reset(io);
}

/* ---- the kind (dev/kind.h) ----
 * The vmm's board creates and wires the platform core itself (their
 * links to each other and to the vCPU are not board lines); the row
 * names the device for -device help and gives the board its reset. */

#include "dev/kind.h"

static void ioapic_kind_reset(void *dev)
{
	ioapic_reset(dev);
}

DEV_KIND(ioapic) = {
	.name = "ioapic",
	.help = "I/O APIC, 24 pins (0xfec00000)",
	.where = DEV_IN_VMM,
	.category = DEV_CAT_PLATFORM,
	.size = sizeof(struct ioapic),
	.reset = ioapic_kind_reset,
	.state = &ioapic_state,
};
