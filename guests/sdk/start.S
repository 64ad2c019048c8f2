/* SPDX-License-Identifier: MIT */
/*
 * Entry points. The loader starts vCPU 0 at _start in 64-bit mode with RDI =
 * boot info, RSI = vCPU index, RSP = the vCPU's boot stack and IF = 0
 * (docs/guest-abi.md). A plain-mode AP starts as on hardware, in real mode at
 * CS:IP = 0x0800:0 after SIPI vector 0x08 (sdk_ap_tramp, first in section
 * .ap_entry at 0x8000); the trampoline goes to 32-bit protected mode, then to
 * long mode with the loader's page tables, and enters sdk_ap_start with the
 * same state the BSP got. Both pass the entry RSP and RFLAGS on to C (RDX,
 * RCX) so tests can check the ABI, align the stack and never return.
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

    .section .ap_entry, "awx"
/*
 * The AP trampoline (SDM vol. 3 9.9.1 "Switching to protected mode", 9.8.5
 * "Initializing IA-32e mode"). Real mode with CS = DS = 0x0800: load the
 * trampoline's own GDT, set CR0.PE and far-jump to its 32-bit code segment;
 * there set CR4 (PAE ...), CR3 = the loader's page tables, EFER.LME (and SCE,
 * NXE), then CR0.PG, and far-jump to its 64-bit code segment. In long mode it
 * loads the loader's GDT, finds its index from its x2APIC ID in the boot info
 * and enters sdk_ap_start with RDI, RSI, RSP and RFLAGS as the loader gives
 * the BSP. The BSP fills sdk_ap_params before its first SIPI (smp.c).
 */
    .code16
    .globl sdk_ap_tramp
sdk_ap_tramp:
    cli
    cld
    mov     %cs, %ax
    mov     %ax, %ds
    lgdtl   (tramp_gdtr - sdk_ap_tramp)
    mov     %cr0, %eax
    or      $1, %eax
    mov     %eax, %cr0
    ljmpl   $0x08, $tramp32

    .code32
tramp32:
    mov     $0x10, %ax
    mov     %ax, %ds
    mov     %ax, %es
    mov     %ax, %ss
    mov     $0x6A0, %eax                /* PAE PGE OSFXSR OSXMMEXCPT */
    mov     %eax, %cr4
    mov     sdk_ap_params + 0, %eax     /* cr3 (below 4 GiB) */
    mov     %eax, %cr3
    mov     $0xC0000080, %ecx
    rdmsr
    or      $0x901, %eax                /* SCE LME NXE */
    wrmsr
    mov     $0x80010033, %eax           /* PE MP ET NE WP PG */
    mov     %eax, %cr0
    ljmp    $0x18, $tramp64

    .code64
tramp64:
    lgdt    sdk_ap_params + 8           /* the loader's GDT */
    mov     $0x802, %ecx                /* x2APIC ID */
    rdmsr
    mov     sdk_ap_params + 24, %rdi    /* boot info */
    mov     sdk_ap_params + 32, %r8     /* &bi->apic_id[0] */
    mov     sdk_ap_params + 40, %r9d    /* vCPU count */
    xor     %esi, %esi
2:  cmp     %esi, %r9d
    je      4f
    cmp     (%r8,%rsi,4), %eax
    je      3f
    inc     %esi
    jmp     2b
3:  mov     %rsi, %rax
    imul    sdk_ap_params + 56, %rax    /* index * stack_size */
    mov     sdk_ap_params + 48, %rsp    /* stack_top_base */
    sub     %rax, %rsp
    pushq   $0x08                       /* CS = the loader's 64-bit code segment */
    pushq   $1f
    lretq
1:  mov     $0x10, %eax
    mov     %eax, %ds
    mov     %eax, %es
    mov     %eax, %ss
    mov     %eax, %fs
    mov     %eax, %gs
    pushq   $2
    popfq
    xor     %eax, %eax
    xor     %ecx, %ecx
    xor     %edx, %edx
    xor     %r8d, %r8d
    xor     %r9d, %r9d
    jmp     sdk_ap_start
4:  cli                                 /* an APIC ID the boot info does not name */
    hlt
    jmp     4b

    .p2align 3
tramp_gdt:
    .quad   0
    .quad   0x00CF9A000000FFFF          /* 0x08 32-bit code */
    .quad   0x00CF92000000FFFF          /* 0x10 data */
    .quad   0x00AF9A000000FFFF          /* 0x18 64-bit code */
tramp_gdtr:
    .word   tramp_gdtr - tramp_gdt - 1
    .long   tramp_gdt

/* Filled by the BSP: cr3 @0, loader GDTR @8 (limit, base), boot info @24,
 * &apic_id[0] @32, vCPU count @40, stack_top_base @48, stack_size @56. */
    .p2align 3
    .globl sdk_ap_params
sdk_ap_params:
    .fill   64, 1, 0

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
