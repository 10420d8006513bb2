; Exits at once: measures each emulator's start-up and exit cost, which
; run.sh subtracts from the other kernels' times.
%include "mb.inc"
start:
	EXIT
image_end:
bss_end:
