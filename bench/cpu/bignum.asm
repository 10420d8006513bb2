; Multi-precision arithmetic the way portable C compiles it: r -= a * k
; over 64-word numbers, each 32x32 -> 64 product built from four 16-bit
; half products (IMUL, MOVZX, shifts), carries through CMP/SETB/CMOVcc and
; ADC, locals spilled to the stack frame. The kernel's RSA and DH
; self-tests spend most of a Linux boot in loops of this shape.
%include "mb.inc"
N equ 64
ROUNDS equ 150000
A equ 0x400000
R equ 0x402000
start:
	mov esp, stack_top
	; a[] and r[] from a linear congruential sequence
	mov eax, 12345
	xor ecx, ecx
.fill:
	imul eax, eax, 1103515245
	add eax, 12345
	mov [A + ecx * 4], eax
	imul eax, eax, 1103515245
	add eax, 12345
	mov [R + ecx * 4], eax
	inc ecx
	cmp ecx, N
	jne .fill
	mov ebx, ROUNDS
	mov edi, 0x9e3779b9
.round:
	push edi
	push dword N
	push dword A
	push dword R
	call submul
	add esp, 16
	add edi, eax             ; the final borrow feeds the next multiplier
	dec ebx
	jnz .round
	EXIT

; eax = submul(r, a, n, k): r[i] -= a[i] * k with borrow, returns the
; borrow out of the top word.
submul:
	push ebp
	mov ebp, esp
	push edi
	push esi
	push ebx
	sub esp, 28
	mov eax, [ebp + 20]      ; k
	movzx edx, ax
	mov [ebp - 20], edx      ; k low half
	shr eax, 16
	mov [ebp - 24], eax      ; k high half
	xor eax, eax
	mov [ebp - 28], eax      ; i
	xor esi, esi             ; borrow
.loop:
	mov ecx, [ebp - 28]
	mov eax, [ebp + 12]
	mov edx, [eax + ecx * 4] ; a[i]
	movzx ecx, dx
	shr edx, 16
	mov eax, [ebp - 20]
	mov ebx, eax
	imul eax, ecx            ; lo * lo
	imul ebx, edx            ; lo(k) * hi(a)
	mov edi, [ebp - 24]
	imul ecx, edi            ; hi(k) * lo(a)
	imul edx, edi            ; hi * hi
	mov [ebp - 32], edx
	mov edi, eax
	shr edi, 16
	movzx eax, ax
	add ecx, ebx             ; middle terms
	mov edx, ecx
	add edx, edi
	mov ecx, [ebp - 32]
	add ecx, 0x10000
	cmp edx, ebx
	mov edi, ecx
	cmovae edi, [ebp - 32]   ; carry out of the middle sum
	mov ecx, edx
	shl ecx, 16
	add eax, ecx             ; low word of the product
	add eax, esi             ; plus the running borrow
	xor ebx, ebx
	cmp eax, esi
	setb bl
	shr edx, 16
	mov esi, edx
	mov ecx, [ebp - 28]
	mov edx, [ebp + 8]
	mov ecx, [edx + ecx * 4]
	sub ecx, eax
	adc ebx, esi
	mov eax, [ebp - 28]
	mov [edx + eax * 4], ecx
	lea esi, [ebx + edi]
	inc eax
	mov [ebp - 28], eax
	cmp eax, [ebp + 16]
	jne .loop
	mov eax, esi
	add esp, 28
	pop ebx
	pop esi
	pop edi
	pop ebp
	ret
image_end:
	align 16
	times 4096 db 0
stack_top:
bss_end:
