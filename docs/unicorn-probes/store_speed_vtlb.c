/* SPDX-License-Identifier: MIT */
/* Raw Unicorn 2.1.4: the store_speed.c run under UC_TLB_VIRTUAL with a TLB-fill hook; argv[2] = 1
 * grants UC_PROT_EXEC only on instruction-fetch fills, 0 on every fill (docs/unicorn.md "Stores"). */
#include <unicorn/unicorn.h>
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
static int exec_only_on_fetch;
static void hook_out(uc_engine *uc, uint32_t port, int size, uint32_t value, void *u)
{ if (port == 0xf4) uc_emu_stop(uc); }
static bool fill(uc_engine *uc, uint64_t addr, uc_mem_type type, uc_tlb_entry *r, void *u)
{
    r->paddr = addr;
    r->perms = UC_PROT_READ | UC_PROT_WRITE;
    if (!exec_only_on_fetch || type == UC_MEM_FETCH) r->perms |= UC_PROT_EXEC;
    return true;
}
int main(int argc, char **argv)
{
    exec_only_on_fetch = atoi(argv[2]);
    FILE *f = fopen(argv[1], "rb"); fseek(f, 0, SEEK_END); long n = ftell(f); rewind(f);
    unsigned char *d = malloc(n); fread(d, 1, n, f); fclose(f);
    Elf64_Ehdr *eh = (void *)d; Elf64_Phdr *ph = (void *)(d + eh->e_phoff);
    uc_engine *uc; uc_open(UC_ARCH_X86, UC_MODE_64, &uc);
    uc_ctl_tlb_mode(uc, UC_TLB_VIRTUAL);
    size_t ram = 64 << 20; void *mem = calloc(1, ram);
    uc_mem_map_ptr(uc, 0, ram, UC_PROT_ALL, mem);
    for (int i = 0; i < eh->e_phnum; i++) if (ph[i].p_type == PT_LOAD)
        memcpy((char *)mem + ph[i].p_paddr, d + ph[i].p_offset, ph[i].p_filesz);
    uc_hook h1, h3;
    uc_hook_add(uc, &h1, UC_HOOK_INSN, hook_out, NULL, 1, 0, UC_X86_INS_OUT);
    uc_hook_add(uc, &h3, UC_HOOK_TLB_FILL, fill, NULL, 1, 0);
    struct timespec a, b; clock_gettime(CLOCK_MONOTONIC, &a);
    uc_err e = uc_emu_start(uc, eh->e_entry, 0, 0, 0);
    clock_gettime(CLOCK_MONOTONIC, &b);
    fprintf(stderr, "err=%d %.3f s\n", e, (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) * 1e-9);
    return 0;
}
