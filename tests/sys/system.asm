; System instructions: CPUID's model, SMSW/LMSW, SGDT/SIDT, RDTSC and the
; TSC MSR, the MSRs' validity checks, CR0/CR4 reserved and combination
; checks, LLDT/LTR/SLDT/STR, RDPMC, and CPL 3 rules (CR4.TSD, CR4.PVI,
; CLI/STI with IOPL 0).
%include "lib.inc"

; FT3 slot, instruction: runs it at CPL 3 and records vector << 16 | error
; (0xff << 16 when nothing was raised) in r3res[slot].
%macro FT3 2+
	RESUME_AT %%r
	%2
%%r:	mov dword [resume_eip], 0
	mov eax, [last_vec]
	shl eax, 16
	or eax, [last_err]
	mov [r3res + (%1) * 4], eax
	mov ax, SEL_DATA3
%endmacro

	bits 16
main16:
	xor eax, eax
	cpuid
	mov [vendor], ebx
	mov [vendor + 4], edx
	mov [vendor + 8], ecx
	PRINT16 "cpuid 0 max "
	mov cx, 8
	call puthex16
	PRINT16 " vendor "
	mov si, vendor
	call puts16
	PRINT16 10
	mov eax, 1
	cpuid
	mov esi, ecx
	PRINT16 "cpuid 1 "
	mov cx, 8
	call puthex16
	PRINT16 " "
	mov eax, ebx
	call puthex16
	PRINT16 " "
	mov eax, esi
	call puthex16
	PRINT16 " "
	mov eax, edx
	call puthex16
	PRINT16 10
	mov eax, 2
	cpuid
	PRINT16 "cpuid 2 "
	mov cx, 8
	call puthex16
	PRINT16 " "
	mov eax, edx
	call puthex16
	PRINT16 10
	mov eax, 0x80000000
	cpuid
	PRINT16 "cpuid 80000000 "
	mov cx, 8
	call puthex16
	PRINT16 10
	mov di, brand
	mov eax, 0x80000002
.b:	push eax
	cpuid
	mov [di], eax
	mov [di + 4], ebx
	mov [di + 8], ecx
	mov [di + 12], edx
	add di, 16
	pop eax
	inc eax
	cmp eax, 0x80000005
	jb .b
	PRINT16 "brand "
	mov si, brand
	call puts16
	PRINT16 10
	mov eax, 0x40
	cpuid
	PRINT16 "cpuid 40 "
	mov cx, 8
	call puthex16
	PRINT16 10
	smsw ax
	movzx eax, ax
	PRINT16 "real smsw "
	mov cx, 4
	call puthex16
	PRINT16 10

	PM_ENTER
	bits 32
	; SGDT/SIDT store the full 32-bit base even with a 16-bit operand.
	o16 sidt [scratch]
	mov eax, [scratch + 2]
	PRINT "sidt16 stores all 32 bits of the base: "
	cmp eax, idt
	je .sy
	PRINT "no", 10
	jmp .sn
.sy:	PRINT "yes", 10
.sn:
	; MOV r32, CR0 ignores ModRM.mod: 0F 20 40 has no displacement byte.
	mov ebx, cr0
	xor eax, eax
	db 0x0f, 0x20, 0x40
	PRINT "mov from cr0 with mod 1: "
	cmp eax, ebx
	je .my
	PRINT "no", 10
	jmp .mn
.my:	PRINT "yes", 10
.mn:
	; LMSW sets MP EM TS but cannot clear PE.
	mov ax, 0x000e
	lmsw ax
	mov eax, cr0
	PRINT "lmsw cr0 "
	PHEX eax, 8
	NL
	clts
	mov eax, cr0
	and eax, ~6
	mov cr0, eax
	smsw eax
	PRINT "smsw r32 "
	PHEX eax, 8
	NL

	rdtsc
	mov ebx, eax
	rdtsc
	cmp eax, ebx
	je .no
	PRINT "tsc moves: yes", 10
	jmp .tsc
.no:	PRINT "tsc moves: no", 10
.tsc:	mov ecx, 0x10
	mov eax, 0
	mov edx, 5
	wrmsr
	rdtsc
	PRINT "tsc high after wrmsr "
	PHEX edx, 8
	NL

	; MSRs.
	mov ecx, 0xfe
	rdmsr
	PRINT "mtrrcap "
	PHEX eax, 8
	NL
	mov ecx, 0x277
	mov eax, 0x00070106
	mov edx, 0x00070406
	wrmsr
	rdmsr
	PRINT "pat "
	PHEX edx, 8
	PHEX eax, 8
	NL
	mov eax, 0x00020106
	FT "pat type 2", wrmsr
	mov ecx, 0xc0000080
	mov eax, 0x800
	xor edx, edx
	FT "efer nxe", wrmsr
	rdmsr
	PRINT "efer "
	PHEX eax, 8
	NL
	mov ecx, 0x12345
	FT "unknown msr", rdmsr
	mov ecx, 0x2ff
	mov eax, 0x806
	xor edx, edx
	wrmsr
	mov eax, 0x1000
	FT "mtrr def type reserved", wrmsr
	mov ecx, 0x201
	mov eax, 0xfffff800
	mov edx, 0xf
	wrmsr
	mov edx, 0x10
	FT "mtrr mask above 36 bits", wrmsr

	; Control registers.
	mov eax, cr4
	or eax, 0x80                  ; PGE
	mov cr4, eax
	mov eax, cr4
	PRINT "cr4 "
	PHEX eax, 8
	NL
	or eax, 0x800                 ; UMIP: not reported
	FT "cr4.umip", mov cr4, eax
	mov eax, 0x40                 ; MCE: not reported
	FT "cr4.mce", mov cr4, eax
	mov eax, 0x80000010
	FT "cr0 pg without pe", mov cr0, eax
	mov eax, 0x20000011
	FT "cr0 nw without cd", mov cr0, eax
	FT "mov cr1", db 0x0f, 0x20, 0xc8
	FT "mov cr5", db 0x0f, 0x22, 0xe8

	; Descriptor-table registers.
	sldt eax
	PRINT "sldt "
	PHEX eax, 8
	NL
	SETDESC 0x40, ABS(ldt), 0xf, 0x82, 0      ; an LDT
	mov ax, 0x40
	lldt ax
	sldt ax
	PRINT "lldt "
	PHEX eax, 4
	NL
	mov ax, SEL_DATA32
	FT "lldt data", lldt ax
	xor eax, eax
	lldt ax
	mov ax, SEL_TSS
	FT "ltr busy", ltr ax
	str eax
	PRINT "str "
	PHEX eax, 8
	NL
	mov ax, 0x44                               ; LDT selector in the LDT
	FT "load with null ldt", mov ds, ax

	; RDPMC.
	xor ecx, ecx
	rdpmc
	PRINT "rdpmc 0 "
	PHEX eax, 8
	NL
	mov ecx, 2
	FT "rdpmc 2", rdpmc

	; Ring 3 with IOPL 0.
	SETGATE idt, 0x38, SEL_CODE32, back, 0xee, 0
	mov eax, cr4
	or eax, 0x4 | 0x2              ; TSD, PVI
	mov cr4, eax
	mov eax, cr0
	or eax, 0x40000                ; AM: EFLAGS.AC now arms #AC at CPL 3
	mov cr0, eax
	push dword SEL_DATA3
	push dword STACK3
	push dword 0x0202
	push dword SEL_CODE3
	push dword ring3
	iretd
ring3:
	mov ax, SEL_DATA3
	mov ds, ax
	mov es, ax
	; No printing at IOPL 0: results are kept for ring 0 to print.
	FT3 0, out 0xe9, al
	FT3 1, rdtsc
	FT3 2, rdpmc
	FT3 3, wbinvd
	FT3 4, mov ss, ax
	FT3 5, mov eax, [scratch + 1]
	pushfd
	or dword [esp], 0x40000        ; AC
	popfd
	FT3 6, mov eax, [scratch + 1]
	FT3 7, mov ax, [scratch + 2]
	sub esp, 2                     ; misalign the stack
	FT3 8, push dword 0
	add esp, 2
	pushfd
	and dword [esp], ~0x40000
	popfd
	cli
	pushfd
	pop ebx
	sti
	pushfd
	pop ecx
	int 0x38
back:
	add esp, 20
	mov ax, SEL_DATA32
	mov ds, ax
	mov es, ax
	mov esi, r3names
	xor edx, edx
.pr:	call puts
	PRINT " "
	PHEX [r3res + edx * 4], 8
	NL
.skip:	mov al, [esi]
	inc esi
	test al, al
	jnz .skip
	inc edx
	cmp edx, 9
	jb .pr
	PRINT "pvi: cli "
	and ebx, 0x80200
	PHEX ebx, 8
	PRINT " sti "
	and ecx, 0x80200
	PHEX ecx, 8
	NL
	EXIT 0

	align 8
ldt: dq 0, 0
r3res: times 9 dd 0
r3names: db "user out", 0, "user rdtsc with tsd", 0, "user rdpmc", 0
	db "user wbinvd", 0, "user mov ss, data3 (no fault)", 0
	db "user misaligned, AC clear (no fault)", 0
	db "user misaligned dword, AM and AC", 0
	db "user aligned word, AM and AC (no fault)", 0
	db "user push dword, misaligned stack", 0
vendor: times 13 db 0
brand: times 49 db 0
scratch: times 8 db 0

;= cpuid 0 max 00000002 vendor GenuineIntel
;= cpuid 1 00000652 00000000 00000000 0783b97f
;= cpuid 2 03020101 0c040843
;= cpuid 80000000 80000004
;= brand v2e x86 emulator
;= cpuid 40 03020101
;= real smsw 0010
;= sidt16 stores all 32 bits of the base: yes
;= mov from cr0 with mod 1: yes
;= lmsw cr0 6000001f
;= smsw r32 60000011
;= tsc moves: yes
;= tsc high after wrmsr 00000005
;= mtrrcap 00000508
;= pat 0007040600070106
;= pat type 2 #0d 0000 fault
;= efer nxe #0d 0000 fault
;= efer 00000000
;= unknown msr #0d 0000 fault
;= mtrr def type reserved #0d 0000 fault
;= mtrr mask above 36 bits #0d 0000 fault
;= cr4 00000080
;= cr4.umip #0d 0000 fault
;= cr4.mce #0d 0000 fault
;= cr0 pg without pe #0d 0000 fault
;= cr0 nw without cd #0d 0000 fault
;= mov cr1 #06 0000 fault
;= mov cr5 #06 0000 fault
;= sldt 00000000
;= lldt 0040
;= lldt data #0d 0010 fault
;= ltr busy #0d 0038 fault
;= str 00000038
;= load with null ldt #0d 0044 fault
;= rdpmc 0 00000000
;= rdpmc 2 #0d 0000 fault
;= user out 000d0000
;= user rdtsc with tsd 000d0000
;= user rdpmc 000d0000
;= user wbinvd 000d0000
;= user mov ss, data3 (no fault) 00ff0000
;= user misaligned, AC clear (no fault) 00ff0000
;= user misaligned dword, AM and AC 00110000
;= user aligned word, AM and AC (no fault) 00ff0000
;= user push dword, misaligned stack 00110000
;= pvi: cli 00000200 sti 00080200
