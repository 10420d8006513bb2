; Spins until the TSC (1 GHz of virtual time) has advanced by 1 ms and
; exits with the number of loop iterations modulo 128: under -icount two
; runs must give the same status.
%include "mb.inc"
start:
	rdtsc
	mov esi, eax
	xor ecx, ecx
.spin:
	inc ecx
	rdtsc
	sub eax, esi
	cmp eax, 1000000
	jb .spin
	and ecx, 0x7f
	EXIT ecx
image_end:
bss_end:
