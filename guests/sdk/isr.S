/* SPDX-License-Identifier: MIT */
/*
 * The 256 IDT entry stubs and their common path. Each stub is 16-byte aligned
 * at sdk_isr_stubs + 16 * vector (desc.c relies on it), pushes a 0 where the
 * CPU pushes no error code so every frame has the same shape, pushes its
 * vector and joins isr_common, which saves all GPRs (struct sdk_regs in idt.h),
 * calls sdk_isr_dispatch(frame) and returns with IRETQ. The CPU has aligned RSP
 * to 16 before pushing its 5-word frame; 2 + 15 more words keep the call
 * aligned as the SysV ABI wants.
 */
    .text
    .globl sdk_isr_stubs
    .align 16
sdk_isr_stubs:
    .set vec, 0
    .rept 256
    .align 16
    /* #DF #TS #NP #SS #GP #PF #AC #CP #VC #SX push an error code. */
    .if (vec == 8) || ((vec >= 10) && (vec <= 14)) || (vec == 17) || (vec == 21) \
        || (vec == 29) || (vec == 30)
    .else
    pushq   $0
    .endif
    pushq   $vec
    jmp     isr_common
    .set vec, vec + 1
    .endr

    .align 16
isr_common:
    pushq   %rax
    pushq   %rbx
    pushq   %rcx
    pushq   %rdx
    pushq   %rsi
    pushq   %rdi
    pushq   %rbp
    pushq   %r8
    pushq   %r9
    pushq   %r10
    pushq   %r11
    pushq   %r12
    pushq   %r13
    pushq   %r14
    pushq   %r15
    cld
    mov     %rsp, %rdi
    call    sdk_isr_dispatch
    popq    %r15
    popq    %r14
    popq    %r13
    popq    %r12
    popq    %r11
    popq    %r10
    popq    %r9
    popq    %r8
    popq    %rbp
    popq    %rdi
    popq    %rsi
    popq    %rdx
    popq    %rcx
    popq    %rbx
    popq    %rax
    add     $16, %rsp               /* vector and error code */
    iretq

    .section .note.GNU-stack, "", @progbits
