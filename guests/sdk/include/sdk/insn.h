/* SPDX-License-Identifier: MIT */
/*
 * A small x86-64 instruction decoder for the #VC handler (vc.c): enough of
 * the encoding (legacy prefixes, REX, one- and two-byte opcode maps, ModRM,
 * SIB, displacements, immediates, moffs) to find the length of every
 * instruction that can raise #VC and the memory operand of the MMIO forms.
 * 64-bit mode only (the SDK never leaves it). Supported opcodes:
 *   one-byte: 6C-6F (INS/OUTS), 88 89 8A 8B (MOV r/m<->reg), A0-A3 (MOV moffs),
 *             C6 /0, C7 /0 (MOV r/m, imm), E4-E7 EC-EF (IN/OUT), F1 (INT1)
 *   0F xx:    01 /mod=3 (MONITOR, MWAIT, VMMCALL, RDTSCP, ...), 08 INVD,
 *             09 WBINVD, 21/23 (MOV from/to DRn), 30-33 (WRMSR, RDTSC, RDMSR,
 *             RDPMC), A2 CPUID, B6 B7 BE BF (MOVZX/MOVSX)
 * Anything else fails to decode.
 */
#ifndef SDK_INSN_H
#define SDK_INSN_H

#include <stdbool.h>
#include <stdint.h>
#include <sdk/idt.h>

#define SDK_INSN_MAX 15

struct sdk_insn {
    uint8_t len;             /* total length in bytes */
    bool p66, p67, lock;
    uint8_t rep;             /* 0, 0xF2 or 0xF3 (the last one given) */
    uint8_t seg;             /* segment override prefix byte, 0 if none */
    uint8_t rex;             /* 0 if none */
    bool twobyte;            /* 0F map */
    uint8_t op;              /* opcode byte in its map */
    bool has_modrm;
    uint8_t modrm, mod;
    uint8_t reg;             /* ModRM.reg | REX.R << 3 */
    uint8_t rm;              /* ModRM.rm | REX.B << 3 (register forms) */
    bool has_mem;            /* a memory operand: ModRM with mod != 3, or moffs */
    bool rip_rel, has_base, has_index;
    uint8_t base, index, scale;
    int64_t disp;
    uint64_t moffs;
    uint64_t imm;            /* zero-extended as encoded */
    uint8_t imm_len;
    uint8_t opnd_bytes;      /* 2, 4 or 8 (66, REX.W) */
    uint8_t addr_bytes;      /* 4 or 8 (67) */
};

/* Decodes the instruction at code (at most SDK_INSN_MAX bytes are read, one
 * at a time as needed). false if it is not one the decoder knows. */
bool sdk_insn_decode(const uint8_t *code, struct sdk_insn *insn);

/* Linear address of the memory operand, for an instruction at rip with the
 * registers of frame f (FS/GS overrides add the segment base). */
uint64_t sdk_insn_mem_addr(const struct sdk_insn *insn, const struct sdk_frame *f);

/* General register n (0 RAX .. 15 R15; 4 is the interrupted RSP) in frame f. */
uint64_t *sdk_frame_gpr(struct sdk_frame *f, unsigned n);
/* Reads / writes size bytes of register n as an instruction operand would:
 * size 1 without REX names AH/CH/DH/BH for n = 4..7; writes of 1 and 2 bytes
 * merge, of 4 bytes zero-extend. */
uint64_t sdk_insn_reg_read(struct sdk_frame *f, const struct sdk_insn *insn, unsigned n,
                           unsigned size);
void sdk_insn_reg_write(struct sdk_frame *f, const struct sdk_insn *insn, unsigned n,
                        unsigned size, uint64_t v);

#endif
