/* SPDX-License-Identifier: MIT */
/*
 * DR7 reads and writes (exit codes 0x27 / 0x37) and #DB. Under SEV-ES/SNP a
 * MOV to/from DR7 raises #VC: the SDK sends WRITE_DR7 with the value in RAX
 * (reserved bits as DR7 reads them, bit 10 set; a value with bits 63:32 set
 * is #GP(0) without asking the hypervisor, as Linux) and READ_DR7 returns the
 * hypervisor's RAX. A single-step trap (RFLAGS.TF) arrives as #VC 0x41, which
 * the SDK hands to the guest's own #DB handler with the interrupted frame, as
 * Linux does; the handler sees vector 1 and the RIP after the stepped
 * instruction.
 */
#include <sdk/sdk.h>

static uint64_t read_dr7(void)
{
    uint64_t v;
    __asm__ volatile("mov %%dr7, %0" : "=r"(v) : : "memory");
    return v;
}

static void write_dr7(uint64_t v)
{
    __asm__ volatile("mov %0, %%dr7" : : "r"(v) : "memory");
}

static volatile uint64_t db_rip, db_count, db_vector, db_dr6;

static void db_handler(struct sdk_frame *f)
{
    db_count++;
    db_vector = f->vector;
    db_rip = f->rip;
    f->rflags &= ~X86_RFLAGS_TF;
    __asm__ volatile("mov %%dr6, %0" : "=r"(db_dr6));
}

int main(void)
{
    uint32_t rd = sdk_vc_count(SVM_EXIT_READ_DR7), wr = sdk_vc_count(SVM_EXIT_WRITE_DR7);

    printf("sev_dr7: mode %s\n", sdk_mode_name(sdk_sev_mode()));
    uint64_t v = read_dr7();
    GUEST_ASSERT_VC(SVM_EXIT_READ_DR7, rd, 1);
    printf("sev_dr7: DR7 at start 0x%lx\n", v);
    GUEST_ASSERT_EQ(v, 0x400);

    write_dr7(0x700);                       /* LE GE, no breakpoint enabled */
    GUEST_ASSERT_VC(SVM_EXIT_WRITE_DR7, wr, 1);
    v = read_dr7();
    GUEST_ASSERT_VC(SVM_EXIT_READ_DR7, rd, 2);
    GUEST_ASSERT_EQ(v, 0x700);
    if (sdk_sev_es_active())
        GUEST_ASSERT_EQ(sdk_dr7_shadow(), 0x700);
    printf("sev_dr7: wrote 0x700, read 0x%lx\n", v);

    /* Bits 63:32 set: #GP(0), DR7 unchanged (APM vol. 2 13.1.1.5). The SDK's
     * #VC handler raises it; plain mode leaves it to the CPU emulation, which
     * (Unicorn 2.1) does not check, so only SEV-ES/SNP assert it. */
    uint64_t big = 1ull << 32;
    __asm__ volatile(ASM_TRY("1f") "mov %0, %%dr7\n1:" : : "r"(big) : "memory");
    if (sdk_sev_es_active()) {
        GUEST_ASSERT_EQ(sdk_ex_vector(), X86_GP);
        GUEST_ASSERT_EQ(sdk_ex_error_code(), 0);
        GUEST_ASSERT_EQ(read_dr7(), 0x700);
        printf("sev_dr7: writing 0x%lx: #GP(0), DR7 still 0x700\n", big);
    } else {
        printf("sev_dr7: writing 0x%lx in plain mode: vector %d (not checked)\n", big,
               sdk_ex_vector());
    }
    write_dr7(0x400);
    GUEST_ASSERT_EQ(read_dr7(), 0x400);

    /* Single step: #DB after the instruction following POPF (SDM 17.3.1.4). */
    sdk_set_handler(X86_DB, db_handler);
    uint32_t dbvc = sdk_vc_count(SVM_EXIT_EXCP_DB);
    uint64_t after;
    __asm__ volatile("pushfq\n\t"
                     "orq $0x100, (%%rsp)\n\t"
                     "popfq\n\t"
                     "nop\n\t"
                     "1:\n\t"
                     "leaq 1b(%%rip), %0"
                     : "=r"(after) : : "memory", "cc");
    GUEST_ASSERT_EQ(db_count, 1);
    GUEST_ASSERT_EQ(db_vector, X86_DB);
    GUEST_ASSERT_EQ(db_rip, after);
    GUEST_ASSERT(db_dr6 & (1u << 14));      /* BS */
    GUEST_ASSERT_VC(SVM_EXIT_EXCP_DB, dbvc, 1);
    printf("sev_dr7: single step: #DB (vector %lu) at rip 0x%lx, DR6 0x%lx\n", db_vector, db_rip,
           db_dr6);

    printf("sev_dr7: PASS\n");
    return 0;
}
