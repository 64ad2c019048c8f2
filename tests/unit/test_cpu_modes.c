/* SPDX-License-Identifier: MIT */
/*
 * CPU modes in one engine (cpu/mode.c, cpu/idt_legacy.c, cpu/paging32.c):
 * real-mode code with port I/O and IVT delivery, the real -> protected ->
 * long mode switch a boot trampoline makes, the 32-bit protected-mode entry
 * of a multiboot loader (paging off), 32-bit gates and paging (with code that
 * rewrites its own page under PAE paging), legacy-mode
 * SYSCALL/SYSRET between rings 0 and 3, and the real-mode start of a plain SIPI (SDM vol. 3 9.1, 9.4.4, 9.8-9.9, 20.1).
 */
#include "test_cpu_harness.h"
#include "snpref/sev.h"
#include "ck_run.h"

#define SEL_CODE32 0x30
#define EFER_MSR 0xC0000080u

/* The harness GDT's free slot 6 becomes a flat 32-bit code segment. */
static void add_code32(void) { st64(GDT + SEL_CODE32, 0x00CF9A000000FFFFull); }

/* The fake model answers RDMSR/WRMSR of EFER from the engine, as the real one does. */
static int efer_msr(struct vcpu *v, struct vcpu_exit *e)
{
    if (e->code != SVM_EXIT_MSR || (uint32_t)vcpu_get(v, VR_RCX) != EFER_MSR)
        return -1;
    uint64_t val = 0;
    if (e->info1) {
        val = (vcpu_get(v, VR_RAX) & 0xFFFFFFFFu) | vcpu_get(v, VR_RDX) << 32;
        vcpu_msr_set(v, EFER_MSR, val);
    } else {
        vcpu_msr_get(v, EFER_MSR, &val);
        vcpu_set(v, VR_RAX, val & 0xFFFFFFFFu);
        vcpu_set(v, VR_RDX, val >> 32);
    }
    return VCPU_NEXT;
}

static void boot(enum vcpu_boot_mode mode, uint16_t cs, uint16_t ds, uint64_t rip, uint64_t cr0)
{
    struct vcpu_boot b = {.mode = mode, .rip = rip, .rsp = mode == VCPU_BOOT_REAL ? 0xFF00 : STACK_TOP,
                          .rax = 0x2BADB002, .rbx = DATA, .rflags = 2, .cr0 = cr0,
                          .gdt_base = GDT, .gdt_limit = GDT_LIMIT, .cs = cs, .ds = ds};
    char err[160] = "";
    ck_assert_msg(vcpu_set_boot_state(h.v, &b, err, sizeof(err)) == 0, "%s", err);
    h.base = vcpu_insns(h.v);
}

static const struct rec_exit *find_out(uint16_t port)
{
    for (unsigned i = 0; i < h.nexits && i < MAXREC; i++)
        if (h.exits[i].e.code == SVM_EXIT_IOIO && !h.exits[i].e.in && h.exits[i].e.port == port)
            return &h.exits[i];
    return NULL;
}

START_TEST(real_mode_code_runs_and_does_port_io)
{
    setup_bare();
    /* CS = DS = 0x1000: base 0x10000 = CODE. */
    CODE_AT(CODE, 0xB0, 0x42,                   /* mov al, 0x42 */
            0xE6, 0x80,                         /* out 0x80, al */
            0xBA, 0xF8, 0x03,                   /* mov dx, 0x3f8 */
            0x8C, 0xC8,                         /* mov ax, cs */
            0xEF,                               /* out dx, ax */
            0xF4);                              /* hlt */
    boot(VCPU_BOOT_REAL, 0x1000, 0x1000, 0, 0x60000010);
    ck_assert_uint_eq(vcpu_code_bits(h.v), 16);
    ck_assert_int_eq(run(1000), VCPU_STOP_HALT);
    const struct rec_exit *a = find_out(0x80), *b = find_out(0x3F8);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(a->e.data, 0x42);
    ck_assert_uint_eq(a->e.size, 1);
    ck_assert_uint_eq(a->e.rip, 2);      /* IP, not the linear address */
    ck_assert_uint_eq(a->e.next_rip, 4);
    ck_assert_uint_eq(b->e.data, 0x1000); /* a 16-bit OUT of CS */
    ck_assert_uint_eq(b->e.size, 2);
    ck_assert_uint_eq(reg(VR_RIP), 11);
    ck_assert_uint_eq(insns(), 6);
    teardown();
}
END_TEST

START_TEST(a_software_interrupt_in_real_mode_goes_through_the_ivt)
{
    setup_bare();
    /* IVT entry 0x21 at 0x84: handler at 0x2000:0x0010 (linear 0x20010). */
    uint16_t ivt[2] = {0x0010, 0x2000};
    put(0x21 * 4, ivt, sizeof(ivt));
    CODE_AT(CODE, 0xFB,                         /* sti */
            0xCD, 0x21,                         /* int 0x21 */
            0xE6, 0x81,                         /* out 0x81, al */
            0xF4);                              /* hlt */
    CODE_AT(0x20010, 0xB0, 0x77,                /* mov al, 0x77 */
            0xE6, 0x80,                         /* out 0x80, al */
            0xCF);                              /* iret */
    boot(VCPU_BOOT_REAL, 0x1000, 0x1000, 0, 0x60000010);
    ck_assert_int_eq(run(1000), VCPU_STOP_HALT);
    ck_assert_uint_eq(h.ndeliv, 1);
    ck_assert_uint_eq(h.deliv[0].ev.vector, 0x21);
    ck_assert_uint_eq(h.deliv[0].rip, 3); /* the IP after INT */
    const struct rec_exit *in = find_out(0x80), *after = find_out(0x81);
    ck_assert_ptr_nonnull(in);
    ck_assert_ptr_nonnull(after);
    ck_assert_uint_eq(in->e.rip, 0x12); /* IP in the handler's CS 0x2000 */
    ck_assert_uint_eq(after->e.data, 0x77);
    /* The frame the handler saw: IP, CS, FLAGS at SS:SP (SS = 0x1000). */
    uint16_t frame[3];
    ck_assert(mem_read(&h.m, 0x10000 + 0xFF00 - 6, frame, sizeof(frame)));
    ck_assert_uint_eq(frame[0], 3);
    ck_assert_uint_eq(frame[1], 0x1000);
    ck_assert_uint_ne(frame[2] & 0x200, 0); /* IF was set when it was pushed */
    ck_assert_uint_eq(reg(VR_RSP), 0xFF00);
    struct vmcb_seg cs;
    vcpu_get_seg(h.v, VCPU_CS, &cs);
    ck_assert_uint_eq(cs.selector, 0x1000); /* back in the interrupted CS */
    ck_assert_uint_eq(cs.base, 0x10000);
    teardown();
}
END_TEST

START_TEST(a_real_to_protected_to_long_mode_switch_ends_in_64_bit_code)
{
    setup_bare();
    add_code32();
    h.on_exit = efer_msr;
    /* GDTR image at CODE + 0xF00 (DS-relative 0xF00). */
    uint8_t gdtr[6] = {GDT_LIMIT & 0xFF, GDT_LIMIT >> 8, GDT & 0xFF, (GDT >> 8) & 0xFF, 0, 0};
    put(CODE + 0xF00, gdtr, sizeof(gdtr));
    CODE_AT(CODE, 0xB0, 0x16, 0xE6, 0x80,       /* mov al, 0x16; out 0x80, al */
            0x66, 0x0F, 0x01, 0x16, 0x00, 0x0F, /* lgdtd [0xf00] */
            0x0F, 0x20, 0xC0,                   /* mov eax, cr0 */
            0x66, 0x83, 0xC8, 0x01,             /* or eax, 1 */
            0x0F, 0x22, 0xC0,                   /* mov cr0, eax */
            0x66, 0xEA, 0x00, 0x01, 0x01, 0x00, SEL_CODE32, 0x00); /* jmp dword 0x30:0x10100 */
    CODE_AT(CODE + 0x100, 0x66, 0xB8, SEL_DATA0, 0x00, /* mov ax, 0x10 */
            0x8E, 0xD8, 0x8E, 0xD0,             /* mov ds, ax; mov ss, ax */
            0xB0, 0x32, 0xE6, 0x80,             /* mov al, 0x32; out 0x80, al */
            0x0F, 0x20, 0xE0, 0x83, 0xC8, 0x20, 0x0F, 0x22, 0xE0, /* cr4 |= PAE */
            0xB8, 0x00, 0x10, 0x00, 0x00, 0x0F, 0x22, 0xD8,       /* cr3 = PML4 */
            0xB9, 0x80, 0x00, 0x00, 0xC0, 0x0F, 0x32,             /* rdmsr EFER */
            0x0D, 0x00, 0x01, 0x00, 0x00, 0x0F, 0x30,             /* or eax, LME; wrmsr */
            0x0F, 0x20, 0xC0, 0x0D, 0x00, 0x00, 0x00, 0x80, 0x0F, 0x22, 0xC0, /* cr0 |= PG */
            0xEA, 0x00, 0x02, 0x01, 0x00, SEL_CODE0, 0x00);       /* jmp 0x08:0x10200 */
    CODE_AT(CODE + 0x200, 0x49, 0xB8, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, /* mov r8, imm64 */
            0xB0, 0x64, 0xE6, 0x80,             /* mov al, 0x64; out 0x80, al */
            0xF4);                              /* hlt */
    boot(VCPU_BOOT_REAL, 0x1000, 0x1000, 0, 0x60000010);
    ck_assert_int_eq(run(10000), VCPU_STOP_HALT);
    ck_assert_uint_eq(h.nshutdown, 0);
    unsigned outs = 0;
    uint8_t seen[3];
    for (unsigned i = 0; i < h.nexits; i++)
        if (h.exits[i].e.code == SVM_EXIT_IOIO && outs < 3)
            seen[outs++] = (uint8_t)h.exits[i].e.data;
    ck_assert_uint_eq(outs, 3);
    ck_assert_uint_eq(seen[0], 0x16);
    ck_assert_uint_eq(seen[1], 0x32);
    ck_assert_uint_eq(seen[2], 0x64);
    ck_assert_uint_eq(reg(VR_EFER), 0x500);          /* LME | LMA */
    ck_assert_uint_eq(reg(VR_CR0), 0xE0000011);      /* CD NW from INIT, PG, ET, PE */
    ck_assert_uint_eq(reg(VR_R8), 0x1122334455667788ull);
    ck_assert_uint_eq(reg(VR_RIP), CODE + 0x200 + 15);
    ck_assert_uint_eq(vcpu_code_bits(h.v), 64);
    ck_assert_uint_eq(vcpu_cpl(h.v), 0);
    teardown();
}
END_TEST

START_TEST(a_32_bit_entry_with_paging_off_runs)
{
    setup_bare();
    add_code32();
    st64(DATA, 0);
    CODE_AT(CODE, 0x89, 0x03,                   /* mov [ebx], eax */
            0x8B, 0x4B, 0x08,                   /* mov ecx, [ebx + 8] */
            0xE6, 0x80,                         /* out 0x80, al */
            0xF4);                              /* hlt */
    st64(DATA + 8, 0xABCD1234);
    boot(VCPU_BOOT_PROT32, SEL_CODE32, SEL_DATA0, CODE, 0x11);
    struct vmcb_seg cs, ds;
    vcpu_get_seg(h.v, VCPU_CS, &cs);
    vcpu_get_seg(h.v, VCPU_DS, &ds);
    ck_assert_uint_eq(cs.selector, SEL_CODE32);
    ck_assert_uint_eq(cs.base, 0);
    ck_assert_uint_eq(cs.limit, 0xFFFFFFFF);
    ck_assert_uint_eq(cs.attrib & 0x400, 0x400); /* D: 32-bit */
    ck_assert_uint_eq(ds.limit, 0xFFFFFFFF);
    ck_assert_uint_eq(vcpu_code_bits(h.v), 32);
    ck_assert_int_eq(run(1000), VCPU_STOP_HALT);
    ck_assert_uint_eq(ld64(DATA) & 0xFFFFFFFF, 0x2BADB002); /* EAX: the multiboot magic */
    ck_assert_uint_eq(reg(VR_RCX), 0xABCD1234);
    const struct rec_exit *o = find_out(0x80);
    ck_assert_ptr_nonnull(o);
    ck_assert_uint_eq(o->e.rip, CODE + 5);
    ck_assert_uint_eq(reg(VR_EFER) & (1ull << 10), 0);
    teardown();
}
END_TEST

START_TEST(a_fault_in_32_bit_mode_is_delivered_through_a_32_bit_gate)
{
    setup_bare();
    add_code32();
    /* IDT of 8-byte gates at IDT: #UD -> a 32-bit interrupt gate to 0x9000. */
    uint64_t gate = (HANDLERS & 0xFFFF) | (uint64_t)SEL_CODE32 << 16 | 0x8Eull << 40 |
                    (uint64_t)(HANDLERS >> 16) << 48;
    st64(IDT + X86_UD * 8, gate);
    uint8_t idtr[6] = {0xFF, 0x00, IDT & 0xFF, (IDT >> 8) & 0xFF, 0, 0};
    put(DATA, idtr, sizeof(idtr));
    CODE_AT(CODE, 0x0F, 0x01, 0x1D, DATA & 0xFF, (DATA >> 8) & 0xFF, DATA >> 16, 0x00, /* lidt [DATA] */
            0xFB,                               /* sti */
            0x0F, 0x0B);                        /* ud2 */
    CODE_AT(HANDLERS, 0xF4);                    /* hlt */
    boot(VCPU_BOOT_PROT32, SEL_CODE32, SEL_DATA0, CODE, 0x11);
    ck_assert_int_eq(run(1000), VCPU_STOP_HALT);
    ck_assert_uint_eq(h.ndeliv, 1);
    ck_assert_uint_eq(h.deliv[0].ev.vector, X86_UD);
    ck_assert_uint_eq(reg(VR_RIP), HANDLERS + 1);
    uint64_t esp = reg(VR_RSP);
    ck_assert_uint_eq(esp, STACK_TOP - 12);
    ck_assert_uint_eq(mem_ld32(&h.m, esp), CODE + 8);         /* EIP of ud2 */
    ck_assert_uint_eq(mem_ld32(&h.m, esp + 4), SEL_CODE32);   /* CS */
    ck_assert_uint_ne(mem_ld32(&h.m, esp + 8) & 0x200, 0);    /* EFLAGS with IF */
    ck_assert_uint_eq(reg(VR_RFLAGS) & 0x200, 0);             /* interrupt gate clears IF */
    ck_assert_uint_eq(vcpu_code_bits(h.v), 32);
    teardown();
}
END_TEST

START_TEST(thirty_two_bit_paging_maps_4k_and_4m_pages)
{
    setup_bare();
    add_code32();
    /* Page directory at 0x30000: PDE 0 -> table at 0x31000 (identity), PDE 1
     * a 4 MiB page at 0 (so 0x400000 + x reads x). */
    st64(0x30000, 0x31000 | PTE_P | PTE_RW);
    mem_st32(&h.m, 0x30004, 0x00000000 | PTE_P | PTE_RW | PTE_PS);
    for (uint32_t i = 1; i < 1024; i++)
        mem_st32(&h.m, 0x31000 + i * 4, (i << 12) | PTE_P | PTE_RW);
    st64(DATA, 0x5A5A5A5A);
    CODE_AT(CODE, 0x0F, 0x20, 0xE0, 0x83, 0xC8, 0x10, 0x0F, 0x22, 0xE0, /* cr4 |= PSE */
            0xB8, 0x00, 0x00, 0x03, 0x00, 0x0F, 0x22, 0xD8,             /* cr3 = 0x30000 */
            0x0F, 0x20, 0xC0, 0x0D, 0x00, 0x00, 0x00, 0x80, 0x0F, 0x22, 0xC0, /* cr0 |= PG */
            0x8B, 0x0D, 0x00, 0x00, 0x42, 0x00, /* mov ecx, [0x420000] (= DATA via 4 MiB page) */
            0xC7, 0x05, 0x08, 0x00, 0x02, 0x00, 0x11, 0x11, 0x11, 0x11, /* mov [DATA+8], 0x11111111 */
            0xF4);
    boot(VCPU_BOOT_PROT32, SEL_CODE32, SEL_DATA0, CODE, 0x11);
    ck_assert_int_eq(run(1000), VCPU_STOP_HALT);
    ck_assert_uint_eq(h.nshutdown, 0);
    ck_assert_uint_eq(reg(VR_RCX), 0x5A5A5A5A);
    ck_assert_uint_eq(ld64(DATA + 8), 0x11111111);
    ck_assert_uint_ne(mem_ld32(&h.m, 0x31000 + (DATA >> 12) * 4) & PTE_D, 0); /* dirty set */
    ck_assert_uint_ne(mem_ld32(&h.m, 0x30004) & PTE_A, 0);                   /* accessed set */
    teardown();
}
END_TEST

/* Legacy-mode SYSCALL and SYSRET (AMD APM vol. 3 "SYSCALL", "SYSRET"): from
 * ring 0, SYSRET enters ring 3 at ECX with CS = STAR[63:48] | 3, SS = that + 8
 * and IF set; SYSCALL enters ring 0 at STAR[31:0] with CS = STAR[47:32], SS =
 * that + 8, the return EIP in ECX and IF cleared. The engine enforces ring 3
 * afterwards: MOV from CR0 there is a #GP, delivered through a 32-bit gate
 * onto the TSS's ring-0 stack. */
START_TEST(legacy_mode_syscall_and_sysret_switch_rings_with_the_star_selectors)
{
    setup_bare();
    add_code32();
    uint32_t gp = HANDLERS + 0x100;
    st64(IDT + X86_GP * 8, (gp & 0xFFFF) | (uint64_t)SEL_CODE32 << 16 | 0x8Eull << 40 |
                               (uint64_t)(gp >> 16) << 48);
    uint8_t idtr[6] = {0xFF, 0x00, IDT & 0xFF, (IDT >> 8) & 0xFF, 0, 0};
    put(DATA, idtr, sizeof(idtr));
    mem_st32(&h.m, TSS + 8, SEL_DATA0); /* SS0; ESP0 at TSS + 4 is RSP0_TOP */
    CODE_AT(CODE, 0x0F, 0x01, 0x1D, DATA & 0xFF, (DATA >> 8) & 0xFF, DATA >> 16, 0x00, /* lidt */
            0x66, 0xB8, SEL_TSS, 0x00,          /* mov ax, 0x28 */
            0x0F, 0x00, 0xD8,                   /* ltr ax (a 32-bit TSS here) */
            0xB9, 0x00, 0x00, 0x04, 0x00,       /* mov ecx, USER_CODE */
            0x0F, 0x07);                        /* sysret */
    CODE_AT(USER_CODE, 0x8C, 0xCA,              /* 0: mov edx, cs */
            0x8C, 0xD6,                         /* 2: mov esi, ss */
            0x9C, 0x5F,                         /* 4: pushfd; pop edi */
            0x0F, 0x05);                        /* 6: syscall */
    CODE_AT(USER_CODE + 0x10, 0x0F, 0x20, 0xC0); /* mov eax, cr0: #GP at CPL 3 */
    CODE_AT(HANDLERS, 0x0F, 0x20, 0xC0,         /* 0: mov eax, cr0 (CPL 0) */
            0x89, 0xCD,                         /* 3: mov ebp, ecx */
            0x9C, 0x5B,                         /* 5: pushfd; pop ebx */
            0xB9, 0x10, 0x00, 0x04, 0x00,       /* 7: mov ecx, USER_CODE + 0x10 */
            0x0F, 0x07);                        /* c: sysret */
    CODE_AT(gp, 0xF4);                          /* hlt */
    boot(VCPU_BOOT_PROT32, SEL_CODE32, SEL_DATA0, CODE, 0x11);
    vcpu_set(h.v, VR_EFER, 1); /* SCE */
    ck_assert(vcpu_msr_set(h.v, 0xC0000081, 0x0018003000000000ull | HANDLERS));
    ck_assert_int_eq(run(1000), VCPU_STOP_HALT);
    ck_assert_uint_eq(h.nshutdown, 0);
    ck_assert_uint_eq(reg(VR_RDX) & 0xFFFF, 0x1B); /* STAR[63:48] | 3 */
    ck_assert_uint_eq(reg(VR_RSI) & 0xFFFF, 0x23); /* + 8 */
    ck_assert_uint_ne(reg(VR_RDI) & RFLAGS_IF, 0);  /* SYSRET set IF */
    ck_assert_uint_eq(reg(VR_RAX), 0x11);           /* the kernel's CR0 read ran */
    ck_assert_uint_eq(reg(VR_RBP), USER_CODE + 8);  /* ECX: the EIP after SYSCALL */
    ck_assert_uint_eq(reg(VR_RBX) & RFLAGS_IF, 0);  /* SYSCALL cleared IF */
    ck_assert_uint_eq(h.ndeliv, 1);
    ck_assert_uint_eq(h.deliv[0].ev.vector, X86_GP);
    ck_assert_uint_eq(h.deliv[0].rip, USER_CODE + 0x10);
    ck_assert_uint_eq(reg(VR_RIP), gp + 1);
    uint64_t esp = reg(VR_RSP);
    ck_assert_uint_eq(esp, RSP0_TOP - 24);          /* error code, EIP, CS, EFLAGS, ESP, SS */
    ck_assert_uint_eq(mem_ld32(&h.m, esp + 4), USER_CODE + 0x10);
    ck_assert_uint_eq(mem_ld32(&h.m, esp + 8), 0x1B);
    ck_assert_uint_eq(mem_ld32(&h.m, esp + 20), 0x23);
    ck_assert_uint_eq(vcpu_cpl(h.v), 0);
    ck_assert_uint_eq(vcpu_code_bits(h.v), 32);
    teardown();
}
END_TEST

/* Code that stores beside itself and then rewrites a routine on its own page,
 * under PAE paging (paging32.c): the walk outside long mode follows the same
 * fill rules as paging.c's (execute only for fetches, write only for data on
 * a dirty page, none while the page's code is unwritten), so the stores run
 * without coming back to the model and the rewrite still takes effect. */
START_TEST(a_32_bit_rewrite_of_code_on_its_own_page_takes_effect_under_pae_paging)
{
    setup_bare();
    add_code32();
    st64(0x32000, 0x33000 | PTE_P);                 /* PDPTE 0 -> directory */
    st64(0x33000, 0 | PTE_P | PTE_RW | PTE_PS);     /* PDE 0: 2 MiB identity page */
    CODE_AT(CODE, 0x0F, 0x20, 0xE0, 0x83, 0xC8, 0x20, 0x0F, 0x22, 0xE0, /* 0: cr4 |= PAE */
            0xB8, 0x00, 0x20, 0x03, 0x00, 0x0F, 0x22, 0xD8,             /* 9: cr3 = 0x32000 */
            0x0F, 0x20, 0xC0, 0x0D, 0x00, 0x00, 0x00, 0x80, 0x0F, 0x22, 0xC0, /* 11: cr0 |= PG */
            0xE8, 0xDF, 0x00, 0x00, 0x00,               /* 1c: call T (CODE + 0x100) */
            0xB9, 0xE8, 0x03, 0x00, 0x00,               /* 21: mov ecx, 1000 */
            0x89, 0x0D, 0x00, 0x08, 0x01, 0x00,         /* 26: 1: mov [CODE + 0x800], ecx */
            0x49,                                       /* 2c: dec ecx */
            0x75, 0xF7,                                 /* 2d: jnz 1b */
            0x66, 0xC7, 0x05, 0x00, 0x01, 0x01, 0x00, 0x0F, 0x32, /* 2f: mov word [T], 0x320F */
            0xE8, 0xC3, 0x00, 0x00, 0x00,               /* 38: call T */
            0xF4);                                      /* 3d: hlt */
    CODE_AT(CODE + 0x100, 0x90, 0x90, 0xC3);            /* T: nop; nop; ret */
    boot(VCPU_BOOT_PROT32, SEL_CODE32, SEL_DATA0, CODE, 0x11);
    ck_assert_int_eq(run(100000), VCPU_STOP_HALT);
    ck_assert_uint_eq(h.nshutdown, 0);
    ck_assert_uint_eq(h.nexits, 2);
    ck_assert_uint_eq(h.exits[0].e.code, SVM_EXIT_MSR); /* the rewritten T: rdmsr; ret */
    ck_assert_uint_eq(h.exits[0].e.rip, CODE + 0x100);
    ck_assert_uint_eq(h.exits[1].e.code, SVM_EXIT_HLT);
    ck_assert_uint_eq(h.exits[1].e.rip, CODE + 0x3D);
    /* 8 to turn paging on, call nop nop ret, mov, 1000 x (mov dec jnz), mov,
     * call rdmsr ret, hlt */
    ck_assert_uint_eq(insns(), 8 + 4 + 1 + 3000 + 1 + 3 + 1);
    ck_assert_uint_eq(mem_ld32(&h.m, CODE + 0x800), 1);
    ck_assert_uint_eq(ld64(0x33000) & (PTE_A | PTE_D), PTE_A | PTE_D); /* the walk ran */
    struct vcpu_stats st;
    vcpu_get_stats(h.v, &st);
    ck_assert_uint_lt(st.tlb_fills, 50);
    ck_assert_uint_ge(st.smc_redecodes, 1);
    teardown();
}
END_TEST

/* MMIO from code whose CS base is not 0: the access is performed once, at
 * the instruction's exact count, and the run goes on after it (block
 * addresses are linear, RIP is CS-relative). */
START_TEST(an_mmio_store_from_a_code_segment_with_a_base_is_performed_once)
{
    setup_bare();
    add_code32();
    st64(GDT + 0x28, 0x00CF9A010000FFFFull);       /* 0x28: 32-bit code, base CODE */
    CODE_AT(CODE, 0xEA, 0x00, 0x01, 0x00, 0x00, 0x28, 0x00); /* jmp 0x28:0x100 */
    CODE_AT(CODE + 0x100, 0x90,                             /* 0: nop */
            0xC7, 0x05, 0x00, 0x00, 0x80, 0x00, 0x78, 0x56, 0x34, 0x12, /* 1: mov [RAM], imm */
            0xF4);                                          /* b: hlt */
    boot(VCPU_BOOT_PROT32, SEL_CODE32, SEL_DATA0, CODE, 0x11);
    enum vcpu_stop st = run(1000);
    ck_assert_msg(st == VCPU_STOP_HALT, "stop %d: %s at %#llx", st, h.why ? h.why : "",
                  (unsigned long long)h.why_rip);
    ck_assert_uint_eq(h.nmmio, 1);
    ck_assert(h.mmio[0].write);
    ck_assert_uint_eq(h.mmio[0].gpa, RAM);
    ck_assert_uint_eq(h.mmio[0].val, 0x12345678);
    ck_assert_uint_eq(h.mmio[0].insns, 2); /* the far jump and the nop retired before it */
    ck_assert_uint_eq(reg(VR_RIP), 0x10C); /* CS-relative */
    ck_assert_uint_eq(insns(), 4);
    teardown();
}
END_TEST

START_TEST(a_plain_sipi_starts_the_vcpu_in_real_mode_at_vector_shl_8)
{
    setup_bare();
    CODE_AT(0x9A000, 0xB0, 0x5A, 0xE6, 0x80, 0xF4); /* mov al, 0x5a; out 0x80, al; hlt */
    vcpu_sipi(h.v, 0x9A);
    struct vmcb_seg cs;
    vcpu_get_seg(h.v, VCPU_CS, &cs);
    ck_assert_uint_eq(cs.selector, 0x9A00);
    ck_assert_uint_eq(cs.base, 0x9A000);
    ck_assert_uint_eq(cs.limit, 0xFFFF);
    ck_assert_uint_eq(reg(VR_RIP), 0);
    ck_assert_uint_eq(reg(VR_CR0), 0x60000010);
    ck_assert_uint_eq(reg(VR_EFER), 0);
    ck_assert_uint_eq(reg(VR_RFLAGS), 2);
    ck_assert_uint_eq(vcpu_code_bits(h.v), 16);
    ck_assert_int_eq(run(100), VCPU_STOP_HALT);
    const struct rec_exit *o = find_out(0x80);
    ck_assert_ptr_nonnull(o);
    ck_assert_uint_eq(o->e.data, 0x5A);
    ck_assert_uint_eq(o->e.rip, 2);
    teardown();
}
END_TEST

START_TEST(a_boot_state_whose_cr0_does_not_name_its_mode_is_refused)
{
    setup_bare();
    struct vcpu_boot b = {.mode = VCPU_BOOT_REAL, .cr0 = 0x11, .rflags = 2};
    char err[160] = "";
    ck_assert_int_eq(vcpu_set_boot_state(h.v, &b, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "real"));
    teardown();
}
END_TEST

/* ---- VMRUN of a VMSA (cpu/vmsa.c) ------------------------------------------------ */

/* The vCPU's current (valid, 64-bit) state as a VMSA VMRUN accepts. */
static struct sev_vmsa valid_vmsa(void)
{
    struct sev_vmsa a;
    memset(&a, 0, sizeof(a));
    vcpu_save_vmsa(h.v, &a);
    a.efer |= 1ull << 12; /* SVME */
    a.dr7 = 0x400, a.dr6 = 0xFFFF0FF0;
    return a;
}

/* Each consistency check of APM vol. 2 15.5.1 that the model applies: the
 * VMSA fails VMRUN with that check named, and a valid one loads. */
START_TEST(each_vmrun_consistency_check_fails_the_vmsa_with_its_own_reason)
{
    setup_bare();
    static const struct {
        const char *why;
        int field;
        uint64_t set, clear;
    } rows[] = {
        {"EFER.SVME is clear", 0, 0, 1ull << 12},
        {"EFER has a reserved", 0, 1ull << 9, 0},
        {"EFER has a reserved", 0, 1ull << 40, 0},
        {"CR0.PG is set without CR0.PE", 1, 0, 1},
        {"CR0.NW is set with CR0.CD clear", 1, 1ull << 29, 1ull << 30},
        {"CR0[63:32]", 1, 1ull << 32, 0},
        {"without CR4.PAE", 2, 0, 1ull << 5},
        {"CR4[63:32]", 2, 1ull << 40, 0},
        {"CR3[63:52]", 3, 1ull << 60, 0},
        {"DR6[63:32]", 4, 1ull << 33, 0},
        {"DR7[63:32]", 5, 1ull << 33, 0},
        {"CS.L and CS.D", 6, 0x400, 0},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct sev_vmsa a = valid_vmsa();
        uint64_t *f = NULL;
        uint64_t cs_attr = a.cs.attrib;
        uint64_t efer = a.efer, cr0 = a.cr0, cr4 = a.cr4, cr3 = a.cr3, dr6 = a.dr6, dr7 = a.dr7;
        switch (rows[i].field) {
        case 0: f = &efer; break;
        case 1: f = &cr0; break;
        case 2: f = &cr4; break;
        case 3: f = &cr3; break;
        case 4: f = &dr6; break;
        case 5: f = &dr7; break;
        default: f = &cs_attr; break;
        }
        *f = (*f | rows[i].set) & ~rows[i].clear;
        a.efer = efer, a.cr0 = cr0, a.cr4 = cr4, a.cr3 = cr3, a.dr6 = dr6, a.dr7 = dr7;
        a.cs.attrib = (uint16_t)cs_attr;
        const char *why = NULL;
        ck_assert_msg(vcpu_load_vmsa(h.v, &a, &why) == -1, "row %zu loaded", i);
        ck_assert_msg(why && strstr(why, rows[i].why), "row %zu: \"%s\", want \"%s\"", i,
                      why ? why : "(null)", rows[i].why);
    }
    struct sev_vmsa ok = valid_vmsa();
    const char *why = NULL;
    ck_assert_int_eq(vcpu_load_vmsa(h.v, &ok, &why), 0);
    teardown();
}
END_TEST

/* A real-mode VMSA (Linux's SNP AP: CS = trampoline >> 4, base = the
 * trampoline, RIP in it) starts where its hidden CS base says. */
START_TEST(a_real_mode_vmsa_starts_at_its_cs_base_as_its_state_says)
{
    setup_bare();
    CODE_AT(0x9A000, 0xB0, 0x77, 0xE6, 0x80, 0xF4); /* mov al, 0x77; out 0x80, al; hlt */
    struct sev_vmsa a;
    memset(&a, 0, sizeof(a));
    a.cs = (struct vmcb_seg){0x9A00, 0x9B, 0xFFFF, 0x9A000};
    a.ds = a.es = a.ss = a.fs = a.gs = (struct vmcb_seg){0, 0x93, 0xFFFF, 0};
    a.gdtr = a.idtr = (struct vmcb_seg){0, 0, 0xFFFF, 0};
    a.tr = (struct vmcb_seg){0, 0x8B, 0xFFFF, 0};
    a.ldtr = (struct vmcb_seg){0, 0x82, 0xFFFF, 0};
    a.efer = 1ull << 12, a.cr0 = 0x60000010, a.rflags = 2, a.dr7 = 0x400, a.dr6 = 0xFFFF0FF0;
    const char *why = NULL;
    ck_assert_int_eq(vcpu_load_vmsa(h.v, &a, &why), 0);
    ck_assert_uint_eq(vcpu_code_bits(h.v), 16);
    ck_assert_int_eq(run(100), VCPU_STOP_HALT);
    const struct rec_exit *o = find_out(0x80);
    ck_assert_ptr_nonnull(o);
    ck_assert_uint_eq(o->e.data, 0x77);
    teardown();
}
END_TEST

/* Ring-3 VMSAs: CS 0x1B (a DPL-3 descriptor's state) and CS 0x0B (RPL 3 on
 * the GDT's ring-0 code selector): VMRUN loads the hidden state and CPL 3 as
 * they are, without reading the GDT (where Unicorn's checks at the old CPL
 * would take a TLB-fill refusal out of emulation: a signal). */
START_TEST(a_ring_3_vmsa_and_an_rpl_3_cs_load_without_a_gdt_read_and_run_at_cpl_3)
{
    static const uint16_t sels[] = {0x1B, 0x0B};
    for (size_t i = 0; i < 2; i++) {
        setup_bare();
        struct sev_vmsa a = valid_vmsa();
        a.cs.selector = sels[i];
        a.cs.attrib = 0xAFB; /* P, DPL 3, code exec/read, L, G */
        a.ss = (struct vmcb_seg){0x23, 0xCF3, 0xFFFFFFFF, 0};
        a.cpl = 3;
        const char *why = NULL;
        ck_assert_int_eq(vcpu_load_vmsa(h.v, &a, &why), 0);
        struct vmcb_seg cs;
        vcpu_get_seg(h.v, VCPU_CS, &cs);
        ck_assert_uint_eq(cs.selector, sels[i]);
        ck_assert_uint_eq(cs.attrib & 0x60, 0x60);
        struct sev_vmsa back;
        memset(&back, 0, sizeof(back));
        vcpu_save_vmsa(h.v, &back);
        ck_assert_uint_eq(back.cpl, 3);
        /* It runs on: whatever the ring-3 code meets is architectural. */
        (void)run(10);
        teardown();
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cpu_modes");
    TCase *tc = tcase_create("modes");
    tcase_add_test(tc, real_mode_code_runs_and_does_port_io);
    tcase_add_test(tc, a_software_interrupt_in_real_mode_goes_through_the_ivt);
    tcase_add_test(tc, a_real_to_protected_to_long_mode_switch_ends_in_64_bit_code);
    tcase_add_test(tc, a_32_bit_entry_with_paging_off_runs);
    tcase_add_test(tc, a_fault_in_32_bit_mode_is_delivered_through_a_32_bit_gate);
    tcase_add_test(tc, thirty_two_bit_paging_maps_4k_and_4m_pages);
    tcase_add_test(tc, legacy_mode_syscall_and_sysret_switch_rings_with_the_star_selectors);
    tcase_add_test(tc, a_32_bit_rewrite_of_code_on_its_own_page_takes_effect_under_pae_paging);
    tcase_add_test(tc, an_mmio_store_from_a_code_segment_with_a_base_is_performed_once);
    tcase_add_test(tc, a_plain_sipi_starts_the_vcpu_in_real_mode_at_vector_shl_8);
    tcase_add_test(tc, a_boot_state_whose_cr0_does_not_name_its_mode_is_refused);
    tcase_add_test(tc, each_vmrun_consistency_check_fails_the_vmsa_with_its_own_reason);
    tcase_add_test(tc, a_real_mode_vmsa_starts_at_its_cs_base_as_its_state_says);
    tcase_add_test(tc, a_ring_3_vmsa_and_an_rpl_3_cs_load_without_a_gdt_read_and_run_at_cpl_3);
    suite_add_tcase(s, tc);
    return ck_run(s, CK_RUN_FORK);
}
