/* SPDX-License-Identifier: MIT */
/*
 * A private page read through a C=0 mapping (APM vol. 2 15.34.5: with C=0 the
 * memory controller neither decrypts nor encrypts, so the access sees DRAM).
 * Under SEV-ES (no RMP to refuse it) vCPU 0 writes a pattern through its C=1
 * mapping, clears the PTE's C-bit and reads the page again:
 *  1. it reads ciphertext, not the pattern;
 *  2. two equal 16-byte plaintext blocks read differently (the tweak is the
 *     block's address), and the same block reads the same twice;
 *  3. the read changed nothing: with C=1 again the pattern is back;
 *  4. a store through C=0 leaves plaintext: read back through C=0 as written.
 * In plain mode there is no C-bit: the page reads as written throughout.
 */
#include <sdk/sdk.h>

#define BLOCK 16

static bool same_block(const volatile uint8_t *a, const volatile uint8_t *b)
{
    for (unsigned i = 0; i < BLOCK; i++)
        if (a[i] != b[i])
            return false;
    return true;
}

int main(void)
{
    bool sev = sdk_sev_mode() == SNP_MODE_SEV_ES;
    GUEST_ASSERT(sev || sdk_sev_mode() == SNP_MODE_PLAIN);
    volatile uint8_t *p = sdk_alloc_pages(1);
    for (unsigned i = 0; i < 4096; i++)
        p[i] = (uint8_t)(i < 2 * BLOCK ? 0xA5 : i * 13);
    uint8_t want[4096];
    for (unsigned i = 0; i < 4096; i++)
        want[i] = p[i];

    sdk_set_cbit((uintptr_t)p, 1, false);
    unsigned differ = 0;
    for (unsigned i = 0; i < 4096; i++)
        differ += p[i] != want[i];
    bool twins = same_block(p, p + BLOCK), stable = true;
    uint8_t first[BLOCK];
    for (unsigned i = 0; i < BLOCK; i++)
        first[i] = p[i];
    stable = same_block(p, first);
    printf("sev_c0_read: 1. C=0 read: %u of 4096 bytes differ from what C=1 wrote\n", differ);
    printf("sev_c0_read: 2. equal plaintext blocks read %s, a block twice %s\n",
           twins ? "the same" : "differently", stable ? "the same" : "differently");
    GUEST_ASSERT(stable);
    if (sev) {
        GUEST_ASSERT(differ > 4096 / 2);
        GUEST_ASSERT(!twins);
    } else {
        GUEST_ASSERT_EQ(differ, 0);
        GUEST_ASSERT(twins);
    }

    sdk_set_cbit((uintptr_t)p, 1, true);
    for (unsigned i = 0; i < 4096; i++)
        GUEST_ASSERT_EQ(p[i], want[i]);
    printf("sev_c0_read: 3. C=1 again: the page reads as written\n");

    sdk_set_cbit((uintptr_t)p, 1, false);
    for (unsigned i = 0; i < 64; i++)
        p[0x100 + i] = (uint8_t)(0x40 + i);
    for (unsigned i = 0; i < 64; i++)
        GUEST_ASSERT_EQ(p[0x100 + i], 0x40 + i);
    printf("sev_c0_read: 4. a C=0 store reads back through C=0 as written\n");
    printf("sev_c0_read: PASS (%s)\n", sev ? "sev-es" : "plain");
    return 0;
}
