/* SPDX-License-Identifier: MIT */
/*
 * The 256 IDT entry stubs and their common path. Each stub is 16-byte aligned
 * at sdk_isr_stubs + 16 * vector (desc.c relies on it), pushes a 0 where the
 * CPU pushes no error code so every frame has the same shape, pushes its
 * vector and joins isr_common, which saves all GPRs (struct sdk_regs in idt.h),
 * calls sdk_isr_dispatch(frame) and returns with IRETQ. The CPU has aligned RSP
 * to 16 before pushing its 5-word frame; 2 + 15 more words keep the call
 * aligned as the SysV ABI wants.
 *
 * The NMI (vector 2) takes the same path, with one addition under SEV-ES/SNP
 * (sdk_nmi_complete_on_iret set by sev.c): IRET does not end NMI blocking
 * there, the NMI_COMPLETE VMGEXIT does, and the hypervisor may inject the next
 * NMI the moment it returns, before IRET. That NMI would land on the same IST
 * stack and overwrite this one's frame, so the 22-word frame is first moved
 * below the interrupted RSP (the guest has no red zone), RSP follows it, and
 * only then does sdk_sev_nmi_complete() run and the IRET happen from there.
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
    .if vec == 2
    jmp     nmi_common
    .else
    jmp     isr_common
    .endif
    .set vec, vec + 1
    .endr

    .macro SAVE_REGS
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
    .endm

    .align 16
isr_common:
    SAVE_REGS
    cld
    mov     %rsp, %rdi
    call    sdk_isr_dispatch
isr_return:
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

    .align 16
nmi_common:
    SAVE_REGS
    cld
    mov     %rsp, %rdi
    call    sdk_isr_dispatch
    cmpb    $0, sdk_nmi_complete_on_iret(%rip)
    je      isr_return
    movq    20*8(%rsp), %rdi        /* the interrupted RSP */
    subq    $22*8, %rdi
    andq    $-16, %rdi
    movq    %rsp, %rsi
    movq    %rdi, %rdx
    movl    $22, %ecx
    rep movsq
    movq    %rdx, %rsp
    call    sdk_sev_nmi_complete
    jmp     isr_return

    .section .note.GNU-stack, "", @progbits
