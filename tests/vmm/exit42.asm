; Checks what the loader handed over (EAX magic, EBX pointing at the
; information with the command line "PATH hello": the kernel's file name
; first, as QEMU and GRUB pass it), then exits with 0x21: v2e's status must
; be (0x21 << 1) | 1 = 67.
%include "mb.inc"
start:
	cmp eax, 0x2BADB002
	jne .bad
	test dword [ebx], 4          ; command line present
	jz .bad
	mov esi, [ebx + 16]
	cmp byte [esi], ' '          ; an argv[0] first: the path v2e was given
	jbe .bad
.word:	lodsb                        ; past the first word and its space
	test al, al
	jz .bad
	cmp al, ' '
	jne .word
	cmp dword [esi], 'hell'
	jne .bad
	cmp byte [esi + 4], 'o'
	jne .bad
	EXIT 0x21
.bad:
	EXIT 0x7f
image_end:
bss_end:
