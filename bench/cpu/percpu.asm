; Per-CPU variables as the i386 Linux kernel reaches them: through FS,
; whose descriptor has a base (the CPU's per-CPU area) and a limit. The
; loop has the shape of preempt_disable/enable around a few per-CPU
; reads and updates (moffs forms, [fs:disp32], [fs:reg*4 + disp32]) with
; ordinary flat work between them.
%include "mb.inc"
PERCPU equ 0x200000             ; the per-CPU area
start:
	mov esp, stack_top
	lgdt [gdt_desc]
	jmp 0x08:.flat
.flat:
	mov ax, 0x10
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov gs, ax
	mov ax, 0x18
	mov fs, ax
	mov dword [fs:current], 0x1234
	mov ebp, 4000000
	xor ebx, ebx
.loop:
	inc dword [fs:preempt]          ; preempt_disable()
	mov eax, [fs:current]           ; this_cpu_read(current_task)
	add eax, [fs:counter]
	mov [fs:counter], eax
	mov edx, [fs:ebx * 4 + stats]   ; this_cpu_inc(stats[i])
	add edx, 1
	mov [fs:ebx * 4 + stats], edx
	lea ecx, [ebx + 1]
	and ecx, 15
	mov ebx, ecx
	xor esi, eax
	dec dword [fs:preempt]          ; preempt_enable()
	dec ebp
	jnz .loop
	EXIT

	align 8
gdt:
	dq 0
	dq 0x00cf9a000000ffff           ; 0x08 code, flat
	dq 0x00cf92000000ffff           ; 0x10 data, flat
	; 0x18 data, base PERCPU, limit 64 KiB (byte granular)
	dw 0xffff, PERCPU & 0xffff
	db (PERCPU >> 16) & 0xff, 0x92, 0x40, (PERCPU >> 24) & 0xff
gdt_desc:
	dw gdt_desc - gdt - 1
	dd gdt

; Offsets in the per-CPU area.
preempt equ 0x0
current equ 0x4
counter equ 0x8
stats equ 0x40
image_end:
	align 16
	times 4096 db 0
stack_top:
bss_end:
