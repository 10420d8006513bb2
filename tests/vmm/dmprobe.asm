; Drives the test-only devices of a test build from inside the guest. The
; command line's first character picks what to do:
;   '0'..'5': write that number to test-sandbox (port 0x700): the device
;             model tries a forbidden operation (test_devices.h); if it
;             comes back, exit with the errno it read back
;   'l':      100000 reads of the UART scratch register (COM1 + 7), then
;             exit 0x21: a stream of round trips for the hostile-dm tests
;   'd':      test-dma (port 0x710): a store into this kernel's own data
;             and one outside RAM; exit 0x21 if the first landed and the
;             second was refused, else 0x7f
%include "mb.inc"
SANDBOX equ 0x700
DMA equ 0x710
start:
	mov esi, [ebx + 16]          ; the command line
	movzx eax, byte [esi]
	cmp al, 'l'
	je loop_reads
	cmp al, 'd'
	je dma
	sub eax, '0'
	mov dx, SANDBOX
	out dx, eax
	in eax, dx
	mov dx, 0xf4
	out dx, eax
	hlt

loop_reads:
	mov ecx, 100000
.next:
	mov dx, 0x3ff
	in al, dx
	dec ecx
	jnz .next
	EXIT 0x21

dma:
	mov dword [target], 0
	mov dx, DMA
	mov eax, target
	out dx, eax                  ; address
	add dx, 4
	mov eax, 0x12345678
	out dx, eax                  ; store
	in eax, dx
	test eax, eax
	jnz .bad
	cmp dword [target], 0x12345678
	jne .bad
	mov dx, DMA
	mov eax, 0xfffff000          ; not RAM
	out dx, eax
	add dx, 4
	out dx, eax
	in eax, dx
	cmp eax, 0xffffffff
	jne .bad
	EXIT 0x21
.bad:
	EXIT 0x7f

align 4
target: dd 0
image_end:
bss_end:
