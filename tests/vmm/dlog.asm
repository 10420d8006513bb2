; What -d reports, at addresses the test knows: a #PF (write to an
; unmapped page, error code 2, CR2 0x800000) at 0x100200, an INT3 at
; 0x100205, an RDMSR of an MSR no CPU has (#GP(0)) at 0x100206, GETSEC
; (0F 37, which v2e has no handler for: #UD) at 0x100208, and a write
; and a read of port 0x310, which nothing claims. Each handler steps
; over its instruction and prints a letter on COM1: "PBGU", then the
; value the unclaimed port read back.
%include "mb.inc"
start:
	mov esp, stack_top
	FLAT_SEGMENTS
	mov eax, pf_handler
	mov ebx, 14
	call set_gate
	mov eax, bp_handler
	mov ebx, 3
	call set_gate
	mov eax, gp_handler
	mov ebx, 13
	call set_gate
	mov eax, ud_handler
	mov ebx, 6
	call set_gate
	lidt [idtr]
	; paging: 0-4 MiB mapped by one 4 MiB page, nothing else
	mov dword [pd], 0x83
	mov eax, cr4
	or eax, 0x10               ; PSE
	mov cr4, eax
	mov eax, pd
	mov cr3, eax
	mov eax, cr0
	or eax, 0x80000000
	mov cr0, eax
	mov ecx, 0x4b564dff        ; an MSR no model has
	jmp faults

; gate for vector EBX -> handler EAX (32-bit interrupt gate, CS 0x08)
set_gate:
	mov [idt + ebx * 8], ax
	mov word [idt + ebx * 8 + 2], 0x08
	mov word [idt + ebx * 8 + 4], 0x8e00
	shr eax, 16
	mov [idt + ebx * 8 + 6], ax
	ret

pf_handler:
	add esp, 4                 ; the error code
	add dword [esp], 5         ; over the MOV
	mov al, 'P'
	mov ebx, cr2
	cmp ebx, 0x800000
	je .ok
	mov al, 'p'
.ok:	call putc
	iretd

bp_handler:
	mov al, 'B'                ; a trap: EIP is past the INT3 already
	call putc
	iretd

gp_handler:
	add esp, 4
	add dword [esp], 2         ; over the RDMSR
	mov al, 'G'
	call putc
	iretd

ud_handler:
	add dword [esp], 2         ; over GETSEC
	mov al, 'U'
	call putc
	iretd

putc:	push eax
	push edx
	mov dx, COM1 + 5
.wait:	in al, dx
	test al, 0x20              ; THRE
	jz .wait
	mov eax, [esp + 4]
	mov dx, COM1
	out dx, al
	pop edx
	pop eax
	ret

	times 0x200 - ($ - $$) db 0x90
faults:
	mov [0x800000], eax        ; 0x100200: #PF, e=0002
	int3                       ; 0x100205: trap, IP 0x100206
	rdmsr                      ; 0x100206: ECX below, #GP(0)
	db 0x0f, 0x37              ; 0x100208: GETSEC, no handler: #UD
	jmp after
	times 0x240 - ($ - $$) db 0x90
after:
	mov dx, 0x310
	mov al, 0x5a
	out dx, al
	in al, dx
	and al, 0x0f
	add al, '0'                ; 0xff from nothing: '?'
	call putc
	mov al, 10
	call putc
	EXIT 0

gdtr:	dw gdt_end - gdt - 1
	dd gdt
idtr:	dw 256 * 8 - 1
	dd idt
	align 8
gdt:	dq 0
	dq 0x00cf9a000000ffff      ; 0x08: code
	dq 0x00cf92000000ffff      ; 0x10: data
gdt_end:
image_end:
	align 4096
pd:	times 1024 dd 0
idt:	times 256 dq 0
	times 4096 db 0
stack_top:
bss_end:
