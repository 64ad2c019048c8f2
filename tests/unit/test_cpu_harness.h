/* SPDX-License-Identifier: MIT */
/*
 * The harness of the cpu/ Check suites (test_cpu.c, test_cpu_events.c,
 * test_cpu_paging.c): a real Unicorn engine runs small hand-assembled x86-64
 * sequences (bytes with their assembly beside them) in 64-bit long mode over
 * RAM laid out here, and a fake model (struct vcpu_cb) records every callback
 * with a sequence number, so tests can check what reached the model, in which
 * order, and with what instruction count.
 *
 * Guest memory map (8 MiB RAM, MMIO [8 MiB, 10 MiB)):
 *   0x1000 PML4, 0x2000 PDPT, 0x3000 PD, 0x4000 PT (4 KiB pages of the first
 *   2 MiB, page 0 not present; 2 MiB pages above; PD[4] maps MMIO, PD[5] maps
 *   nothing), 0x5000 GDT (+ TSS descriptor 0x28), 0x6000 TSS, 0x6F00 IDTR
 *   images, 0x7000 IDT, 0x8000 one `hlt; jmp .-1` stub per vector (16 bytes
 *   each), 0x9000 handlers a test writes, 0xF000 setup code (LIDT, LTR),
 *   0x10000 test code, 0x20000 data, 0x40000 user pages, stacks below 0xA0000.
 * setup_idt() runs the setup code first (so the IDT and TSS are loaded the
 * architectural way) and starts the count at the test code; setup_bare()
 * starts at the test code with the boot IDTR (limit 0).
 */
#ifndef SNPREF_TEST_CPU_HARNESS_H
#define SNPREF_TEST_CPU_HARNESS_H

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cpu.h"
#include "mem.h"

#define MIB        (1ull << 20)
#define RAM        (8 * MIB)
#define MMIO_END   (RAM + 2 * MIB)
#define PML4       0x1000u
#define PDPT       0x2000u
#define PD         0x3000u
#define PT         0x4000u
#define GDT        0x5000u
#define GDT_LIMIT  (7 * 8 - 1)
#define TSS        0x6000u
#define IDTR_FULL  0x6F00u /* limit 0xFFF: 256 gates */
#define IDTR_SHORT 0x6F10u /* limit 0x1FF: 32 gates */
#define IDT        0x7000u
#define STUBS      0x8000u
#define HANDLERS   0x9000u
#define SETUP      0xF000u
#define CODE       0x10000u
#define DATA       0x20000u
#define USER_CODE  0x40000u
#define USER_STACK_TOP 0x42000u
#define STACK_TOP  0x90000u
#define RSP0_TOP   0x9E000u
#define IST1_TOP   0x9F008u /* deliberately not 16-byte aligned */

#define SEL_CODE0 0x08
#define SEL_DATA0 0x10
#define SEL_CODE3 0x1B
#define SEL_DATA3 0x23
#define SEL_TSS   0x28

#define PTE_P   (1ull << 0)
#define PTE_RW  (1ull << 1)
#define PTE_US  (1ull << 2)
#define PTE_A   (1ull << 5)
#define PTE_D   (1ull << 6)
#define PTE_PS  (1ull << 7)
#define PTE_NX  (1ull << 63)

#define RFLAGS_IF (1ull << 9)
#define RFLAGS_DF (1ull << 10)
#define GATE_INTR 0xE
#define GATE_TRAP 0xF

#define MAXREC 64

/* ---- The fake model ------------------------------------------------------------------ */

struct rec_exit {
    struct vcpu_exit e;   /* as the model left it (IN data filled) */
    uint64_t insns;       /* vcpu_insns() inside the callback */
    bool nmi_blocked;
    unsigned seq;
};

struct rec_deliv {
    struct vcpu_event ev;
    uint64_t rip;
    unsigned seq;
};

struct rec_pend {
    bool intr, nmi;
    int ret;
    unsigned seq;
};

struct rec_mmio {
    bool write;
    uint64_t gpa;
    unsigned size;
    uint64_t val;
    uint64_t insns;       /* vcpu_insns() in the callback */
};

struct rec_pio {
    uint16_t port;
    uint8_t size;
    bool in;
    uint64_t data;
};

static struct {
    struct mem m;
    struct cpu_shared *sh;
    struct vcpu *v;
    uint64_t base;        /* vcpu_insns() when the test code starts */
    unsigned seq;         /* orders exits, windows and deliveries */

    /* Extra model behaviour for one test; return -1 to keep the default. */
    int (*on_exit)(struct vcpu *v, struct vcpu_exit *e);
    struct rec_exit exits[MAXREC];
    unsigned nexits;
    uint64_t cpuid_leaf;
    uint64_t in_data, tsc;

    struct vcpu_event queue[8]; /* what cb->pending offers, oldest first */
    unsigned nqueue;
    struct rec_pend pend[MAXREC];
    unsigned npend;

    struct rec_deliv deliv[MAXREC];
    unsigned ndeliv;

    unsigned nshutdown;
    const char *why;
    uint64_t why_rip;

    struct rec_mmio mmio[16];
    unsigned nmmio;
    uint64_t mmio_value;
    bool mmio_stop;       /* an MMIO write asks the CPU to stop (as an IPI send does) */

    struct rec_pio pio[16];
    unsigned npio;
} h;

static enum vcpu_action fk_intercept(void *ctx, struct vcpu *v, struct vcpu_exit *e)
{
    (void)ctx;
    uint64_t insns = vcpu_insns(v);
    bool blocked = vcpu_nmi_blocked(v);
    enum vcpu_action a = e->code == SVM_EXIT_HLT ? VCPU_HALT : VCPU_NEXT;
    switch (e->code) {
    case SVM_EXIT_IOIO:
        if (e->in && !e->string)
            e->data = h.in_data;
        break;
    case SVM_EXIT_RDTSC:
    case SVM_EXIT_RDTSCP:
        e->data = h.tsc;
        break;
    case SVM_EXIT_CPUID:
        h.cpuid_leaf = vcpu_get(v, VR_RAX);
        vcpu_set(v, VR_RAX, 0xA1);
        vcpu_set(v, VR_RBX, 0xB2);
        vcpu_set(v, VR_RCX, 0xC3);
        vcpu_set(v, VR_RDX, 0xD4);
        break;
    default:
        break;
    }
    if (h.on_exit) {
        int r = h.on_exit(v, e);
        if (r >= 0)
            a = (enum vcpu_action)r;
    }
    if (h.nexits < MAXREC)
        h.exits[h.nexits] = (struct rec_exit){*e, insns, blocked, h.seq++};
    h.nexits++;
    return a;
}

static int fk_pending(void *ctx, struct vcpu *v, bool allow_intr, bool allow_nmi,
                      struct vcpu_event *ev)
{
    (void)ctx;
    (void)v;
    int r = 0;
    if (h.nqueue) {
        const struct vcpu_event *q = &h.queue[0];
        bool ok = q->type == VEV_NMI ? allow_nmi : q->type == VEV_EXTINT ? allow_intr : true;
        r = ok ? 1 : -1;
        if (ok) {
            *ev = *q;
            memmove(&h.queue[0], &h.queue[1], (--h.nqueue) * sizeof(h.queue[0]));
        }
    }
    if (h.npend < MAXREC)
        h.pend[h.npend] = (struct rec_pend){allow_intr, allow_nmi, r, h.seq++};
    h.npend++;
    return r;
}

static void fk_delivered(void *ctx, struct vcpu *v, const struct vcpu_event *ev, uint64_t rip)
{
    (void)ctx;
    (void)v;
    if (h.ndeliv < MAXREC)
        h.deliv[h.ndeliv] = (struct rec_deliv){*ev, rip, h.seq++};
    h.ndeliv++;
}

static void fk_shutdown(void *ctx, struct vcpu *v, const char *reason, uint64_t rip)
{
    (void)ctx;
    (void)v;
    h.nshutdown++;
    h.why = reason;
    h.why_rip = rip;
}

static uint64_t fk_mmio_read(void *ctx, struct vcpu *v, uint64_t gpa, unsigned size)
{
    (void)ctx;
    (void)v;
    ck_assert_uint_lt(h.nmmio, 16);
    h.mmio[h.nmmio++] = (struct rec_mmio){false, gpa, size, 0, vcpu_insns(v) - h.base};
    return h.mmio_value;
}

static void fk_mmio_write(void *ctx, struct vcpu *v, uint64_t gpa, unsigned size, uint64_t val)
{
    (void)ctx;
    ck_assert_uint_lt(h.nmmio, 16);
    h.mmio[h.nmmio++] = (struct rec_mmio){true, gpa, size, val, vcpu_insns(v) - h.base};
    if (h.mmio_stop)
        vcpu_request_stop(v);
}

static const struct vcpu_cb fk_cb = {
    .intercept = fk_intercept,
    .pending = fk_pending,
    .delivered = fk_delivered,
    .shutdown = fk_shutdown,
    .mmio_read = fk_mmio_read,
    .mmio_write = fk_mmio_write,
};

/* ---- Guest memory ---------------------------------------------------------------------- */

static inline void put(uint64_t gpa, const void *p, size_t n) { ck_assert(mem_write(&h.m, gpa, p, n)); }
static inline uint64_t ld64(uint64_t gpa) { return mem_ld64(&h.m, gpa); }
static inline void st64(uint64_t gpa, uint64_t v) { mem_st64(&h.m, gpa, v); }

/* The PTE that maps the 4 KiB page of va in the first 2 MiB. */
static inline uint64_t pte_gpa(uint64_t va) { return PT + (va >> 12) * 8; }
static inline uint64_t pte(uint64_t va) { return ld64(pte_gpa(va)); }
static inline void pte_set(uint64_t va, uint64_t v) { st64(pte_gpa(va), v); }

static inline void build_page_tables(void)
{
    st64(PML4, PDPT | PTE_P | PTE_RW | PTE_US);
    st64(PDPT, PD | PTE_P | PTE_RW | PTE_US);
    st64(PD, PT | PTE_P | PTE_RW | PTE_US);
    for (uint64_t i = 1; i < 6; i++)      /* RAM 2-8 MiB, then MMIO and a hole */
        st64(PD + i * 8, (i << 21) | PTE_P | PTE_RW | PTE_PS);
    for (uint64_t i = 1; i < 512; i++)    /* page 0 not present */
        st64(PT + i * 8, (i << 12) | PTE_P | PTE_RW);
    /* User pages for ring-3 tests: code and stack. */
    pte_set(USER_CODE, pte(USER_CODE) | PTE_US);
    pte_set(USER_STACK_TOP - 0x1000, pte(USER_STACK_TOP - 0x1000) | PTE_US);
}

static inline void set_gate(unsigned vec, uint64_t handler, unsigned type, unsigned ist, bool present)
{
    uint64_t lo = (handler & 0xFFFF) | (uint64_t)SEL_CODE0 << 16 | (uint64_t)ist << 32 |
                  (uint64_t)(type | (present ? 0x80u : 0u)) << 40 |
                  ((handler >> 16) & 0xFFFF) << 48;
    st64(IDT + vec * 16, lo);
    st64(IDT + vec * 16 + 8, handler >> 32);
}

static inline uint64_t stub(unsigned vec) { return STUBS + vec * 16; }

static inline void build_descriptors(void)
{
    static const uint64_t gdt[7] = {
        0,
        0x00AF9A000000FFFFull, /* 0x08 code64 DPL0 */
        0x00CF92000000FFFFull, /* 0x10 data DPL0 */
        0x00AFFA000000FFFFull, /* 0x18 code64 DPL3 */
        0x00CFF2000000FFFFull, /* 0x20 data DPL3 */
        0x0000890060000067ull, /* 0x28 available 64-bit TSS at 0x6000, limit 0x67 */
        0,
    };
    put(GDT, gdt, sizeof(gdt));
    st64(TSS + 4, RSP0_TOP);  /* RSP0 */
    st64(TSS + 36, IST1_TOP); /* IST1 */
    uint8_t idtr[10] = {0xFF, 0x0F, IDT & 0xFF, (IDT >> 8) & 0xFF};
    put(IDTR_FULL, idtr, sizeof(idtr));
    idtr[0] = 0xFF, idtr[1] = 0x01;
    put(IDTR_SHORT, idtr, sizeof(idtr));
    static const uint8_t halt_stub[] = {0xF4, 0xEB, 0xFD}; /* 1: hlt; jmp 1b */
    for (unsigned v = 0; v < 256; v++) {
        put(stub(v), halt_stub, sizeof(halt_stub));
        set_gate(v, stub(v), GATE_INTR, 0, true);
    }
}

/* The next h_open()'s vCPU executes RMPUPDATE / PSMASH (vcpu_config.host_rmp). */
static bool h_host_rmp;

static inline void h_open(bool with_idt)
{
    memset(&h, 0, sizeof(h));
    char err[160] = "";
    ck_assert_int_eq(mem_init(&h.m, RAM, err, sizeof(err)), 0);
    h.sh = cpu_shared_create(&h.m);
    struct vcpu_config cfg = {.index = 0, .mem = &h.m, .shared = h.sh, .cb = &fk_cb,
                              .cb_ctx = &h, .mmio_end = MMIO_END, .tcg_buffer_mb = 16,
                              .host_rmp = h_host_rmp};
    h.v = vcpu_create(&cfg, err, sizeof(err));
    ck_assert_msg(h.v != NULL, "%s", err);
    build_page_tables();
    build_descriptors();
    struct vcpu_boot b = {.rip = with_idt ? SETUP : CODE, .rsp = STACK_TOP, .rflags = 0x2,
                          .cr0 = 0x80010033, .cr3 = PML4, .cr4 = 0x6A0, .efer = 0xD01,
                          .gdt_base = GDT, .gdt_limit = GDT_LIMIT, .cs = SEL_CODE0,
                          .ds = SEL_DATA0};
    ck_assert_int_eq(vcpu_set_boot_state(h.v, &b, err, sizeof(err)), 0);
    if (with_idt) {
        static const uint8_t setup[] = {
            0x0F, 0x01, 0x1C, 0x25, 0x00, 0x6F, 0x00, 0x00, /* lidt [0x6F00] */
            0x66, 0xB8, 0x28, 0x00,                         /* mov ax, 0x28 */
            0x0F, 0x00, 0xD8,                               /* ltr ax */
            0xF4,                                           /* hlt */
        };
        put(SETUP, setup, sizeof(setup));
        ck_assert_int_eq(vcpu_run(h.v, 1000), VCPU_STOP_HALT);
        ck_assert_uint_eq(vcpu_get(h.v, VR_RIP), SETUP + sizeof(setup));
        ck_assert_uint_eq(h.ndeliv, 0);
        h.nexits = h.npend = 0;
        vcpu_set(h.v, VR_RIP, CODE);
    }
    h.base = vcpu_insns(h.v);
}

static inline void setup_bare(void) { h_open(false); }
static inline void setup_idt(void) { h_open(true); }
static inline void setup_idt_host_rmp(void)
{
    h_host_rmp = true;
    h_open(true);
    h_host_rmp = false;
}

static inline void teardown(void)
{
    vcpu_destroy(h.v);
    cpu_shared_destroy(h.sh);
    mem_destroy(&h.m);
}

#define CODE_AT(gpa, ...)                                                                          \
    do {                                                                                           \
        static const uint8_t c_[] = {__VA_ARGS__};                                                 \
        put((gpa), c_, sizeof(c_));                                                                \
    } while (0)

static inline uint64_t reg(enum vcpu_reg r) { return vcpu_get(h.v, r); }
static inline enum vcpu_stop run(uint64_t budget) { return vcpu_run(h.v, budget); }
static inline uint64_t insns(void) { return vcpu_insns(h.v) - h.base; }
/* Qword i of the stack (the frame the handler sees at RSP). */
static inline uint64_t stk(unsigned i) { return ld64(reg(VR_RSP) + 8 * i); }

/* The vector whose halt stub the vCPU stopped in, or -1. */
static inline int stub_vector(void)
{
    uint64_t rip = reg(VR_RIP);
    if (rip < STUBS + 1 || rip >= STUBS + 256 * 16 || (rip - STUBS) % 16 != 1)
        return -1;
    return (int)((rip - STUBS) / 16);
}

/* Runs until the vCPU halts in the stub of `vec`. */
static inline void run_to_stub(int vec)
{
    ck_assert_int_eq(run(100000), VCPU_STOP_HALT);
    ck_assert_msg(stub_vector() == vec, "halted at %#llx (stub %d), expected stub %d",
                  (unsigned long long)reg(VR_RIP), stub_vector(), vec);
}

#endif
