; Tight integer loop: the emulator's dispatch and lazy flags.
%include "mb.inc"
start:
	mov esp, stack_top
	mov ecx, 40000000
	mov eax, 1
	mov ebx, 7
	xor edx, edx
.loop:
	add eax, ebx
	xor edx, eax
	sub ebx, 3
	and esi, edx
	or edi, eax
	shl eax, 1
	inc ebp
	adc edx, ecx
	dec ecx
	jnz .loop
	EXIT
image_end:
	align 16
	times 4096 db 0
stack_top:
bss_end:
