; A reset through the keyboard controller (the 0xfe pulse command to port
; 0x64), after its self-test answers 0x55: under -no-reboot v2e ends with
; status 0; without it the machine boots again, and the second boot
; (counted in CMOS NVRAM byte 0x41, which survives a reset) exits through
; isa-debug-exit with 5 -> status 11.
%include "mb.inc"
start:
	mov al, 0xaa              ; controller self-test
	out 0x64, al
	mov ecx, 1000
.wait:	in al, 0x64
	test al, 1                ; OBF
	jnz .got
	loop .wait
	EXIT 0x7e
.got:	in al, 0x60
	cmp al, 0x55
	jne .bad
	mov al, 0x41
	out 0x70, al
	in al, 0x71
	inc al
	mov ah, al
	mov al, 0x41
	out 0x70, al
	mov al, ah
	out 0x71, al
	cmp ah, 2
	je .second
	mov al, 0xfe              ; pulse output port bit 0: reset
	out 0x64, al
.hang:	jmp .hang
.second:
	EXIT 5
.bad:	EXIT 0x7f
image_end:
bss_end:
