/* SPDX-License-Identifier: MIT */
/*
 * Port I/O in every form (IOIO, exit code 0x7B): IN and OUT with an 8-bit
 * immediate port and with DX, at 8, 16 and 32 bits; INS and OUTS with and
 * without REP, forwards and with DF = 1, with a 32-bit address size; a REP
 * INSB longer than the GHCB's shared buffer (2032 bytes) so the SDK's #VC
 * handler has to take it in two exits. Devices (docs/guest-abi.md): COM1
 * (0x3F8 prints, LSR 0x3FD reads 0x60, 0x3F9 reads 0), the irqdev DEST
 * register (0x500, reads back what was written), and an unclaimed port
 * (0x80: reads all ones). Under SEV-ES/SNP the number of #VCs is checked too.
 * Register rules checked: IN AL/AX merge into RAX, IN EAX zero-extends.
 */
#include <sdk/sdk.h>

#define PORT_NONE  0x80
#define PORT_ZERO  0x3F9
#define PORT_DEST  (SNP_PORT_IRQDEV + SNP_IRQDEV_DEST)

static uint8_t buf[4096 + 64];

static uint32_t vc_before;
static void vc_mark(void) { vc_before = sdk_vc_count(SVM_EXIT_IOIO); }
static void vc_expect(uint32_t n) { GUEST_ASSERT_VC(SVM_EXIT_IOIO, vc_before, n); }

static void test_in_out(void)
{
    uint64_t rax;

    vc_mark();
    rax = 0x1122334455667700ull;
    __asm__ volatile("inb $0x80, %%al" : "+a"(rax) : : "memory");
    GUEST_ASSERT_EQ(rax, 0x11223344556677FFull);
    rax = 0x1122334455660000ull;
    __asm__ volatile("inw $0x80, %%ax" : "+a"(rax) : : "memory");
    GUEST_ASSERT_EQ(rax, 0x112233445566FFFFull);
    rax = 0x1122334400000000ull;
    __asm__ volatile("inl $0x80, %%eax" : "+a"(rax) : : "memory");
    GUEST_ASSERT_EQ(rax, 0xFFFFFFFFull);
    __asm__ volatile("outb %%al, $0x80\n\toutw %%ax, $0x80\n\toutl %%eax, $0x80"
                     : : "a"(0x12345678u) : "memory");
    vc_expect(6);
    printf("sev_ioio: IN/OUT imm8 (port 0x80): IN AL/AX merge, IN EAX zero-extends\n");

    vc_mark();
    rax = ~0ull;
    __asm__ volatile("inb %%dx, %%al" : "+a"(rax) : "d"(SNP_PORT_COM1_LSR) : "memory");
    GUEST_ASSERT_EQ(rax, 0xFFFFFFFFFFFFFF60ull);
    rax = 0x5555;
    __asm__ volatile("inw %%dx, %%ax" : "+a"(rax) : "d"(PORT_ZERO) : "memory");
    GUEST_ASSERT_EQ(rax, 0);
    __asm__ volatile("outl %%eax, %%dx" : : "a"(0xA5u), "d"(PORT_DEST) : "memory");
    rax = ~0ull;
    __asm__ volatile("inl %%dx, %%eax" : "+a"(rax) : "d"(PORT_DEST) : "memory");
    GUEST_ASSERT_EQ(rax, 0xA5);
    __asm__ volatile("outw %%ax, %%dx" : : "a"(0xBEEFu), "d"(PORT_NONE) : "memory");
    vc_expect(5);
    printf("sev_ioio: IN/OUT DX: LSR 0x60, 0x3F9 0, irqdev DEST wrote/read 0xa5\n");
}

static void test_strings(void)
{
    static const char hello[] = "sev_ioio: rep outsb prints this line\n";
    const char *s = hello;
    uint64_t n = sizeof(hello) - 1;

    vc_mark();
    __asm__ volatile("rep outsb" : "+S"(s), "+c"(n) : "d"(SNP_PORT_COM1) : "memory");
    vc_expect(1);
    GUEST_ASSERT_EQ(n, 0);
    GUEST_ASSERT_EQ((uintptr_t)s, (uintptr_t)hello + sizeof(hello) - 1);

    /* DF = 1: OUTSB walks backwards from the last byte. */
    static const char rev[] = "\nsdrawkcab siht detnirp bstuo per ;dts :oioi_ves";
    s = rev + sizeof(rev) - 2;
    n = sizeof(rev) - 1;
    __asm__ volatile("std\n\trep outsb\n\tcld" : "+S"(s), "+c"(n) : "d"(SNP_PORT_COM1) : "memory");
    GUEST_ASSERT_EQ(n, 0);
    GUEST_ASSERT_EQ((uintptr_t)s, (uintptr_t)rev - 1);

    /* REP INSB longer than one shared buffer: two exits, RDI and RCX exact. */
    memset(buf, 0xAA, sizeof(buf));
    uint8_t *d = buf;
    n = 3000;
    vc_mark();
    __asm__ volatile("rep insb" : "+D"(d), "+c"(n) : "d"(SNP_PORT_COM1_LSR) : "memory");
    vc_expect(2);
    GUEST_ASSERT_EQ(n, 0);
    GUEST_ASSERT_EQ((uintptr_t)d, (uintptr_t)buf + 3000);
    for (unsigned i = 0; i < 3000; i++)
        GUEST_ASSERT_EQ(buf[i], 0x60);
    GUEST_ASSERT_EQ(buf[3000], 0xAA);
    printf("sev_ioio: rep insb x3000 from LSR: 3000 bytes of 0x60 (two exits under SEV)\n");

    /* REP INSW: 10 words of 0 from 0x3F9, not a byte more. */
    memset(buf, 0xAA, 64);
    d = buf;
    n = 10;
    __asm__ volatile("rep insw" : "+D"(d), "+c"(n) : "d"(PORT_ZERO) : "memory");
    GUEST_ASSERT_EQ(n, 0);
    GUEST_ASSERT_EQ((uintptr_t)d, (uintptr_t)buf + 20);
    for (unsigned i = 0; i < 20; i++)
        GUEST_ASSERT_EQ(buf[i], 0);
    GUEST_ASSERT_EQ(buf[20], 0xAA);

    /* REP OUTSL then REP INSL on irqdev DEST: the last value written reads back. */
    static const uint32_t vals[3] = { 0x11, 0x22, 0x33 };
    const uint32_t *sl = vals;
    n = 3;
    __asm__ volatile("rep outsl" : "+S"(sl), "+c"(n) : "d"(PORT_DEST) : "memory");
    GUEST_ASSERT_EQ(n, 0);
    uint32_t in[4] = { 0, 0, 0, 0 };
    uint32_t *dl = in;
    n = 4;
    __asm__ volatile("rep insl" : "+D"(dl), "+c"(n) : "d"(PORT_DEST) : "memory");
    GUEST_ASSERT(in[0] == 0x33 && in[1] == 0x33 && in[2] == 0x33 && in[3] == 0x33);
    printf("sev_ioio: rep outsl 0x11 0x22 0x33 -> irqdev DEST; rep insl reads 0x33 x4\n");

    /* DF = 1 INSB: fills downwards from the given byte. */
    memset(buf, 0xAA, 64);
    d = buf + 20;
    n = 5;
    __asm__ volatile("std\n\trep insb\n\tcld" : "+D"(d), "+c"(n) : "d"(SNP_PORT_COM1_LSR)
                     : "memory");
    GUEST_ASSERT_EQ((uintptr_t)d, (uintptr_t)buf + 15);
    for (unsigned i = 16; i <= 20; i++)
        GUEST_ASSERT_EQ(buf[i], 0x60);
    GUEST_ASSERT(buf[15] == 0xAA && buf[21] == 0xAA);

    /* No REP: one element whatever RCX holds, and RCX untouched. */
    memset(buf, 0xAA, 64);
    d = buf;
    n = 7;
    vc_mark();
    __asm__ volatile("insb" : "+D"(d), "+c"(n) : "d"(SNP_PORT_COM1_LSR) : "memory");
    vc_expect(1);
    GUEST_ASSERT_EQ(n, 7);
    GUEST_ASSERT_EQ((uintptr_t)d, (uintptr_t)buf + 1);
    GUEST_ASSERT(buf[0] == 0x60 && buf[1] == 0xAA);

    /* 32-bit address size (67 prefix): EDI and ECX. */
    memset(buf, 0xAA, 64);
    uint64_t rdi = (uintptr_t)buf;
    n = 4;
    __asm__ volatile("addr32 rep insb" : "+D"(rdi), "+c"(n) : "d"(SNP_PORT_COM1_LSR) : "memory");
    GUEST_ASSERT_EQ((uint32_t)n, 0);
    GUEST_ASSERT_EQ((uint32_t)rdi, (uint32_t)(uintptr_t)buf + 4);
    GUEST_ASSERT(buf[3] == 0x60 && buf[4] == 0xAA);
    printf("sev_ioio: std rep insb, insb without rep, addr32 rep insb: as the SDM says\n");
}

int main(void)
{
    printf("sev_ioio: mode %s\n", sdk_mode_name(sdk_sev_mode()));
    test_in_out();
    test_strings();
    printf("sev_ioio: PASS (%u #VC for IOIO, console included)\n", sdk_vc_count(SVM_EXIT_IOIO));
    return 0;
}
