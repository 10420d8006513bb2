; Paging-heavy code: 4 KiB pages over 64 MiB, a loop touching one dword per
; page over 16 MiB (more pages than any TLB holds) with periodic CR3
; reloads, so translation and TLB refill dominate.
%include "mb.inc"
PD equ 0x200000
PT equ 0x201000              ; 16 page tables, 64 MiB
start:
	mov esp, stack_top
	; page tables: identity map 64 MiB with 4 KiB pages
	mov edi, PT
	mov eax, 0x003           ; present, writable
	mov ecx, 16 * 1024
.fill_pt:
	mov [edi], eax
	add eax, 0x1000
	add edi, 4
	dec ecx
	jnz .fill_pt
	mov edi, PD
	mov eax, PT | 3
	mov ecx, 16
.fill_pd:
	mov [edi], eax
	add eax, 0x1000
	add edi, 4
	dec ecx
	jnz .fill_pd
	mov eax, PD
	mov cr3, eax
	mov eax, cr0
	or eax, 0x80000000
	mov cr0, eax

	mov ebp, 300
.round:
	mov esi, 0x1000000
	mov ecx, 4096
.touch:
	add eax, [esi]
	mov [esi + 4], eax
	add esi, 0x1000
	dec ecx
	jnz .touch
	test ebp, 7
	jnz .no_reload
	mov eax, cr3
	mov cr3, eax
.no_reload:
	dec ebp
	jnz .round
	EXIT
image_end:
	align 16
	times 4096 db 0
stack_top:
bss_end:
