; Memory traffic: REP MOVSD over 1 MiB blocks, then a byte-at-a-time copy
; loop (loads and stores through the TLB).
%include "mb.inc"
SRC equ 0x400000
DST equ 0x600000
start:
	mov esp, stack_top
	mov ebp, 200
.outer:
	mov esi, SRC
	mov edi, DST
	mov ecx, 0x40000
	cld
	rep movsd
	dec ebp
	jnz .outer
	mov ebp, 20
.outer2:
	mov esi, SRC
	mov edi, DST
	mov ecx, 0x100000
.bytes:
	mov al, [esi]
	mov [edi], al
	inc esi
	inc edi
	dec ecx
	jnz .bytes
	dec ebp
	jnz .outer2
	EXIT
image_end:
	align 16
	times 4096 db 0
stack_top:
bss_end:
