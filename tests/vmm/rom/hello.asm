; A 64 KiB firmware image for -bios: mapped whole at 0xffff0000 and at
; 0xf0000. The reset vector (0xfffffff0, the top of 4 GiB) jumps far into
; the copy below 1 MiB; there the code writes a line to the debug console
; at 0xe9, checks the console's readback byte, and ends the VM through
; isa-debug-exit at 0xf4: 0x21 (status 67) when all went well.
bits 16
org 0

start:
	cli
	mov ax, cs
	mov ds, ax
	mov si, msg
	mov dx, 0xe9
.next:
	lodsb
	test al, al
	jz .done
	out dx, al
	jmp .next
.done:
	in al, dx
	mov ah, 0x21
	cmp al, 0xe9
	je .exit
	mov ah, 0x10               ; no readback: status 33
.exit:
	mov al, ah
	mov dx, 0xf4
	out dx, al
	hlt
	jmp .exit

msg:	db "hello from the reset vector", 10, 0

	times 0xfff0 - ($ - $$) db 0xff
reset:                             ; CS base 0xffff0000, IP 0xfff0
	jmp 0xf000:start
	times 0x10000 - ($ - $$) db 0xff
