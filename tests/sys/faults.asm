; Every exception with its error code, in 32-bit protected mode at CPL 0:
; #DE #DB #BP #OF #BR #UD #NM #DF #TS #NP #SS #GP #PF, whether each is a
; fault or a trap, and the IDT-limit and gate-presence error codes.
%include "lib.inc"

	bits 16
main16:
	PM_ENTER
	bits 32
	; Descriptors for the tests.
	SETDESC 0x48, ABS(small_tss), 0x20, 0x89, 0x0   ; TSS below 0x67
	SETDESC 0x50, 0, 0xfffff, 0x12, 0xc             ; data, not present
	SETDESC 0x58, 0x50000, 0xffff, 0x92, 0x4        ; data 64K at 0x50000
	SETDESC 0x60, 0, 0xfffff, 0x12, 0xc             ; stack, not present

	xor ecx, ecx
	mov eax, 1
	xor edx, edx
	FT "DE", div ecx
	FT "DB", int1
	FT "BP", int3
	mov al, 0x7f
	add al, 1
	FT "OF", into
	mov eax, 11
	FT "BR", bound eax, [bounds]
	mov eax, 10
	bound eax, [bounds]
	PRINT "BR in range: no exception", 10
	FT "UD", ud2
	FT "UD lock", db 0xf0, 0x90
	; #NM: WAIT with MP and TS, an x87 escape with EM.
	mov eax, cr0
	or eax, 0xa                ; MP TS
	mov cr0, eax
	FT "NM wait", fwait
	clts
	fwait
	PRINT "wait without TS: no exception", 10
	mov eax, cr0
	or eax, 4                  ; EM
	mov cr0, eax
	FT "NM esc", fld1
	mov eax, cr0
	and eax, ~0xe
	mov cr0, eax
	; #TS: a TSS whose limit is too small.
	FT "TS", jmp 0x48:0
	; #NP, #SS, #GP on segment loads, with the selector as error code.
	mov ax, 0x50
	FT "NP", mov ds, ax
	mov ax, 0x60
	FT "SS load", mov ss, ax
	mov ax, 0x1000
	FT "GP limit", mov ds, ax
	mov ax, SEL_DATA32 | 3
	FT "GP rpl", mov ds, ax
	mov ax, 0
	FT "GP null ss", mov ss, ax
	mov ax, SEL_DATA32 | 3
	FT "GP ss rpl", mov ss, ax
	; Null DS loads fine, and faults when used.
	xor ax, ax
	mov es, ax
	FT "GP null es", mov eax, [es:0x1000]
	mov ax, SEL_DATA32
	mov es, ax
	FT "GP write cs", mov [cs:scratch], eax
	FT "GP int idt limit", int 0x50
	; #SS(0): an offset beyond the stack segment's limit.
	mov ax, 0x58
	mov ss, ax
	mov esp, 0x8000
	FT "SS limit", mov eax, [esp + 0x10000]
	mov ax, SEL_DATA32
	mov ss, ax
	mov esp, STACK0
	; #NP on a not-present IDT gate (vector 0x30, soft INT: EXT clear).
	and byte [idt + 0x30 * 8 + 5], 0x7f
	FT "NP gate", int 0x30
	; #DF: the #NP handler's gate is not present either.
	and byte [idt + 11 * 8 + 5], 0x7f
	mov ax, 0x50
	FT "DF", mov ds, ax
	or byte [idt + 11 * 8 + 5], 0x80
	; #PF: 4 MiB identity page for the first 4 MiB, nothing else.
	mov dword [0x100000], 0x87          ; P W U PS
	mov ecx, 1
.z:	mov dword [0x100000 + ecx * 4], 0
	inc ecx
	cmp ecx, 1024
	jb .z
	mov eax, 0x100000
	mov cr3, eax
	mov eax, cr4
	or eax, 0x10                        ; PSE
	mov cr4, eax
	mov eax, cr0
	or eax, 0x80000000
	mov cr0, eax
	FT "PF read", mov eax, [0x400000]
	PRINT "cr2 "
	mov eax, cr2
	PHEX eax, 8
	NL
	FT "PF write", mov dword [0x800010], 1
	PRINT "cr2 "
	mov eax, cr2
	PHEX eax, 8
	NL
	mov eax, cr0
	and eax, 0x7fffffff
	mov cr0, eax
	PRINT "exceptions taken "
	PHEX [exc_count], 2
	NL
	EXIT 0

bounds: dd 0, 10
scratch: dd 0
	align 4
small_tss: times 0x68 db 0

;= DE #00 0000 fault
;= DB #01 0000 trap
;= BP #03 0000 trap
;= OF #04 0000 trap
;= BR #05 0000 fault
;= BR in range: no exception
;= UD #06 0000 fault
;= UD lock #06 0000 fault
;= NM wait #07 0000 fault
;= wait without TS: no exception
;= NM esc #07 0000 fault
;= TS #0a 0048 fault
;= NP #0b 0050 fault
;= SS load #0c 0060 fault
;= GP limit #0d 1000 fault
;= GP rpl #0d 0010 fault
;= GP null ss #0d 0000 fault
;= GP ss rpl #0d 0010 fault
;= GP null es #0d 0000 fault
;= GP write cs #0d 0000 fault
;= GP int idt limit #0d 0282 fault
;= SS limit #0c 0000 fault
;= NP gate #0b 0182 fault
;= DF #08 0000 fault
;= PF read #0e 0000 fault
;= cr2 00400000
;= PF write #0e 0002 fault
;= cr2 00800010
;= exceptions taken 18
