; Prints through COM1 (polling LSR.THRE as a driver does), then the RTC's
; date (BCD registers 9, 8, 7) and exits: with -icount the date is v2e's
; fixed deterministic epoch, 2026-01-01.
%include "mb.inc"
start:
	mov esp, stack_top
	mov esi, msg
	call puts
	mov al, 9
	call cmos_hex
	mov al, '-'
	call putc
	mov al, 8
	call cmos_hex
	mov al, '-'
	call putc
	mov al, 7
	call cmos_hex
	mov al, 10
	call putc
	EXIT 0

SERIAL_PUTS

; prints CMOS register AL as two hex digits
cmos_hex:
	out 0x70, al
	in al, 0x71
	push eax
	shr al, 4
	call hexdigit
	pop eax
	and al, 0xf
hexdigit:
	add al, '0'
	cmp al, '9'
	jbe putc
	add al, 7
	jmp putc

msg:	db "hello from COM1", 10, "rtc ", 0
image_end:
	align 16
	times 4096 db 0
stack_top:
bss_end:
