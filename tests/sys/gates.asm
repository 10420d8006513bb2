; Privilege changes: ring 0 -> 3 through IRET; back through a call gate
; (with parameter copying and the TSS stack) and RETF imm16; through an
; interrupt gate with the TSS stack switch and IRET; conforming code;
; SYSENTER/SYSEXIT; privileged instructions and gate DPL checks at CPL 3;
; LAR LSL VERR VERW ARPL.
%include "lib.inc"

SEL_GATE equ 0x40 | 3
SEL_CONF equ 0x48
SEL_GATE0 equ 0x50 | 3
SEL_GATE16 equ 0x58 | 3

	bits 16
main16:
	PM_ENTER
	bits 32
	; Call gate, DPL 3, 32-bit, 2 parameters, to ring0_entry.
	mov eax, ring0_entry
	mov [gdt + 0x40], ax
	mov word [gdt + 0x42], SEL_CODE32
	mov word [gdt + 0x44], 0xec02
	shr eax, 16
	mov [gdt + 0x46], ax
	SETDESC SEL_CONF, 0, 0xfffff, 0x9e, 0xc       ; conforming code, DPL 0
	; A DPL 0 call gate: not usable from ring 3.
	mov eax, ring0_entry
	mov [gdt + 0x50], ax
	mov word [gdt + 0x52], SEL_CODE32
	mov word [gdt + 0x54], 0x8c00
	shr eax, 16
	mov [gdt + 0x56], ax
	SETGATE idt, 0x38, SEL_CODE32, int38, 0xee, 0
	; A 16-bit call gate, DPL 3, one word parameter.
	mov eax, ring0_gate16
	mov [gdt + 0x58], ax
	mov word [gdt + 0x5a], SEL_CODE32
	mov word [gdt + 0x5c], 0xe401
	shr eax, 16
	mov [gdt + 0x5e], ax
	; IRET with a 16-bit operand size at the same privilege.
	pushfd
	pop eax
	push ax
	push cs
	push word .iret16_back
	o16 iret
.iret16_back:
	PRINT "o16 iret ok", 10
	; SYSENTER: CS 08, SS 10; SYSEXIT: CS 1b, SS 23.
	mov ecx, 0x174
	mov eax, SEL_CODE32
	xor edx, edx
	wrmsr
	mov ecx, 0x175
	mov eax, STACK0 - 0x100
	wrmsr
	mov ecx, 0x176
	mov eax, sysenter_entry
	wrmsr

	PRINT "ring 0", 10
	push dword SEL_DATA3
	push dword STACK3
	push dword 0x3202              ; IOPL 3, IF
	push dword SEL_CODE3
	push dword ring3
	iretd

ring3:
	mov ax, SEL_DATA3
	mov ds, ax
	mov es, ax
	PRINT "ring 3 cpl "
	mov ax, cs
	and eax, 3
	PHEX eax, 1
	NL
	FT "hlt", hlt
	FT "mov cr0", mov eax, cr0
	FT "lgdt", lgdt [gdtr]
	FT "int dpl0 gate", int 0x39
	FT "call dpl0 gate", call SEL_GATE0:0
	FT "write code", mov [cs:zf], eax
	mov ax, SEL_DATA32
	FT "load dpl0 data", mov ds, ax

	push dword 0x1111
	push dword 0x2222
	call SEL_GATE:0
	PRINT "back cpl "
	mov ax, cs
	and eax, 3
	PHEX eax, 1
	PRINT " esp "
	mov ebp, esp
	PHEX ebp, 8
	PRINT " es "
	mov ax, es
	PHEX eax, 4
	NL
	mov ax, SEL_DATA3
	mov es, ax

	int 0x38
	PRINT "after iret cpl "
	mov ax, cs
	and eax, 3
	PHEX eax, 1
	PRINT " esp "
	mov ebp, esp
	PHEX ebp, 8
	NL

	call SEL_CONF:conforming
	; Through the 16-bit gate, from a stack below 64 KiB (the gate saves
	; only SP).
	mov esi, esp
	mov esp, 0xf000
	push word 0x3333
	call SEL_GATE16:0
	mov ebp, esp
	mov esp, esi
	PRINT "back from 16-bit gate esp "
	PHEX ebp, 8
	NL
	mov ecx, esp
	mov edx, .sysexit_back
	sysenter
.sysexit_back:
	PRINT "sysexit cpl "
	mov ax, cs
	PHEX eax, 4
	PRINT " ss "
	mov ax, ss
	PHEX eax, 4
	PRINT " esp "
	mov ebp, esp
	PHEX ebp, 8
	NL

	; Descriptor probes at CPL 3.
	mov eax, 0x5555
	mov cx, SEL_DATA3
	lar eax, ecx
	call zf
	PRINT " lar data3 "
	PHEX eax, 8
	NL
	mov eax, 0x5555
	mov cx, SEL_DATA32
	lar eax, ecx
	call zf
	PRINT " lar data0 "
	PHEX eax, 8
	NL
	mov cx, SEL_GATE
	lar eax, ecx
	call zf
	PRINT " lar gate "
	PHEX eax, 8
	NL
	mov cx, SEL_DATA3
	lsl eax, ecx
	call zf
	PRINT " lsl data3 "
	PHEX eax, 8
	NL
	mov cx, SEL_GATE
	lsl eax, ecx
	call zf
	PRINT " lsl gate", 10
	mov cx, SEL_CODE3
	verr cx
	call zf
	PRINT " verr code3", 10
	verw cx
	call zf
	PRINT " verw code3", 10
	mov cx, SEL_DATA3
	verw cx
	call zf
	PRINT " verw data3", 10
	mov cx, SEL_CONF
	verr cx
	call zf
	PRINT " verr conforming", 10
	mov ax, 0x10
	mov bx, 3
	arpl ax, bx
	call zf
	PRINT " arpl "
	PHEX eax, 4
	NL
	arpl ax, bx
	call zf
	PRINT " arpl again", 10
	EXIT 0

; Prints ZF as "ZF=0"/"ZF=1".
zf:
	pushfd
	jz .one
	PRINT "ZF=0"
	popfd
	ret
.one:	PRINT "ZF=1"
	popfd
	ret

; Entered from ring 3 through the call gate.
ring0_entry:
	PRINT "call gate cpl "
	mov ax, cs
	and eax, 3
	PHEX eax, 1
	PRINT " esp "
	mov ebp, esp
	PHEX ebp, 8
	PRINT " params "
	PHEX [ebp + 8], 4
	PRINT " "
	PHEX [ebp + 12], 4
	PRINT " old ss:esp "
	PHEX [ebp + 20], 4
	PRINT ":"
	PHEX [ebp + 16], 8
	NL
	; A DPL 0 data segment in ES does not survive the return.
	mov ax, SEL_DATA32
	mov es, ax
	retf 8

int38:
	PRINT "int gate cpl "
	mov ax, cs
	and eax, 3
	PHEX eax, 1
	PRINT " esp "
	mov ebp, esp
	PHEX ebp, 8
	PRINT " frame cs "
	PHEX [ebp + 4], 4
	PRINT " ss "
	PHEX [ebp + 16], 4
	pushfd
	pop eax
	PRINT " if "
	shr eax, 9
	and eax, 1
	PHEX eax, 1
	NL
	iretd

ring0_gate16:
	mov ebp, esp
	PRINT "16-bit gate esp "
	PHEX ebp, 8
	PRINT " cs "
	PHEX [ebp + 2], 4
	PRINT " param "
	PHEX [ebp + 4], 4
	PRINT " old ss:sp "
	PHEX [ebp + 8], 4
	PRINT ":"
	PHEX [ebp + 6], 4
	NL
	o16 retf 2

conforming:
	PRINT "conforming cpl "
	mov ax, cs
	PHEX eax, 4
	NL
	retf

sysenter_entry:
	PRINT "sysenter cs "
	mov ax, cs
	PHEX eax, 4
	PRINT " ss "
	mov ax, ss
	PHEX eax, 4
	PRINT " esp "
	mov ebp, esp
	PHEX ebp, 8
	NL
	sysexit

;= o16 iret ok
;= ring 0
;= ring 3 cpl 3
;= hlt #0d 0000 fault
;= mov cr0 #0d 0000 fault
;= lgdt #0d 0000 fault
;= int dpl0 gate #0d 01ca fault
;= call dpl0 gate #0d 0050 fault
;= write code #0d 0000 fault
;= load dpl0 data #0d 0010 fault
;= call gate cpl 0 esp 0006ffe8 params 2222 1111 old ss:esp 0023:0005fff8
;= back cpl 3 esp 00060000 es 0000
;= int gate cpl 0 esp 0006ffec frame cs 001b ss 0023 if 0
;= after iret cpl 3 esp 00060000
;= conforming cpl 004b
;= 16-bit gate esp 0006fff6 cs 001b param 3333 old ss:sp 0023:effe
;= back from 16-bit gate esp 0000f000
;= sysenter cs 0008 ss 0010 esp 0006ff00
;= sysexit cpl 001b ss 0023 esp 00060000
;= ZF=1 lar data3 00c0f300
;= ZF=0 lar data0 00005555
;= ZF=1 lar gate 0000ec00
;= ZF=1 lsl data3 ffffffff
;= ZF=0 lsl gate
;= ZF=1 verr code3
;= ZF=0 verw code3
;= ZF=1 verw data3
;= ZF=1 verr conforming
;= ZF=1 arpl 0013
;= ZF=0 arpl again
