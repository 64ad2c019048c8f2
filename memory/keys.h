/* SPDX-License-Identifier: MIT */
/*
 * Per-guest memory encryption (docs/sev-snp-facts.md 6.4): each ASID has its own key, and
 * what an owner writes through C=1 is, in DRAM, AES in XEX mode with a tweak
 * from the system-physical address of each 16-byte block (the AMD memory
 * encryption engine's construction). This model keeps guest RAM in plaintext,
 * so the guest's engines run at full speed, and computes the DRAM view for
 * whoever is not the owner: a hypervisor read of a private page returns the
 * ciphertext (different for two guests with the same plaintext, and for the
 * same plaintext at two addresses); a hypervisor write into a page that is
 * private under SEV-ES (no RMP to stop it) lands as ciphertext that the owner
 * then reads decrypted, i.e. as garbage. OpenSSL provides AES.
 *
 * Keys are derived from a seed in the config (default fixed), so traces stay
 * byte-identical from run to run.
 */
#ifndef SNPREF_KEYS_H
#define SNPREF_KEYS_H

#include <stddef.h>
#include <stdint.h>

#define KEYS_MAX_ASID 1024   /* the raw RMP entry's 10-bit ASID */

struct mem_keys;

/* Keys for ASIDs 1..KEYS_MAX_ASID-1 derived from seed. NULL if OpenSSL fails. */
struct mem_keys *keys_create(uint64_t seed);
void keys_destroy(struct mem_keys *k);

/* DRAM contents for plaintext `plain` owned by asid (1..KEYS_MAX_ASID-1) at
 * system-physical spa (16-byte aligned, len a multiple of 16; a model bug
 * otherwise). AES-128-XTS, one 16-byte data unit per block, IV = the block's
 * spa little-endian (keys.c). out may be the input buffer. */
void keys_encrypt(const struct mem_keys *k, uint32_t asid, uint64_t spa, const void *plain,
                  void *out, size_t len);
/* What the owner reads where DRAM holds `cipher`. */
void keys_decrypt(const struct mem_keys *k, uint32_t asid, uint64_t spa, const void *cipher,
                  void *out, size_t len);

#endif
