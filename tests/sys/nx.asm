; PAE with NX, on a CPU model that reports NX (CPUID.80000001H:EDX[20]):
; EFER.NXE enables the execute-disable bit in PTEs and PDEs (#PF with the
; I/D bit on a fetch; reads still work); with NXE clear the bit is
; reserved (#PF with RSVD).
%include "lib.inc"

PDPT equ 0x103000
PAE_PD equ 0x104000
PAE_PT equ 0x105000

	bits 16
main16:
	PM_ENTER
	bits 32
	mov eax, 0x80000001
	cpuid
	PRINT "cpuid 80000001 edx "
	PHEX edx, 8
	NL
	xor ecx, ecx
.z:	mov dword [PDPT + ecx * 4], 0
	mov dword [PAE_PD + ecx * 4], 0
	mov dword [PAE_PT + ecx * 4], 0
	inc ecx
	cmp ecx, 1024
	jb .z
	mov dword [PDPT], PAE_PD | 1
	mov dword [PAE_PD], 0x87                   ; 0-2M identity, executable
	mov dword [PAE_PD + 8], PAE_PT | 7
	mov dword [PAE_PD + 16], 0x400087          ; 4M-6M, 2M page, NX
	mov dword [PAE_PD + 20], 0x80000000
	mov dword [PAE_PT], 0x300007               ; 0x200000: NX
	mov dword [PAE_PT + 4], 0x80000000
	mov dword [PAE_PT + 8], 0x301007           ; 0x201000: executable
	mov byte [0x300000], 0xc3
	mov byte [0x301000], 0xc3
	mov byte [0x400000], 0xc3
	mov ecx, 0xc0000080
	mov eax, 0x800
	xor edx, edx
	wrmsr
	rdmsr
	PRINT "efer "
	PHEX eax, 8
	NL
	mov eax, PDPT
	mov cr3, eax
	mov eax, cr4
	or eax, 0x20
	mov cr4, eax
	mov eax, cr0
	or eax, 0x80000000
	mov cr0, eax

	call 0x201000
	PRINT "executable page runs", 10
	mov eax, [0x200000]
	PRINT "nx page reads "
	PHEX eax, 2
	NL
	RESUME_AT .r1
	call 0x200000
.r1:	add esp, 4
	PRINT "fetch from nx pte "
	call print_exc
	PRINT " eip "
	PHEX [last_eip], 8
	NL
	RESUME_AT .r2
	call 0x400000
.r2:	add esp, 4
	PRINT "fetch from nx pde "
	call print_exc
	NL
	; NXE off: bit 63 is reserved.
	mov ecx, 0xc0000080
	xor eax, eax
	xor edx, edx
	wrmsr
	FT "nxe off read", mov eax, [0x200000]
	EXIT 0

;! nx
;= cpuid 80000001 edx 00100000
;= efer 00000800
;= executable page runs
;= nx page reads c3
;= fetch from nx pte #0e 0011 eip 00200000
;= fetch from nx pde #0e 0011
;= nxe off read #0e 0009 fault
