; Moves a device model's window under the running guest: the test-sandbox
; device (test builds, at 0x720) moves its own window when base+4 is
; written, and adds or removes a one-port window at what base+6 is given.
; Each check's number is the exit value on failure; 0x21 is success.
%include "mb.inc"
OLD equ 0x720
NEW equ 0x730
EXTRA equ 0x740

%macro EXPECT 2                 ; EAX must be %1, else exit with %2
	cmp eax, %1
	jne fail_%2
%endmacro

start:
	mov dx, OLD + 4
	in eax, dx
	EXPECT OLD, 1                ; the window answers where it was claimed
	mov eax, NEW
	out dx, eax                  ; move it
	in eax, dx
	EXPECT 0xffffffff, 2         ; the very next access: the old place is empty
	mov dx, NEW + 4
	in eax, dx
	EXPECT NEW, 3                ; and the new one answers
	mov dx, NEW + 6
	mov ax, EXTRA
	out dx, ax                   ; a window added while the guest runs
	mov dx, EXTRA
	xor eax, eax
	in al, dx
	EXPECT 0xa5, 4
	mov dx, NEW + 6
	xor eax, eax
	out dx, ax                   ; and removed again
	mov dx, EXTRA
	xor eax, eax
	in al, dx
	EXPECT 0xff, 5
	mov dx, NEW + 4
	mov eax, 0x3f8
	out dx, eax                  ; onto COM1: refused, it stays
	in eax, dx
	EXPECT NEW, 6
	mov ecx, 1000                ; back and forth in a loop (compiled code)
.again:	mov dx, NEW + 4
	mov eax, OLD
	out dx, eax
	mov dx, OLD + 4
	in eax, dx
	EXPECT OLD, 7
	mov eax, NEW
	out dx, eax
	mov dx, NEW + 4
	in eax, dx
	EXPECT NEW, 8
	dec ecx
	jnz .again
	EXIT 0x21
%assign i 1
%rep 8
fail_ %+ i:
	EXIT i
%assign i i + 1
%endrep
image_end:
bss_end:
