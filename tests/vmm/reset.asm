; A reset through port 0x92 (bit 0): under -no-reboot v2e ends with status
; 0; without it the machine boots again, and the second boot (counted in
; CMOS NVRAM byte 0x40, which survives a reset) exits through
; isa-debug-exit with 5 -> status 11. Also checks that A20 reads back on.
%include "mb.inc"
start:
	in al, 0x92
	test al, 2
	jz .bad
	mov al, 0x40
	out 0x70, al
	in al, 0x71
	inc al
	mov ah, al
	mov al, 0x40
	out 0x70, al
	mov al, ah
	out 0x71, al
	cmp ah, 2
	je .second
	mov al, 3                 ; A20 on, reset
	out 0x92, al
.hang:	jmp .hang
.second:
	EXIT 5
.bad:	EXIT 0x7f
image_end:
bss_end:
