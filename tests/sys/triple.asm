; Double and triple fault: with an IDT too short for any vector, INT3's
; gate is beyond the limit (#GP), #GP's too (#DF), and #DF's as well:
; the processor shuts down, which ends the run.
%include "lib.inc"

	bits 16
main16:
	PM_ENTER
	bits 32
	PRINT "before", 10
	lidt [empty_idtr]
	int3
	PRINT "FAIL: still running", 10
	EXIT 1

empty_idtr:
	dw 0
	dd 0

;! shutdown
;= before
