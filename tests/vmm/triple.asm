; An empty IDT and a fault: a triple fault, which -no-reboot turns into
; v2e's fatal-guest status.
%include "mb.inc"
start:
	lidt [idtr]
	int3
idtr:	dw 0
	dd 0
image_end:
bss_end:
