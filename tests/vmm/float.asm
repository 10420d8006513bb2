; Floating point in a guest: the x87 (sqrt, pi, rounding to integer) and
; SSE2 (sqrt, multiply, a correctly rounded 1/3) with CR0/CR4 set up as an
; OS does; prints the results on COM1 for the test to check.
%include "mb.inc"
start:
	mov esp, stack_top
	mov eax, cr0
	and eax, ~0x4              ; EM off
	or eax, 0x22               ; MP, NE
	mov cr0, eax
	mov eax, cr4
	or eax, 0x600              ; OSFXSR, OSXMMEXCPT
	mov cr4, eax
	fninit

	mov esi, s_x87
	call puts
	fld qword [d625]
	fsqrt                      ; 2.5
	fimul dword [i4]           ; 10
	fistp dword [r1]
	mov eax, [r1]
	call putdec
	mov al, ' '
	call putc
	fldpi
	fimul dword [million]
	frndint                    ; round to nearest: 3141593
	fistp dword [r1]
	mov eax, [r1]
	call putdec
	mov al, 10
	call putc

	mov esi, s_sse
	call puts
	mov eax, 49
	cvtsi2sd xmm0, eax
	sqrtsd xmm0, xmm0          ; 7
	mov eax, 3
	cvtsi2sd xmm1, eax
	mulsd xmm0, xmm1           ; 21
	cvttsd2si eax, xmm0
	call putdec
	mov al, ' '
	call putc
	mov eax, 1
	cvtsi2sd xmm2, eax
	mov eax, 3
	cvtsi2sd xmm3, eax
	divsd xmm2, xmm3           ; 1/3, correctly rounded
	movsd [r2], xmm2
	mov eax, [r2 + 4]
	call puthex
	mov eax, [r2]
	call puthex
	mov al, 10
	call putc
	EXIT 0

SERIAL_PUTS

; EAX in decimal
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

; EAX as 8 hex digits
puthex:	mov ecx, 8
.dig:	rol eax, 4
	push eax
	and al, 0xf
	add al, '0'
	cmp al, '9'
	jbe .p
	add al, 39                 ; 'a' - '9' - 1
.p:	push ecx
	call putc
	pop ecx
	pop eax
	dec ecx
	jnz .dig
	ret

	align 8
d625:	dq 6.25
i4:	dd 4
million: dd 1000000
r1:	dd 0
	align 8
r2:	dq 0
s_x87:	db "x87 ", 0
s_sse:	db "sse2 ", 0
image_end:
	align 16
	times 4096 db 0
stack_top:
bss_end:
