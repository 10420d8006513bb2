; Drives the test-only devices of a test build from inside the guest. The
; command line's first character picks what to do:
;   '0'..'5': write that number to test-sandbox (port 0x700): the device
;             model tries a forbidden operation (test_devices.h); if it
;             comes back, exit with the errno it read back
;   'l':      100000 reads of the UART's IIR (COM1 + 2), then exit 0x21:
;             a stream of round trips for the hostile-dm tests (IIR is
;             never published, ioreq.h: each read is a request)
;   's':      REP OUTSB of a line to COM1, then REP INSB of 100 bytes from
;             COM1's scratch register (set to 0x5a), each one request to
;             the device model; exit 0x21 if every byte came in, else 0x7f
;   'd':      test-dma (port 0x710): a store into this kernel's own data
;             and one outside RAM; exit 0x21 if the first landed and the
;             second was refused, else 0x7f
%include "mb.inc"
SANDBOX equ 0x700
DMA equ 0x710
start:
	MB_ARGS                      ; the command line's arguments
	movzx eax, byte [esi]
	cmp al, 'l'
	je loop_reads
	cmp al, 'd'
	je dma
	cmp al, 's'
	je strings
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
	mov dx, 0x3fa
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

strings:
	cld
	mov esi, line
	mov ecx, line_end - line
	mov dx, 0x3f8
	rep outsb
	mov dx, 0x3ff
	mov al, 0x5a
	out dx, al
	mov edi, buf
	mov ecx, 100
	rep insb
	mov esi, buf
	mov ecx, 100
.check:
	lodsb
	cmp al, 0x5a
	jne .bad
	loop .check
	EXIT 0x21
.bad:
	EXIT 0x7f

line: db "rep outsb to COM1", 10
line_end:
align 4
target: dd 0
buf: times 100 db 0
image_end:
bss_end:
