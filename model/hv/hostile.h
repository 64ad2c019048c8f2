/* SPDX-License-Identifier: MIT */
/*
 * The hostile hypervisor (issue 4; docs/attacks.md): a policy from the config
 * section "hostile" that injects events on purpose, as the published attacks
 * on SEV-SNP do (Heckler, WeSee). A guest arms injection k by writing the
 * marker k to the POST-code port 0x80; at the next VMRUN of that vCPU the
 * hypervisor writes the injection's crafted GHCB fields, if any, and sets
 * EVENTINJ, which VMRUN then checks (eventinj.h).
 */
#ifndef SNPREF_HOSTILE_H
#define SNPREF_HOSTILE_H

#include <stdint.h>

struct slot;

/* The guest wrote value to the POST-code port SNP_PORT_POST (an exit the hypervisor
 * handles); arms the injection with that marker, if the config has one. */
void hostile_marker(struct slot *s, uint64_t value);

/* The hypervisor's last step before a VMRUN of this vCPU: the armed injection
 * goes into the GHCB and EVENTINJ. Nothing when none is armed. */
void hostile_before_vmrun(struct slot *s);

#endif
