/* SPDX-License-Identifier: MIT */
/*
 * Entry points. The loader starts vCPU 0 at _start and the model starts every
 * AP at SIPI vector << 12 = 0x8000 (sdk_ap_start, section .ap_entry), both in
 * 64-bit mode with RDI = boot info, RSI = vCPU index, RSP = the vCPU's boot
 * stack and IF = 0 (docs/guest-abi.md). Both pass the entry RSP and RFLAGS on
 * to C (RDX, RCX) so tests can check the ABI, align the stack and never return.
 * Under SEV-ES every AP starts at the ELF entry from its launch VMSA, with
 * RSI = its index: _start sends those to the AP path.
 */
    .section .text.start, "ax"
    .globl _start
    .type _start, @function
_start:
    test    %rsi, %rsi
    jnz     sdk_ap_start
    mov     %rsp, %rdx
    pushfq
    pop     %rcx
    xor     %ebp, %ebp
    and     $-16, %rsp
    call    sdk_bsp_entry
1:  cli
    hlt
    jmp     1b
    .size _start, . - _start

    .section .ap_entry, "ax"
    .globl sdk_ap_start
    .type sdk_ap_start, @function
sdk_ap_start:
    mov     %rsp, %rdx
    pushfq
    pop     %rcx
    xor     %ebp, %ebp
    and     $-16, %rsp
    call    sdk_ap_entry
1:  cli
    hlt
    jmp     1b
    .size sdk_ap_start, . - sdk_ap_start

/*
 * sdk_ap_jump(entry, stack_top, bootinfo, index): continue at a 64-bit AP
 * entry (sdk_ap_start or what an AP jump table names) with the entry state it
 * expects: RSP = stack_top, RDI = boot info, RSI = index. Never returns.
 */
    .text
    .globl sdk_ap_jump
    .type sdk_ap_jump, @function
sdk_ap_jump:
    mov     %rsi, %rsp
    mov     %rdi, %rax
    mov     %rdx, %rdi
    mov     %rcx, %rsi
    xor     %edx, %edx
    xor     %ecx, %ecx
    xor     %ebp, %ebp
    jmp     *%rax
    .size sdk_ap_jump, . - sdk_ap_jump

    .section .note.GNU-stack, "", @progbits
