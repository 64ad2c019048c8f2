/* SPDX-License-Identifier: MIT */
/*
 * Working around a Unicorn 2.1.4 quirk (pinned by tests/unit/test_unicorn.c).
 *
 * QEMU tracks the exception "in flight" in env->old_exception so that a fault
 * during delivery becomes #DF and then a triple fault; it clears the field only
 * when it delivers an exception itself. Unicorn hands exceptions to the
 * UC_HOOK_INTR hook instead and never delivers, so the field is never cleared:
 * a guest's second #GP reaches the hook as #DF and its third silently stops
 * the engine. The model delivers exceptions through the guest IDT itself
 * (idt.c), so after each one it clears the field, as QEMU's own delivery
 * would.
 *
 * The field has no API. Its place in the CPU context blob is found once per
 * process by calibration: in scratch engines, a #DE leaves it 0 and a #GP
 * leaves it 13 where a fresh engine holds -1; exactly one 32-bit slot of the
 * context must differ that way, or the model refuses to start (an upgrade that
 * moved the field must not silently corrupt exception delivery).
 */
#include <stdlib.h>
#include <string.h>

#include "cpu_int.h"

static long old_exc_off = -1;
static bool calibrated;

static void stop_hook(uc_engine *uc, uint32_t intno, void *ud)
{
    (void)intno;
    (void)ud;
    uc_emu_stop(uc);
}

/* Runs `code` in a scratch engine and returns its context after the fault. */
static uc_context *fault_context(const uint8_t *code, size_t n, uc_context **fresh, size_t *size)
{
    uc_engine *uc;
    UC_CHECK(uc_open(UC_ARCH_X86, UC_MODE_64, &uc));
    UC_CHECK(uc_mem_map(uc, 0, 0x10000, UC_PROT_ALL));
    UC_CHECK(uc_mem_write(uc, 0x1000, code, n));
    uint64_t sp = 0x8000;
    UC_CHECK(uc_reg_write(uc, UC_X86_REG_RSP, &sp));
    uc_hook h;
    UC_CHECK(uc_hook_add(uc, &h, UC_HOOK_INTR, (void *)stop_hook, NULL, 1, 0));
    uc_context *after;
    UC_CHECK(uc_context_alloc(uc, &after));
    if (fresh) {
        UC_CHECK(uc_context_alloc(uc, fresh));
        UC_CHECK(uc_context_save(uc, *fresh));
    }
    uc_emu_start(uc, 0x1000, 0x1000 + n, 0, 0);
    UC_CHECK(uc_context_save(uc, after));
    *size = uc_context_size(uc);
    uc_close(uc);
    return after;
}

static void calibrate(void)
{
    static const uint8_t de[] = {0x31, 0xC9, 0xF7, 0xF1};                   /* xor ecx,ecx; div ecx */
    static const uint8_t gp[] = {0x66, 0xB8, 0x34, 0x12, 0x8E, 0xD8};       /* mov ds, 0x1234 */
    uc_context *fresh = NULL;
    size_t n1, n2;
    uc_context *a = fault_context(de, sizeof(de), &fresh, &n1);
    uc_context *b = fault_context(gp, sizeof(gp), NULL, &n2);
    const unsigned char *p0 = (const void *)fresh, *pa = (const void *)a, *pb = (const void *)b;
    int hits = 0;
    for (size_t off = 0; off + 4 <= n1 && off + 4 <= n2; off += 4) {
        int32_t v0, va, vb;
        memcpy(&v0, p0 + off, 4);
        memcpy(&va, pa + off, 4);
        memcpy(&vb, pb + off, 4);
        if (v0 == -1 && va == 0 && vb == 13) {
            old_exc_off = (long)off;
            hits++;
        }
    }
    uc_context_free(fresh);
    uc_context_free(a);
    uc_context_free(b);
    if (hits != 1)
        SNP_PANIC("cannot locate Unicorn's in-flight exception field (%d candidates): this Unicorn "
                  "differs from 2.1.4; see cpu/ucquirk.c and tests/unit/test_unicorn.c", hits);
    calibrated = true;
}

void ucq_init(void)
{
    if (!calibrated)
        calibrate();
}

void ucq_clear_old_exception(struct vcpu *v)
{
    unsigned char *blob = mode_blob_save(v);
    int32_t none = -1;
    memcpy(blob + old_exc_off, &none, sizeof(none));
    UC_CHECK(uc_context_restore(v->uc, v->ctx_blob));
}
