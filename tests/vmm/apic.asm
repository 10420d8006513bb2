; The APIC platform end to end, driven by what the ACPI tables say: finds
; the RSDP by scanning the BIOS area, the FADT and MADT through the RSDT,
; takes the LAPIC and IOAPIC addresses, the GSI of IRQ 0 and the PM
; ports from them; with the 8259A pair masked, counts 20 periodic LAPIC
; timer interrupts (1 ms, divide by 16) and checks the PM timer moved by
; 20 ms meanwhile, then 20 PIT interrupts through the IOAPIC; prints the
; counts on COM1. Then, by command line: "off" powers off through
; PM1a_CNT (SLP_TYP 5 | SLP_EN: status 0); "cf9" resets through the
; FADT's reset register (under -no-reboot status 0; otherwise the second
; boot, counted in CMOS byte 0x41, exits with 5 -> 11).
%include "mb.inc"
start:
	mov esp, stack_top
	MB_ARGS
	mov al, [esi]
	mov [mode], al
	FLAT_SEGMENTS
	mov eax, lapic_isr
	mov edi, 0x40
	call set_gate
	mov eax, ioapic_isr
	mov edi, 0x50
	call set_gate
	mov eax, spurious_isr
	mov edi, 0xff
	call set_gate
	lidt [idtr]
	; the 8259A pair initialised and fully masked: nothing comes
	; through the virtual wire
	mov al, 0x11
	out 0x20, al
	out 0xa0, al
	mov al, 0x20
	out 0x21, al
	mov al, 0x28
	out 0xa1, al
	mov al, 4
	out 0x21, al
	mov al, 2
	out 0xa1, al
	mov al, 1
	out 0x21, al
	out 0xa1, al
	mov al, 0xff
	out 0x21, al
	out 0xa1, al

	; ---- the ACPI tables ----
	mov esi, 0xe0000
.scan:	cmp dword [esi], 'RSD '
	jne .next
	cmp dword [esi + 4], 'PTR '
	jne .next
	xor ecx, ecx
	xor al, al
.sum:	add al, [esi + ecx]
	inc ecx
	cmp ecx, 20
	jb .sum
	test al, al
	jz .found
.next:	add esi, 16
	cmp esi, 0x100000
	jb .scan
	EXIT 0x70
.found:	mov edi, [esi + 16]          ; RSDT
	cmp dword [edi], 'RSDT'
	jne .bad
	mov ecx, [edi + 4]
	sub ecx, 36
	shr ecx, 2
	lea esi, [edi + 36]
.ent:	mov ebx, [esi]
	cmp dword [ebx], 'FACP'
	jne .nf
	mov [fadt], ebx
.nf:	cmp dword [ebx], 'APIC'
	jne .na
	mov [madt], ebx
.na:	add esi, 4
	loop .ent
	mov ebx, [fadt]
	test ebx, ebx
	jz .bad
	mov eax, [ebx + 64]          ; PM1a_CNT_BLK
	mov [pm1a_cnt], eax
	mov eax, [ebx + 76]          ; PM_TMR_BLK
	mov [pm_tmr], eax
	mov eax, [ebx + 120]         ; RESET_REG address
	mov [reset_port], eax
	mov al, [ebx + 128]          ; RESET_VALUE
	mov [reset_value], al
	mov ebx, [madt]
	test ebx, ebx
	jz .bad
	mov eax, [ebx + 36]
	mov [lapic], eax
	mov edx, ebx
	add edx, [ebx + 4]           ; end of the MADT
	lea esi, [ebx + 44]
.madt:	cmp esi, edx
	jae .madt_done
	cmp byte [esi], 1            ; IOAPIC
	jne .m2
	mov eax, [esi + 4]
	mov [ioapic], eax
.m2:	cmp byte [esi], 2            ; interrupt source override
	jne .m3
	cmp byte [esi + 3], 0        ; of IRQ 0
	jne .m3
	mov eax, [esi + 4]
	mov [gsi0], eax
.m3:	movzx eax, byte [esi + 1]
	test eax, eax
	jz .bad
	add esi, eax
	jmp .madt
.madt_done:
	cmp dword [ioapic], 0
	je .bad

	; ---- LAPIC timer ----
	mov ebx, [lapic]
	mov dword [ebx + 0xf0], 0x1ff    ; SVR: enabled, spurious 0xff
	mov dword [ebx + 0x80], 0        ; TPR
	mov dword [ebx + 0x3e0], 3       ; divide by 16
	mov dword [ebx + 0x320], 0x20040 ; periodic, vector 0x40
	mov edx, [pm_tmr]
	in eax, dx
	mov [pm0], eax
	mov dword [ebx + 0x380], 62500   ; 1 ms at 1 GHz / 16
	sti
.lw:	hlt
	cmp dword [lticks], 20
	jb .lw
	cli
	mov edx, [pm_tmr]
	in eax, dx
	sub eax, [pm0]
	and eax, 0xffffff
	mov [pm_delta], eax
	mov dword [ebx + 0x380], 0       ; stop the timer

	; ---- PIT IRQ 0 through the IOAPIC ----
	mov ebx, [ioapic]
	mov eax, [gsi0]
	shl eax, 1
	add eax, 0x11
	mov [ebx], eax
	mov dword [ebx + 0x10], 0        ; destination: APIC ID 0
	dec eax
	mov [ebx], eax
	mov dword [ebx + 0x10], 0x50     ; fixed, physical, edge, high, vector 0x50
	mov al, 0x34
	out 0x43, al
	mov ax, 1193
	out 0x40, al
	mov al, ah
	out 0x40, al
	sti
.iw:	hlt
	cmp dword [iticks], 20
	jb .iw
	cli

	mov esi, msg1
	call puts
	mov eax, [lticks]
	call putdec
	mov esi, msg2
	call puts
	mov eax, [iticks]
	call putdec
	mov esi, msg3
	call puts
	; 20 ms of a 3.579545 MHz counter: 71591, give or take the
	; instructions around the reads
	mov eax, [pm_delta]
	cmp eax, 71000
	jb .pmbad
	cmp eax, 72200
	ja .pmbad
	mov esi, msg_ok
	jmp .pmout
.pmbad:	mov esi, msg_bad
.pmout:	call puts

	cmp byte [mode], 'c'
	je .reset
	; S5: SLP_TYP 5, SLP_EN
	mov edx, [pm1a_cnt]
	mov ax, (5 << 10) | (1 << 13)
	out dx, ax
.hang:	jmp .hang

.reset:	mov al, 0x41
	out 0x70, al
	in al, 0x71
	inc al
	mov ah, al
	mov al, 0x41
	out 0x70, al
	mov al, ah
	out 0x71, al
	cmp ah, 2
	je .second
	mov edx, [reset_port]
	mov al, [reset_value]
	out dx, al
	jmp .hang
.second:
	EXIT 5
.bad:	EXIT 0x7f

; eax = handler, edi = vector
set_gate:
	mov [idt + edi * 8], ax
	mov word [idt + edi * 8 + 2], 0x08
	mov word [idt + edi * 8 + 4], 0x8e00
	shr eax, 16
	mov [idt + edi * 8 + 6], ax
	ret

lapic_isr:
	push eax
	inc dword [lticks]
	mov eax, [lapic]
	mov dword [eax + 0xb0], 0        ; EOI
	pop eax
	iret

ioapic_isr:
	push eax
	inc dword [iticks]
	mov eax, [lapic]
	mov dword [eax + 0xb0], 0
	pop eax
	iret

spurious_isr:
	iret

puts:	lodsb
	test al, al
	jz .done
	call putc
	jmp puts
.done:	ret

putc:	push eax
	push edx
	mov dx, COM1 + 5
.w:	in al, dx
	test al, 0x20
	jz .w
	pop edx
	pop eax
	push edx
	mov dx, COM1
	out dx, al
	pop edx
	ret

putdec:	mov ecx, 10
	xor ebx, ebx
.div:	xor edx, edx
	div ecx
	push edx
	inc ebx
	test eax, eax
	jnz .div
.out:	pop eax
	add al, '0'
	call putc
	dec ebx
	jnz .out
	ret

	align 8
gdt:	dq 0
	dq 0x00cf9a000000ffff
	dq 0x00cf92000000ffff
gdtr:	dw gdtr - gdt - 1
	dd gdt
idtr:	dw 256 * 8 - 1
	dd idt
msg1:	db "lapic timer ", 0
msg2:	db ", ioapic irq0 ", 0
msg3:	db ", pm timer ", 0
msg_ok:	db "ok", 10, 0
msg_bad: db "off", 10, 0
image_end:
	align 16
mode:	times 4 db 0
fadt:	times 1 dd 0
madt:	times 1 dd 0
lapic:	times 1 dd 0
ioapic:	times 1 dd 0
gsi0:	times 1 dd 0
pm1a_cnt: times 1 dd 0
pm_tmr:	times 1 dd 0
reset_port: times 1 dd 0
reset_value: times 1 dd 0
pm0:	times 1 dd 0
pm_delta: times 1 dd 0
lticks:	times 1 dd 0
iticks:	times 1 dd 0
idt:	times 256 * 8 db 0
	times 4096 db 0
stack_top:
bss_end:
