; Debug facilities: a DR0 instruction breakpoint (a fault, resumed with
; RF), data write and read/write breakpoints (traps after the access),
; TF single-step counts, DR7.GD general detection, DR4/DR5 aliasing and
; CR4.DE.
%include "lib.inc"

	bits 16
main16:
	PM_ENTER
	bits 32
	mov dword [hooks + 1 * 4], db_hook

	; Instruction breakpoint on `bp_target`.
	mov byte [db_print], 1
	mov eax, bp_target
	mov dr0, eax
	mov eax, 0x401           ; L0, R/W0 = execute, LEN0 = 1
	mov dr7, eax
	xor ecx, ecx
	mov ebx, 2
bp_target:
	inc ecx
	dec ebx
	jnz bp_target
	PRINT "after breakpoint ecx "
	PHEX ecx, 1
	PRINT " hits "
	PHEX [db_count], 1
	NL
	xor eax, eax
	mov dr7, eax

	; Data write breakpoint on `watched` (4 bytes).
	mov eax, watched
	mov dr1, eax
	mov eax, 0x00d00404      ; L1, R/W1 = write, LEN1 = 4
	mov dr7, eax
	mov eax, [watched]
	PRINT "read: no trap", 10
	mov dword [watched + 2], 5
wr_next:
	PRINT "write trapped at next insn: "
	mov eax, [db_eip]
	cmp eax, wr_next
	je .y
	PRINT "no", 10
	jmp .n
.y:	PRINT "yes", 10
.n:	; Read/write breakpoint: reads trap too.
	mov eax, 0x00f00404      ; R/W1 = read/write
	mov dr7, eax
	mov eax, [watched]
	PRINT "read with rw breakpoint traps", 10
	xor eax, eax
	mov dr7, eax

	; Single-step: six traps (three NOPs, PUSHFD, AND, the POPFD
	; that clears TF; none after the POPFD that sets it).
	mov byte [db_print], 0
	mov dword [db_count], 0
	pushfd
	or dword [esp], 0x100
	popfd
	nop
	nop
	nop
	pushfd
	and dword [esp], ~0x100
	popfd
	PRINT "single-step traps "
	PHEX [db_count], 2
	PRINT " dr6.bs "
	mov eax, [db_dr6]
	shr eax, 14
	and eax, 1
	PHEX eax, 1
	NL

	; MOV SS holds the single-step trap until after the next
	; instruction: five traps, none with EIP at `ss_next`.
	mov dword [db_count], 0
	pushfd
	or dword [esp], 0x100
	popfd
	mov ax, ss
	mov ss, ax
ss_next:
	nop
	pushfd
	and dword [esp], ~0x100
	popfd
	PRINT "single-step over mov ss: traps "
	PHEX [db_count], 2
	PRINT " one after mov ss: "
	movzx eax, byte [ss_next_seen]
	PHEX eax, 1
	NL

	; An instruction breakpoint on the instruction right after MOV SS or
	; POP SS is not taken (SDM vol. 3, 6.8.3; GenuineIntel). The second
	; round reaches `ss_bp` by a jump instead: that one is taken.
	mov dword [db_count], 0
	mov eax, ss_bp
	mov dr0, eax
	mov eax, pop_bp
	mov dr1, eax
	mov eax, 0x405           ; L0, L1: execute breakpoints
	mov dr7, eax
	mov ax, ss
	mov ss, ax
ss_bp:	nop
	push ss
	pop ss
pop_bp:	nop
	PRINT "breakpoints after mov ss, pop ss: "
	PHEX [db_count], 1
	NL
	inc byte [ss_round]
	cmp byte [ss_round], 2
	jb ss_bp
	xor eax, eax
	mov dr7, eax

	; DR4/DR5 alias DR6/DR7 while CR4.DE is clear.
	mov eax, 0x155
	mov dr7, eax
	mov eax, dr5
	PRINT "dr5 "
	PHEX eax, 8
	NL
	xor eax, eax
	mov dr7, eax
	mov eax, cr4
	or eax, 8
	mov cr4, eax
	FT "dr4 with cr4.de", mov eax, dr4
	; General detect.
	mov eax, 0x2000
	mov dr7, eax
	mov byte [db_print], 1
	mov eax, dr0
	mov eax, [db_dr6]
	PRINT "dr6.bd "
	shr eax, 13
	and eax, 1
	PHEX eax, 1
	mov eax, dr7
	PRINT " dr7 after "
	PHEX eax, 8
	NL
	EXIT 0

; #DB: records DR6 and EIP, sets RF so a faulting breakpoint resumes.
db_hook:
	inc dword [db_count]
	mov eax, dr6
	mov [db_dr6], eax
	mov eax, [esp + 16]
	mov [db_eip], eax
	mov eax, 0xffff0ff0
	mov dr6, eax
	or dword [esp + 24], 0x10000
	cmp dword [esp + 16], ss_next
	jne .n
	mov byte [ss_next_seen], 1
.n:	cmp byte [db_print], 0
	je .q
	PRINT "#DB dr6 "
	mov eax, [db_dr6]
	and eax, 0xe00f
	PHEX eax, 4
	NL
.q:	jmp exc_return

	align 4
watched: dd 0
db_count: dd 0
db_dr6: dd 0
db_eip: dd 0
db_print: db 0
ss_next_seen: db 0
ss_round: db 0

;= #DB dr6 0001
;= #DB dr6 0001
;= after breakpoint ecx 2 hits 2
;= read: no trap
;= #DB dr6 0002
;= write trapped at next insn: yes
;= #DB dr6 0002
;= read with rw breakpoint traps
;= single-step traps 06 dr6.bs 1
;= single-step over mov ss: traps 05 one after mov ss: 0
;= breakpoints after mov ss, pop ss: 0
;= breakpoints after mov ss, pop ss: 1
;= dr5 00000555
;= dr4 with cr4.de #06 0000 fault
;= #DB dr6 2000
;= dr6.bd 1 dr7 after 00000400
