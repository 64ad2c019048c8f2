/* SPDX-License-Identifier: MIT */
/*
 * MMIO through the #VC handler (error code 0x400, then the MMIO_READ /
 * MMIO_WRITE NAE events). The MMIO test device (abi.h, SNP_MMIODEV_BASE) is
 * mapped by the guest itself, shared (C=0) and uncached; every access to it
 * is a MOV the SDK decodes: it walks the guest's page tables for the GPA,
 * passes the data through the GHCB's shared buffer and writes the result back
 * with the instruction's register rules. Checked forms: MOV r/m, reg and
 * MOV reg, r/m at 1/2/4/8 bytes (88 89 8A 8B with 66 and REX.W), the AH
 * register, R8-R15, MOV r/m, imm (C6 C7, imm32 sign-extended at 8 bytes),
 * MOVZX and MOVSX (0F B6 B7 BE BF), MOV with a 64-bit absolute address (A1
 * A3), SIB addressing with an index, a scale and a displacement. Each access
 * is exactly one #VC.
 */
#include <sdk/sdk.h>

#define REG(n) (8u * (n))            /* scratch register n (1..511) */

static volatile uint8_t *dev;
static uint32_t vc_before;

static void vc_mark(void) { vc_before = sdk_vc_count(SVM_EXIT_NPF); }
static void vc_expect(uint32_t n) { GUEST_ASSERT_VC(SVM_EXIT_NPF, vc_before, n); }

static uint64_t rd64(unsigned off)
{
    uint64_t v;
    __asm__ volatile("movq (%1), %0" : "=r"(v) : "r"(dev + off) : "memory");
    return v;
}

static void test_widths(void)
{
    volatile uint8_t *p = dev;
    uint64_t v;

    vc_mark();
    /* Stores from a register at each width, each to its own (zeroed) register. */
    __asm__ volatile("movb %b0, (%1)" : : "q"(0xA1u), "r"(p + REG(1)) : "memory");
    __asm__ volatile("movw %w0, (%1)" : : "r"(0xB2B1u), "r"(p + REG(2)) : "memory");
    __asm__ volatile("movl %k0, (%1)" : : "r"(0xC4C3C2C1u), "r"(p + REG(3)) : "memory");
    __asm__ volatile("movq %0, (%1)" : : "r"(0xD8D7D6D5D4D3D2D1ull), "r"(p + REG(4)) : "memory");
    vc_expect(4);
    GUEST_ASSERT_EQ(rd64(REG(1)), 0xA1);
    GUEST_ASSERT_EQ(rd64(REG(2)), 0xB2B1);
    GUEST_ASSERT_EQ(rd64(REG(3)), 0xC4C3C2C1u);
    GUEST_ASSERT_EQ(rd64(REG(4)), 0xD8D7D6D5D4D3D2D1ull);

    /* Loads at each width: 8/16 merge into the register, 32 zero-extends. */
    vc_mark();
    v = 0x1111111111111111ull;
    __asm__ volatile("movb (%1), %b0" : "+q"(v) : "r"(p + REG(4)) : "memory");
    GUEST_ASSERT_EQ(v, 0x11111111111111D1ull);
    v = 0x1111111111111111ull;
    __asm__ volatile("movw (%1), %w0" : "+r"(v) : "r"(p + REG(4)) : "memory");
    GUEST_ASSERT_EQ(v, 0x111111111111D2D1ull);
    v = 0x1111111111111111ull;
    __asm__ volatile("movl (%1), %k0" : "+r"(v) : "r"(p + REG(4)) : "memory");
    GUEST_ASSERT_EQ(v, 0xD4D3D2D1ull);
    __asm__ volatile("movq (%1), %0" : "=r"(v) : "r"(p + REG(4)) : "memory");
    GUEST_ASSERT_EQ(v, 0xD8D7D6D5D4D3D2D1ull);
    vc_expect(4);
    printf("sev_mmio: mov reg<->mem at 1/2/4/8 bytes (merge, merge, zero-extend, full)\n");
}

static void test_forms(void)
{
    volatile uint8_t *p = dev;
    uint64_t v;

    /* AH (no REX) and R9 / R14 (REX). */
    uint64_t rax = 0x0000000000005A00ull;
    __asm__ volatile("movb %%ah, (%1)" : : "a"(rax), "r"(p + REG(5)) : "memory");
    GUEST_ASSERT_EQ(rd64(REG(5)), 0x5A);
    rax = 0x7777777777777777ull;
    __asm__ volatile("movb (%1), %%ah" : "+a"(rax) : "r"(p + REG(1)) : "memory");
    GUEST_ASSERT_EQ(rax, 0x777777777777A177ull);
    __asm__ volatile("mov %0, %%r9\n\tmovq %%r9, (%1)"
                     : : "r"(0x0123456789ABCDEFull), "r"(p + REG(6)) : "r9", "memory");
    __asm__ volatile("movq (%1), %%r14\n\tmov %%r14, %0" : "=r"(v) : "r"(p + REG(6)) : "r14", "memory");
    GUEST_ASSERT_EQ(v, 0x0123456789ABCDEFull);

    /* Immediates: C6, C7 at 16/32 bits, and at 64 bits the imm32 sign-extends. */
    __asm__ volatile("movb $0x9C, (%0)" : : "r"(p + REG(7)) : "memory");
    __asm__ volatile("movw $0x9C9B, (%0)" : : "r"(p + REG(8)) : "memory");
    __asm__ volatile("movl $0x9C9B9A99, (%0)" : : "r"(p + REG(9)) : "memory");
    __asm__ volatile("movq $-2, (%0)" : : "r"(p + REG(10)) : "memory");
    GUEST_ASSERT_EQ(rd64(REG(7)), 0x9C);
    GUEST_ASSERT_EQ(rd64(REG(8)), 0x9C9B);
    GUEST_ASSERT_EQ(rd64(REG(9)), 0x9C9B9A99u);
    GUEST_ASSERT_EQ(rd64(REG(10)), 0xFFFFFFFFFFFFFFFEull);

    /* MOVZX / MOVSX. */
    vc_mark();
    __asm__ volatile("movzbl (%1), %k0" : "=r"(v) : "r"(p + REG(7)) : "memory");
    GUEST_ASSERT_EQ(v, 0x9C);
    __asm__ volatile("movzwq (%1), %0" : "=r"(v) : "r"(p + REG(8)) : "memory");
    GUEST_ASSERT_EQ(v, 0x9C9B);
    __asm__ volatile("movsbq (%1), %0" : "=r"(v) : "r"(p + REG(7)) : "memory");
    GUEST_ASSERT_EQ(v, 0xFFFFFFFFFFFFFF9Cull);
    __asm__ volatile("movswl (%1), %k0" : "=r"(v) : "r"(p + REG(8)) : "memory");
    GUEST_ASSERT_EQ(v, 0xFFFF9C9Bull);
    vc_expect(4);
    printf("sev_mmio: AH, R9/R14, mov imm8/16/32/imm32->64, movzx/movsx\n");

    /* 64-bit absolute address (moffs): A3 stores RAX, A1 loads RAX. */
    _Static_assert(SNP_MMIODEV_BASE + REG(11) == 0xF0000058ull, "REG11_ABS below");
#define REG11_ABS "0xF0000058"
    __asm__ volatile("movabs %%rax, " REG11_ABS : : "a"(0x4242424243434343ull) : "memory");
    GUEST_ASSERT_EQ(rd64(REG(11)), 0x4242424243434343ull);
    __asm__ volatile("movabs " REG11_ABS ", %%eax" : "=a"(v) : : "memory");
    GUEST_ASSERT_EQ(v, 0x43434343u);

    /* Base + index * 8 + disp32. */
    uint64_t idx = 12;
    __asm__ volatile("movq %0, 0x100(%1,%2,8)"
                     : : "r"(0x5EED5EED5EED5EEDull), "r"(p), "r"(idx) : "memory");
    GUEST_ASSERT_EQ(rd64(0x100 + 12 * 8), 0x5EED5EED5EED5EEDull);
    __asm__ volatile("movl 0x100(%1,%2,8), %k0" : "=r"(v) : "r"(p), "r"(idx) : "memory");
    GUEST_ASSERT_EQ(v, 0x5EED5EEDu);
    printf("sev_mmio: movabs moffs64 (A1/A3), base+index*8+disp32\n");
}

int main(void)
{
    printf("sev_mmio: mode %s\n", sdk_mode_name(sdk_sev_mode()));
    dev = (volatile uint8_t *)sdk_map_mmio(SNP_MMIODEV_BASE, SDK_PAGE_SIZE);
    uint64_t gpa;
    bool enc = true;
    GUEST_ASSERT(sdk_virt_to_phys((uintptr_t)dev, &gpa, &enc));
    GUEST_ASSERT_EQ(gpa, SNP_MMIODEV_BASE);
    GUEST_ASSERT(!enc);

    vc_mark();
    uint64_t sig = *(volatile uint64_t *)dev;
    vc_expect(1);
    printf("sev_mmio: signature 0x%lx at 0x%lx\n", sig, (uint64_t)SNP_MMIODEV_BASE);
    GUEST_ASSERT_EQ(sig, SNP_MMIODEV_SIGNATURE);
    GUEST_ASSERT_EQ(*(volatile uint32_t *)(dev + 4), (uint32_t)(SNP_MMIODEV_SIGNATURE >> 32));

    test_widths();
    test_forms();
    printf("sev_mmio: PASS (%u #VC for MMIO)\n", sdk_vc_count(SVM_EXIT_NPF));
    return 0;
}
