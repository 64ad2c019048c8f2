/* SPDX-License-Identifier: MIT */
/*
 * Check suite for the vCPU engine (cpu/), part 4: self-modifying and
 * cross-modifying code beyond the basic cases of test_cpu.c (SDM vol. 3 8.1.3;
 * APM vol. 2 7.6.1). Code and data on one page (the stores run without the
 * model, yet a rewrite of an instruction there takes effect), code rewritten by
 * another vCPU whose engine has its own translations, and code the model itself
 * writes: REP INSB through vcpu_string_io() and a device-like write to guest
 * RAM; and the re-arming of a written code page (cpu/decode.c): a block not
 * compared since is compared before it runs again, and every later store
 * still takes effect, past the page's last re-arm. The harness is
 * test_cpu_harness.h.
 */
#include "test_cpu_harness.h"
#include "ck_run.h"

#define T_SAME  (CODE + 0x100) /* a routine on the page of the test code */
#define T_OTHER 0x11000u       /* a routine on a page of its own */
#define MIXED_DATA (CODE + 0x800)

/* call T; hlt at `at` (T = nop; nop; ret, written by the caller). */
static void call_then_hlt(uint64_t at, uint64_t target)
{
    uint8_t c[] = {0xE8, 0, 0, 0, 0, 0xF4};
    uint32_t rel = (uint32_t)(target - (at + 5));
    memcpy(c + 1, &rel, 4);
    put(at, c, sizeof(c));
}

static struct vcpu_stats stats(struct vcpu *v)
{
    struct vcpu_stats s;
    vcpu_get_stats(v, &s);
    return s;
}

/* ================================ Code and data on one page =============================== */

/*
 * call T; a 1000-store loop into MIXED_DATA, on the page of the loop itself;
 * mov word [T], 0x320F (T: nop; nop; ret -> rdmsr; ret); call T; hlt.
 */
START_TEST(stores_beside_running_code_stay_out_of_the_model_and_a_rewrite_there_takes_effect)
{
    CODE_AT(CODE,
        0xE8, 0xFB, 0x00, 0x00, 0x00,               /*  0: call T (CODE+0x100) */
        0xB9, 0xE8, 0x03, 0x00, 0x00,               /*  5: mov ecx, 1000 */
        0x89, 0x0C, 0x25, 0x00, 0x08, 0x01, 0x00,   /*  a: 1: mov [CODE+0x800], ecx */
        0xFF, 0xC9,                                 /* 11: dec ecx */
        0x75, 0xF5,                                 /* 13: jnz 1b */
        0x66, 0xC7, 0x04, 0x25, 0x00, 0x01, 0x01, 0x00, 0x0F, 0x32, /* 15: mov word [T], 0x320F */
        0xE8, 0xDC, 0x00, 0x00, 0x00,               /* 1f: call T */
        0xF4,                                       /* 24: hlt */
    );
    CODE_AT(T_SAME, 0x90, 0x90, 0xC3);              /* nop; nop; ret */
    ck_assert_int_eq(run(100000), VCPU_STOP_HALT);
    ck_assert_uint_eq(h.nexits, 2);
    ck_assert_uint_eq(h.exits[0].e.code, SVM_EXIT_MSR);
    ck_assert_uint_eq(h.exits[0].e.rip, T_SAME);
    ck_assert_uint_eq(h.exits[1].e.code, SVM_EXIT_HLT);
    ck_assert_uint_eq(h.exits[1].e.rip, CODE + 0x24);
    /* call nop nop ret, mov, 1000 x (mov dec jnz), mov, call rdmsr ret, hlt */
    ck_assert_uint_eq(insns(), 4 + 1 + 3000 + 1 + 3 + 1);
    ck_assert_uint_eq(mem_ld32(&h.m, MIXED_DATA), 1);
    /* The stores did not come back to the model one by one (each one did
     * when a code page was kept write-protected), nor made it decode again. */
    struct vcpu_stats st = stats(h.v);
    ck_assert_uint_lt(st.tlb_fills, 50);
    ck_assert_uint_lt(st.blocks_decoded, 20);
    ck_assert_uint_ge(st.smc_redecodes, 1);
}
END_TEST

/* The routine's rewrite lands after the data stores made the page's TLB entry
 * writable without a fill, and goes the other way: the intercept goes away. */
START_TEST(rewriting_an_rdmsr_beside_data_stores_makes_the_intercept_disappear)
{
    CODE_AT(CODE,
        0xE8, 0xFB, 0x00, 0x00, 0x00,               /*  0: call T (CODE+0x100) */
        0x89, 0x0C, 0x25, 0x00, 0x08, 0x01, 0x00,   /*  5: mov [CODE+0x800], ecx */
        0x89, 0x0C, 0x25, 0x08, 0x08, 0x01, 0x00,   /*  c: mov [CODE+0x808], ecx */
        0x66, 0xC7, 0x04, 0x25, 0x00, 0x01, 0x01, 0x00, 0x90, 0x90, /* 13: mov word [T], 0x9090 */
        0xE8, 0xDE, 0x00, 0x00, 0x00,               /* 1d: call T */
        0xF4,                                       /* 22: hlt */
    );
    CODE_AT(T_SAME, 0x0F, 0x32, 0xC3);              /* rdmsr; ret */
    ck_assert_int_eq(run(1000), VCPU_STOP_HALT);
    ck_assert_uint_eq(h.nexits, 2);
    ck_assert_uint_eq(h.exits[0].e.code, SVM_EXIT_MSR);
    ck_assert_uint_eq(h.exits[1].e.code, SVM_EXIT_HLT);
    ck_assert_uint_eq(h.exits[1].e.rip, CODE + 0x22);
    /* call rdmsr ret, mov mov mov, call nop nop ret, hlt */
    ck_assert_uint_eq(insns(), 3 + 3 + 4 + 1);
}
END_TEST

/* ================================ Another vCPU rewrites the code ========================== */

static struct vcpu *second_vcpu(uint64_t rip)
{
    char err[160] = "";
    struct vcpu_config cfg = {.index = 1, .mem = &h.m, .shared = h.sh, .cb = &fk_cb,
                              .cb_ctx = &h, .mmio_end = MMIO_END, .tcg_buffer_mb = 16};
    struct vcpu *v = vcpu_create(&cfg, err, sizeof(err));
    ck_assert_msg(v != NULL, "%s", err);
    struct vcpu_boot b = {.rip = rip, .rsp = STACK_TOP - 0x1000, .rflags = 0x2,
                          .cr0 = 0x80010033, .cr3 = PML4, .cr4 = 0x6A0, .efer = 0xD01,
                          .gdt_base = GDT, .gdt_limit = GDT_LIMIT, .cs = SEL_CODE0,
                          .ds = SEL_DATA0};
    ck_assert_int_eq(vcpu_set_boot_state(v, &b, err, sizeof(err)), 0);
    return v;
}

/* vCPU 1's code, on a page of its own: [data store;] mov word [T], patch; hlt. */
static void writer_program(uint64_t at, uint64_t target, uint16_t patch, bool data_first)
{
    uint8_t c[] = {
        0x89, 0x0C, 0x25, 0, 0, 0, 0,                   /* 0: mov [T & ~0xFFF | 0x800], ecx */
        0x66, 0xC7, 0x04, 0x25, 0, 0, 0, 0, 0, 0,       /* 7: mov word [T], patch */
        0xF4,                                           /* 11: hlt */
    };
    uint32_t data = (uint32_t)((target & ~0xFFFull) | 0x800), t32 = (uint32_t)target;
    memcpy(c + 3, &data, 4);
    memcpy(c + 11, &t32, 4);
    memcpy(c + 15, &patch, 2);
    if (data_first)
        put(at, c, sizeof(c));
    else
        put(at, c + 7, sizeof(c) - 7);
}

/* _i: bit 0 = T on the test code's page, bit 1 = vCPU 1 stores data on T's
 * page before patching it (so its patch needs no TLB fill of its own). */
START_TEST(code_rewritten_by_another_vcpu_runs_as_rewritten_on_this_one)
{
    uint64_t t = (_i & 1) ? T_SAME : T_OTHER;
    bool data_first = _i & 2;
    call_then_hlt(CODE, t);
    CODE_AT(t, 0x90, 0x90, 0xC3);                   /* nop; nop; ret */
    writer_program(0x12000, t, 0x320F, data_first);
    ck_assert_int_eq(run(1000), VCPU_STOP_HALT);
    ck_assert_uint_eq(h.nexits, 1);

    struct vcpu *w = second_vcpu(0x12000);
    ck_assert_int_eq(vcpu_run(w, 1000), VCPU_STOP_HALT);
    ck_assert_uint_eq(h.nexits, 2);
    ck_assert_uint_eq(h.m.ram[t], 0x0F);

    /* vCPU 0 still holds its translation of the nops: it must not run it. */
    vcpu_set(h.v, VR_RIP, CODE);
    ck_assert_int_eq(run(1000), VCPU_STOP_HALT);
    ck_assert_uint_eq(h.nexits, 4);
    ck_assert_uint_eq(h.exits[2].e.code, SVM_EXIT_MSR);
    ck_assert_uint_eq(h.exits[2].e.rip, t);
    ck_assert_uint_eq(h.exits[3].e.code, SVM_EXIT_HLT);
    ck_assert_uint_eq(h.exits[3].e.rip, CODE + 5);
    vcpu_destroy(w);
}
END_TEST

START_TEST(an_rdmsr_another_vcpu_rewrites_into_nops_stops_being_intercepted)
{
    call_then_hlt(CODE, T_SAME);
    CODE_AT(T_SAME, 0x0F, 0x32, 0xC3);              /* rdmsr; ret */
    writer_program(0x12000, T_SAME, 0x9090, true);
    ck_assert_int_eq(run(1000), VCPU_STOP_HALT);
    ck_assert_uint_eq(h.nexits, 2);
    struct vcpu *w = second_vcpu(0x12000);
    ck_assert_int_eq(vcpu_run(w, 1000), VCPU_STOP_HALT);
    vcpu_set(h.v, VR_RIP, CODE);
    uint64_t before = insns();
    ck_assert_int_eq(run(1000), VCPU_STOP_HALT);
    ck_assert_uint_eq(h.nexits, 4);
    ck_assert_uint_eq(h.exits[3].e.code, SVM_EXIT_HLT);
    /* call nop nop ret hlt */
    ck_assert_uint_eq(insns() - before, 5);
    vcpu_destroy(w);
}
END_TEST

/* ================================ The model writes the code =============================== */

static const uint8_t rdmsr_bytes[2] = {0x0F, 0x32};

/* Port 0x500 delivers the bytes of RDMSR, one per element. */
static void rdmsr_port(void *ctx, struct vcpu *v, uint16_t port, uint8_t size, bool in,
                       uint64_t *data)
{
    (void)ctx;
    (void)v;
    ck_assert_uint_eq(port, 0x500);
    ck_assert_uint_eq(size, 1);
    ck_assert(in);
    ck_assert_uint_lt(h.npio, 2);
    *data = rdmsr_bytes[h.npio++];
}

static int ins_rdmsr(struct vcpu *v, struct vcpu_exit *e)
{
    if (!e->string)
        return -1;
    ck_assert_int_eq(vcpu_string_io(v, e, rdmsr_port, NULL), 0);
    return VCPU_NEXT;
}

/* call T (decoded as nop; nop; ret); REP INSB of RDMSR over T; call T; hlt. */
START_TEST(rep_insb_over_a_decoded_routine_makes_its_new_instruction_run)
{
    uint64_t t = _i ? T_SAME : T_OTHER;
    uint8_t c[] = {
        0xE8, 0, 0, 0, 0,                   /*  0: call T */
        0xFC,                               /*  5: cld */
        0xBA, 0x00, 0x05, 0x00, 0x00,       /*  6: mov edx, 0x500 */
        0xBF, 0, 0, 0, 0,                   /*  b: mov edi, T */
        0xB9, 0x02, 0x00, 0x00, 0x00,       /* 10: mov ecx, 2 */
        0xF3, 0x6C,                         /* 15: rep insb */
        0xE8, 0, 0, 0, 0,                   /* 17: call T */
        0xF4,                               /* 1c: hlt */
    };
    uint32_t rel1 = (uint32_t)(t - (CODE + 5)), rel2 = (uint32_t)(t - (CODE + 0x1C));
    uint32_t t32 = (uint32_t)t;
    memcpy(c + 1, &rel1, 4);
    memcpy(c + 12, &t32, 4);
    memcpy(c + 0x18, &rel2, 4);
    put(CODE, c, sizeof(c));
    CODE_AT(t, 0x90, 0x90, 0xC3);                   /* nop; nop; ret */
    h.on_exit = ins_rdmsr;
    ck_assert_int_eq(run(1000), VCPU_STOP_HALT);
    ck_assert_uint_eq(h.nexits, 3);
    ck_assert_uint_eq(h.exits[0].e.code, SVM_EXIT_IOIO);
    ck_assert_uint_eq(h.exits[1].e.code, SVM_EXIT_MSR);
    ck_assert_uint_eq(h.exits[1].e.rip, t);
    ck_assert_uint_eq(h.exits[2].e.code, SVM_EXIT_HLT);
    /* call nop nop ret, cld mov mov mov insb, call rdmsr ret, hlt */
    ck_assert_uint_eq(insns(), 4 + 5 + 3 + 1);
}
END_TEST

/* REP INSB writes RDMSR over the two nops right after it in its own block. */
START_TEST(rep_insb_over_the_instructions_after_it_takes_effect_at_once)
{
    CODE_AT(CODE,
        0xFC,                               /*  0: cld */
        0xBA, 0x00, 0x05, 0x00, 0x00,       /*  1: mov edx, 0x500 */
        0xBF, 0x12, 0x00, 0x01, 0x00,       /*  6: mov edi, CODE+0x12 */
        0xB9, 0x02, 0x00, 0x00, 0x00,       /*  b: mov ecx, 2 */
        0xF3, 0x6C,                         /* 10: rep insb */
        0x90, 0x90,                         /* 12: nop; nop (rdmsr once written) */
        0xF4,                               /* 14: hlt */
    );
    h.on_exit = ins_rdmsr;
    ck_assert_int_eq(run(1000), VCPU_STOP_HALT);
    ck_assert_uint_eq(h.nexits, 3);
    ck_assert_uint_eq(h.exits[1].e.code, SVM_EXIT_MSR);
    ck_assert_uint_eq(h.exits[1].e.rip, CODE + 0x12);
    ck_assert_uint_eq(h.exits[2].e.rip, CODE + 0x14);
    ck_assert_uint_eq(insns(), 7);
}
END_TEST

/* A device-like write straight into guest RAM (mem_write, no vCPU involved),
 * then mem_hv_write putting the nops back. */
START_TEST(code_a_device_writes_into_guest_ram_is_retranslated)
{
    call_then_hlt(CODE, T_OTHER);
    CODE_AT(T_OTHER, 0x90, 0x90, 0xC3);             /* nop; nop; ret */
    ck_assert_int_eq(run(1000), VCPU_STOP_HALT);
    ck_assert_uint_eq(h.nexits, 1);
    ck_assert(mem_write(&h.m, T_OTHER, rdmsr_bytes, 2));
    vcpu_set(h.v, VR_RIP, CODE);
    ck_assert_int_eq(run(1000), VCPU_STOP_HALT);
    ck_assert_uint_eq(h.nexits, 3);
    ck_assert_uint_eq(h.exits[1].e.code, SVM_EXIT_MSR);
    ck_assert_uint_eq(h.exits[1].e.rip, T_OTHER);

    static const uint8_t nops[2] = {0x90, 0x90};
    uint64_t pf = 1;
    ck_assert(mem_hv_write(&h.m, T_OTHER, nops, 2, &pf));
    vcpu_set(h.v, VR_RIP, CODE);
    ck_assert_int_eq(run(1000), VCPU_STOP_HALT);
    ck_assert_uint_eq(h.nexits, 4);
    ck_assert_uint_eq(h.exits[3].e.code, SVM_EXIT_HLT);
}
END_TEST

/* ================================ A written page re-armed ================================= */

#define T_A (CODE + 0x40) /* nop; ret: a second block on the page of T_SAME */

/* Appends call target at CODE + *at. */
static void emit_call(uint8_t *c, size_t *at, uint64_t target)
{
    uint32_t rel = (uint32_t)(target - (CODE + *at + 5));
    c[(*at)++] = 0xE8;
    memcpy(c + *at, &rel, 4);
    *at += 4;
}

/* Appends mov word [T_SAME], patch. */
static void emit_patch(uint8_t *c, size_t *at, uint16_t patch)
{
    static const uint8_t op[] = {0x66, 0xC7, 0x04, 0x25};
    uint32_t t = (uint32_t)T_SAME;
    memcpy(c + *at, op, 4);
    memcpy(c + *at + 4, &t, 4);
    memcpy(c + *at + 8, &patch, 2);
    *at += 10;
}

/*
 * call A; call T (both decoded, T: nop; nop; ret); mov word [T], rdmsr (the
 * page is WRITTEN); call A (unchanged: its page is re-armed, CLEAN again);
 * call T; hlt. T was never compared after the store, and its page looks CLEAN
 * when it is entered again: it must still be compared, and run as rewritten.
 */
START_TEST(a_block_not_compared_since_its_page_was_rearmed_is_compared_before_it_runs)
{
    uint8_t c[64];
    size_t at = 0;
    emit_call(c, &at, T_A);
    emit_call(c, &at, T_SAME);
    emit_patch(c, &at, 0x320F);
    emit_call(c, &at, T_A);
    emit_call(c, &at, T_SAME);
    size_t hlt = at;
    c[at++] = 0xF4;
    put(CODE, c, at);
    CODE_AT(T_A, 0x90, 0xC3);                       /* nop; ret */
    CODE_AT(T_SAME, 0x90, 0x90, 0xC3);              /* nop; nop; ret */
    ck_assert_int_eq(run(1000), VCPU_STOP_HALT);
    ck_assert_uint_eq(h.nexits, 2);
    ck_assert_uint_eq(h.exits[0].e.code, SVM_EXIT_MSR);
    ck_assert_uint_eq(h.exits[0].e.rip, T_SAME);
    ck_assert_uint_eq(h.exits[1].e.rip, CODE + hlt);
    /* call nop ret, call nop nop ret, mov, call nop ret, call rdmsr ret, hlt */
    ck_assert_uint_eq(insns(), 3 + 4 + 1 + 3 + 3 + 1);
}
END_TEST

/*
 * 40 times: mov word [T], rdmsr; call A; call T; mov word [T], nop nop;
 * call A; call T. Each call A re-arms the page until it was re-armed
 * MEM_CODE_REARMS times, after which it stays WRITTEN: every rewrite takes
 * effect on both sides of that limit, the rdmsr exactly 40 times.
 */
START_TEST(every_rewrite_of_a_rearmed_page_takes_effect_past_its_last_rearm)
{
    uint8_t c[128];
    size_t at = 0;
    c[at++] = 0xB9; /* mov ecx, 40 */
    uint32_t n = 40;
    memcpy(c + at, &n, 4);
    at += 4;
    size_t loop = at;
    emit_patch(c, &at, 0x320F);
    emit_call(c, &at, T_A);
    emit_call(c, &at, T_SAME);
    emit_patch(c, &at, 0x9090);
    emit_call(c, &at, T_A);
    emit_call(c, &at, T_SAME);
    c[at++] = 0xFF, c[at++] = 0xC9;                 /* dec ecx */
    c[at++] = 0x75, c[at] = (uint8_t)(loop - (at + 1)), at++; /* jnz loop */
    size_t hlt = at;
    c[at++] = 0xF4;
    put(CODE, c, at);
    CODE_AT(T_A, 0x90, 0xC3);
    CODE_AT(T_SAME, 0x90, 0x90, 0xC3);
    ck_assert_int_eq(run(100000), VCPU_STOP_HALT);
    ck_assert_uint_eq(h.nexits, 41);
    for (unsigned i = 0; i < 40; i++) {
        ck_assert_uint_eq(h.exits[i].e.code, SVM_EXIT_MSR);
        ck_assert_uint_eq(h.exits[i].e.rip, T_SAME);
    }
    ck_assert_uint_eq(h.exits[40].e.rip, CODE + hlt);
    /* mov, 40 x (mov call nop ret call rdmsr ret mov call nop ret call nop nop ret dec jnz), hlt */
    ck_assert_uint_eq(insns(), 1 + 40 * 17 + 1);
    ck_assert_uint_eq(h.m.code[CODE >> 12], MEM_CODE_WRITTEN + 2 * MEM_CODE_REARMS);
    /* T changed under its translation 79 times (the first call decodes it). */
    ck_assert_uint_eq(stats(h.v).smc_redecodes, 79);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cpu_smc");
    TCase *tc = tcase_create("mixed_page");
    tcase_add_checked_fixture(tc, setup_bare, teardown);
    tcase_add_test(tc, stores_beside_running_code_stay_out_of_the_model_and_a_rewrite_there_takes_effect);
    tcase_add_test(tc, rewriting_an_rdmsr_beside_data_stores_makes_the_intercept_disappear);
    suite_add_tcase(s, tc);

    tc = tcase_create("cross_vcpu");
    tcase_add_checked_fixture(tc, setup_bare, teardown);
    tcase_add_loop_test(tc, code_rewritten_by_another_vcpu_runs_as_rewritten_on_this_one, 0, 4);
    tcase_add_test(tc, an_rdmsr_another_vcpu_rewrites_into_nops_stops_being_intercepted);
    suite_add_tcase(s, tc);

    tc = tcase_create("model_writes");
    tcase_add_checked_fixture(tc, setup_bare, teardown);
    tcase_add_loop_test(tc, rep_insb_over_a_decoded_routine_makes_its_new_instruction_run, 0, 2);
    tcase_add_test(tc, rep_insb_over_the_instructions_after_it_takes_effect_at_once);
    tcase_add_test(tc, code_a_device_writes_into_guest_ram_is_retranslated);
    suite_add_tcase(s, tc);

    tc = tcase_create("rearm");
    tcase_add_checked_fixture(tc, setup_bare, teardown);
    tcase_add_test(tc, a_block_not_compared_since_its_page_was_rearmed_is_compared_before_it_runs);
    tcase_add_test(tc, every_rewrite_of_a_rearmed_page_takes_effect_past_its_last_rearm);
    suite_add_tcase(s, tc);

    return ck_run(s, CK_RUN_FORK);
}
