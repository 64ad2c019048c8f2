/* SPDX-License-Identifier: MIT */
/*
 * /bin/probe of the real-kernel scenarios' initramfs: a static ring-3 program
 * with no libc (Linux x86-64 system calls only) that executes CPUID and RDTSC
 * itself and prints what it got. Under SEV-ES/SNP both raise #VC in user mode,
 * which the kernel's #VC handler completes through the GHCB (Linux
 * arch/x86/coco/sev, vc_handle_cpuid / vc_handle_rdtsc), so the values come
 * back from the hypervisor's CPUID table and TSC.
 */
typedef unsigned long u64;
typedef unsigned int u32;

static long sys3(long nr, long a, long b, long c)
{
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
    return r;
}

static unsigned long len(const char *s)
{
    unsigned long n = 0;
    while (s[n])
        n++;
    return n;
}

static void put(const char *s) { sys3(1, 1, (long)s, (long)len(s)); }

static void hex(u32 v)
{
    char b[11] = "0x";
    for (int i = 0; i < 8; i++)
        b[2 + i] = "0123456789abcdef"[(v >> (28 - 4 * i)) & 15];
    b[10] = 0;
    put(b);
}

static void cpuid(u32 leaf, u32 r[4])
{
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(0));
}

static u64 rdtsc(void)
{
    u32 lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (u64)hi << 32 | lo;
}

void _start(void);
__attribute__((noreturn, used)) void _start(void)
{
    u32 r[4];
    char vendor[13];
    cpuid(0, r);
    for (int i = 0; i < 4; i++) {
        vendor[i] = (char)(r[1] >> (8 * i));
        vendor[4 + i] = (char)(r[3] >> (8 * i));
        vendor[8 + i] = (char)(r[2] >> (8 * i));
    }
    vendor[12] = 0;
    put("probe: ring-3 cpuid 0: ");
    put(vendor);
    put("\n");
    static const u32 leaves[] = {1, 0x8000001F};
    for (unsigned i = 0; i < 2; i++) {
        cpuid(leaves[i], r);
        put("probe: ring-3 cpuid ");
        hex(leaves[i]);
        put(": eax ");
        hex(r[0]);
        put(" ebx ");
        hex(r[1]);
        put("\n");
    }
    u64 t0 = rdtsc(), t1 = rdtsc();
    put("probe: ring-3 rdtsc ");
    put(t1 > t0 ? "advances" : "does not advance");
    put("\n");
    sys3(231, 0, 0, 0); /* exit_group(0) */
    for (;;)
        ;
}
