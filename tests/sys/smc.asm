; Self-modifying code: a store to the very next instruction in the same
; block, to code decoded and run many times before, to another page, to an
; instruction that straddles two pages (both halves), and through a
; second linear mapping of the same physical page.
%include "lib.inc"

	bits 16
main16:
	; Real mode: patch the next instruction's immediate.
	mov byte [cs:.rp + 1], 0x37
.rp:	mov al, 0
	movzx eax, al
	PRINT16 "real next insn "
	mov cx, 2
	call puthex16
	PRINT16 10
	PM_ENTER
	bits 32
	mov byte [.p1 + 1], 0x42
.p1:	mov al, 0
	PRINT "next insn "
	PHEX eax, 2
	NL

	; A function run many times, then changed.
	xor ebx, ebx
	mov ecx, 100
.l:	call func
	add ebx, eax
	loop .l
	PRINT "100 calls "
	PHEX ebx, 4
	mov dword [func + 1], 7
	call func
	PRINT " after patch "
	PHEX eax, 4
	NL

	; Code on another page, patched from here.
	call far_page
	PRINT "other page "
	PHEX eax, 8
	mov dword [far_page + 1], 0x600dc0de
	call far_page
	PRINT " patched "
	PHEX eax, 8
	NL

	; An instruction across a page boundary, patched in each half.
	call straddle
	PRINT "straddle "
	PHEX eax, 8
	mov byte [straddle_imm], 0x11          ; first page
	call straddle
	PRINT " low "
	PHEX eax, 8
	mov byte [straddle_imm + 3], 0x44      ; second page
	call straddle
	PRINT " high "
	PHEX eax, 8
	NL

	; Paging with a second mapping of the same physical memory at
	; 4 MiB: a store through the alias changes the code.
	mov dword [0x100000], 0x83
	mov dword [0x100004], 0x83
	mov eax, 0x100000
	mov cr3, eax
	mov eax, cr4
	or eax, 0x10
	mov cr4, eax
	mov eax, cr0
	or eax, 0x80000000
	mov cr0, eax
	call func
	PRINT "alias before "
	PHEX eax, 4
	mov dword [func + 1 + 0x400000], 0x1234
	call func
	PRINT " after "
	PHEX eax, 4
	NL
	; Running the same code through the alias sees the same bytes.
	call func + 0x400000
	PRINT "run through alias "
	PHEX eax, 4
	NL
	EXIT 0

func:
	mov eax, 1
	ret

	align 4096
	times 4096 - 3 nop
straddle:
	db 0xb8                    ; mov eax, imm32 across the boundary
straddle_imm:
	dd 0xaabbccdd
	ret
	align 4096
	times 100 nop
far_page:
	mov eax, 0x12345678
	ret

;= real next insn 37
;= next insn 42
;= 100 calls 0064 after patch 0007
;= other page 12345678 patched 600dc0de
;= straddle aabbccdd low aabbcc11 high 44bbcc11
;= alias before 0007 after 1234
;= run through alias 1234
