; Interrupts end to end: the RTC's periodic interrupt (1024 Hz) through the
; slave PIC (IRQ 8) and the cascade to the vCPU, with HLT between them, 16
; times; then the count on COM1. Under -icount the halts are idle time
; jumped over, so this finishes at once and the same way every run.
%include "mb.inc"
start:
	mov esp, stack_top
	FLAT_SEGMENTS
	; IDT: vector 0x28 (IRQ 8 after remapping) -> rtc_isr
	INTR_GATE 0x28, rtc_isr
	lidt [idtr]
	; PICs: vectors 0x20 and 0x28, cascade on IR2, 8086 mode
	PIC_REMAP 0xfb, 0xfe
	; RTC: periodic interrupt on (register B PIE), 1024 Hz (register A)
	mov al, 0x0b
	out 0x70, al
	mov al, 0x42
	out 0x71, al
	sti
.wait:	hlt
	cmp dword [count], 16
	jb .wait
	cli
	mov esi, msg
	call puts
	mov eax, [count]
	add al, 'A' - 1            ; 16 -> 'P'
	call putc
	mov al, 10
	call putc
	EXIT 0

rtc_isr:
	push eax
	mov al, 0x0c
	out 0x70, al
	in al, 0x71                ; reading C acknowledges the RTC
	mov al, 0x20
	out 0xa0, al               ; EOI slave, then master
	out 0x20, al
	inc dword [count]
	pop eax
	iret

SERIAL_PUTS

	align 8
gdt:	dq 0
	dq 0x00cf9a000000ffff      ; 0x08 code
	dq 0x00cf92000000ffff      ; 0x10 data
gdtr:	dw gdtr - gdt - 1
	dd gdt
idtr:	dw 256 * 8 - 1
	dd idt
count:	dd 0
msg:	db "irqs ", 0
image_end:
	align 16
idt:	times 256 * 8 db 0
	times 4096 db 0
stack_top:
bss_end:
