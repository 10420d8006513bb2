; Memory fills: REP STOSD of zero over 1 MiB blocks (how a 32-bit kernel
; clears pages and user buffers), then of a pattern whose bytes differ,
; then REP STOSB.
%include "mb.inc"
DST equ 0x600000
start:
	mov esp, stack_top
	cld
	xor eax, eax
	mov ebp, 200
.zero:
	mov edi, DST
	mov ecx, 0x40000
	rep stosd
	dec ebp
	jnz .zero
	mov eax, 0x01020304
	mov ebp, 200
.pattern:
	mov edi, DST
	mov ecx, 0x40000
	rep stosd
	dec ebp
	jnz .pattern
	mov al, 0x5a
	mov ebp, 200
.bytes:
	mov edi, DST
	mov ecx, 0x100000
	rep stosb
	dec ebp
	jnz .bytes
	EXIT
image_end:
	align 16
	times 4096 db 0
stack_top:
bss_end:
