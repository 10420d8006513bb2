; A guest that spins in loops jumping to themselves while it waits for the
; timer: `l: inc eax; jmp l`, then `l: mov dword [x], 1; jmp l`. The PIT's
; IRQ 0 (1 kHz) must still reach it: after 4 ticks the handler moves it
; from the first loop to the second (by its return address), after 8 it
; prints and exits. With -append cli it spins with interrupts off, for
; ever: only a signal to v2e ends it.
%include "mb.inc"
start:
	mov esp, stack_top
	FLAT_SEGMENTS
	MB_ARGS                    ; -append cli: spin with IF=0
	cmp byte [esi], 'c'
	jne .irq
	cli
.dead:	inc eax
	jmp .dead
.irq:	INTR_GATE 0x20, pit_isr
	lidt [idtr]
	PIC_REMAP 0xfe, 0xff
	mov al, 0x34               ; counter 0, LSB then MSB, mode 2, 1 kHz
	out 0x43, al
	mov ax, 1193
	out 0x40, al
	mov al, ah
	out 0x40, al
	xor eax, eax
	sti
loop1:	inc eax
	jmp loop1
loop2:	mov dword [x], 1
	jmp loop2

pit_isr:
	push eax
	mov al, 0x20
	out 0x20, al
	inc dword [ticks]
	cmp dword [ticks], 4
	jne .not4
	mov dword [esp + 4], loop2 ; the interrupted EIP: on to the second loop
.not4:	cmp dword [ticks], 8
	jae .done
	pop eax
	iret
.done:	cli
	mov esi, msg
	call puts
	mov eax, [x]
	add al, '0'
	call putc
	mov al, 10
	call putc
	EXIT 0

SERIAL_PUTS

	align 8
gdt:	dq 0
	dq 0x00cf9a000000ffff      ; 0x08 code
	dq 0x00cf92000000ffff      ; 0x10 data
gdtr:	dw gdtr - gdt - 1
	dd gdt
idtr:	dw 256 * 8 - 1
	dd idt
ticks:	dd 0
x:	dd 0
msg:	db "spun through 8 ticks, x=", 0
image_end:
	align 16
idt:	times 256 * 8 db 0
	times 4096 db 0
stack_top:
bss_end:
