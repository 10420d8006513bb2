; Call-heavy code: naive recursive Fibonacci, pushes, pops and returns.
%include "mb.inc"
start:
	mov esp, stack_top
	mov ebx, 12
.again:
	push dword 27
	call fib
	add esp, 4
	dec ebx
	jnz .again
	EXIT

; eax = fib(n), n at [esp+4]
fib:
	push ebp
	mov ebp, esp
	push esi
	mov eax, [ebp + 8]
	cmp eax, 2
	jb .done
	dec eax
	push eax
	call fib
	mov esi, eax
	pop eax
	dec eax
	push eax
	call fib
	add esp, 4
	add eax, esi
.done:
	pop esi
	pop ebp
	ret
image_end:
	align 16
	times 65536 db 0
stack_top:
bss_end:
