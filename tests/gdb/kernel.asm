; A Multiboot kernel in ELF with symbols, for the GDB stub's end-to-end
; test (gdb.sh): it turns paging on (the first 4 MiB identity-mapped and
; again at 0xc0000000, with 4 MiB pages), then calls bump() until counter
; reaches limit (about forever, until the debugger lowers it) and exits
; through isa-debug-exit at 0xf4 with 0x21 (v2e's status 67). gdb breaks
; on bump, watches counter, reads it through both mappings.
bits 32
MB_MAGIC equ 0x1BADB002
MB_FLAGS equ 0

section .text
mb_header:
	dd MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

global start, main_loop, bump, counter, limit, marker, done
start:
	mov esp, stack_top
	mov dword [pd], 0x83                 ; P, W, PS: 0..4 MiB
	mov dword [pd + 0x300 * 4], 0x83     ; 0xc0000000 -> 0
	mov eax, pd
	mov cr3, eax
	mov eax, cr4
	or eax, 0x10                         ; CR4.PSE
	mov cr4, eax
	mov eax, cr0
	or eax, 0x80000000                   ; CR0.PG
	mov cr0, eax
main_loop:
	call bump
	cmp eax, [limit]
	jb main_loop
done:
	mov dx, 0xf4
	mov eax, 0x21
	out dx, eax
	hlt

bump:
	inc dword [counter]
	mov eax, [counter]
	ret

section .data
counter: dd 0
limit: dd 0xffffffff
marker: dd 0x12345678

section .bss
alignb 4096
pd: resb 4096
stack: resb 4096
stack_top:
