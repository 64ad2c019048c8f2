/* SPDX-License-Identifier: MIT */
/* Can one Unicorn 2.1.4 x86 engine run real-mode code and switch real -> protected -> long mode? */
#include <unicorn/unicorn.h>
#include <stdio.h>
#include <string.h>
static void on_out(uc_engine *uc, uint32_t port, int size, uint32_t value, void *u)
{ uint64_t rip = 0; uint32_t eip = 0; uc_reg_read(uc, UC_X86_REG_EIP, &eip); rip = eip; printf("  out port 0x%x size %d value 0x%x (rip 0x%llx)\n", port, size, value, (unsigned long long)rip); if (port == 0xf4) uc_emu_stop(uc); }
static int try(int mode, int cpu_model, const char *label)
{
    uc_engine *uc; uc_err e = uc_open(UC_ARCH_X86, mode, &uc); if (e) { printf("open %s\n", uc_strerror(e)); return 1; }
    if (cpu_model >= 0 && (e = uc_ctl_set_cpu_model(uc, cpu_model))) printf("  cpu model: %s\n", uc_strerror(e));
    uc_mem_map(uc, 0, 2 << 20, UC_PROT_ALL);
    /* 16-bit code at 0x7000: out 0x80 <- 0x16; load GDT; set PE; far jmp to 32-bit at 0x7100 */
    static const unsigned char rm[] = {
        0xb0, 0x16, 0xe6, 0x80,                         /* mov al,0x16; out 0x80,al */
        0x0f, 0x01, 0x16, 0x00, 0x7f,                   /* lgdt [0x7f00] */
        0x0f, 0x20, 0xc0, 0x66, 0x83, 0xc8, 0x01, 0x0f, 0x22, 0xc0, /* mov eax,cr0; or eax,1; mov cr0,eax */
        0x66, 0xea, 0x00, 0x71, 0x00, 0x00, 0x08, 0x00, /* jmp dword 0x08:0x7100 */
    };
    /* 32-bit code at 0x7100: out 0x80 <- 0x32; PAE; CR3; EFER.LME via wrmsr; PG; far jmp 0x18:0x7200 */
    static const unsigned char pm[] = {
        0xb0, 0x32, 0xe6, 0x80,
        0x0f, 0x20, 0xe0, 0x83, 0xc8, 0x20, 0x0f, 0x22, 0xe0,       /* cr4 |= PAE */
        0xb8, 0x00, 0x00, 0x01, 0x00, 0x0f, 0x22, 0xd8,             /* cr3 = 0x10000 */
        0xb9, 0x80, 0x00, 0x00, 0xc0, 0x0f, 0x32, 0x0d, 0x00, 0x01, 0x00, 0x00, 0x0f, 0x30, /* rdmsr EFER; or eax,0x100; wrmsr */
        0x0f, 0x20, 0xc0, 0x0d, 0x00, 0x00, 0x00, 0x80, 0x0f, 0x22, 0xc0, /* cr0 |= PG */
        0xea, 0x00, 0x72, 0x00, 0x00, 0x18, 0x00,                   /* jmp 0x18:0x7200 */
    };
    /* 64-bit code at 0x7200: mov rax, 0x6464646464; out 0xf4, eax */
    static const unsigned char lm[] = { 0x48, 0xb8, 0x64, 0x64, 0x64, 0x64, 0x64, 0, 0, 0, 0xe7, 0xf4 };
    uint64_t gdt[4] = { 0, 0x00cf9a000000ffffull /*0x08 code32*/, 0x00cf92000000ffffull /*0x10 data*/, 0x00af9a000000ffffull /*0x18 code64*/ };
    unsigned char gdtr[6]; uint16_t lim = sizeof(gdt) - 1; uint32_t base = 0x7f10; memcpy(gdtr, &lim, 2); memcpy(gdtr + 2, &base, 4);
    uc_mem_write(uc, 0x7000, rm, sizeof rm); uc_mem_write(uc, 0x7100, pm, sizeof pm); uc_mem_write(uc, 0x7200, lm, sizeof lm);
    uc_mem_write(uc, 0x7f00, gdtr, 6); uc_mem_write(uc, 0x7f10, gdt, sizeof gdt);
    /* identity map 0-2MiB: PML4 0x10000 -> PDPT 0x11000 -> PD 0x12000 (2 MiB page) */
    uint64_t pml4 = 0x11003, pdpt = 0x12003, pd = 0x83; uc_mem_write(uc, 0x10000, &pml4, 8); uc_mem_write(uc, 0x11000, &pdpt, 8); uc_mem_write(uc, 0x12000, &pd, 8);
    uc_hook h; uc_hook_add(uc, &h, UC_HOOK_INSN, on_out, NULL, 1, 0, UC_X86_INS_OUT);
    if (mode == UC_MODE_64) { /* drop to real mode by hand */
        uint64_t cr0 = 0x10, efer = 0; uc_reg_write(uc, UC_X86_REG_CR0, &cr0);
        uc_x86_msr m = { 0xC0000080, 0 }; uc_reg_write(uc, UC_X86_REG_MSR, &m); (void)efer;
        uint64_t z = 0; uc_reg_write(uc, UC_X86_REG_CS, &z); uc_reg_write(uc, UC_X86_REG_DS, &z);
    }
    printf("%s:\n", label);
    e = uc_emu_start(uc, 0x7000, 0, 0, 200);
    uint64_t rip, cr0, cs; uc_reg_read(uc, UC_X86_REG_RIP, &rip); uc_reg_read(uc, UC_X86_REG_CR0, &cr0); uc_reg_read(uc, UC_X86_REG_CS, &cs);
    uc_x86_msr m = { 0xC0000080, 0 }; uc_reg_read(uc, UC_X86_REG_MSR, &m);
    printf("  end: %s rip=0x%llx cr0=0x%llx cs=0x%llx efer=0x%llx\n", uc_strerror(e), (unsigned long long)rip, (unsigned long long)cr0, (unsigned long long)cs, (unsigned long long)m.value);
    uc_close(uc); return 0;
}
int main(void)
{
    try(UC_MODE_16, -1, "UC_MODE_16, default CPU model");
    try(UC_MODE_16, UC_CPU_X86_EPYC, "UC_MODE_16, UC_CPU_X86_EPYC");
    try(UC_MODE_64, -1, "UC_MODE_64 dropped to real mode by register writes");
    return 0;
}
