; Segment-register instructions: MOV to and from segment registers
; (register forms zero-extend, memory forms store 16 bits, MOV CS is
; #UD), PUSH/POP Sreg (a 32-bit push moves the stack by 4 and writes 16
; bits), LDS LES LFS LGS LSS in real and protected mode, and a faulting
; load leaving the destination register unchanged.
%include "lib.inc"

	bits 16
main16:
	mov word [rptr], 0x1234
	mov word [rptr + 2], 0x0800
	lds si, [rptr]
	mov ax, ds
	movzx eax, ax
	xor bx, bx
	mov ds, bx
	PRINT16 "real lds "
	mov cx, 4
	call puthex16
	PRINT16 ":"
	movzx eax, si
	call puthex16
	PRINT16 10
	push cs
	pop es
	mov ax, es
	movzx eax, ax
	PRINT16 "real push cs/pop es "
	mov cx, 4
	call puthex16
	PRINT16 10
	xor ax, ax
	mov es, ax

	PM_ENTER
	bits 32
	mov eax, 0xffffffff
	mov eax, ds
	PRINT "mov r32, ds "
	PHEX eax, 8
	NL
	mov dword [scratch], 0xffffffff
	mov [scratch], ds
	PRINT "mov m, ds "
	PHEX [scratch], 8
	NL
	mov ax, SEL_DATA32
	FT "mov cs", db 0x8e, 0xc8
	mov dword [esp - 4], 0xaaaaaaaa
	mov ebx, esp
	push ds
	sub ebx, esp
	PRINT "push ds moved "
	PHEX ebx, 1
	PRINT " wrote "
	mov eax, [esp]
	PHEX eax, 8
	NL
	pop fs
	mov ax, fs
	PRINT "pop fs "
	PHEX eax, 4
	NL
	o16 push gs
	mov ecx, esp
	o16 pop es
	mov ebx, esp
	sub ebx, ecx
	PRINT "o16 pop moved "
	PHEX ebx, 1
	NL
	push ss
	pop ss
	PRINT "pop ss ok", 10

	mov dword [pptr], 0x11112222
	mov word [pptr + 4], SEL_DATA3
	lgs edi, [pptr]
	mov ax, gs
	PRINT "lgs "
	PHEX eax, 4
	PRINT ":"
	PHEX edi, 8
	NL
	mov ax, SEL_DATA32
	mov gs, ax
	mov word [pptr + 4], SEL_DATA32
	lss esp, [sptr]
	mov eax, esp
	mov esp, STACK0
	PRINT "lss "
	PHEX eax, 8
	NL
	mov word [pptr + 4], 0x1000
	mov ecx, 0x77
	FT "lfs beyond gdt", lfs ecx, [pptr]
	PRINT "ecx kept "
	PHEX ecx, 8
	NL
	mov word [pptr + 4], SEL_DATA3
	FT "lss wrong dpl", lss ecx, [pptr]
	mov word [pptr + 4], SEL_TSS
	FT "les tss", les ecx, [pptr]
	mov ax, es
	PRINT "es kept "
	PHEX eax, 4
	NL
	mov ax, SEL_CODE32
	FT "mov ss, code", mov ss, ax
	EXIT 0

rptr: dd 0
scratch: dd 0
pptr: dd 0, 0
sptr: dd STACK0 - 64
	dw SEL_DATA32

;= real lds 0800:1234
;= real push cs/pop es 0000
;= mov r32, ds 00000010
;= mov m, ds ffff0010
;= mov cs #06 0000 fault
;= push ds moved 4 wrote aaaa0010
;= pop fs 0010
;= o16 pop moved 2
;= pop ss ok
;= lgs 0023:11112222
;= lss 0006ffc0
;= lfs beyond gdt #0d 1000 fault
;= ecx kept 00000077
;= lss wrong dpl #0d 0020 fault
;= les tss #0d 0038 fault
;= es kept 0010
;= mov ss, code #0d 0008 fault
