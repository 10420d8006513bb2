; A binary range decoder of the kind LZMA/XZ decoders are built on: 16-bit
; probabilities in memory adapted after every bit, a 32-bit range and code
; normalised a byte at a time from the input, bit-tree symbols of 8 bits
; written out. Its own pseudo-random input; about a third of a Linux boot
; is the kernel's XZ decompressor, which spends its time in loops of this
; shape (16-bit loads and stores, shifts, IMUL, compares and branches).
%include "mb.inc"
INPUT equ 0x400000
INLEN equ 0x100000           ; 1 MiB of input, wrapped around
PROBS equ 0x600000           ; 256 16-bit probabilities
OUTPUT equ 0x700000
SYMBOLS equ 2000000
start:
	mov esp, stack_top
	; input bytes from a linear congruential sequence
	mov eax, 1
	xor ecx, ecx
.fill:
	imul eax, eax, 1103515245
	add eax, 12345
	mov edx, eax
	shr edx, 16
	mov [INPUT + ecx], dl
	inc ecx
	cmp ecx, INLEN
	jne .fill
	; probabilities start at one half (1024 of 2048)
	xor ecx, ecx
.pinit:
	mov word [PROBS + ecx * 2], 1024
	inc ecx
	cmp ecx, 256
	jne .pinit
	sub esp, 16
	mov dword [esp], 0xffffffff ; range
	mov dword [esp + 4], 0      ; code
	mov dword [esp + 8], 0      ; input position
	mov dword [esp + 12], 0     ; output position
	mov ebp, SYMBOLS
.symbol:
	mov ebx, 1                  ; bit-tree index
.bit:
	mov edi, [esp]              ; range
	mov esi, [esp + 4]          ; code
	cmp edi, 0x1000000
	jae .norm_done
	shl edi, 8
	mov edx, [esp + 8]
	lea ecx, [edx + 1]
	and ecx, INLEN - 1
	mov [esp + 8], ecx
	movzx edx, byte [INPUT + edx]
	shl esi, 8
	or esi, edx
.norm_done:
	lea eax, [PROBS + ebx * 2]
	movzx ecx, word [eax]
	mov edx, edi
	shr edx, 11
	imul edx, ecx               ; bound
	cmp esi, edx
	jae .one
	mov edi, edx                ; bit 0: range = bound
	mov edx, 2048
	sub edx, ecx
	shr edx, 5
	add cx, dx
	mov [eax], cx
	add ebx, ebx
	jmp .next
.one:
	sub edi, edx                ; bit 1
	sub esi, edx
	mov dx, cx
	shr dx, 5
	sub cx, dx
	mov [eax], cx
	lea ebx, [ebx * 2 + 1]
.next:
	mov [esp], edi
	mov [esp + 4], esi
	cmp ebx, 256
	jb .bit
	mov ecx, [esp + 12]
	mov [OUTPUT + ecx], bl
	inc ecx
	and ecx, 0xffff
	mov [esp + 12], ecx
	dec ebp
	jnz .symbol
	add esp, 16
	EXIT
image_end:
	align 16
	times 4096 db 0
stack_top:
bss_end:
