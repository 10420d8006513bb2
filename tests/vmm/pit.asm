; The PIT end to end: counter 0 in mode 2 at 1 kHz (count 1193) drives IRQ 0
; through the master PIC; 50 interrupts with HLT in between, then counter
; 2 gated through port 0x61 in mode 0 must raise OUT2 (port 0x61 bit 5)
; once its count has run out. Prints both results on COM1.
%include "mb.inc"
start:
	mov esp, stack_top
	FLAT_SEGMENTS
	INTR_GATE 0x20, pit_isr
	lidt [idtr]
	PIC_REMAP 0xfe, 0xff
	mov al, 0x34               ; counter 0, LSB then MSB, mode 2
	out 0x43, al
	mov ax, 1193
	out 0x40, al
	mov al, ah
	out 0x40, al
	sti
.wait:	hlt
	cmp dword [ticks], 50
	jb .wait
	cli
	mov esi, msg1
	call puts
	mov eax, [ticks]
	call putdec
	mov al, 10
	call putc

	; counter 2: gate on, mode 0, count 10000 (8.4 ms); OUT2 rises after
	; 10000 ticks. Long enough that in real time a host that preempts
	; the vCPU between the load and the read still sees OUT2 low.
	mov al, 0x01
	out 0x61, al
	mov al, 0xb0               ; counter 2, LSB then MSB, mode 0
	out 0x43, al
	mov al, 10000 & 0xff
	out 0x42, al
	mov al, 10000 >> 8
	out 0x42, al
	in al, 0x61
	and al, 0x20
	mov [out_early], al
.spin:	in al, 0x61
	test al, 0x20
	jz .spin
	mov esi, msg2
	call puts
	mov al, [out_early]
	add al, '0'                ; '0': low right after loading
	call putc
	mov al, 10
	call putc
	EXIT 0

pit_isr:
	push eax
	mov al, 0x20
	out 0x20, al
	inc dword [ticks]
	pop eax
	iret

puts:	lodsb
	test al, al
	jz .done
	call putc
	jmp puts
.done:	ret

putc:	push eax
	push edx
	mov dx, COM1 + 5
.w:	in al, dx
	test al, 0x20
	jz .w
	pop edx
	pop eax
	push edx
	mov dx, COM1
	out dx, al
	pop edx
	ret

putdec:	mov ecx, 10
	xor ebx, ebx
.div:	xor edx, edx
	div ecx
	push edx
	inc ebx
	test eax, eax
	jnz .div
.out:	pop eax
	add al, '0'
	call putc
	dec ebx
	jnz .out
	ret

	align 8
gdt:	dq 0
	dq 0x00cf9a000000ffff
	dq 0x00cf92000000ffff
gdtr:	dw gdtr - gdt - 1
	dd gdt
idtr:	dw 256 * 8 - 1
	dd idt
ticks:	dd 0
out_early: db 0
msg1:	db "pit irq0 ticks ", 0
msg2:	db "out2 rose, low at load: ", 0
image_end:
	align 16
idt:	times 256 * 8 db 0
	times 4096 db 0
stack_top:
bss_end:
