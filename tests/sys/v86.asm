; Virtual-8086 mode: entered through IRET with EFLAGS.VM; with IOPL 0,
; CLI STI PUSHF INT n and HLT fault to the monitor (#GP(0)); with IOPL 3,
; CLI/STI run and INT n reaches the protected-mode handler (segment
; registers saved in the frame, nulled in the handler) and IRET returns to
; v86 mode; with CR4.VME, CLI/STI work on VIF and INT n is redirected to
; the v86 program's own IVT handler. I/O goes through the TSS bitmap.
%include "lib.inc"

V86_TSS equ 0x110000
SEL_V86TSS equ 0x40
V86_TASK equ 0x118000
SEL_V86TASK equ 0x48

	bits 16
main16:
	PM_ENTER
	bits 32
	; A TSS with an empty interrupt redirection bitmap and an I/O
	; bitmap that allows every port.
	xor ecx, ecx
.z:	mov byte [V86_TSS + ecx], 0
	inc ecx
	cmp ecx, 0x68 + 0x20 + 0x2001
	jb .z
	mov dword [V86_TSS + 4], STACK0
	mov dword [V86_TSS + 8], SEL_DATA32
	mov word [V86_TSS + 0x66], 0x88
	mov byte [V86_TSS + 0x88 + 0x2000], 0xff
	SETDESC SEL_V86TSS, V86_TSS, 0x88 + 0x2000, 0x89, 0
	mov ax, SEL_V86TSS
	ltr ax
	mov dword [hooks + 13 * 4], v86_gp
	SETGATE idt, 0x38, SEL_CODE32, pm_int, 0xee, 0
	mov word [0x42 * 4], v86_int42
	mov word [0x42 * 4 + 2], 0

	PRINT "iopl 0", 10
	mov eax, 0x20002
	mov ebx, v86_iopl0
	mov dword [v86_exit], .e1
	jmp enter_v86
.e1:
	PRINT "iopl 3", 10
	mov eax, 0x23002
	mov ebx, v86_iopl3
	mov dword [v86_exit], .e2
	jmp enter_v86
.e2:
	PRINT "vme", 10
	mov eax, cr4
	or eax, 1
	mov cr4, eax
	mov eax, 0x20202
	mov ebx, v86_vme
	mov dword [v86_exit], .e3
	jmp enter_v86
.e3:
	; A task switch into a TSS whose EFLAGS has VM set.
	mov eax, cr4
	and eax, ~1
	mov cr4, eax
	mov ecx, 0x68 + 0x20 + 0x2001
.c:	mov al, [V86_TSS + ecx - 1]
	mov [V86_TASK + ecx - 1], al
	loop .c
	mov dword [V86_TASK + 0x20], v86_task        ; eip
	mov dword [V86_TASK + 0x24], 0x20002         ; eflags: VM
	mov dword [V86_TASK + 0x38], 0x6800          ; esp
	SETDESC SEL_V86TASK, V86_TASK, 0x88 + 0x2000, 0x89, 0
	mov dword [v86_exit], .e4
	jmp SEL_V86TASK:0
.e4:
	PRINT "back in protected mode, tr "
	str eax
	PHEX eax, 4
	NL
	PRINT "done", 10
	EXIT 0

; eax: EFLAGS (with VM), ebx: IP; CS = 0, stack 0:7000.
enter_v86:
	push dword 0          ; gs
	push dword 0          ; fs
	push dword 0          ; ds
	push dword 0          ; es
	push dword 0          ; ss
	push dword 0x7000     ; esp
	push eax
	push dword 0          ; cs
	push ebx
	iretd

; The monitor: #GP from v86 mode. Emulates nothing, reports the opcode
; and skips it; HLT ends the v86 session.
v86_gp:
	test dword [esp + 24], 0x20000
	jz .bad
	mov [sv_ebx], ebx
	movzx ebx, word [esp + 20]
	shl ebx, 4
	movzx eax, word [esp + 16]
	add ebx, eax
	movzx eax, byte [ebx]
	cmp al, 0xf4
	je .hlt
	PRINT "monitor: #GP("
	PHEX [esp + 12], 4
	PRINT ") opcode "
	PHEX eax, 2
	NL
	inc word [esp + 16]
	cmp al, 0xcd
	jne .ret
	inc word [esp + 16]
.ret:	mov ebx, [sv_ebx]
	jmp exc_return
.hlt:	mov esp, STACK0
	mov ax, SEL_DATA32
	mov es, ax
	mov fs, ax
	mov gs, ax
	jmp [v86_exit]
.bad:	PRINT "FAIL: #GP outside v86 mode at "
	PHEX [esp + 16], 8
	NL
	EXIT 1

; INT 0x38 from v86 mode with IOPL 3: a protected-mode handler.
pm_int:
	mov [ss:sv_ds], ds
	push eax
	mov ax, SEL_DATA32
	mov ds, ax
	pop eax
	PRINT "pm handler: ds "
	movzx eax, word [sv_ds]
	PHEX eax, 4
	mov ebp, esp
	PRINT " frame eflags "
	mov eax, [ebp + 8]
	and eax, 0x23200
	PHEX eax, 8
	PRINT " ss:esp "
	PHEX [ebp + 16], 4
	PRINT ":"
	PHEX [ebp + 12], 4
	PRINT " cs "
	PHEX [ebp + 4], 4
	NL
	iretd

	bits 16
v86_iopl0:
	PRINT16 "in v86", 10
	cli
	sti
	pushf
	int 0x21
	PRINT16 "still in v86", 10
	hlt

v86_iopl3:
	PRINT16 "in v86", 10
	cli
	sti
	PRINT16 "cli/sti ran", 10
	int 0x38
	PRINT16 "back in v86", 10
	hlt

v86_vme:
	PRINT16 "in v86", 10
	cli
	pushf
	pop ax
	and ax, 0x3200
	movzx eax, ax
	PRINT16 "after cli flags "
	mov cx, 4
	call puthex16
	sti
	pushf
	pop ax
	and ax, 0x3200
	movzx eax, ax
	PRINT16 " after sti "
	mov cx, 4
	call puthex16
	PRINT16 10
	int 0x42
	PRINT16 "after redirected int", 10
	hlt

v86_task:
	mov ax, ss
	movzx eax, ax
	PRINT16 "v86 task, ss:sp "
	mov cx, 4
	call puthex16
	PRINT16 ":"
	mov ax, sp
	call puthex16
	PRINT16 10
	hlt

v86_int42:
	PRINT16 "v86 handler, pushed flags "
	push bp
	mov bp, sp
	mov ax, [bp + 6]
	pop bp
	and ax, 0x3200
	movzx eax, ax
	mov cx, 4
	call puthex16
	PRINT16 10
	iret

	bits 32
	align 4
sv_ebx: dd 0
sv_ds: dd 0
v86_exit: dd 0

;= iopl 0
;= in v86
;= monitor: #GP(0000) opcode fa
;= monitor: #GP(0000) opcode fb
;= monitor: #GP(0000) opcode 9c
;= monitor: #GP(0000) opcode cd
;= still in v86
;= iopl 3
;= in v86
;= cli/sti ran
;= pm handler: ds 0000 frame eflags 00023200 ss:esp 0000:7000 cs 0000
;= back in v86
;= vme
;= in v86
;= after cli flags 3000 after sti 3200
;= v86 handler, pushed flags 3200
;= after redirected int
;= v86 task, ss:sp 0000:6800
;= back in protected mode, tr 0048
;= done
