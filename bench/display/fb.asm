; The display benchmark's guest (bench/display/run.sh): a Multiboot kernel
; that puts the standard VGA (PCI 1234:1111) in a 1024x768x32 Bochs VBE
; mode and paints its linear framebuffer, the same under v2e and QEMU.
;
; Command line (after the kernel's path): "wait" paints the whole screen
; one colour, then sleeps (PIT at 100 Hz, HLT) and paints the next colour
; of its list each time a key is pressed: the client times a key press to
; the new colour (input to picture latency) and, with no key, watches an
; unchanged screen. "spin" paints the whole screen with the next colour
; as fast as it can, for frames per second.
;
; BAR0 is used where the firmware put it; under v2e's -kernel boot no
; firmware ran, so an unprogrammed BAR0 is given 0xE0000000 here.
%include "mb.inc"

CFG_ADDR equ 0xcf8
CFG_DATA equ 0xcfc
WIDTH equ 1024
HEIGHT equ 768

start:
	mov esp, 0x90000
	; the first letter of the kernel's own arguments: past its path
	mov esi, [ebx + 16]
.word:	lodsb
	test al, al
	jz .args
	cmp al, ' '
	jne .word
	lodsb
.args:	mov [spin], al
	lgdt [gdtr]
	jmp 0x08:.flat
.flat:	mov ax, 0x10
	mov ds, ax
	mov es, ax
	mov ss, ax
	call find_vga
	call set_mode
	call setup_irqs
	xor ebx, ebx
	cmp byte [spin], 's'
	je .spin
.wait:	call paint
.idle:	sti
	hlt
	cli
	in al, 0x64
	test al, 1
	jz .idle
	in al, 0x60
	test al, 0x80                ; a release: nothing to paint
	jnz .idle
	inc ebx
	jmp .wait
.spin:	call paint
	inc ebx
	jmp .spin

; EAX = the slot's config register CL of function 0 on bus 0 (slot in EDX)
cfg_read:
	push edx
	shl edx, 11
	or edx, 0x80000000
	movzx ecx, cl
	or edx, ecx
	mov eax, edx
	mov dx, CFG_ADDR
	out dx, eax
	mov dx, CFG_DATA
	in eax, dx
	pop edx
	ret

; writes EAX to register CL of slot EDX
cfg_write:
	push eax
	push edx
	shl edx, 11
	or edx, 0x80000000
	movzx ecx, cl
	or edx, ecx
	mov eax, edx
	mov dx, CFG_ADDR
	out dx, eax
	pop edx
	pop eax
	push edx
	mov dx, CFG_DATA
	out dx, eax
	pop edx
	ret

; [lfb] = the framebuffer's address, memory decoding on.
find_vga:
	xor edx, edx
.scan:	mov cl, 0
	call cfg_read
	cmp eax, 0x11111234
	je .found
	inc edx
	cmp edx, 32
	jb .scan
	mov dx, 0xf4                 ; no VGA: end with status (1 << 1) | 1
	mov eax, 1
	out dx, eax
	cli
	hlt
.found:	mov cl, 0x10
	call cfg_read
	and eax, 0xfffffff0
	jnz .have
	mov eax, 0xe0000000
	mov cl, 0x10
	call cfg_write
.have:	mov [lfb], eax
	mov cl, 0x04
	call cfg_read
	or eax, 0x3                  ; I/O and memory decoding
	mov cl, 0x04
	call cfg_write
	ret

%macro DISPI 2
	mov dx, 0x1ce
	mov ax, %1
	out dx, ax
	mov dx, 0x1cf
	mov ax, %2
	out dx, ax
%endmacro

set_mode:
	DISPI 4, 0                   ; disable
	DISPI 1, WIDTH
	DISPI 2, HEIGHT
	DISPI 3, 32
	DISPI 4, 0x41                ; enabled, linear framebuffer
	ret

; the whole screen in colour EBX (mod the list), a dword at a time
paint:
	mov eax, ebx
	and eax, 7
	mov eax, [colours + 4 * eax]
	mov edi, [lfb]
	mov ecx, WIDTH * HEIGHT
	cld
	rep stosd
	ret

; 8259A pair at vectors 0x20/0x28, IRQ 0 and 1 unmasked; the PIT at
; 100 Hz; every vector returns, IRQs with an EOI.
setup_irqs:
	mov edi, idt
	mov ecx, 256
	mov eax, ignore
.fill:	mov word [edi], ax
	mov word [edi + 2], 0x08
	mov word [edi + 4], 0x8e00
	shr eax, 16
	mov word [edi + 6], ax
	mov eax, ignore
	add edi, 8
	loop .fill
	mov edi, idt + 8 * 0x20
	mov ecx, 16
	mov eax, irq
.irqs:	mov word [edi], ax
	ror eax, 16
	mov word [edi + 6], ax
	ror eax, 16
	add edi, 8
	loop .irqs
	lidt [idtr]
	mov al, 0x11
	out 0x20, al
	out 0xa0, al
	mov al, 0x20
	out 0x21, al
	mov al, 0x28
	out 0xa1, al
	mov al, 4
	out 0x21, al
	mov al, 2
	out 0xa1, al
	mov al, 1
	out 0x21, al
	out 0xa1, al
	mov al, 0xfc                 ; IRQ 0 and 1
	out 0x21, al
	mov al, 0xff
	out 0xa1, al
	mov al, 0x34                 ; channel 0, mode 2, binary
	out 0x43, al
	mov ax, 11932                ; 1193182 Hz / 100
	out 0x40, al
	mov al, ah
	out 0x40, al
	ret

irq:	push eax
	mov al, 0x20
	out 0x20, al
	pop eax
ignore:	iret

align 8
gdt:	dq 0
	dq 0x00cf9a000000ffff        ; 0x08 flat code
	dq 0x00cf92000000ffff        ; 0x10 flat data
gdtr:	dw 3 * 8 - 1
	dd gdt
idtr:	dw 256 * 8 - 1
	dd idt
colours: dd 0x00204080, 0x00c0c0c0, 0x00ff0000, 0x0000ff00
	dd 0x000000ff, 0x00ffff00, 0x0000ffff, 0x00ff00ff
spin:	dd 0
lfb:	dd 0
align 8
idt:	times 256 * 8 db 0
image_end:
bss_end:
