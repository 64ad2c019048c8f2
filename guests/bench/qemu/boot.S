/* SPDX-License-Identifier: MIT */
/*
 * Entry of the bench's QEMU image: a multiboot (v1) kernel, as
 * `qemu-system-x86_64 -kernel` loads one (Multiboot Specification 0.6.96,
 * 3.1 header, 3.2 machine state: 32-bit protected mode, paging off, EAX =
 * 0x2BADB002, EBX = the information structure, GDT and IDT undefined). It
 * builds an identity map of the low 4 GiB with 2 MiB pages, enters long mode
 * (SDM vol. 3 9.8.5: CR4.PAE, CR3, EFER.LME, CR0.PG) and calls mb_main().
 *
 * The application processor starts from INIT-SIPI-SIPI in real mode at
 * CS:IP = 0x0800:0 (SDM vol. 3 8.4.4.1); mb_main() copies ap_tramp there. It
 * loads this image's GDT, enters protected mode and joins the bootstrap
 * processor's path to long mode, which then calls mb_ap_main() on ap_stack_top.
 */
#define MB_MAGIC  0x1BADB002
#define MB_FLAGS  0x00000003 /* modules page-aligned, memory information */

    .section .multiboot, "a"
    .balign 4
    .long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

    .section .text.boot, "ax"
    .code32
    .globl _start
_start:
    cli
    mov $boot_stack_top, %esp
    mov %ebx, mb_info
    lgdt tramp_gdtr /* the trampoline's pointer, at its place in the image */
    ljmp $0x18, $1f
1:  mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    /* PML4[0] -> PDPT; PDPT[0..3] -> the four PDs; 2048 2 MiB pages. */
    movl $pdpt + 3, pml4
    mov $pd, %eax
    or $3, %eax
    xor %ecx, %ecx
2:  mov %eax, pdpt(,%ecx,8)
    add $4096, %eax
    inc %ecx
    cmp $4, %ecx
    jne 2b
    xor %ecx, %ecx
3:  mov %ecx, %eax
    shl $21, %eax
    or $0x83, %eax /* present, writable, 2 MiB */
    mov %eax, pd(,%ecx,8)
    inc %ecx
    cmp $2048, %ecx
    jne 3b
    xor %ebp, %ebp /* the bootstrap processor */
    jmp to_long

/* Both processors, in 32-bit protected mode on this image's GDT; EBP = 1 on the AP. */
to_long:
    mov $pml4, %eax
    mov %eax, %cr3
    mov %cr4, %eax
    or $0x20, %eax /* PAE */
    mov %eax, %cr4
    mov $0xC0000080, %ecx /* EFER */
    rdmsr
    or $0x100, %eax /* LME */
    wrmsr
    mov %cr0, %eax
    or $0x80000001, %eax /* PG, PE */
    mov %eax, %cr0
    ljmp $0x08, $long_entry

ap_pm32:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov $1, %ebp
    jmp to_long

    .code64
long_entry:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    xor %eax, %eax
    mov %ax, %fs
    mov %ax, %gs
    test %ebp, %ebp
    jnz 1f
    mov $boot_stack_top, %rsp
    mov mb_info(%rip), %edi
    call mb_main
    jmp halt
1:  mov ap_stack_top(%rip), %rsp
    call mb_ap_main
halt:
    cli
    hlt
    jmp halt

/* Interrupt entry: the vector is pushed by a stub, mb_interrupt(vector) runs
 * with the caller-saved registers saved (the C code uses no SSE). */
    .macro VEC n
    .globl mb_vec_\n
mb_vec_\n:
    push $\n
    jmp vec_common
    .endm
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    VEC \n
    .endr
    VEC 64
    VEC 65
vec_common:
    push %rax
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %r8
    push %r9
    push %r10
    push %r11
    mov 72(%rsp), %rdi
    call mb_interrupt
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rax
    add $8, %rsp
    iretq

/* Real-mode AP trampoline, copied to 0x8000 (SIPI vector 0x08): CS = 0x800,
 * so its own data is addressed relative to ap_tramp. */
    .code16
    .globl ap_tramp, ap_tramp_end
ap_tramp:
    cli
    mov %cs, %ax
    mov %ax, %ds
    lgdtl tramp_gdtr - ap_tramp
    mov %cr0, %eax
    or $1, %eax
    mov %eax, %cr0
    .byte 0x66, 0xEA /* ljmpl $0x18, $ap_pm32 */
    .long ap_pm32
    .word 0x18
tramp_gdtr:
    .word gdt_end - gdt - 1
    .long gdt
ap_tramp_end:

    .section .rodata
    .balign 16
gdt:
    .quad 0
    .quad 0x00AF9A000000FFFF /* 0x08: 64-bit code */
    .quad 0x00CF92000000FFFF /* 0x10: flat data */
    .quad 0x00CF9A000000FFFF /* 0x18: flat 32-bit code */
gdt_end:

    .data
    .balign 8
    .globl mb_info, ap_stack_top
mb_info:
    .quad 0
ap_stack_top:
    .quad 0

    .bss
    .balign 4096
pml4:
    .skip 4096
pdpt:
    .skip 4096
pd:
    .skip 4 * 4096
    .balign 16
    .skip 16384
boot_stack_top:
