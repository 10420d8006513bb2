; Calls and returns between pages, as kernel code makes them: a loop
; calls a function in another page, which calls two leaves in two more
; pages, with a frame, a few loads and stores and a return each. Every
; branch here crosses a page, so none of them can use a link within its
; page (the call kernel's recursion stays in one).
%include "mb.inc"
start:
	mov esp, stack_top
	mov ebp, 3000000
	xor ebx, ebx
.loop:
	mov eax, ebx
	call mid
	add ebx, eax
	dec ebp
	jnz .loop
	EXIT

	align 4096
; eax = leaf_a(eax) + leaf_b(eax)
mid:
	push ebp
	mov ebp, esp
	push esi
	push eax
	call leaf_a
	mov esi, eax
	pop eax
	call leaf_b
	add eax, esi
	pop esi
	pop ebp
	ret

	align 4096
leaf_a:
	lea eax, [eax + eax * 2 + 1]
	mov [scratch], eax
	ret

	align 4096
leaf_b:
	mov ecx, [scratch]
	xor eax, ecx
	and eax, 0xffff
	ret

	align 4096
scratch:
	dd 0
image_end:
	align 16
	times 65536 db 0
stack_top:
bss_end:
