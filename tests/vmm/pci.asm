; PCI through configuration mechanism #1 (0xcf8/0xcfc): scans bus 0 and
; prints each function 0 found on COM1 ("00:SS.0 VVVV:DDDD"), checks the
; chipset's ids, empty slots and other buses, sizes and programs the I/O
; BAR of a test-pci device in a device model (at slot 5, its window moves
; with the BAR), config accesses of every size at odd offsets, 0xcf9
; still being the reset control register, PAM shadowing of 0xf0000, and
; the device's INTA# reaching the 8259A through the PIIX3's PIRQ router.
; Each check's number is the exit value on failure; 0x21 is success.
%include "mb.inc"

CFG_ADDR equ 0xcf8
CFG_DATA equ 0xcfc
BAR_A equ 0xc100
BAR_B equ 0xc200
SHADOW equ 0xffff0

%macro EXPECT 2                 ; EAX must be %1, else exit with %2
	cmp eax, %1
	jne fail_%2
%endmacro

; CONFIG_ADDRESS for bus 0, device %1, function 0, register %2
%macro CFG 2
	mov eax, 0x80000000 | (%1 << 11) | %2
	mov dx, CFG_ADDR
	out dx, eax
%endmacro

start:
	mov esp, 0x90000
	xor ebx, ebx                 ; slot
.scan:	mov eax, ebx
	shl eax, 11
	or eax, 0x80000000
	mov dx, CFG_ADDR
	out dx, eax
	mov dx, CFG_DATA
	in eax, dx
	cmp eax, 0xffffffff
	je .next
	push eax
	mov esi, s_00
	call puts
	mov eax, ebx
	mov cl, 2
	call hex
	mov esi, s_dot0
	call puts
	pop eax
	push eax
	mov cl, 4
	call hex                     ; vendor
	mov al, ':'
	call putc
	pop eax
	shr eax, 16
	mov cl, 4
	call hex                     ; device
	mov al, 10
	call putc
.next:	inc ebx
	cmp ebx, 32
	jb .scan

	CFG 0, 0
	mov dx, CFG_DATA
	in eax, dx
	EXPECT 0x12378086, 1         ; 00:00.0 is the i440FX
	CFG 1, 0
	mov dx, CFG_DATA
	in eax, dx
	EXPECT 0x70008086, 2         ; 00:01.0 is the PIIX3
	CFG 1, 0x0c
	mov dx, CFG_DATA + 2
	in al, dx
	and eax, 0xff
	EXPECT 0x80, 3               ; multi-function header
	CFG 2, 0
	mov dx, CFG_DATA
	in eax, dx
	EXPECT 0xffffffff, 4         ; an empty slot
	mov eax, 0x80010000          ; bus 1
	mov dx, CFG_ADDR
	out dx, eax
	mov dx, CFG_DATA
	in eax, dx
	EXPECT 0xffffffff, 5
	mov eax, 0x00000000          ; enable bit clear
	mov dx, CFG_ADDR
	out dx, eax
	mov dx, CFG_DATA
	in eax, dx
	EXPECT 0xffffffff, 6
	mov dx, CFG_ADDR
	in eax, dx
	EXPECT 0, 7                  ; CONFIG_ADDRESS reads back

	CFG 5, 0
	mov dx, CFG_DATA
	in eax, dx
	EXPECT 0x00051234, 8         ; the device model's function
	CFG 5, 0x10
	mov dx, CFG_DATA
	mov eax, 0xffffffff
	out dx, eax
	in eax, dx
	EXPECT 0xfffffff1, 9         ; BAR 0 sizes as 16 I/O ports
	mov eax, BAR_A
	out dx, eax
	CFG 5, 0x04
	mov dx, CFG_DATA
	mov ax, 1
	out dx, ax                   ; I/O decode on
	mov dx, BAR_A + 4
	in eax, dx
	EXPECT 0x7e570004, 10        ; its window answers where the BAR says
	CFG 5, 0x10
	mov dx, CFG_DATA + 1
	mov al, BAR_B >> 8
	out dx, al                   ; a byte write moves the BAR
	mov dx, BAR_A + 4
	in eax, dx
	EXPECT 0xffffffff, 11        ; the old place is empty at once
	mov dx, BAR_B + 8
	in eax, dx
	EXPECT 0x7e570008, 12
	CFG 5, 0x04
	mov dx, CFG_DATA
	xor eax, eax
	out dx, ax                   ; decode off
	mov dx, BAR_B
	in eax, dx
	EXPECT 0xffffffff, 13
	CFG 5, 0x04
	mov dx, CFG_DATA
	mov ax, 1
	out dx, ax                   ; and on again
	mov dx, BAR_B
	in eax, dx
	EXPECT 0x7e570000, 14

	CFG 0, 0
	mov dx, CFG_DATA + 2
	xor eax, eax
	in ax, dx
	EXPECT 0x1237, 15            ; a word at 0xcfe
	mov dx, CFG_DATA + 1
	xor eax, eax
	in al, dx
	EXPECT 0x80, 16              ; a byte at 0xcfd
	CFG 0, 0x08
	mov dx, CFG_DATA + 3
	xor eax, eax
	in al, dx
	EXPECT 0x06, 17              ; class 06 (bridge)
	mov dx, 0xcf9
	xor eax, eax
	in al, dx
	EXPECT 0, 18                 ; a byte at 0xcf9: reset control, not config

	; PAM: 0xf0000 is DRAM (mode 3) under direct kernel boot
	CFG 0, 0x58
	mov dx, CFG_DATA + 1
	in al, dx
	and eax, 0xff
	EXPECT 0x30, 19
	mov dword [SHADOW], 0x5a5aa5a5
	mov dx, CFG_DATA + 1
	mov al, 0x00
	out dx, al                   ; mode 0: nothing underneath here
	mov eax, [SHADOW]
	EXPECT 0xffffffff, 20
	mov dword [SHADOW], 0        ; dropped
	mov dx, CFG_DATA + 1
	mov al, 0x10
	out dx, al                   ; mode 1: read DRAM, writes dropped
	mov eax, [SHADOW]
	EXPECT 0x5a5aa5a5, 21
	mov dword [SHADOW], 0
	mov eax, [SHADOW]
	EXPECT 0x5a5aa5a5, 22
	mov dx, CFG_DATA + 1
	mov al, 0x30
	out dx, al                   ; mode 3: DRAM again
	mov eax, [SHADOW]
	EXPECT 0x5a5aa5a5, 23
	mov dword [SHADOW], 0x12345678
	mov eax, [SHADOW]
	EXPECT 0x12345678, 24
	; a 16 KiB segment: 0xc4000 is PAM1's high nibble
	mov dword [0xc4000], 0x600d600d
	CFG 0, 0x58
	mov dx, CFG_DATA + 2
	mov al, 0x03
	out dx, al                   ; 0xc4000 off, 0xc0000 still DRAM
	mov eax, [0xc4000]
	EXPECT 0xffffffff, 25
	mov dword [0xc0000], 0x11
	mov eax, [0xc0000]
	EXPECT 0x11, 26
	mov al, 0x33
	out dx, al
	mov eax, [0xc4000]
	EXPECT 0x600d600d, 27

	; INTx: slot 5's INTA# is PIRQA# (QEMU's rotation). Route PIRQA# to
	; IRQ 11, level-triggered in the ELCR, and watch the slave 8259A's
	; request register follow the device's request.
	mov dx, 0x4d1
	in al, dx
	or al, 0x08
	out dx, al                   ; ELCR: IRQ 11 level
	CFG 1, 0x60
	mov dx, CFG_DATA
	mov al, 11
	out dx, al                   ; PIRQRC[A] = 11
	mov dx, BAR_B
	mov eax, 1
	out dx, eax                  ; the device requests
	call irr11
	EXPECT 0x08, 28
	CFG 5, 0x04
	mov dx, CFG_DATA
	in eax, dx
	and eax, 0x00080000
	EXPECT 0x00080000, 29        ; status: interrupt pending
	mov ax, 0x0401
	out dx, ax                   ; command: INTx disable (I/O stays on)
	call irr11
	EXPECT 0, 30
	mov ax, 1
	out dx, ax                   ; INTx enabled again
	call irr11
	EXPECT 0x08, 31
	CFG 1, 0x60
	mov dx, CFG_DATA
	mov al, 0x80
	out dx, al                   ; PIRQA# routed nowhere
	call irr11
	EXPECT 0, 32
	mov al, 11
	out dx, al
	mov dx, BAR_B
	xor eax, eax
	out dx, eax                  ; the request goes
	call irr11
	EXPECT 0, 33
	EXIT 0x21

; The slave 8259A's IRR bit for IRQ 11, in EAX.
irr11:	mov al, 0x0a
	out 0xa0, al                 ; OCW3: read the IRR
	in al, 0xa0
	movzx eax, al
	and eax, 0x08
	ret

; EAX's low CL hex digits on COM1. Clobbers EAX, ECX, EDX, EDI.
hex:	movzx ecx, cl
	mov edi, eax
.dig:	dec ecx
	mov eax, edi
	push ecx
	shl ecx, 2
	shr eax, cl
	pop ecx
	and eax, 15
	mov al, [digits + eax]
	call putc
	test ecx, ecx
	jnz .dig
	ret

SERIAL_PUTS

%assign i 1
%rep 33
fail_ %+ i:
	EXIT i
%assign i i + 1
%endrep

s_00:	db "00:", 0
s_dot0:	db ".0 ", 0
digits:	db "0123456789abcdef"
image_end:
bss_end:
