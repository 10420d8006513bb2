; The kernel of v2e's SYSLINUX floppy image (scripts/make-images.sh): a
; Multiboot kernel that SYSLINUX's mboot.c32 loads. It prints what it was
; given on COM1 (which SYSLINUX's SERIAL line has set up), one
; "v2e-floppy: ..." line each, then powers the PC off: first through
; isa-debug-exit at 0xf4 (status 0: v2e and QEMU exit with 1), then, where
; that device is absent, through ACPI as an OS does it (the RSDP in the
; BIOS area, the FADT's PM1 control blocks, \_S5's sleep types in the
; DSDT). Nothing it prints depends on the time or the RAM size, so every
; boot prints the same bytes.
%include "mb.inc"
start:
	mov esp, stack_top
	mov ebp, ebx                 ; the Multiboot information
	mov edi, eax                 ; the loader's magic
	mov esi, msg_hello
	call puts
	mov esi, msg_magic_ok
	cmp edi, 0x2BADB002
	je .magic
	mov esi, msg_magic_bad
.magic:	call puts
	test dword [ebp], 4          ; a command line
	jz .nocmd
	mov esi, msg_cmdline
	call puts
	mov esi, [ebp + 16]
	call puts
	mov al, 10
	call putc
.nocmd:
	mov esi, msg_off
	call puts
	EXIT 0
	call acpi_off
	mov esi, msg_halt
	call puts
	cli
	hlt

SERIAL_PUTS

; Enters S5 through ACPI; returns if the tables are not there, or if the
; machine is still running a while after the write.
acpi_off:
	mov esi, 0xe0000             ; the RSDP: in the BIOS's read-only area,
	mov ecx, 0x100000
	call rsdp_scan
	jnc .rsdp
	movzx esi, word [0x40e]      ; or in the EBDA's first KiB
	shl esi, 4
	jz .fail
	lea ecx, [esi + 1024]
	call rsdp_scan
	jc .fail
.rsdp:	mov esi, [esi + 16]          ; the RSDT
	cmp dword [esi], 'RSDT'
	jne .fail
	mov ecx, [esi + 4]
	sub ecx, 36
	jbe .fail
	shr ecx, 2
	add esi, 36
.table:	mov edi, [esi]
	cmp dword [edi], 'FACP'
	je .fadt
	add esi, 4
	loop .table
	jmp .fail
.fadt:	; SLP_TYPa and SLP_TYPb: the first two elements of \_S5's package
	mov esi, [edi + 40]          ; the DSDT
	cmp dword [esi], 'DSDT'
	jne .fail
	mov ecx, [esi + 4]
	sub ecx, 40
	jbe .fail
	add esi, 36
.s5:	cmp dword [esi], '_S5_'
	jne .s5next
	cmp byte [esi - 1], 0x08     ; NameOp _S5_
	je .s5name
	cmp byte [esi - 1], '\'
	jne .s5next
	cmp byte [esi - 2], 0x08     ; NameOp \_S5_
	je .s5name
.s5next: inc esi
	loop .s5
	jmp .fail
.s5name: add esi, 4
	cmp byte [esi], 0x12         ; PackageOp
	jne .fail
	movzx eax, byte [esi + 1]    ; PkgLength: bits 7-6 count its extra bytes
	shr eax, 6
	lea esi, [esi + eax + 3]     ; past PackageOp, PkgLength, NumElements
	call aml_byte
	mov bl, al                   ; SLP_TYPa
	call aml_byte
	mov bh, al                   ; SLP_TYPb
	; ACPI mode: SCI_EN, else ACPI_ENABLE to SMI_CMD and wait for it
	mov edx, [edi + 64]          ; PM1a_CNT_BLK
	test edx, edx
	jz .fail
	in ax, dx
	test al, 1
	jnz .acpi
	mov edx, [edi + 48]          ; SMI_CMD
	mov al, [edi + 52]           ; ACPI_ENABLE
	test edx, edx
	jz .acpi
	out dx, al
	mov edx, [edi + 64]
	mov ecx, 0x1000000
.sci:	in ax, dx
	test al, 1
	loopz .sci
.acpi:	movzx eax, bl
	shl eax, 10
	or eax, 0x2000               ; SLP_EN
	mov edx, [edi + 64]
	out dx, ax
	mov edx, [edi + 68]          ; PM1b_CNT_BLK
	test edx, edx
	jz .wait
	movzx eax, bh
	shl eax, 10
	or eax, 0x2000
	out dx, ax
.wait:	mov ecx, 0x4000000           ; QEMU powers off a little later
.spin:	pause
	loop .spin
.fail:	ret

; CF clear and ESI at "RSD PTR " (checksummed) between ESI and ECX, else CF.
rsdp_scan:
	cmp dword [esi], 'RSD '
	jne .next
	cmp dword [esi + 4], 'PTR '
	jne .next
	push ecx
	xor eax, eax
	xor ecx, ecx
.sum:	add al, [esi + ecx]
	inc ecx
	cmp ecx, 20
	jb .sum
	pop ecx
	test al, al
	jz .found
.next:	add esi, 16
	cmp esi, ecx
	jb rsdp_scan
	stc
	ret
.found:	clc
	ret

; AL = the integer AML element at ESI (ZeroOp, OneOp or BytePrefix n),
; ESI past it.
aml_byte:
	lodsb
	cmp al, 0x0a                 ; BytePrefix
	jne .op
	lodsb
	ret
.op:	cmp al, 1                    ; ZeroOp 0, OneOp 1
	jbe .done
	xor al, al
.done:	ret

msg_hello:	db "v2e-floppy: hello from a Multiboot kernel on the SYSLINUX floppy", 10, 0
msg_magic_ok:	db "v2e-floppy: magic 0x2badb002", 10, 0
msg_magic_bad:	db "v2e-floppy: bad magic", 10, 0
msg_cmdline:	db "v2e-floppy: cmdline: ", 0
msg_off:	db "v2e-floppy: powering off", 10, 0
msg_halt:	db "v2e-floppy: still running after isa-debug-exit and ACPI: halting", 10, 0
image_end:
	align 16
	times 4096 db 0
stack_top:
bss_end:
