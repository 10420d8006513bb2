; Mode switches: real -> 32-bit protected -> 16-bit protected -> real, and
; "big real mode": segment limits loaded in protected mode survive the
; return to real mode; normal 64 KiB limits fault (#GP through the IVT)
; and 16-bit addressing wraps at 64 KiB.
%include "lib.inc"

	bits 16
main16:
	PRINT16 "real mode", 10
	; 16-bit offsets wrap within the segment.
	mov byte [0], 0x5a
	mov bx, 0xffff
	mov al, [bx + 1]
	movzx eax, al
	PRINT16 "wrap "
	mov cx, 2
	call puthex16
	PRINT16 10

	PM_ENTER
	PRINT "protected mode cpl "
	mov ax, cs
	and eax, 3
	PHEX eax, 1
	NL
	; A 4 GiB FS and GS, and 64 KiB data segments for the rest.
	mov dword [0x300000], 0xcafef00d
	jmp SEL_CODE16:pm16
	bits 16
pm16:
	mov ax, SEL_DATA16
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov eax, cr0
	and al, 0xfe
	mov cr0, eax
	jmp 0:rm_again
rm_again:
	xor ax, ax
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov sp, 0x7c00
	lidt [rm_idtr]
	PRINT16 "back in real mode", 10
	; FS was loaded with a 4 GiB limit; a real-mode load keeps it.
	xor ax, ax
	mov fs, ax
	mov eax, [fs:dword 0x300000]
	PRINT16 "big real read "
	mov cx, 8
	call puthex16
	PRINT16 10
	mov dword [fs:dword 0x300004], 0x600dd00d
	mov eax, [gs:dword 0x300004]
	PRINT16 "big real write "
	mov cx, 8
	call puthex16
	PRINT16 10
	; DS has a 64 KiB limit: an offset above it is #GP (vector 13).
	mov word [13 * 4], rm_gp
	mov word [13 * 4 + 2], 0
	mov word [rm_resume], .after
	mov eax, [dword 0x10000]
	PRINT16 "FAIL: no #GP beyond the real-mode limit", 10
.after:
	; Back into protected mode and out again, twice, to be sure the
	; switch is repeatable.
	mov cx, 2
.again:
	push cx
	cli
	mov eax, cr0
	or al, 1
	mov cr0, eax
	jmp SEL_CODE16:.p16
.p16:
	mov ax, SEL_DATA32
	mov ds, ax
	mov eax, cr0
	and al, 0xfe
	mov cr0, eax
	jmp 0:.r16
.r16:
	xor ax, ax
	mov ds, ax
	pop cx
	loop .again
	; DS now has a 4 GiB limit from the last switch.
	mov eax, [dword 0x300000]
	PRINT16 "big ds "
	mov cx, 8
	call puthex16
	PRINT16 10
	PRINT16 "done", 10
	mov al, 0
	out 0xf4, al
	jmp $

rm_gp:
	push bp
	mov bp, sp
	push ax
	mov ax, [rm_resume]
	mov [bp + 2], ax
	pop ax
	pop bp
	PRINT16 "real-mode #GP", 10
	iret

rm_resume: dw 0
rm_idtr:
	dw 0x3ff
	dd 0

;= real mode
;= wrap 5a
;= protected mode cpl 0
;= back in real mode
;= big real read cafef00d
;= big real write 600dd00d
;= real-mode #GP
;= big ds cafef00d
;= done
