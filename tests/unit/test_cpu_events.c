/* SPDX-License-Identifier: MIT */
/*
 * Check suite for the vCPU engine (cpu/), part 2: event delivery through the
 * guest IDT (SDM vol. 3 6.12-6.15; APM vol. 2 8.9): frames, error codes, CR2,
 * interrupt and trap gates, IST and RSP0 stack switches, faults while
 * delivering (#NP/#GP with the IDT error code, #DF, shutdown), the Unicorn
 * exception latch (cpu/ucquirk.c), and interrupt windows: cb->pending, IF, the
 * STI shadow, NMI blocking until IRET.
 */
#include "test_cpu_harness.h"
#include "ck_run.h"

/* ================================ Event delivery ========================================= */

static struct {
    uint8_t vector;
    bool has_error;
    uint32_t error;
    uint64_t cr2;
} raise_req;

static int raise_on_msr(struct vcpu *v, struct vcpu_exit *e)
{
    (void)v;
    if (e->code != SVM_EXIT_MSR)
        return -1;
    e->exc_vector = raise_req.vector;
    e->exc_has_error = raise_req.has_error;
    e->exc_error = raise_req.error;
    e->exc_cr2 = raise_req.cr2;
    return VCPU_RAISE;
}

static const struct {
    uint8_t vector;
    bool has_error;
    uint32_t error;
    uint64_t cr2;
} raises[] = {
    {X86_GP, true, 0, 0},
    {X86_PF, true, PFERR_P | PFERR_W, 0xDEAD000},
    {X86_UD, false, 0, 0},
    {X86_VC, true, SVM_EXIT_MSR, 0},
};

START_TEST(raise_delivers_the_named_exception_through_the_idt_with_rip_at_the_instruction)
{
    CODE_AT(CODE,
        0x90,                           /* 0: nop */
        0x0F, 0x32,                     /* 1: rdmsr */
        0xF4,                           /* 3: hlt */
    );
    raise_req.vector = raises[_i].vector;
    raise_req.has_error = raises[_i].has_error;
    raise_req.error = raises[_i].error;
    raise_req.cr2 = raises[_i].cr2;
    h.on_exit = raise_on_msr;
    run_to_stub(raises[_i].vector);
    ck_assert_uint_eq(h.ndeliv, 1);
    const struct rec_deliv *d = &h.deliv[0];
    ck_assert_int_eq(d->ev.type, VEV_EXCEPTION);
    ck_assert_uint_eq(d->ev.vector, raises[_i].vector);
    ck_assert_int_eq(d->ev.has_error, raises[_i].has_error);
    ck_assert_uint_eq(d->rip, CODE + 1);
    unsigned f = raises[_i].has_error ? 1 : 0;
    if (f)
        ck_assert_uint_eq(stk(0), raises[_i].error);
    ck_assert_uint_eq(stk(f + 0), CODE + 1);
    ck_assert_uint_eq(stk(f + 1), SEL_CODE0);
    ck_assert_uint_eq(stk(f + 3), STACK_TOP);
    ck_assert_uint_eq(stk(f + 4), SEL_DATA0);
    ck_assert_uint_eq(reg(VR_RSP), STACK_TOP - 8 * (5 + f));
    if (raises[_i].vector == X86_PF)
        ck_assert_uint_eq(reg(VR_CR2), 0xDEAD000);
    /* The RDMSR did not retire: the nop and the handler's hlt did. */
    ck_assert_uint_eq(insns(), 2);
}
END_TEST

static const uint8_t invalid_opcodes[][2] = {
    {0x0F, 0x0B}, /* ud2 */
    {0x06, 0x90}, /* push es: invalid in 64-bit mode */
};

START_TEST(an_invalid_opcode_delivers_ud_with_rip_at_the_instruction)
{
    CODE_AT(CODE, 0x90);                /* 0: nop */
    put(CODE + 1, invalid_opcodes[_i], 2);
    run_to_stub(X86_UD);
    ck_assert_uint_eq(h.ndeliv, 1);
    ck_assert_int_eq(h.deliv[0].ev.type, VEV_EXCEPTION);
    ck_assert_uint_eq(h.deliv[0].ev.vector, X86_UD);
    ck_assert(!h.deliv[0].ev.has_error);
    ck_assert_uint_eq(h.deliv[0].rip, CODE + 1);
    ck_assert_uint_eq(stk(0), CODE + 1);
    ck_assert_uint_eq(stk(1), SEL_CODE0);
    ck_assert_uint_eq(stk(3), STACK_TOP);
    ck_assert_uint_eq(reg(VR_RSP), STACK_TOP - 40);
    ck_assert_uint_eq(insns(), 2);
}
END_TEST

/* ---- Frames and error codes ------------------------------------------------------------ */

static const struct {
    const char *what;
    uint8_t code[8];
    uint8_t len;
    uint8_t fault_off; /* offset of the faulting instruction */
    uint32_t error;
} seg_loads[] = {
    {"mov ds, ax", {0x66, 0xB8, 0x33, 0x12, 0x8E, 0xD8}, 6, 4, 0x1230},      /* ax = 0x1233 */
    {"mov es, [0x20000]", {0x8E, 0x04, 0x25, 0x00, 0x00, 0x02, 0x00}, 7, 0, 0x0FFC},
    {"pop fs", {0x6A, 0x4B, 0x0F, 0xA1}, 4, 2, 0x48},                      /* push 0x4b */
};

START_TEST(gp_from_a_bad_segment_load_pushes_the_selector_as_error_code)
{
    put(CODE, seg_loads[_i].code, seg_loads[_i].len);
    CODE_AT(CODE + seg_loads[_i].len, 0xF4);
    mem_st32(&h.m, DATA, 0x0FFF);
    vcpu_set(h.v, VR_RSP, STACK_TOP - 8); /* not 16-byte aligned */
    run_to_stub(X86_GP);
    uint64_t rip = CODE + seg_loads[_i].fault_off;
    ck_assert_uint_eq(h.ndeliv, 1);
    ck_assert_uint_eq(h.deliv[0].ev.vector, X86_GP);
    ck_assert(h.deliv[0].ev.has_error);
    ck_assert_msg(h.deliv[0].ev.error == seg_loads[_i].error, "%s: error %#x", seg_loads[_i].what,
                  h.deliv[0].ev.error);
    ck_assert_uint_eq(h.deliv[0].rip, rip);
    ck_assert_uint_eq(reg(VR_RSP) % 16, 0);
    ck_assert_uint_eq(stk(0), seg_loads[_i].error);
    ck_assert_uint_eq(stk(1), rip);
    ck_assert_uint_eq(stk(2), SEL_CODE0);
    ck_assert_uint_eq(stk(3), 0x2);
    ck_assert_uint_eq(stk(5), SEL_DATA0);
    if (_i == 0) {
        /* The whole frame: aligned down from STACK_TOP - 8, six qwords. */
        ck_assert_uint_eq(reg(VR_RSP), STACK_TOP - 16 - 48);
        ck_assert_uint_eq(stk(4), STACK_TOP - 8);
    }
}
END_TEST

static void ro_22000(void) { pte_set(0x22000, pte(0x22000) & ~PTE_RW); }
static void np_31000(void) { pte_set(0x31000, 0); }
static void nx_30000(void) { pte_set(0x30000, pte(0x30000) | PTE_NX); }
static void run_off_30000(void)
{
    nx_30000();
    CODE_AT(0x2FFFE, 0x90, 0x90);       /* nop; nop; then page 0x30000 */
}

static void straddle_30000(void)
{
    nx_30000();
    CODE_AT(0x2FFFB, 0x90, 0x90, 0xB8); /* nop; nop; mov eax, imm32 (imm on page 0x30000) */
    CODE_AT(0x30000, 0x44, 0x33, 0x22, 0x11);
}

static void run_off_30000_far(void)
{
    nx_30000();
    memset(h.m.ram + 0x2FF00, 0x90, 0x100); /* 256 nops up to page 0x30000 */
}

static const struct {
    const char *what;
    void (*prep)(void);
    uint8_t code[12];
    uint8_t len;
    uint32_t error;
    uint64_t cr2, rip;
    uint64_t retired;
} page_faults[] = {
    {"read of page 0", NULL, {0x48, 0x8B, 0x04, 0x25, 0x00, 0x08, 0x00, 0x00}, 8, 0, 0x800, CODE, 0},
    {"write to page 0", NULL, {0x48, 0x89, 0x04, 0x25, 0x10, 0x00, 0x00, 0x00}, 8, PFERR_W, 0x10,
     CODE, 0},
    /* mov rbx, 0x21ffe; mov [rbx+4], eax */
    {"write to a read-only page with CR0.WP", ro_22000,
     {0x48, 0xC7, 0xC3, 0xFE, 0x1F, 0x02, 0x00, 0x89, 0x43, 0x04}, 10, PFERR_P | PFERR_W,
     0x22002, CODE + 7, 1},
    /* mov rax, [0x30ffc] */
    {"read running onto a not-present page", np_31000,
     {0x48, 0x8B, 0x04, 0x25, 0xFC, 0x0F, 0x03, 0x00}, 8, 0, 0x31000, CODE, 0},
    /* mov eax, 0x30000; jmp rax */
    {"fetch from an NX page", nx_30000, {0xB8, 0x00, 0x00, 0x03, 0x00, 0xFF, 0xE0}, 7,
     PFERR_P | PFERR_I, 0x30000, 0x30000, 2},
    /* mov eax, 0x31000; jmp rax */
    {"fetch from a not-present page", np_31000, {0xB8, 0x00, 0x10, 0x03, 0x00, 0xFF, 0xE0}, 7,
     PFERR_I, 0x31000, 0x31000, 2},
    /* mov eax, 0x2fffe; jmp rax */
    {"fetch running off a page onto an NX page", run_off_30000,
     {0xB8, 0xFE, 0xFF, 0x02, 0x00, 0xFF, 0xE0}, 7, PFERR_P | PFERR_I, 0x30000, 0x30000, 4},
    /* mov eax, 0x2fffb; jmp rax */
    {"fetch of an instruction that straddles onto an NX page", straddle_30000,
     {0xB8, 0xFB, 0xFF, 0x02, 0x00, 0xFF, 0xE0}, 7, PFERR_P | PFERR_I, 0x30000, 0x2FFFD, 4},
    /* mov eax, 0x2ff00; jmp rax: 256 nops, then page 0x30000 */
    {"fetch running off a page after a long straight-line block", run_off_30000_far,
     {0xB8, 0x00, 0xFF, 0x02, 0x00, 0xFF, 0xE0}, 7, PFERR_P | PFERR_I, 0x30000, 0x30000, 258},
};

START_TEST(a_page_fault_pushes_the_exact_error_code_and_sets_cr2)
{
    if (page_faults[_i].prep)
        page_faults[_i].prep();
    put(CODE, page_faults[_i].code, page_faults[_i].len);
    CODE_AT(CODE + page_faults[_i].len, 0xF4);
    run_to_stub(X86_PF);
    const char *what = page_faults[_i].what;
    ck_assert_uint_eq(h.ndeliv, 1);
    ck_assert_uint_eq(h.deliv[0].ev.vector, X86_PF);
    ck_assert_msg(h.deliv[0].ev.error == page_faults[_i].error, "%s: error %#x, expected %#x",
                  what, h.deliv[0].ev.error, page_faults[_i].error);
    ck_assert_msg(reg(VR_CR2) == page_faults[_i].cr2, "%s: CR2 %#llx", what,
                  (unsigned long long)reg(VR_CR2));
    ck_assert_uint_eq(h.deliv[0].ev.cr2, page_faults[_i].cr2);
    ck_assert_msg(h.deliv[0].rip == page_faults[_i].rip, "%s: rip %#llx", what,
                  (unsigned long long)h.deliv[0].rip);
    ck_assert_uint_eq(stk(0), page_faults[_i].error);
    ck_assert_uint_eq(stk(1), page_faults[_i].rip);
    ck_assert_uint_eq(stk(2), SEL_CODE0);
    ck_assert_uint_eq(stk(4), STACK_TOP);
    /* What ran before the fault, and the handler's hlt. */
    ck_assert_msg(insns() == page_faults[_i].retired + 1, "%s: %llu instructions", what,
                  (unsigned long long)insns());
}
END_TEST

static const struct {
    const char *what;
    uint8_t code[8];
    uint8_t len;
    uint32_t error;
    uint64_t cr2;
    uint64_t rip;
} user_faults[] = {
    {"read of a supervisor page", {0x48, 0x8B, 0x04, 0x25, 0x00, 0x00, 0x02, 0x00}, 8,
     PFERR_P | PFERR_U, 0x20000, USER_CODE},
    {"write to a supervisor page", {0x89, 0x04, 0x25, 0x00, 0x00, 0x02, 0x00}, 7,
     PFERR_P | PFERR_W | PFERR_U, 0x20000, USER_CODE},
    {"fetch from a supervisor page", {0xB8, 0x00, 0x00, 0x01, 0x00, 0xFF, 0xE0}, 7,
     PFERR_P | PFERR_U | PFERR_I, CODE, CODE},
    {"read of a not-present page", {0x48, 0x8B, 0x04, 0x25, 0x00, 0x08, 0x00, 0x00}, 8,
     PFERR_U, 0x800, USER_CODE},
};

/* Test code that enters ring 3 at USER_CODE with IRETQ: SS, RSP, RFLAGS, CS, RIP. */
static void code_to_ring3(void)
{
    CODE_AT(CODE,
        0x48, 0xC7, 0xC0, 0x23, 0x00, 0x00, 0x00, /*  0: mov rax, 0x23 */
        0x50,                           /*  7: push rax */
        0x48, 0xC7, 0xC0, 0x00, 0x20, 0x04, 0x00, /*  8: mov rax, 0x42000 */
        0x50,                           /*  f: push rax */
        0x6A, 0x02,                     /* 10: push 2 */
        0x6A, 0x1B,                     /* 12: push 0x1b */
        0x48, 0xC7, 0xC0, 0x00, 0x00, 0x04, 0x00, /* 14: mov rax, 0x40000 */
        0x50,                           /* 1b: push rax */
        0x48, 0xCF,                     /* 1c: iretq */
    );
}

START_TEST(a_page_fault_at_cpl3_sets_the_user_bit_and_switches_to_rsp0)
{
    code_to_ring3();
    put(USER_CODE, user_faults[_i].code, user_faults[_i].len);
    run_to_stub(X86_PF);
    const char *what = user_faults[_i].what;
    ck_assert_uint_eq(h.ndeliv, 1);
    ck_assert_msg(h.deliv[0].ev.error == user_faults[_i].error, "%s: error %#x", what,
                  h.deliv[0].ev.error);
    ck_assert_uint_eq(reg(VR_CR2), user_faults[_i].cr2);
    ck_assert_uint_eq(reg(VR_RSP), RSP0_TOP - 48);
    ck_assert_uint_eq(stk(0), user_faults[_i].error);
    ck_assert_uint_eq(stk(1), user_faults[_i].rip);
    ck_assert_uint_eq(stk(2), SEL_CODE3);
    ck_assert_uint_eq(stk(3), 0x2);
    ck_assert_uint_eq(stk(4), USER_STACK_TOP);
    ck_assert_uint_eq(stk(5), SEL_DATA3);
    ck_assert_uint_eq(vcpu_cpl(h.v), 0);
}
END_TEST

/* MOV CR8 is privileged: at CPL 3 the CPU raises #GP(0) before the model
 * would see an intercept (SDM "MOV—Move to/from Control Registers"). */
START_TEST(mov_cr8_at_cpl3_raises_gp_without_reaching_the_model)
{
    static const uint8_t movs[2][4] = {
        {0x44, 0x0F, 0x22, 0xC0}, /* mov cr8, rax */
        {0x44, 0x0F, 0x20, 0xC0}, /* mov rax, cr8 */
    };
    code_to_ring3();
    put(USER_CODE, movs[_i], sizeof(movs[_i]));
    run_to_stub(X86_GP);
    ck_assert_uint_eq(h.nexits, 1); /* only the handler stub's HLT */
    ck_assert_uint_eq(h.exits[0].e.code, SVM_EXIT_HLT);
    ck_assert_uint_eq(h.ndeliv, 1);
    ck_assert_uint_eq(stk(0), 0);
    ck_assert_uint_eq(stk(1), USER_CODE);
    ck_assert_uint_eq(stk(2), SEL_CODE3);
}
END_TEST

START_TEST(an_interrupt_gate_clears_if_and_a_trap_gate_keeps_it)
{
    unsigned type = _i ? GATE_TRAP : GATE_INTR;
    set_gate(0x40, stub(0x40), type, 0, true);
    CODE_AT(CODE,
        0xCD, 0x40,                     /* 0: int 0x40 */
        0xF4,                           /* 2: hlt */
    );
    vcpu_set(h.v, VR_RFLAGS, 0x202);
    run_to_stub(0x40);
    ck_assert_uint_eq(h.ndeliv, 1);
    ck_assert_int_eq(h.deliv[0].ev.type, VEV_SOFTINT);
    ck_assert_uint_eq(h.deliv[0].ev.vector, 0x40);
    /* INT n pushes the address of the next instruction, and no error code. */
    ck_assert_uint_eq(h.deliv[0].rip, CODE + 2);
    ck_assert_uint_eq(stk(0), CODE + 2);
    ck_assert_uint_eq(stk(1), SEL_CODE0);
    ck_assert_uint_eq(stk(2), 0x202);
    ck_assert_uint_eq(stk(3), STACK_TOP);
    ck_assert_uint_eq(reg(VR_RFLAGS) & RFLAGS_IF, type == GATE_TRAP ? RFLAGS_IF : 0);
    ck_assert_int_eq(vcpu_if(h.v), type == GATE_TRAP);
    ck_assert_uint_eq(insns(), 2);
}
END_TEST

START_TEST(an_ist_gate_switches_to_the_aligned_tss_ist_stack)
{
    set_gate(X86_UD, stub(X86_UD), GATE_INTR, 1, true);
    CODE_AT(CODE,
        0x90,                           /* 0: nop */
        0x0F, 0x0B,                     /* 1: ud2 */
    );
    run_to_stub(X86_UD);
    ck_assert_uint_eq(reg(VR_RSP), (IST1_TOP & ~0xFull) - 40);
    ck_assert_uint_eq(stk(0), CODE + 1);
    ck_assert_uint_eq(stk(1), SEL_CODE0);
    ck_assert_uint_eq(stk(3), STACK_TOP);
    ck_assert_uint_eq(stk(4), SEL_DATA0);
    /* Nothing was pushed on the interrupted stack. */
    ck_assert_uint_eq(ld64(STACK_TOP - 8), 0);
}
END_TEST

/* ---- Nested faults ------------------------------------------------------------------------ */

START_TEST(a_second_and_third_gp_after_handled_ones_arrive_as_gp_not_df)
{
    CODE_AT(HANDLERS,
        0x48, 0x83, 0xC4, 0x08,         /* 0: add rsp, 8 (error code) */
        0x48, 0x83, 0x04, 0x24, 0x02,   /* 4: add qword [rsp], 2 (skip mov ds, ax) */
        0x48, 0xCF,                     /* 9: iretq */
    );
    set_gate(X86_GP, HANDLERS, GATE_INTR, 0, true);
    CODE_AT(CODE,
        0x66, 0xB8, 0x33, 0x12,         /* 0: mov ax, 0x1233 */
        0x8E, 0xD8,                     /* 4: mov ds, ax */
        0x8E, 0xD8,                     /* 6: mov ds, ax */
        0x8E, 0xD8,                     /* 8: mov ds, ax */
        0xF4,                           /* a: hlt */
    );
    ck_assert_int_eq(run(10000), VCPU_STOP_HALT);
    ck_assert_uint_eq(reg(VR_RIP), CODE + 0xB);
    ck_assert_uint_eq(h.ndeliv, 3);
    for (unsigned i = 0; i < 3; i++) {
        ck_assert_msg(h.deliv[i].ev.vector == X86_GP, "fault %u arrived as vector %u", i,
                      h.deliv[i].ev.vector);
        ck_assert_uint_eq(h.deliv[i].ev.error, 0x1230);
        ck_assert_uint_eq(h.deliv[i].rip, CODE + 4 + 2 * i);
    }
    ck_assert_uint_eq(h.nshutdown, 0);
    ck_assert_uint_eq(reg(VR_RSP), STACK_TOP);
    /* 2 + 3 x (fault, 3 handler instructions) + hlt: the faulting loads never retire. */
    ck_assert_uint_eq(insns(), 1 + 3 * 3 + 1);
}
END_TEST

START_TEST(a_not_present_idt_entry_becomes_np_with_the_idt_error_code)
{
    set_gate(X86_UD, stub(X86_UD), GATE_INTR, 0, false);
    CODE_AT(CODE,
        0x90,                           /* 0: nop */
        0x0F, 0x0B,                     /* 1: ud2 */
    );
    run_to_stub(X86_NP);
    ck_assert_uint_eq(h.ndeliv, 1);
    ck_assert_int_eq(h.deliv[0].ev.type, VEV_EXCEPTION);
    ck_assert_uint_eq(h.deliv[0].ev.vector, X86_NP);
    /* index 6, IDT bit, EXT (the event was not a software interrupt) */
    ck_assert_uint_eq(h.deliv[0].ev.error, 6u << 3 | 2 | 1);
    ck_assert_uint_eq(h.deliv[0].rip, CODE + 1);
    ck_assert_uint_eq(stk(0), 0x33);
    ck_assert_uint_eq(stk(1), CODE + 1);
}
END_TEST

START_TEST(an_int_beyond_the_idt_limit_is_gp_on_the_int_with_the_idt_error_code)
{
    CODE_AT(CODE,
        0x0F, 0x01, 0x1C, 0x25, 0x10, 0x6F, 0x00, 0x00, /* 0: lidt [0x6f10] (32 gates) */
        0xCD, 0x40,                     /* 8: int 0x40 */
        0xF4,                           /* a: hlt */
    );
    run_to_stub(X86_GP);
    ck_assert_uint_eq(h.ndeliv, 1);
    ck_assert_uint_eq(h.deliv[0].ev.vector, X86_GP);
    /* index 0x40, IDT bit, no EXT: the INT instruction itself caused it. */
    ck_assert_uint_eq(h.deliv[0].ev.error, 0x40u << 3 | 2);
    ck_assert_uint_eq(stk(0), 0x202);
    /* A fault while delivering INT n is a fault of the INT instruction (SDM vol. 2
     * "INT n" exceptions; vol. 3 6.5): its frame points at the INT. */
    ck_assert_uint_eq(stk(1), CODE + 8);
    ck_assert_uint_eq(h.deliv[0].rip, CODE + 8);
    /* The LIDT and the handler's hlt retired; the INT did not. */
    ck_assert_uint_eq(insns(), 2);
}
END_TEST

static int queue_on_msr(struct vcpu *v, struct vcpu_exit *e)
{
    if (e->code != SVM_EXIT_MSR || e->rip != CODE + 8)
        return -1;
    h.queue[h.nqueue++] = (struct vcpu_event){VEV_EXTINT, 0x50, false, 0, 0};
    vcpu_kick(v);
    return -1;
}

START_TEST(an_external_interrupt_beyond_the_idt_limit_is_gp_with_ext_set)
{
    CODE_AT(CODE,
        0x0F, 0x01, 0x1C, 0x25, 0x10, 0x6F, 0x00, 0x00, /* 0: lidt [0x6f10] (32 gates) */
        0x0F, 0x32,                     /* 8: rdmsr (the model raises vector 0x50) */
        0xBB, 0x01, 0x00, 0x00, 0x00,   /* a: mov ebx, 1 */
        0xF4,                           /* f: hlt */
    );
    h.on_exit = queue_on_msr;
    vcpu_set(h.v, VR_RFLAGS, 0x202);
    run_to_stub(X86_GP);
    ck_assert_uint_eq(h.ndeliv, 1);
    ck_assert_uint_eq(h.deliv[0].ev.vector, X86_GP);
    ck_assert_uint_eq(h.deliv[0].ev.error, 0x50u << 3 | 2 | 1);
    ck_assert_uint_eq(stk(1), CODE + 0xA);
    ck_assert_uint_eq(reg(VR_RBX), 0);
}
END_TEST

START_TEST(a_fault_while_delivering_a_gp_becomes_df)
{
    set_gate(X86_GP, stub(X86_GP), GATE_INTR, 0, false); /* #GP -> #NP: both contributory */
    CODE_AT(CODE,
        0x66, 0xB8, 0x33, 0x12,         /* 0: mov ax, 0x1233 */
        0x8E, 0xD8,                     /* 4: mov ds, ax */
        0xF4,                           /* 6: hlt */
    );
    run_to_stub(X86_DF);
    ck_assert_uint_eq(h.ndeliv, 1);
    ck_assert_int_eq(h.deliv[0].ev.type, VEV_EXCEPTION);
    ck_assert_uint_eq(h.deliv[0].ev.vector, X86_DF);
    ck_assert(h.deliv[0].ev.has_error);
    ck_assert_uint_eq(h.deliv[0].ev.error, 0);
    ck_assert_uint_eq(stk(0), 0);
    ck_assert_uint_eq(stk(1), CODE + 4);
    ck_assert_uint_eq(h.nshutdown, 0);
}
END_TEST

START_TEST(a_page_fault_while_delivering_a_page_fault_becomes_df_on_its_ist_stack)
{
    /* #UD with RSP on a not-present page: the frame write faults (#PF), whose
     * frame write faults again (#PF during #PF = #DF), which has its own stack. */
    pte_set(0x31000, 0);
    set_gate(X86_DF, stub(X86_DF), GATE_INTR, 1, true);
    CODE_AT(CODE,
        0x48, 0xC7, 0xC4, 0x00, 0x20, 0x03, 0x00, /* 0: mov rsp, 0x32000 */
        0x0F, 0x0B,                     /* 7: ud2 */
    );
    run_to_stub(X86_DF);
    ck_assert_uint_eq(h.ndeliv, 1);
    ck_assert_uint_eq(h.deliv[0].ev.vector, X86_DF);
    ck_assert_uint_eq(h.deliv[0].rip, CODE + 7);
    ck_assert_uint_eq(reg(VR_RSP), (IST1_TOP & ~0xFull) - 48);
    ck_assert_uint_eq(stk(0), 0);
    ck_assert_uint_eq(stk(1), CODE + 7);
    ck_assert_uint_eq(stk(4), 0x32000);
}
END_TEST

START_TEST(a_fault_while_delivering_df_shuts_the_vcpu_down)
{
    set_gate(X86_GP, stub(X86_GP), GATE_INTR, 0, false);
    set_gate(X86_DF, stub(X86_DF), GATE_INTR, 0, false);
    CODE_AT(CODE,
        0x66, 0xB8, 0x33, 0x12,         /* 0: mov ax, 0x1233 */
        0x8E, 0xD8,                     /* 4: mov ds, ax */
        0xF4,                           /* 6: hlt */
    );
    ck_assert_int_eq(run(1000), VCPU_STOP_SHUTDOWN);
    ck_assert_uint_eq(h.nshutdown, 1);
    ck_assert_str_eq(h.why, "triple fault");
    ck_assert_uint_eq(h.why_rip, CODE + 4);
    ck_assert_uint_eq(h.ndeliv, 0);
    ck_assert_uint_eq(h.nexits, 0);
}
END_TEST

START_TEST(an_exception_before_the_guest_loads_an_idt_shuts_the_vcpu_down)
{
    /* Boot state: IDTR limit 0 (docs/guest-abi.md). #UD -> #GP -> #DF -> shutdown. */
    CODE_AT(CODE,
        0x90,                           /* 0: nop */
        0x0F, 0x0B,                     /* 1: ud2 */
    );
    ck_assert_int_eq(run(1000), VCPU_STOP_SHUTDOWN);
    ck_assert_uint_eq(h.nshutdown, 1);
    ck_assert_str_eq(h.why, "triple fault");
    ck_assert_uint_eq(h.why_rip, CODE + 1);
    ck_assert_uint_eq(h.ndeliv, 0);
}
END_TEST

/* ---- Interrupt windows ------------------------------------------------------------------ */

static int extint_on_first_msr(struct vcpu *v, struct vcpu_exit *e)
{
    if (e->code != SVM_EXIT_MSR || e->rip != CODE)
        return -1;
    h.queue[h.nqueue++] = (struct vcpu_event){VEV_EXTINT, 0x30, false, 0, 0};
    vcpu_kick(v);
    return -1;
}

/* The first window the CPU offered after the intercept at seq. */
static const struct rec_pend *window_after(unsigned seq)
{
    for (unsigned i = 0; i < h.npend && i < MAXREC; i++)
        if (h.pend[i].seq > seq)
            return &h.pend[i];
    return NULL;
}

START_TEST(a_pending_interrupt_is_delivered_at_the_next_block_boundary_when_if_is_set)
{
    CODE_AT(CODE,
        0x0F, 0x32,                     /* 0: rdmsr (the model raises vector 0x30) */
        0xBB, 0x01, 0x00, 0x00, 0x00,   /* 2: mov ebx, 1 */
        0xF4,                           /* 7: hlt */
    );
    h.on_exit = extint_on_first_msr;
    vcpu_set(h.v, VR_RFLAGS, 0x202);
    run_to_stub(0x30);
    ck_assert_uint_eq(h.ndeliv, 1);
    ck_assert_int_eq(h.deliv[0].ev.type, VEV_EXTINT);
    ck_assert_uint_eq(h.deliv[0].ev.vector, 0x30);
    ck_assert_uint_eq(h.deliv[0].rip, CODE + 2);
    ck_assert_uint_gt(h.deliv[0].seq, h.exits[0].seq);
    const struct rec_pend *w = window_after(h.exits[0].seq);
    ck_assert_ptr_nonnull(w);
    ck_assert(w->intr);
    ck_assert_int_eq(w->ret, 1);
    ck_assert_uint_eq(stk(0), CODE + 2);
    ck_assert_uint_eq(stk(2), 0x202);
    ck_assert_uint_eq(reg(VR_RFLAGS) & RFLAGS_IF, 0);
    ck_assert_uint_eq(reg(VR_RBX), 0);
    ck_assert_uint_eq(insns(), 2);
}
END_TEST

START_TEST(an_interrupt_is_held_while_if_is_clear_and_taken_after_the_sti_shadow)
{
    CODE_AT(CODE,
        0x0F, 0x32,                     /*  0: rdmsr (the model raises vector 0x30) */
        0xBB, 0x01, 0x00, 0x00, 0x00,   /*  2: mov ebx, 1 */
        0x90,                           /*  7: nop */
        0xFB,                           /*  8: sti */
        0xB9, 0x02, 0x00, 0x00, 0x00,   /*  9: mov ecx, 2 (in the STI shadow) */
        0xBA, 0x03, 0x00, 0x00, 0x00,   /*  e: mov edx, 3 */
        0xF4,                           /* 13: hlt */
    );
    h.on_exit = extint_on_first_msr;
    run_to_stub(0x30);
    const struct rec_pend *w = window_after(h.exits[0].seq);
    ck_assert_ptr_nonnull(w);
    ck_assert(!w->intr);
    ck_assert_int_eq(w->ret, -1);
    ck_assert_uint_eq(h.ndeliv, 1);
    ck_assert_uint_eq(h.deliv[0].ev.vector, 0x30);
    ck_assert_uint_eq(reg(VR_RBX), 1);
    ck_assert_uint_eq(reg(VR_RCX), 2);
    ck_assert_uint_eq(reg(VR_RDX), 0);
    ck_assert_uint_eq(h.deliv[0].rip, CODE + 0xE);
    ck_assert_uint_eq(stk(0), CODE + 0xE);
    ck_assert_uint_eq(stk(2) & RFLAGS_IF, RFLAGS_IF);
}
END_TEST

static int nmis_on_first_msr(struct vcpu *v, struct vcpu_exit *e)
{
    if (e->code != SVM_EXIT_MSR || e->rip != CODE)
        return -1;
    h.queue[h.nqueue++] = (struct vcpu_event){VEV_NMI, X86_NMI, false, 0, 0};
    h.queue[h.nqueue++] = (struct vcpu_event){VEV_NMI, X86_NMI, false, 0, 0};
    vcpu_kick(v);
    return -1;
}

START_TEST(an_nmi_blocks_further_nmis_until_iretq)
{
    CODE_AT(HANDLERS,
        0x0F, 0x32,                     /* 0: rdmsr (records NMI blocking) */
        0x90,                           /* 2: nop */
        0x48, 0xCF,                     /* 3: iretq */
    );
    set_gate(X86_NMI, HANDLERS, GATE_INTR, 0, true);
    CODE_AT(CODE,
        0x0F, 0x32,                     /* 0: rdmsr (the model raises two NMIs) */
        0x90,                           /* 2: nop */
        0x90,                           /* 3: nop */
        0x90,                           /* 4: nop */
        0xF4,                           /* 5: hlt */
    );
    h.on_exit = nmis_on_first_msr;
    ck_assert_int_eq(run(10000), VCPU_STOP_HALT);
    ck_assert_uint_eq(reg(VR_RIP), CODE + 6);
    ck_assert_uint_eq(h.ndeliv, 2);
    ck_assert_uint_eq(h.nexits, 4);
    for (unsigned i = 0; i < 2; i++) {
        ck_assert_int_eq(h.deliv[i].ev.type, VEV_NMI);
        ck_assert_uint_eq(h.deliv[i].ev.vector, X86_NMI);
        ck_assert_uint_eq(h.deliv[i].rip, CODE + 2);
    }
    /* main rdmsr, handler rdmsr (blocked), handler rdmsr (blocked), hlt */
    ck_assert_uint_eq(h.exits[0].e.rip, CODE);
    ck_assert(!h.exits[0].nmi_blocked);
    ck_assert_uint_eq(h.exits[1].e.rip, HANDLERS);
    ck_assert(h.exits[1].nmi_blocked);
    ck_assert_uint_eq(h.exits[2].e.rip, HANDLERS);
    ck_assert(h.exits[2].nmi_blocked);
    ck_assert(!h.exits[3].nmi_blocked);
    /* The second NMI came only after the first handler's IRETQ. */
    ck_assert_uint_gt(h.deliv[1].seq, h.exits[1].seq);
    ck_assert_uint_lt(h.deliv[1].seq, h.exits[2].seq);
    /* In between, the CPU asked with NMIs blocked and was told to wait. */
    const struct rec_pend *w = window_after(h.deliv[0].seq);
    ck_assert_ptr_nonnull(w);
    ck_assert(!w->nmi);
    ck_assert_int_eq(w->ret, -1);
    ck_assert(!vcpu_nmi_blocked(h.v));
}
END_TEST

START_TEST(the_model_can_deliver_an_event_between_runs_with_the_current_rip_pushed)
{
    CODE_AT(CODE,
        0x90,                           /* 0: nop */
        0xF4,                           /* 1: hlt */
        0xF4,                           /* 2: hlt */
    );
    ck_assert_int_eq(run(1000), VCPU_STOP_HALT);
    struct vcpu_event nmi = {VEV_NMI, X86_NMI, false, 0, 0};
    ck_assert_int_eq(vcpu_deliver(h.v, &nmi), 0);
    ck_assert(vcpu_nmi_blocked(h.v));
    ck_assert_uint_eq(reg(VR_RIP), stub(X86_NMI));
    ck_assert_uint_eq(h.ndeliv, 1);
    ck_assert_int_eq(h.deliv[0].ev.type, VEV_NMI);
    ck_assert_uint_eq(h.deliv[0].rip, CODE + 2);
    ck_assert_uint_eq(stk(0), CODE + 2);
    ck_assert_uint_eq(reg(VR_RSP), STACK_TOP - 40);
    /* An exception the model injects carries its error code. */
    struct vcpu_event gp = {VEV_EXCEPTION, X86_GP, true, 0x18, 0};
    ck_assert_int_eq(vcpu_deliver(h.v, &gp), 0);
    ck_assert_uint_eq(stk(0), 0x18);
    ck_assert_uint_eq(stk(1), stub(X86_NMI));
    run_to_stub(X86_GP);
    ck_assert_uint_eq(h.ndeliv, 2);
}
END_TEST

START_TEST(deliver_reports_a_triple_fault_and_shuts_the_vcpu_down)
{
    struct vcpu_event ev = {VEV_EXTINT, 0x20, false, 0, 0};
    ck_assert_int_eq(vcpu_deliver(h.v, &ev), -1);
    ck_assert_uint_eq(h.nshutdown, 1);
    ck_assert_str_eq(h.why, "triple fault");
    ck_assert_uint_eq(h.why_rip, CODE);
    ck_assert_uint_eq(h.ndeliv, 0);
}
END_TEST

static void add_event_tests(Suite *s)
{
    TCase *tc = tcase_create("delivery");
    tcase_add_checked_fixture(tc, setup_idt, teardown);
    tcase_add_loop_test(tc,
                        raise_delivers_the_named_exception_through_the_idt_with_rip_at_the_instruction,
                        0, (int)(sizeof(raises) / sizeof(raises[0])));
    tcase_add_loop_test(tc, an_invalid_opcode_delivers_ud_with_rip_at_the_instruction, 0,
                        (int)(sizeof(invalid_opcodes) / sizeof(invalid_opcodes[0])));
    tcase_add_loop_test(tc, gp_from_a_bad_segment_load_pushes_the_selector_as_error_code, 0,
                        (int)(sizeof(seg_loads) / sizeof(seg_loads[0])));
    tcase_add_loop_test(tc, a_page_fault_pushes_the_exact_error_code_and_sets_cr2, 0,
                        (int)(sizeof(page_faults) / sizeof(page_faults[0])));
    tcase_add_loop_test(tc, a_page_fault_at_cpl3_sets_the_user_bit_and_switches_to_rsp0, 0,
                        (int)(sizeof(user_faults) / sizeof(user_faults[0])));
    tcase_add_loop_test(tc, mov_cr8_at_cpl3_raises_gp_without_reaching_the_model, 0, 2);
    tcase_add_loop_test(tc, an_interrupt_gate_clears_if_and_a_trap_gate_keeps_it, 0, 2);
    tcase_add_test(tc, an_ist_gate_switches_to_the_aligned_tss_ist_stack);
    suite_add_tcase(s, tc);

    tc = tcase_create("nested");
    tcase_add_checked_fixture(tc, setup_idt, teardown);
    tcase_add_test(tc, a_second_and_third_gp_after_handled_ones_arrive_as_gp_not_df);
    tcase_add_test(tc, a_not_present_idt_entry_becomes_np_with_the_idt_error_code);
    tcase_add_test(tc, an_int_beyond_the_idt_limit_is_gp_on_the_int_with_the_idt_error_code);
    tcase_add_test(tc, an_external_interrupt_beyond_the_idt_limit_is_gp_with_ext_set);
    tcase_add_test(tc, a_fault_while_delivering_a_gp_becomes_df);
    tcase_add_test(tc, a_page_fault_while_delivering_a_page_fault_becomes_df_on_its_ist_stack);
    tcase_add_test(tc, a_fault_while_delivering_df_shuts_the_vcpu_down);
    suite_add_tcase(s, tc);

    tc = tcase_create("no_idt");
    tcase_add_checked_fixture(tc, setup_bare, teardown);
    tcase_add_test(tc, an_exception_before_the_guest_loads_an_idt_shuts_the_vcpu_down);
    tcase_add_test(tc, deliver_reports_a_triple_fault_and_shuts_the_vcpu_down);
    suite_add_tcase(s, tc);

    tc = tcase_create("windows");
    tcase_add_checked_fixture(tc, setup_idt, teardown);
    tcase_add_test(tc, a_pending_interrupt_is_delivered_at_the_next_block_boundary_when_if_is_set);
    tcase_add_test(tc, an_interrupt_is_held_while_if_is_clear_and_taken_after_the_sti_shadow);
    tcase_add_test(tc, an_nmi_blocks_further_nmis_until_iretq);
    tcase_add_test(tc, the_model_can_deliver_an_event_between_runs_with_the_current_rip_pushed);
    suite_add_tcase(s, tc);
}

int main(void)
{
    Suite *s = suite_create("cpu_events");
    add_event_tests(s);
    return ck_run(s, CK_RUN_FORK);
}
