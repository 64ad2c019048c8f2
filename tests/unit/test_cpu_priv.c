/* SPDX-License-Identifier: MIT */
/*
 * Check suite for the vCPU engine (cpu/), part 4: privilege. The CPL and the
 * CS/SS descriptor caches across every privilege change the model performs
 * (IDT delivery from ring 3 and IRETQ back, SYSCALL/SYSRET per AMD APM vol. 3,
 * SWAPGS), the model's own guest-memory accesses at the access's CPL under
 * SMAP (SDM vol. 3 4.6), #GP for invalid CR0/CR3/CR4 and MSR writes, the
 * report of a vCPU that takes events without ever retiring an instruction, and
 * the SNP host's RMPUPDATE / PSMASH (#UD unless granted; #PF on their state,
 * #GP at CPL 3; docs/psp.md).
 *
 * The CPL the engine enforces is observed the way a guest would: `mov rax,
 * cr0` runs at CPL 0 and raises #GP at CPL 3.
 */
#include "test_cpu_harness.h"
#include "ck_run.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define RFLAGS_AC (1ull << 18)
#define CR4_SMAP  (1ull << 21)

/* SYSCALL/SYSRET tests use a Linux-shaped GDT (arch/x86/include/asm/segment.h:
 * user data below the 64-bit user code, as SYSRET's selector arithmetic needs). */
#define L_CODE0  0x08
#define L_DATA0  0x10
#define L_CODE32 0x1B
#define L_DATA3  0x23
#define L_CODE64 0x2B
#define STAR_VAL ((uint64_t)(L_CODE32 & ~3) << 48 | (uint64_t)L_CODE0 << 32)

#define MSR_EFER   0xC0000080u
#define MSR_STAR   0xC0000081u
#define MSR_LSTAR  0xC0000082u
#define MSR_CSTAR  0xC0000083u
#define MSR_SFMASK 0xC0000084u
#define MSR_GS_BASE 0xC0000101u
#define MSR_KGS_BASE 0xC0000102u

/* Writes at `at` an IRETQ frame build and IRETQ to cs:rip with ss:rsp and rflags. */
static void enter_user(uint64_t at, uint8_t cs, uint8_t ss, uint32_t rflags, uint32_t rip)
{
    uint8_t c[] = {
        0x6A, ss,                                   /* push ss */
        0x68, 0x00, 0x20, 0x04, 0x00,               /* push USER_STACK_TOP */
        0x68, (uint8_t)rflags, (uint8_t)(rflags >> 8), (uint8_t)(rflags >> 16),
        (uint8_t)(rflags >> 24),                    /* push rflags */
        0x6A, cs,                                   /* push cs */
        0x68, (uint8_t)rip, (uint8_t)(rip >> 8), (uint8_t)(rip >> 16), (uint8_t)(rip >> 24),
        0x48, 0xCF,                                 /* iretq */
    };
    put(at, c, sizeof(c));
}

static uint64_t msr(uint32_t id)
{
    uint64_t val = 0;
    ck_assert(vcpu_msr_get(h.v, id, &val));
    return val;
}

/* ============================== RMPUPDATE and PSMASH ===================================== */

/* RMPUPDATE's state (Linux struct rmp_state) at DATA: GPA, assigned, 4 KiB, immutable, ASID 7. */
static const uint8_t rmp_state_bytes[16] = {0x00, 0x30, 0x20, 0, 0, 0, 0, 0, 1, 0, 1, 0, 7, 0, 0, 0};

/* No RMPUPDATE / PSMASH reached the model (the stub's HLT may have). */
static bool no_rmp_exit(void)
{
    for (unsigned i = 0; i < h.nexits && i < MAXREC; i++)
        if (h.exits[i].e.code == VCPU_INSN_RMPUPDATE || h.exits[i].e.code == VCPU_INSN_PSMASH)
            return false;
    return true;
}

static int answer_rmp(struct vcpu *v, struct vcpu_exit *e)
{
    if (e->code == VCPU_INSN_RMPUPDATE || e->code == VCPU_INSN_PSMASH)
        vcpu_set(v, VR_RAX, e->code == VCPU_INSN_RMPUPDATE ? 0 : 6); /* the model's status */
    return -1;
}

START_TEST(rmpupdate_and_psmash_are_ud_on_a_vcpu_not_granted_them)
{
    CODE_AT(CODE,
        0xF2, 0x0F, 0x01, 0xFE,         /* rmpupdate */
    );
    run_to_stub(X86_UD);
    ck_assert_uint_eq(h.deliv[0].rip, CODE);
    ck_assert(no_rmp_exit());
    CODE_AT(CODE,
        0xF3, 0x0F, 0x01, 0xFF,         /* psmash */
    );
    vcpu_set(h.v, VR_RIP, CODE);
    h.ndeliv = 0;
    run_to_stub(X86_UD);
    ck_assert(no_rmp_exit());
}
END_TEST

START_TEST(a_host_vcpu_hands_rmpupdate_and_psmash_to_the_model_with_the_state_it_read)
{
    put(DATA, rmp_state_bytes, sizeof(rmp_state_bytes));
    h.on_exit = answer_rmp;
    CODE_AT(CODE,
        0x48, 0xC7, 0xC0, 0x00, 0x30, 0x20, 0x00, /* mov rax, 0x203000 */
        0x48, 0xC7, 0xC1, 0x00, 0x00, 0x02, 0x00, /* mov rcx, DATA */
        0xF2, 0x0F, 0x01, 0xFE,                   /* rmpupdate */
        0x48, 0x89, 0xC3,                         /* mov rbx, rax */
        0x48, 0xC7, 0xC0, 0x00, 0x00, 0x20, 0x00, /* mov rax, 0x200000 */
        0xF3, 0x0F, 0x01, 0xFF,                   /* psmash */
        0xF4,                                     /* hlt */
    );
    vcpu_set(h.v, VR_RBX, 0xFF);
    ck_assert_int_eq(run(1000), VCPU_STOP_HALT);
    ck_assert_uint_eq(h.ndeliv, 0);
    ck_assert_uint_eq(h.nexits, 3); /* RMPUPDATE, PSMASH, HLT */
    ck_assert_uint_eq(h.exits[0].e.code, VCPU_INSN_RMPUPDATE);
    ck_assert_uint_eq(h.exits[0].e.info1, 0x203000);
    ck_assert_uint_eq(h.exits[0].e.info2, 0x203000);              /* state.gpa */
    ck_assert_uint_eq(h.exits[0].e.data, 0x0000000700010001ull);  /* assigned, immutable, ASID 7 */
    ck_assert_uint_eq(h.exits[0].e.next_rip, CODE + 18);
    ck_assert_uint_eq(reg(VR_RBX), 0);                            /* the model's RAX */
    ck_assert_uint_eq(h.exits[1].e.code, VCPU_INSN_PSMASH);
    ck_assert_uint_eq(h.exits[1].e.info1, 0x200000);
    ck_assert_uint_eq(reg(VR_RAX), 6);
}
END_TEST

START_TEST(rmpupdate_with_an_unmapped_state_is_a_page_fault_and_in_ring3_a_gp)
{
    CODE_AT(CODE,
        0x48, 0xC7, 0xC1, 0x00, 0x00, 0x00, 0x7F, /* mov rcx, 0x7F000000 (not mapped) */
        0xF2, 0x0F, 0x01, 0xFE,                   /* rmpupdate */
    );
    run_to_stub(X86_PF);
    ck_assert_uint_eq(h.deliv[0].rip, CODE + 7);
    ck_assert(no_rmp_exit());
    CODE_AT(USER_CODE,
        0xF2, 0x0F, 0x01, 0xFE,                   /* rmpupdate at CPL 3 */
    );
    h.ndeliv = 0;
    enter_user(CODE, SEL_CODE3, SEL_DATA3, 0x2, USER_CODE);
    vcpu_set(h.v, VR_RIP, CODE);
    run_to_stub(X86_GP);
    ck_assert_uint_eq(h.deliv[h.ndeliv - 1].ev.error, 0);
    ck_assert_uint_eq(h.deliv[h.ndeliv - 1].rip, USER_CODE);
    ck_assert(no_rmp_exit());
}
END_TEST

/* ============================== IDT delivery and IRETQ =================================== */

START_TEST(a_ring3_fault_runs_its_handler_at_cpl0_and_iretq_returns_to_ring3)
{
    /* #UD handler: a ring-0-only instruction, skip the ud2, back to ring 3. */
    set_gate(X86_UD, HANDLERS, GATE_INTR, 0, true);
    CODE_AT(HANDLERS,
        0x0F, 0x20, 0xC0,               /* 0: mov rax, cr0 */
        0x48, 0x83, 0x04, 0x24, 0x02,   /* 3: add qword [rsp], 2 */
        0x48, 0xCF,                     /* 8: iretq */
    );
    CODE_AT(USER_CODE,
        0x0F, 0x0B,                     /* 0: ud2 */
        0x0F, 0x20, 0xC0,               /* 2: mov rax, cr0 (#GP at CPL 3) */
    );
    enter_user(CODE, SEL_CODE3, SEL_DATA3, 0x2, USER_CODE);
    run_to_stub(X86_GP);
    ck_assert_uint_eq(h.ndeliv, 2);
    ck_assert_uint_eq(h.deliv[0].ev.vector, X86_UD);
    ck_assert_uint_eq(h.deliv[0].rip, USER_CODE);
    /* The handler read CR0 at CPL 0; the user's read faulted at CPL 3. */
    ck_assert_uint_eq(reg(VR_RAX), reg(VR_CR0));
    ck_assert_uint_eq(h.deliv[1].ev.vector, X86_GP);
    ck_assert_uint_eq(h.deliv[1].ev.error, 0);
    ck_assert_uint_eq(stk(0), 0);
    ck_assert_uint_eq(stk(1), USER_CODE + 2);
    ck_assert_uint_eq(stk(2), SEL_CODE3);
    ck_assert_uint_eq(stk(4), USER_STACK_TOP);
    ck_assert_uint_eq(stk(5), SEL_DATA3);
    ck_assert_uint_eq(reg(VR_RSP), RSP0_TOP - 48);
    ck_assert_uint_eq(vcpu_cpl(h.v), 0);
}
END_TEST

START_TEST(a_ring3_interrupt_handler_can_run_privileged_code_before_returning)
{
    /* An interrupt taken in ring 3 whose handler writes CR2 and returns. */
    set_gate(0x40, HANDLERS, GATE_INTR, 0, true);
    CODE_AT(HANDLERS,
        0x48, 0xC7, 0xC0, 0x11, 0x22, 0x00, 0x00, /* 0: mov rax, 0x2211 */
        0x0F, 0x22, 0xD0,               /* 7: mov cr2, rax */
        0x48, 0xCF,                     /* a: iretq */
    );
    CODE_AT(USER_CODE,
        0x90,                           /* 0: nop */
        0xEB, 0xFD,                     /* 1: jmp 0 */
    );
    enter_user(CODE, SEL_CODE3, SEL_DATA3, 0x202, USER_CODE);
    h.queue[h.nqueue++] = (struct vcpu_event){VEV_EXTINT, 0x40, false, 0, 0};
    ck_assert_int_eq(run(2000), VCPU_STOP_QUANTUM);
    ck_assert_uint_eq(h.ndeliv, 1);
    ck_assert_uint_eq(h.nshutdown, 0);
    ck_assert_uint_eq(reg(VR_CR2), 0x2211);
    ck_assert_uint_eq(vcpu_cpl(h.v), 3);
    ck_assert_uint_ge(reg(VR_RIP), USER_CODE);
    ck_assert_uint_le(reg(VR_RIP), USER_CODE + 1);
}
END_TEST

/* ================================== SYSCALL / SYSRET ===================================== */

static void linux_gdt(void)
{
    static const uint64_t gdt[7] = {
        0,
        0x00AF9A000000FFFFull, /* 0x08 code64 DPL0 */
        0x00CF92000000FFFFull, /* 0x10 data DPL0 */
        0x00CFFA000000FFFFull, /* 0x18 code32 DPL3 */
        0x00CFF2000000FFFFull, /* 0x20 data DPL3 */
        0x00AFFA000000FFFFull, /* 0x28 code64 DPL3 (TR is already loaded) */
        0,
    };
    put(GDT, gdt, sizeof(gdt));
}

static void syscall_msrs(uint64_t sfmask)
{
    linux_gdt();
    ck_assert(vcpu_msr_set(h.v, MSR_EFER, msr(MSR_EFER) | 1)); /* SCE */
    ck_assert(vcpu_msr_set(h.v, MSR_STAR, STAR_VAL));
    ck_assert(vcpu_msr_set(h.v, MSR_LSTAR, HANDLERS));
    ck_assert(vcpu_msr_set(h.v, MSR_CSTAR, HANDLERS + 0x100));
    ck_assert(vcpu_msr_set(h.v, MSR_SFMASK, sfmask));
}

START_TEST(syscall_enters_lstar_at_cpl0_and_sysretq_returns_to_ring3_with_user_selectors)
{
    syscall_msrs(0x600); /* IF, DF */
    CODE_AT(HANDLERS,
        0x0F, 0x20, 0xC0,               /* 0: mov rax, cr0 (CPL 0) */
        0x48, 0x89, 0xCF,               /* 3: mov rdi, rcx */
        0x4C, 0x89, 0xDE,               /* 6: mov rsi, r11 */
        0x9C,                           /* 9: pushfq */
        0x5A,                           /* a: pop rdx */
        0x49, 0x8C, 0xC8,               /* b: mov r8, cs */
        0x49, 0x8C, 0xD1,               /* e: mov r9, ss */
        0x48, 0x0F, 0x07,               /* 11: sysretq */
    );
    CODE_AT(USER_CODE,
        0x0F, 0x05,                     /* 0: syscall */
        0x4C, 0x89, 0xCB,               /* 2: mov rbx, r9 */
        0x0F, 0x20, 0xC0,               /* 5: mov rax, cr0 (#GP at CPL 3) */
    );
    enter_user(CODE, L_CODE64, L_DATA3, 0x602, USER_CODE);
    run_to_stub(X86_GP);
    ck_assert_uint_eq(h.ndeliv, 1);
    ck_assert_uint_eq(reg(VR_RAX), reg(VR_CR0));  /* the handler ran at CPL 0 */
    ck_assert_uint_eq(reg(VR_RDI), USER_CODE + 2); /* RCX: the return RIP */
    ck_assert_uint_eq(reg(VR_RSI), 0x602);        /* R11: RFLAGS at SYSCALL */
    ck_assert_uint_eq(reg(VR_RDX), 0x2);          /* SFMASK cleared IF and DF */
    ck_assert_uint_eq(reg(VR_R8), L_CODE0);       /* STAR[47:32] */
    ck_assert_uint_eq(reg(VR_R9), L_DATA0);       /* STAR[47:32] + 8 */
    /* SYSRETQ: CS = STAR[63:48] + 16, SS = STAR[63:48] + 8, RPL 3, RFLAGS = R11. */
    ck_assert_uint_eq(stk(1), USER_CODE + 5);
    ck_assert_uint_eq(stk(2), L_CODE64);
    ck_assert_uint_eq(stk(3), 0x602);
    ck_assert_uint_eq(stk(5), L_DATA3);
    /* IRETQ entry (6), SYSCALL, the handler (8), one user instruction, the stub's HLT. */
    ck_assert_uint_eq(insns(), 6 + 1 + 8 + 1 + 1);
}
END_TEST

START_TEST(sysret_without_rex_w_enters_compatibility_mode_where_syscall_takes_cstar)
{
    syscall_msrs(0);
    CODE_AT(CODE,
        0x48, 0xC7, 0xC1, 0x00, 0x00, 0x04, 0x00, /* 0: mov rcx, USER_CODE */
        0x49, 0xC7, 0xC3, 0x02, 0x00, 0x00, 0x00, /* 7: mov r11, 2 */
        0x48, 0xC7, 0xC4, 0x00, 0x20, 0x04, 0x00, /* e: mov rsp, USER_STACK_TOP */
        0x0F, 0x07,                     /* 15: sysret (32-bit) */
    );
    CODE_AT(USER_CODE,
        0x0F, 0x05,                     /* 0: syscall (from compatibility mode) */
    );
    CODE_AT(HANDLERS + 0x100,
        0x0F, 0x20, 0xC0,               /* 0: mov rax, cr0 */
        0xF4,                           /* 3: hlt */
    );
    ck_assert_int_eq(run(1000), VCPU_STOP_HALT);
    ck_assert_uint_eq(h.ndeliv, 0);
    ck_assert_uint_eq(reg(VR_RIP), HANDLERS + 0x104);
    ck_assert_uint_eq(reg(VR_RCX), USER_CODE + 2);
    ck_assert_uint_eq(reg(VR_RAX), reg(VR_CR0));
    ck_assert_uint_eq(vcpu_cpl(h.v), 0);
}
END_TEST

START_TEST(a_fault_in_compatibility_mode_runs_its_handler_as_64_bit_code)
{
    syscall_msrs(0);
    set_gate(X86_UD, HANDLERS, GATE_INTR, 0, true);
    CODE_AT(HANDLERS,
        0x48, 0xB8, 0x55, 0x44, 0x33, 0x22, 0x11, 0x00, 0x00, 0x00, /* movabs rax, 0x1122334455 */
        0xF4,                           /* hlt */
    );
    CODE_AT(CODE,
        0x48, 0xC7, 0xC1, 0x00, 0x00, 0x04, 0x00, /* 0: mov rcx, USER_CODE */
        0x49, 0xC7, 0xC3, 0x02, 0x00, 0x00, 0x00, /* 7: mov r11, 2 */
        0x48, 0xC7, 0xC4, 0x00, 0x20, 0x04, 0x00, /* e: mov rsp, USER_STACK_TOP */
        0x0F, 0x07,                     /* 15: sysret (to compatibility mode) */
    );
    CODE_AT(USER_CODE, 0x0F, 0x0B);     /* ud2 */
    ck_assert_int_eq(run(1000), VCPU_STOP_HALT);
    ck_assert_uint_eq(h.ndeliv, 1);
    ck_assert_uint_eq(reg(VR_RIP), HANDLERS + 11);
    ck_assert_uint_eq(reg(VR_RAX), 0x1122334455ull); /* REX.W decoded: 64-bit code */
    ck_assert_uint_eq(stk(1), L_CODE32);
    ck_assert_uint_eq(stk(4), L_DATA3);
}
END_TEST

START_TEST(syscall_with_efer_sce_clear_raises_ud_and_sysret_in_ring3_raises_gp)
{
    syscall_msrs(0);
    if (_i == 0) {
        ck_assert(vcpu_msr_set(h.v, MSR_EFER, msr(MSR_EFER) & ~1ull));
        CODE_AT(USER_CODE, 0x0F, 0x05);                 /* syscall */
    } else {
        CODE_AT(USER_CODE, 0x48, 0x0F, 0x07);           /* sysretq */
    }
    enter_user(CODE, L_CODE64, L_DATA3, 0x2, USER_CODE);
    run_to_stub(_i == 0 ? X86_UD : X86_GP);
    ck_assert_uint_eq(h.ndeliv, 1);
    ck_assert_uint_eq(h.deliv[0].rip, USER_CODE);
    ck_assert_uint_eq(stk(_i == 0 ? 0 : 1), USER_CODE);
    ck_assert_uint_eq(stk(_i == 0 ? 1 : 2), L_CODE64);
}
END_TEST

START_TEST(swapgs_in_a_handler_entered_from_ring3_swaps_the_gs_bases_and_faults_in_ring3)
{
    st64(DATA, 0x1111);        /* what GS:0 reads with the user base */
    st64(DATA + 0x100, 0x2222); /* ... with the kernel base */
    ck_assert(vcpu_msr_set(h.v, MSR_GS_BASE, DATA));
    ck_assert(vcpu_msr_set(h.v, MSR_KGS_BASE, DATA + 0x100));
    set_gate(X86_UD, HANDLERS, GATE_INTR, 0, true);
    CODE_AT(HANDLERS,
        0x0F, 0x01, 0xF8,               /* 0: swapgs */
        0x65, 0x48, 0x8B, 0x04, 0x25, 0x00, 0x00, 0x00, 0x00, /* 3: mov rax, gs:[0] */
        0x0F, 0x01, 0xF8,               /* c: swapgs */
        0x48, 0x83, 0x04, 0x24, 0x02,   /* f: add qword [rsp], 2 */
        0x48, 0xCF,                     /* 14: iretq */
    );
    CODE_AT(USER_CODE,
        0x0F, 0x0B,                     /* 0: ud2 */
        0x0F, 0x01, 0xF8,               /* 2: swapgs (#GP at CPL 3) */
    );
    enter_user(CODE, SEL_CODE3, SEL_DATA3, 0x2, USER_CODE);
    run_to_stub(X86_GP);
    ck_assert_uint_eq(reg(VR_RAX), 0x2222);
    ck_assert_uint_eq(stk(1), USER_CODE + 2);
    ck_assert_uint_eq(stk(2), SEL_CODE3);
    /* Swapped back before IRETQ. (The IRETQ into ring 3 itself nulled the
     * harness's DPL-0 GS, and the engine cleared its base with it.) */
    ck_assert_uint_eq(msr(MSR_KGS_BASE), DATA + 0x100);
}
END_TEST

/* =================================== SMAP on the model's accesses ======================== */

static void pio_element(void *ctx, struct vcpu *v, uint16_t port, uint8_t size, bool in,
                        uint64_t *data)
{
    (void)ctx, (void)v, (void)port, (void)size, (void)in;
    h.pio[h.npio++ & 15] = (struct rec_pio){port, size, in, *data};
}

static int string_io_or_raise(struct vcpu *v, struct vcpu_exit *e)
{
    if (!e->string)
        return -1;
    return vcpu_string_io(v, e, pio_element, NULL) == 0 ? VCPU_NEXT : VCPU_RAISE;
}

START_TEST(user_code_runs_with_smap_on_and_its_faults_are_delivered)
{
    vcpu_set(h.v, VR_CR4, reg(VR_CR4) | CR4_SMAP);
    CODE_AT(USER_CODE,
        0xB8, 0x07, 0x00, 0x00, 0x00,   /* 0: mov eax, 7 */
        0x0F, 0x32,                     /* 5: rdmsr (decoded: intercepted, #GP at CPL 3) */
    );
    enter_user(CODE, SEL_CODE3, SEL_DATA3, 0x2, USER_CODE);
    run_to_stub(X86_GP);
    ck_assert_uint_eq(reg(VR_RAX), 7);
    ck_assert_uint_eq(stk(1), USER_CODE + 5);
    ck_assert_uint_eq(stk(2), SEL_CODE3);
}
END_TEST

START_TEST(a_kernel_string_read_of_user_data_faults_under_smap_unless_ac_is_set)
{
    bool ac = _i;
    vcpu_set(h.v, VR_CR4, reg(VR_CR4) | CR4_SMAP);
    st64(USER_STACK_TOP - 0x100, 0xA5);
    CODE_AT(CODE,
        0x48, 0xC7, 0xC6, 0x00, 0x1F, 0x04, 0x00, /* 0: mov rsi, USER_STACK_TOP - 0x100 */
        0x48, 0xC7, 0xC1, 0x01, 0x00, 0x00, 0x00, /* 7: mov rcx, 1 */
        0x66, 0xBA, 0x80, 0x00,         /* e: mov dx, 0x80 */
        0xF3, 0x6E,                     /* 12: rep outsb */
        0xF4,                           /* 14: hlt */
    );
    vcpu_set(h.v, VR_RFLAGS, 0x2 | (ac ? RFLAGS_AC : 0));
    h.on_exit = string_io_or_raise;
    if (ac) {
        ck_assert_int_eq(run(1000), VCPU_STOP_HALT);
        ck_assert_uint_eq(h.npio, 1);
        ck_assert_uint_eq(h.pio[0].data, 0xA5);
        ck_assert_uint_eq(h.ndeliv, 0);
    } else {
        run_to_stub(X86_PF);
        ck_assert_uint_eq(h.npio, 0);
        ck_assert_uint_eq(h.deliv[0].ev.error, PFERR_P); /* a supervisor read */
        ck_assert_uint_eq(reg(VR_CR2), USER_STACK_TOP - 0x100);
        ck_assert_uint_eq(stk(1), CODE + 0x12);
    }
}
END_TEST

START_TEST(a_user_string_write_to_a_supervisor_page_is_a_user_page_fault)
{
    /* OUTS/INS at CPL 3 (IOPL 3) touch memory as user accesses. */
    CODE_AT(USER_CODE,
        0x48, 0xC7, 0xC7, 0x00, 0x00, 0x02, 0x00, /* 0: mov rdi, DATA (supervisor) */
        0x66, 0xBA, 0x80, 0x00,         /* 7: mov dx, 0x80 */
        0x6C,                           /* b: insb */
    );
    enter_user(CODE, SEL_CODE3, SEL_DATA3, 0x3002, USER_CODE);
    h.on_exit = string_io_or_raise;
    run_to_stub(X86_PF);
    ck_assert_uint_eq(h.deliv[0].ev.error, PFERR_P | PFERR_W | PFERR_U);
    ck_assert_uint_eq(reg(VR_CR2), DATA);
    ck_assert_uint_eq(stk(1), USER_CODE + 0xB);
}
END_TEST

START_TEST(implicit_supervisor_reads_of_user_pages_fault_under_smap_even_with_ac_set)
{
    vcpu_set(h.v, VR_CR4, reg(VR_CR4) | CR4_SMAP);
    vcpu_set(h.v, VR_RFLAGS, 0x2 | RFLAGS_AC);
    uint64_t q = 0;
    uint32_t pf = 0;
    uint64_t fva = 0;
    ck_assert_int_eq(vcpu_read_lin(h.v, USER_CODE, &q, 8, &pf, &fva), -1);
    ck_assert_uint_eq(pf, PFERR_P);
    ck_assert_uint_eq(fva, USER_CODE);
    vcpu_set(h.v, VR_CR4, reg(VR_CR4) & ~CR4_SMAP);
    ck_assert_int_eq(vcpu_read_lin(h.v, USER_CODE, &q, 8, &pf, &fva), 0);
}
END_TEST

/* ============================== Intercepts at CPL 3 ====================================== */

static const struct {
    const char *what;
    uint8_t code[4];
    uint8_t len;
    uint8_t vector;
} user_privileged[] = {
    {"rdmsr", {0x0F, 0x32}, 2, X86_GP},
    {"wrmsr", {0x0F, 0x30}, 2, X86_GP},
    {"hlt", {0xF4}, 1, X86_GP},
    {"wbinvd", {0x0F, 0x09}, 2, X86_GP},
    {"rdpmc without CR4.PCE", {0x0F, 0x33}, 2, X86_GP},
    {"monitor", {0x0F, 0x01, 0xC8}, 3, X86_UD},
    {"mov cr8, rax", {0x44, 0x0F, 0x22, 0xC0}, 4, X86_GP},
    {"mov rax, cr8", {0x44, 0x0F, 0x20, 0xC0}, 4, X86_GP},
    {"outsb with IOPL 0 and no I/O bitmap", {0x6E}, 1, X86_GP},
};

START_TEST(a_privileged_instruction_in_ring3_faults_before_it_reaches_the_model)
{
    uint16_t no_bitmap = 0x68; /* I/O map base beyond the TSS limit */
    put(TSS + 0x66, &no_bitmap, 2);
    put(USER_CODE, user_privileged[_i].code, user_privileged[_i].len);
    enter_user(CODE, SEL_CODE3, SEL_DATA3, 0x2, USER_CODE);
    run_to_stub(user_privileged[_i].vector);
    /* The only exit is the stub's HLT. */
    ck_assert_msg(h.nexits == 1, "%s: %u exits", user_privileged[_i].what, h.nexits);
    ck_assert_uint_eq(h.deliv[0].rip, USER_CODE);
    ck_assert_uint_eq(insns(), 6 + 1);
}
END_TEST

START_TEST(outs_in_ring3_follows_the_tss_io_permission_bitmap)
{
    /* I/O bitmap at TSS + 0x68; port 0x80 is bit 0 of byte 0x10. */
    uint16_t base = 0x68;
    uint8_t byte = _i ? 0x01 : 0xFE;
    put(TSS + 0x66, &base, 2);
    put(TSS + 0x68 + 0x10, &byte, 1);
    put(TSS + 0x68 + 0x11, &(uint8_t){0xFF}, 1);
    st64(GDT + SEL_TSS, 0x0000890060000000ull | (0x68 + 0x20)); /* limit covers the bitmap */
    CODE_AT(USER_CODE,
        0x48, 0xC7, 0xC6, 0x00, 0x10, 0x04, 0x00, /* 0: mov rsi, USER_STACK_TOP - 0x1000 */
        0x66, 0xBA, 0x80, 0x00,         /* 7: mov dx, 0x80 */
        0x6E,                           /* b: outsb */
        0x0F, 0x0B,                     /* c: ud2 */
    );
    /* Reload TR with the longer limit: busy TSS first made available again. */
    CODE_AT(CODE,
        0x66, 0xB8, 0x28, 0x00,         /* 0: mov ax, 0x28 */
        0x0F, 0x00, 0xD8,               /* 4: ltr ax */
        0xEB, 0x00,                     /* 7: jmp 9 */
    );
    enter_user(CODE + 9, SEL_CODE3, SEL_DATA3, 0x2, USER_CODE);
    h.on_exit = string_io_or_raise;
    run_to_stub(_i ? X86_GP : X86_UD);
    ck_assert_uint_eq(h.npio, _i ? 0 : 1);
    ck_assert_uint_eq(h.deliv[0].rip, _i ? USER_CODE + 0xB : USER_CODE + 0xC);
}
END_TEST

/* ============================== Control registers and MSRs =============================== */

static const struct {
    const char *what;
    uint8_t cr;        /* 0, 3 or 4 */
    uint64_t set, clear;
} bad_cr[] = {
    {"CR0 bit 32", 0, 1ull << 32, 0},
    {"CR0.NW without CD", 0, 1ull << 29, 1ull << 30},
    {"CR0.PG cleared in 64-bit mode", 0, 0, 1ull << 31},
    {"CR0.PG without PE", 0, 0, 1ull << 0},
    {"CR4 reserved bit 15", 4, 1ull << 15, 0},
    {"CR4 CET (not implemented)", 4, 1ull << 23, 0},
    {"CR4.PAE cleared in long mode", 4, 0, 1ull << 5},
    {"CR4.LA57 changed in long mode", 4, 1ull << 12, 0},
    {"CR3 bit 52", 3, 1ull << 52, 0},
};

START_TEST(an_invalid_control_register_write_raises_gp_and_changes_nothing)
{
    static const enum vcpu_reg crs[] = {[0] = VR_CR0, [3] = VR_CR3, [4] = VR_CR4};
    static const uint8_t modrm[] = {[0] = 0xC0, [3] = 0xD8, [4] = 0xE0};
    enum vcpu_reg cr = crs[bad_cr[_i].cr];
    uint64_t before = reg(cr), val = (before | bad_cr[_i].set) & ~bad_cr[_i].clear;
    uint8_t code[] = {
        0x48, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0, /* 0: movabs rax, val */
        0x0F, 0x22, modrm[bad_cr[_i].cr],   /* a: mov crN, rax */
        0xF4,                               /* d: hlt */
    };
    memcpy(code + 2, &val, 8);
    put(CODE, code, sizeof(code));
    run_to_stub(X86_GP);
    ck_assert_msg(h.ndeliv == 1 && h.deliv[0].rip == CODE + 10, "%s", bad_cr[_i].what);
    ck_assert_uint_eq(stk(0), 0);
    ck_assert_uint_eq(stk(1), CODE + 10);
    ck_assert_msg(reg(cr) == before, "%s: CR%u changed", bad_cr[_i].what, bad_cr[_i].cr);
}
END_TEST

START_TEST(a_valid_control_register_write_takes_effect)
{
    uint64_t cr4 = reg(VR_CR4) ^ (1ull << 7); /* PGE */
    uint8_t code[] = {
        0x48, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0, /* 0: movabs rax, cr4 */
        0x0F, 0x22, 0xE0,                   /* a: mov cr4, rax */
        0x0F, 0x20, 0xC3,                   /* d: mov rbx, cr0 */
        0x0F, 0x22, 0xC3,                   /* 10: mov cr0, rbx */
        0xF4,                               /* 13: hlt */
    };
    memcpy(code + 2, &cr4, 8);
    put(CODE, code, sizeof(code));
    ck_assert_int_eq(run(1000), VCPU_STOP_HALT);
    ck_assert_uint_eq(h.ndeliv, 0);
    ck_assert_uint_eq(reg(VR_CR4), cr4);
    ck_assert_uint_eq(reg(VR_RIP), CODE + 0x14);
}
END_TEST

START_TEST(cpuid_decides_which_cr4_bits_are_allowed)
{
    /* SMEP and SMAP (CPUID 7.EBX bits 7 and 20) and the PAE/PGE/FXSR/SSE of leaf 1. */
    uint64_t ok = vcpu_cr4_allowed_by_cpuid(0, 1u << 6 | 1u << 13 | 1u << 24 | 1u << 25,
                                            1u << 7 | 1u << 20, 0);
    ck_assert_uint_eq(ok, 1ull << 2 | 1ull << 5 | 1ull << 7 | 1ull << 8 | 1ull << 9 |
                              1ull << 10 | 1ull << 20 | 1ull << 21);
    ck_assert_uint_eq(vcpu_cr4_allowed_by_cpuid(0, 0, 0, 1u << 16) & (1ull << 12), 1ull << 12);
}
END_TEST

START_TEST(msr_writes_the_cpu_refuses_are_reported_as_invalid)
{
    uint64_t efer = reg(VR_EFER);
    ck_assert(!vcpu_msr_valid(h.v, MSR_EFER, efer | 1ull << 1));     /* reserved */
    ck_assert(!vcpu_msr_valid(h.v, MSR_EFER, efer & ~(1ull << 8)));  /* LME while paging */
    ck_assert(vcpu_msr_valid(h.v, MSR_EFER, efer ^ 1ull));           /* SCE */
    ck_assert(vcpu_msr_valid(h.v, MSR_EFER, efer & ~(1ull << 10)));  /* LMA: ignored */
    ck_assert(!vcpu_msr_valid(h.v, MSR_LSTAR, 0x0000800000000000ull));
    ck_assert(vcpu_msr_valid(h.v, MSR_LSTAR, 0xFFFF800000000000ull));
    ck_assert(!vcpu_msr_valid(h.v, MSR_GS_BASE, 0x1234567800000000ull));
    ck_assert(!vcpu_msr_valid(h.v, 0x277, 0x0007040600070402ull));   /* PAT type 2 */
    ck_assert(vcpu_msr_valid(h.v, 0x277, 0x0007040600070406ull));
    ck_assert(!vcpu_msr_valid(h.v, 0xC0000103, 1ull << 32));        /* TSC_AUX */
}
END_TEST

/* ==================================== No progress ======================================== */

START_TEST(a_fault_recurring_at_its_own_handler_shuts_the_vcpu_down_naming_the_rip)
{
    /* The #UD handler starts with a ud2: every delivery raises the next. */
    set_gate(X86_UD, HANDLERS, GATE_INTR, 0, true);
    CODE_AT(HANDLERS, 0x0F, 0x0B);
    CODE_AT(CODE, 0x0F, 0x0B);
    ck_assert_int_eq(run(1000), VCPU_STOP_SHUTDOWN);
    ck_assert_uint_eq(h.nshutdown, 1);
    ck_assert_ptr_nonnull(strstr(h.why, "no instruction retired"));
    ck_assert_uint_eq(h.why_rip, HANDLERS);
    ck_assert_uint_eq(h.ndeliv, VCPU_NO_PROGRESS);
    ck_assert_uint_eq(insns(), 0);
}
END_TEST

START_TEST(many_deliveries_that_each_retire_instructions_are_not_reported)
{
    set_gate(0x40, HANDLERS, GATE_INTR, 0, true);
    CODE_AT(HANDLERS, 0x48, 0xCF);                      /* iretq */
    CODE_AT(CODE,
        0xB9, 0x20, 0x4E, 0x00, 0x00,   /* 0: mov ecx, 20000 */
        0xCD, 0x40,                     /* 5: int 0x40 */
        0xFF, 0xC9,                     /* 7: dec ecx */
        0x75, 0xFA,                     /* 9: jnz 5 */
        0xF4,                           /* b: hlt */
    );
    ck_assert_int_eq(run(1000000), VCPU_STOP_HALT);
    ck_assert_uint_eq(h.nshutdown, 0);
    ck_assert_uint_eq(h.ndeliv, 20000);
    ck_assert_uint_eq(reg(VR_RIP), CODE + 0xC);
}
END_TEST

static void add_priv_tests(Suite *s)
{
    TCase *tc = tcase_create("rings");
    tcase_add_checked_fixture(tc, setup_idt, teardown);
    tcase_add_test(tc, a_ring3_fault_runs_its_handler_at_cpl0_and_iretq_returns_to_ring3);
    tcase_add_test(tc, a_ring3_interrupt_handler_can_run_privileged_code_before_returning);
    tcase_add_test(tc,
                   syscall_enters_lstar_at_cpl0_and_sysretq_returns_to_ring3_with_user_selectors);
    tcase_add_test(tc, sysret_without_rex_w_enters_compatibility_mode_where_syscall_takes_cstar);
    tcase_add_test(tc, a_fault_in_compatibility_mode_runs_its_handler_as_64_bit_code);
    tcase_add_loop_test(tc, syscall_with_efer_sce_clear_raises_ud_and_sysret_in_ring3_raises_gp,
                        0, 2);
    tcase_add_test(tc,
                   swapgs_in_a_handler_entered_from_ring3_swaps_the_gs_bases_and_faults_in_ring3);
    suite_add_tcase(s, tc);

    tc = tcase_create("smap");
    tcase_add_checked_fixture(tc, setup_idt, teardown);
    tcase_add_test(tc, user_code_runs_with_smap_on_and_its_faults_are_delivered);
    tcase_add_loop_test(tc, a_kernel_string_read_of_user_data_faults_under_smap_unless_ac_is_set,
                        0, 2);
    tcase_add_test(tc, a_user_string_write_to_a_supervisor_page_is_a_user_page_fault);
    tcase_add_test(tc, implicit_supervisor_reads_of_user_pages_fault_under_smap_even_with_ac_set);
    suite_add_tcase(s, tc);

    tc = tcase_create("intercepts");
    tcase_add_checked_fixture(tc, setup_idt, teardown);
    tcase_add_loop_test(tc, a_privileged_instruction_in_ring3_faults_before_it_reaches_the_model, 0,
                        (int)ARRAY_LEN(user_privileged));
    tcase_add_loop_test(tc, outs_in_ring3_follows_the_tss_io_permission_bitmap, 0, 2);
    suite_add_tcase(s, tc);

    tc = tcase_create("control_registers");
    tcase_add_checked_fixture(tc, setup_idt, teardown);
    tcase_add_loop_test(tc, an_invalid_control_register_write_raises_gp_and_changes_nothing, 0,
                        (int)ARRAY_LEN(bad_cr));
    tcase_add_test(tc, a_valid_control_register_write_takes_effect);
    tcase_add_test(tc, cpuid_decides_which_cr4_bits_are_allowed);
    tcase_add_test(tc, msr_writes_the_cpu_refuses_are_reported_as_invalid);
    suite_add_tcase(s, tc);

    tc = tcase_create("rmp_instructions");
    tcase_add_checked_fixture(tc, setup_idt, teardown);
    tcase_add_test(tc, rmpupdate_and_psmash_are_ud_on_a_vcpu_not_granted_them);
    suite_add_tcase(s, tc);
    tc = tcase_create("rmp_instructions_host");
    tcase_add_checked_fixture(tc, setup_idt_host_rmp, teardown);
    tcase_add_test(tc, a_host_vcpu_hands_rmpupdate_and_psmash_to_the_model_with_the_state_it_read);
    tcase_add_test(tc, rmpupdate_with_an_unmapped_state_is_a_page_fault_and_in_ring3_a_gp);
    suite_add_tcase(s, tc);

    tc = tcase_create("progress");
    tcase_add_checked_fixture(tc, setup_idt, teardown);
    tcase_add_test(tc, a_fault_recurring_at_its_own_handler_shuts_the_vcpu_down_naming_the_rip);
    tcase_add_test(tc, many_deliveries_that_each_retire_instructions_are_not_reported);
    suite_add_tcase(s, tc);
}

int main(void)
{
    Suite *s = suite_create("cpu_priv");
    add_priv_tests(s);
    return ck_run(s, CK_RUN_FORK);
}
