; Paging: 2-level with 4 KiB pages and 4 MiB (PSE) pages, accessed and
; dirty bits, CR0.WP, user/supervisor and read-only protection from ring 3
; with their #PF error codes and CR2, INVLPG and CR3 reloads, and PAE with
; 2 MiB and 4 KiB pages and reserved-bit faults.
%include "lib.inc"

PD equ 0x100000
PT0 equ 0x101000
PT1 equ 0x102000
PDPT equ 0x103000
PAE_PD equ 0x104000
PAE_PT equ 0x105000

	bits 16
main16:
	PM_ENTER
	bits 32
	SETGATE idt, 0x38, SEL_CODE32, back_to_ring0, 0xee, 0
	; Identity map of the first 4 MiB with 4 KiB pages, user writable.
	xor ecx, ecx
.id:	mov eax, ecx
	shl eax, 12
	or eax, 7
	mov [PT0 + ecx * 4], eax
	mov dword [PT1 + ecx * 4], 0
	mov dword [PD + ecx * 4], 0
	inc ecx
	cmp ecx, 1024
	jb .id
	mov dword [PD], PT0 | 7
	mov dword [PD + 4], PT1 | 7
	; 0x400000: phys 0x200000 (rw), 0x401000: 0x201000 read-only,
	; 0x402000 not present, 0x403000 supervisor only.
	mov dword [PT1], 0x200007
	mov dword [PT1 + 4], 0x201005
	mov dword [PT1 + 12], 0x203003
	; 0x800000: a 4 MiB page at phys 0x400000.
	mov dword [PD + 8], 0x400087
	mov dword [0x200000], 0xaabbccdd
	mov dword [0x202000], 0x11223344
	mov dword [0x401234], 0x4d4d4d4d
	mov eax, PD
	mov cr3, eax
	mov eax, cr4
	or eax, 0x10
	mov cr4, eax
	mov eax, cr0
	or eax, 0x80000000
	mov cr0, eax
	PRINT "paging on", 10

	mov eax, [0x400000]
	PRINT "4k read "
	PHEX eax, 8
	PRINT " pte "
	PHEX [PT1], 3
	PRINT " pde "
	PHEX [PD + 4], 3
	NL
	mov dword [0x400004], 1
	PRINT "after write pte "
	PHEX [PT1], 3
	NL
	mov eax, [0x801234]
	PRINT "4m read "
	PHEX eax, 8
	PRINT " pde "
	PHEX [PD + 8], 3
	NL
	mov dword [0x801238], 2
	PRINT "4m after write pde "
	PHEX [PD + 8], 3
	NL

	; CR0.WP: supervisor writes to read-only pages.
	mov dword [0x401000], 0x5a5a
	PRINT "wp=0 write to read-only ok", 10
	mov eax, cr0
	or eax, 0x10000
	mov cr0, eax
	FT "wp=1 write", mov dword [0x401000], 1
	PRINT "cr2 "
	mov eax, cr2
	PHEX eax, 8
	NL
	FT "not present", mov eax, [0x402010]
	PRINT "cr2 "
	mov eax, cr2
	PHEX eax, 8
	NL
	FT "unmapped 4m", mov eax, [0xc00000]

	; INVLPG and CR3 reloads drop stale translations.
	mov eax, [0x400000]
	mov dword [PT1], 0x202007
	invlpg [0x400000]
	mov eax, [0x400000]
	PRINT "after invlpg "
	PHEX eax, 8
	NL
	mov dword [PT1], 0x200007
	mov eax, cr3
	mov cr3, eax
	mov eax, [0x400000]
	PRINT "after cr3 reload "
	PHEX eax, 8
	NL

	; A global page: clearing CR4.PGE drops it from the TLB.
	mov eax, cr4
	or eax, 0x80
	mov cr4, eax
	mov dword [PT1 + 16], 0x200107
	mov eax, [0x404000]
	mov dword [PT1 + 16], 0x202107
	mov eax, cr3
	mov cr3, eax
	mov eax, cr4
	and eax, ~0x80
	mov cr4, eax
	mov eax, [0x404000]
	PRINT "global page after pge toggle "
	PHEX eax, 8
	NL

	; Ring 3 against user/supervisor and read-only pages.
	push dword SEL_DATA3
	push dword STACK3
	push dword 0x3202
	push dword SEL_CODE3
	push dword ring3
	iretd
ring3:
	mov ax, SEL_DATA3
	mov ds, ax
	mov es, ax
	mov eax, [0x400000]
	PRINT "user read ok", 10
	FT "user supervisor page", mov eax, [0x403000]
	FT "user read-only write", mov dword [0x401000], 1
	FT "user not present", mov eax, [0x402000]
	FT "user write not present", mov dword [0x402000], 1
	int 0x38

back_to_ring0:
	add esp, 20
	mov ax, SEL_DATA32
	mov ds, ax
	mov es, ax
	PRINT "back in ring 0", 10

	; PAE: a 2 MiB identity page, then 4 KiB pages from 0x200000.
	mov eax, cr0
	and eax, 0x7fffffff
	mov cr0, eax
	xor ecx, ecx
.z:	mov dword [PDPT + ecx * 4], 0
	mov dword [PAE_PD + ecx * 4], 0
	mov dword [PAE_PT + ecx * 4], 0
	inc ecx
	cmp ecx, 1024
	jb .z
	mov dword [PDPT], PAE_PD | 1
	mov dword [PAE_PD], 0x87
	mov dword [PAE_PD + 8], PAE_PT | 7
	mov dword [PAE_PT], 0x300007
	mov dword [PAE_PT + 16], 0x301007
	mov dword [PAE_PT + 20], 0x100                 ; bit 40: reserved
	mov dword [0x300000], 0x9ae9ae00
	mov eax, PDPT
	mov cr3, eax
	mov eax, cr4
	or eax, 0x20
	mov cr4, eax
	mov eax, cr0
	or eax, 0x80000000
	mov cr0, eax
	mov eax, [0x200000]
	PRINT "pae read "
	PHEX eax, 8
	PRINT " pte "
	PHEX [PAE_PT], 3
	PRINT " pde(2m) "
	PHEX [PAE_PD], 3
	NL
	FT "pae not present", mov eax, [0x201000]
	FT "pae reserved bit", mov eax, [0x202000]
	FT "pae pdpte not present", mov eax, [0x40000000]
	PRINT "cr2 "
	mov eax, cr2
	PHEX eax, 8
	NL
	mov eax, cr0
	and eax, 0x7fffffff
	mov cr0, eax
	PRINT "done", 10
	EXIT 0

;= paging on
;= 4k read aabbccdd pte 027 pde 027
;= after write pte 067
;= 4m read 4d4d4d4d pde 0a7
;= 4m after write pde 0e7
;= wp=0 write to read-only ok
;= wp=1 write #0e 0003 fault
;= cr2 00401000
;= not present #0e 0000 fault
;= cr2 00402010
;= unmapped 4m #0e 0000 fault
;= after invlpg 11223344
;= after cr3 reload aabbccdd
;= global page after pge toggle 11223344
;= user read ok
;= user supervisor page #0e 0005 fault
;= user read-only write #0e 0007 fault
;= user not present #0e 0004 fault
;= user write not present #0e 0006 fault
;= back in ring 0
;= pae read 9ae9ae00 pte 027 pde(2m) 0e7
;= pae not present #0e 0000 fault
;= pae reserved bit #0e 0009 fault
;= pae pdpte not present #0e 0000 fault
;= cr2 40000000
;= done
