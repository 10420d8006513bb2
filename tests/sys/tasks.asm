; Hardware task switches: JMP to a TSS and back (busy bits), CALL through
; a task gate (NT, back link, registers saved and restored, CR0.TS) and
; IRET back through the back link, a second CALL to the same task, CALL
; to a busy task (#GP), and #DF delivered through a task gate.
%include "lib.inc"

SEL_TA equ 0x40
SEL_GATEB equ 0x48
SEL_TB equ 0x50
SEL_TDF equ 0x58
SEL_TC equ 0x60

%macro TSS32 3
	dd 0
	dd STACK0, SEL_DATA32
	dd 0, 0, 0, 0
	dd 0
	dd %1, %3
	dd 0, 0, 0, 0
	dd %2
	dd 0, 0, 0
	dd SEL_DATA32, SEL_CODE32, SEL_DATA32, SEL_DATA32, SEL_DATA32, SEL_DATA32
	dd 0
	dw 0, 0x68
%endmacro

	bits 16
main16:
	PM_ENTER
	bits 32
	SETDESC SEL_TA, ABS(tss_a), 0x67, 0x89, 0
	SETDESC SEL_TB, ABS(tss_b), 0x67, 0x89, 0
	SETDESC SEL_TDF, ABS(tss_df), 0x67, 0x89, 0
	SETDESC SEL_TC, ABS(tss_c), 0x67, 0x89, 0
	mov dword [idt + 0x39 * 8], SEL_TC << 16
	mov dword [idt + 0x39 * 8 + 4], 0x8500
	mov dword [gdt + SEL_GATEB], SEL_TB << 16
	mov dword [gdt + SEL_GATEB + 4], 0xe500          ; task gate, DPL 3
	; #DF through a task gate.
	mov dword [idt + 8 * 8], SEL_TDF << 16
	mov dword [idt + 8 * 8 + 4], 0x8500

	PRINT "main tr "
	str eax
	PHEX eax, 4
	NL
	jmp SEL_TA:0
	PRINT "main again tr "
	str eax
	PHEX eax, 4
	PRINT " task A type "
	movzx eax, byte [gdt + SEL_TA + 5]
	PHEX eax, 2
	PRINT " main type "
	movzx eax, byte [gdt + SEL_TSS + 5]
	PHEX eax, 2
	NL
	mov eax, cr0
	shr eax, 3
	and eax, 1
	PRINT "cr0.ts "
	PHEX eax, 1
	NL
	clts

	mov ebx, 0x12345678
	mov esi, 0x0badf00d
	call SEL_GATEB:0
	PRINT "returned ebx "
	PHEX ebx, 8
	PRINT " esi "
	PHEX esi, 8
	PRINT " task B type "
	movzx eax, byte [gdt + SEL_TB + 5]
	PHEX eax, 2
	pushfd
	pop eax
	shr eax, 14
	and eax, 1
	PRINT " nt "
	PHEX eax, 1
	NL
	call SEL_TB:0
	PRINT "returned again, task B kept its own ebx "
	PHEX [b_ebx], 8
	NL

	; INT through a task gate, and IRET back.
	mov ebx, 0x5678
	int 0x39
	PRINT "back from interrupt task ebx "
	PHEX ebx, 8
	PRINT " task C type "
	movzx eax, byte [gdt + SEL_TC + 5]
	PHEX eax, 2
	NL

	; #DF: #NP whose own gate is not present.
	and byte [idt + 11 * 8 + 5], 0x7f
	SETDESC 0x60, 0, 0xfffff, 0x12, 0xc              ; not present
	mov ax, 0x60
df_mov:
	mov ds, ax
	PRINT "FAIL: no double fault", 10
	EXIT 1

task_a:
	PRINT "task A tr "
	str eax
	PHEX eax, 4
	pushfd
	pop eax
	shr eax, 14
	and eax, 1
	PRINT " nt "
	PHEX eax, 1
	PRINT " main type "
	movzx eax, byte [gdt + SEL_TSS + 5]
	PHEX eax, 2
	NL
	jmp SEL_TSS:0

task_b:
	mov [b_ebx], ebx
	PRINT "task B tr "
	str eax
	PHEX eax, 4
	pushfd
	pop eax
	shr eax, 14
	and eax, 1
	PRINT " nt "
	PHEX eax, 1
	PRINT " link "
	PHEX [tss_b], 4
	PRINT " main type "
	movzx eax, byte [gdt + SEL_TSS + 5]
	PHEX eax, 2
	NL
	FT "call busy", call SEL_TSS:0
	mov ebx, 0xdeadbeef
	mov esi, 0
	iretd
	jmp task_b

task_c:
	PRINT "interrupt task tr "
	str eax
	PHEX eax, 4
	pushfd
	pop eax
	shr eax, 14
	and eax, 1
	PRINT " nt "
	PHEX eax, 1
	PRINT " link "
	PHEX [tss_c], 4
	NL
	mov ebx, 1
	iretd
	jmp task_c

task_df:
	PRINT "double fault task tr "
	str eax
	PHEX eax, 4
	PRINT " error "
	pop eax
	PHEX eax, 8
	PRINT " link "
	PHEX [tss_df], 4
	PRINT " saved eip in main tss is the mov: "
	mov eax, [tss0 + 0x20]
	cmp eax, df_mov
	je .y
	PRINT "no", 10
	EXIT 1
.y:	PRINT "yes", 10
	EXIT 0

b_ebx: dd 0
	align 4
tss_a: TSS32 task_a, 0x50000, 2
tss_b: TSS32 task_b, 0x4f000, 2
tss_df: TSS32 task_df, 0x4e000, 2
tss_c: TSS32 task_c, 0x4d000, 2

;= main tr 0038
;= task A tr 0040 nt 0 main type 89
;= main again tr 0038 task A type 89 main type 8b
;= cr0.ts 1
;= task B tr 0050 nt 1 link 0038 main type 8b
;= call busy #0d 0038 fault
;= returned ebx 12345678 esi 0badf00d task B type 89 nt 0
;= task B tr 0050 nt 1 link 0038 main type 8b
;= call busy #0d 0038 fault
;= returned again, task B kept its own ebx deadbeef
;= interrupt task tr 0060 nt 1 link 0038
;= back from interrupt task ebx 00005678 task C type 89
;= double fault task tr 0058 error 00000000 link 0038 saved eip in main tss is the mov: yes
