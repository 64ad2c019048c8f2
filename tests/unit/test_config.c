/* SPDX-License-Identifier: MIT */
/*
 * Check suite for the configuration (model/config/config.c) against docs/config.md and
 * docs/cost-model.md: every documented default; a file that sets every key
 * (cost.* and cpuid[] with "0x..." strings); every user mistake with its exact
 * "FILE:LINE: field 'F': problem" line and exit status (65 malformed, 66
 * unreadable); config_validate(); config_to_json() in its fixed key order and
 * read back to the same struct; json_line_of() on nested paths and indices.
 *
 * Each test writes its JSON to a file in a fresh temporary directory.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "ck_run.h"

static char g_dir[64];
static char g_path[96];
static char g_err[512];
static int g_status;

static void setup_dir(void)
{
    snprintf(g_dir, sizeof(g_dir), "/tmp/snpref-cfg-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(g_dir));
    snprintf(g_path, sizeof(g_path), "%s/cfg.json", g_dir);
    memset(g_err, 0, sizeof(g_err));
    g_status = -1;
}

static void teardown_dir(void)
{
    unlink(g_path);
    rmdir(g_dir);
}

static void write_file(const char *text, size_t len)
{
    FILE *f = fopen(g_path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(text, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

static void write_str(const char *text) { write_file(text, strlen(text)); }

/* Loads text over the defaults into *c. */
static int load_text(struct snp_config *c, const char *text)
{
    write_str(text);
    config_defaults(c);
    return config_load(c, g_path, &g_status, g_err, sizeof(g_err));
}

/* ---- Defaults --------------------------------------------------------------- */

START_TEST(defaults_are_the_documented_values_for_every_field)
{
    struct snp_config c;
    memset(&c, 0x5A, sizeof(c));
    config_defaults(&c);
    ck_assert_uint_eq(c.vcpus, 4);
    ck_assert_str_eq(c.mode, "plain");
    ck_assert_str_eq(c.apic, "emulated");
    ck_assert_uint_eq(c.ram_mb, 64);
    ck_assert_uint_eq(c.quantum, 2000);
    ck_assert_uint_eq(c.max_insns, 0);
    ck_assert_uint_eq(c.core_hz, 2000000000ull);
    ck_assert_uint_eq(c.tsc_hz, 2000000000ull);
    ck_assert_uint_eq(c.apic_timer_hz, 100000000ull);
    ck_assert_uint_eq(c.tcg_buffer_mb, 32);
    ck_assert_int_eq(c.exit_style, EXIT_STYLE_SNPREF);
    /* docs/cost-model.md, "Costs" table. */
    ck_assert_uint_eq(c.cost.insn_millicycles, 1000);
    ck_assert_uint_eq(c.cost.vmexit, 1400);
    ck_assert_uint_eq(c.cost.event_delivery, 150);
    ck_assert_uint_eq(c.cost.ipi_wire, 400);
    ck_assert_uint_eq(c.cost.self_ipi, 60);
    ck_assert_uint_eq(c.cost.device_msi, 400);
    ck_assert_uint_eq(c.cost.hlt_wakeup, 800);
    ck_assert_uint_eq(c.ncpuid, 0);
    ck_assert_int_eq(c.hv.validation, HV_VALIDATION_KVM);      /* docs/ghcb-validation.md */
    ck_assert_int_eq(c.sev.launch_vmsas, LAUNCH_VMSAS_BSP);   /* APs from AP_CREATION */
    ck_assert_uint_eq(c.sev.launch_pat, 0x0007040600070406ull); /* the PAT's reset value */
    ck_assert_str_eq(c.attestation.cert_dir, "");              /* the chain from sev.key_seed */
    /* Nothing of the old contents survives (the entries are zeroed too). */
    ck_assert_uint_eq(c.cpuid[0].leaf, 0);
    ck_assert_uint_eq(c.cpuid[CFG_MAX_CPUID - 1].edx, 0);
}
END_TEST

START_TEST(defaults_pass_validation)
{
    struct snp_config c;
    config_defaults(&c);
    char err[128] = "untouched";
    ck_assert_int_eq(config_validate(&c, err, sizeof(err)), 0);
    ck_assert_str_eq(err, "untouched");
}
END_TEST

/* ---- A full valid file ---------------------------------------------------------- */

static const char full_json[] =
    "{\n"
    "  \"vcpus\": 8,\n"
    "  \"mode\": \"snp\",\n"
    "  \"apic\": \"emulated\",\n"
    "  \"ram_mb\": \"0x100\",\n"
    "  \"quantum\": 500,\n"
    "  \"max_insns\": \"0x123456789abcdef0\",\n"
    "  \"core_hz\": 3000000000,\n"
    "  \"tsc_hz\": \"0x3B9ACA00\",\n"
    "  \"apic_timer_hz\": 25000000,\n"
    "  \"tcg_buffer_mb\": 64,\n"
    "  \"exit_style\": \"qemu\",\n"
    "  \"cost\": {\n"
    "    \"insn_millicycles\": 750,\n"
    "    \"vmexit\": \"0x800\",\n"
    "    \"event_delivery\": 0,\n"
    "    \"ipi_wire\": 999,\n"
    "    \"self_ipi\": 61,\n"
    "    \"device_msi\": 401,\n"
    "    \"hlt_wakeup\": 100000000\n"
    "  },\n"
    "  \"hv\": { \"validation\": \"strict\" },\n"
    "  \"attestation\": { \"cert_dir\": \"/var/lib/snpref/certs\" },\n"
    "  \"cpuid\": [\n"
    "    { \"leaf\": \"0x1\", \"eax\": \"0xa00f11\", \"ebx\": \"0x800\", \"ecx\": \"0xfeda3203\",\n"
    "      \"edx\": \"0x178bfbff\" },\n"
    "    { \"leaf\": \"0x7\", \"subleaf\": \"0x0\", \"ebx\": \"0x219c91a9\" },\n"
    "    { \"leaf\": 2147483656, \"subleaf\": 1, \"eax\": \"0xffffffff\" }\n"
    "  ]\n"
    "}\n";

START_TEST(a_file_setting_every_key_is_loaded_exactly)
{
    struct snp_config c;
    ck_assert_int_eq(load_text(&c, full_json), 0);
    ck_assert_uint_eq(c.vcpus, 8);
    ck_assert_str_eq(c.mode, "snp");
    ck_assert_str_eq(c.apic, "emulated");
    ck_assert_uint_eq(c.ram_mb, 256);
    ck_assert_uint_eq(c.quantum, 500);
    ck_assert_uint_eq(c.max_insns, 0x123456789abcdef0ull);
    ck_assert_uint_eq(c.core_hz, 3000000000ull);
    ck_assert_uint_eq(c.tsc_hz, 1000000000ull);
    ck_assert_uint_eq(c.apic_timer_hz, 25000000ull);
    ck_assert_uint_eq(c.tcg_buffer_mb, 64);
    ck_assert_int_eq(c.exit_style, EXIT_STYLE_QEMU);
    ck_assert_uint_eq(c.cost.insn_millicycles, 750);
    ck_assert_uint_eq(c.cost.vmexit, 0x800);
    ck_assert_uint_eq(c.cost.event_delivery, 0);
    ck_assert_uint_eq(c.cost.ipi_wire, 999);
    ck_assert_uint_eq(c.cost.self_ipi, 61);
    ck_assert_uint_eq(c.cost.device_msi, 401);
    ck_assert_uint_eq(c.cost.hlt_wakeup, 100000000);
    ck_assert_int_eq(c.hv.validation, HV_VALIDATION_STRICT);
    ck_assert_str_eq(c.attestation.cert_dir, "/var/lib/snpref/certs");
    ck_assert_uint_eq(c.ncpuid, 3);
    const struct cpuid_entry *e = c.cpuid;
    ck_assert_uint_eq(e[0].leaf, 1);
    ck_assert(e[0].any_subleaf);
    ck_assert_uint_eq(e[0].subleaf, 0);
    ck_assert_uint_eq(e[0].eax, 0xa00f11);
    ck_assert_uint_eq(e[0].ebx, 0x800);
    ck_assert_uint_eq(e[0].ecx, 0xfeda3203u);
    ck_assert_uint_eq(e[0].edx, 0x178bfbff);
    ck_assert_uint_eq(e[1].leaf, 7);
    ck_assert(!e[1].any_subleaf);
    ck_assert_uint_eq(e[1].subleaf, 0);
    ck_assert_uint_eq(e[1].eax, 0);
    ck_assert_uint_eq(e[1].ebx, 0x219c91a9);
    ck_assert_uint_eq(e[1].ecx, 0);
    ck_assert_uint_eq(e[1].edx, 0);
    ck_assert_uint_eq(e[2].leaf, 0x80000008u);
    ck_assert(!e[2].any_subleaf);
    ck_assert_uint_eq(e[2].subleaf, 1);
    ck_assert_uint_eq(e[2].eax, 0xffffffffu);
}
END_TEST

START_TEST(a_file_changes_only_the_keys_it_names)
{
    struct snp_config c;
    config_defaults(&c);
    c.vcpus = 2;
    c.cost.ipi_wire = 7;
    c.ncpuid = 1;
    c.cpuid[0].leaf = 0x40000000;
    write_str("{ \"quantum\": 10, \"cost\": { \"self_ipi\": 3 } }");
    ck_assert_int_eq(config_load(&c, g_path, &g_status, g_err, sizeof(g_err)), 0);
    ck_assert_uint_eq(c.quantum, 10);
    ck_assert_uint_eq(c.cost.self_ipi, 3);
    ck_assert_uint_eq(c.vcpus, 2);
    ck_assert_uint_eq(c.cost.ipi_wire, 7);
    ck_assert_uint_eq(c.cost.vmexit, 1400);
    ck_assert_uint_eq(c.ncpuid, 1);
    ck_assert_uint_eq(c.cpuid[0].leaf, 0x40000000);
    /* An empty cpuid array replaces the list; an empty object changes nothing. */
    write_str("{\"cpuid\": [], \"cost\": {}}");
    ck_assert_int_eq(config_load(&c, g_path, &g_status, g_err, sizeof(g_err)), 0);
    ck_assert_uint_eq(c.ncpuid, 0);
    ck_assert_uint_eq(c.cost.self_ipi, 3);
}
END_TEST

START_TEST(integers_are_accepted_up_to_their_limits_as_numbers_or_hex_strings)
{
    struct snp_config c;
    ck_assert_int_eq(load_text(&c, "{\"vcpus\": 256, \"ram_mb\": 1048576, \"max_insns\": "
                                   "\"0xFFFFFFFFFFFFFFFF\", \"core_hz\": 100000000000,"
                                   " \"tcg_buffer_mb\": \"0x800\", \"quantum\": 1}"),
                     0);
    ck_assert_uint_eq(c.vcpus, 256);
    ck_assert_uint_eq(c.ram_mb, 1048576);
    ck_assert_uint_eq(c.max_insns, UINT64_MAX);
    ck_assert_uint_eq(c.core_hz, 100000000000ull);
    ck_assert_uint_eq(c.tcg_buffer_mb, 2048);
    ck_assert_uint_eq(c.quantum, 1);
    ck_assert_int_eq(load_text(&c, "{\"vcpus\": 1, \"ram_mb\": 8, \"max_insns\": 9007199254740992}"),
                     0);
    ck_assert_uint_eq(c.vcpus, 1);
    ck_assert_uint_eq(c.ram_mb, 8);
    ck_assert_uint_eq(c.max_insns, 9007199254740992ull);
}
END_TEST

/* ---- Errors ------------------------------------------------------------------- */

struct bad {
    const char *text;
    const char *msg; /* after "PATH:" */
};

static const struct bad bad_files[] = {
    /* Malformed JSON: the line where the parser stopped. */
    {"{\n  \"vcpus\": 2,\n  \"mode\" \"plain\"\n}\n", "3: malformed JSON"},
    {"{\n  \"vcpus\": 2,\n\n  \"quantum\": 1,\n}\n", "5: malformed JSON"},
    {"{\n  \"vcpus\": 2,\n  \"cost\": {\n    \"vmexit\": 12x\n  }\n}\n", "4: malformed JSON"},
    {"{\"vcpus\": 2} {\"mode\": \"plain\"}\n", "1: malformed JSON"},
    {"", "1: malformed JSON"},
    {"[1, 2]\n", "1: the config must be a JSON object"},
    /* Unknown keys, top level and nested. */
    {"{\n  \"vcpus\": 2,\n  \"vcpu\": 3\n}\n", "3: field 'vcpu': unknown key"},
    {"{\n  \"cost\": {\n    \"vmexit\": 5,\n    \"vm_exit\": 5\n  }\n}\n",
     "4: field 'cost.vm_exit': unknown key"},
    {"{\n  \"cpuid\": [\n    {\"leaf\": 1},\n    {\"leaf\": 2,\n     \"exa\": 1}\n  ]\n}\n",
     "5: field 'cpuid[1].exa': unknown key (leaf, subleaf, eax, ebx, ecx, edx)"},
    /* Wrong types. */
    {"{\n\"vcpus\": \"four\"}", "2: field 'vcpus': expected an integer or a \"0x...\" string"},
    {"{\"vcpus\": true}", "1: field 'vcpus': expected an integer"},
    {"{\"quantum\": null}", "1: field 'quantum': expected an integer"},
    {"{\"ram_mb\": \"64\"}", "1: field 'ram_mb': expected an integer or a \"0x...\" string"},
    {"{\"mode\": 3}", "1: field 'mode': expected a string"},
    {"{\"apic\": [\"emulated\"]}", "1: field 'apic': expected a string"},
    {"{\"exit_style\": 1}", "1: field 'exit_style': expected a string"},
    {"{\n\n  \"cost\": [1]\n}", "3: field 'cost': expected an object"},
    {"{\"cost\": {\"ipi_wire\": {}}}", "1: field 'cost.ipi_wire': expected an integer"},
    {"{\n  \"cpuid\": {\"leaf\": 1}\n}",
     "2: field 'cpuid': expected an array of {leaf, subleaf, eax, ebx, ecx, edx}"},
    {"{\n  \"cpuid\": [\n    {\"leaf\": 1},\n    7\n  ]\n}", "4: field 'cpuid[1]': expected an object"},
    {"{\"cpuid\": [{\"leaf\": \"one\"}]}",
     "1: field 'cpuid[0].leaf': expected an integer or a \"0x...\" string"},
    /* Out of range, negative, fractional, bad hex. */
    {"{\"vcpus\": 0}", "1: field 'vcpus': 0 is outside 1..256"},
    {"{\"vcpus\": 257}", "1: field 'vcpus': 257 is outside 1..256"},
    {"{\"vcpus\": \"0x101\"}", "1: field 'vcpus': 257 is outside 1..256"},
    {"{\"ram_mb\": 6}", "1: field 'ram_mb': 6 is outside 8..1048576"},
    {"{\"ram_mb\": 1048578}", "1: field 'ram_mb': 1048578 is outside 8..1048576"},
    {"{\"quantum\": 0}", "1: field 'quantum': 0 is outside 1..1000000000"},
    {"{\"core_hz\": 999999}", "1: field 'core_hz': 999999 is outside 1000000..100000000000"},
    {"{\"tsc_hz\": 100000000001}",
     "1: field 'tsc_hz': 100000000001 is outside 1000000..100000000000"},
    {"{\"apic_timer_hz\": 999}", "1: field 'apic_timer_hz': 999 is outside 1000..100000000000"},
    {"{\"tcg_buffer_mb\": 2049}", "1: field 'tcg_buffer_mb': 2049 is outside 1..2048"},
    {"{\"tcg_buffer_mb\": 0}", "1: field 'tcg_buffer_mb': 0 is outside 1..2048"},
    {"{\"cost\": {\"insn_millicycles\": 0}}",
     "1: field 'cost.insn_millicycles': 0 is outside 1..1000000"},
    {"{\"cost\": {\"hlt_wakeup\": 100000001}}",
     "1: field 'cost.hlt_wakeup': 100000001 is outside 0..100000000"},
    {"{\"cpuid\": [{\"leaf\": 1, \"eax\": \"0x100000000\"}]}",
     "1: field 'cpuid[0].eax': 4294967296 is outside 0..4294967295"},
    {"{\"quantum\": -1}", "1: field 'quantum': expected a non-negative integer"},
    {"{\"quantum\": 1.5}", "1: field 'quantum': expected a non-negative integer"},
    {"{\"max_insns\": 1e300}", "1: field 'max_insns': expected a non-negative integer"},
    {"{\"max_insns\": 9007199254740994}", "1: field 'max_insns': expected a non-negative integer"},
    {"{\"max_insns\": \"0x\"}",
     "1: field 'max_insns': expected an integer or a \"0x...\" string"},
    {"{\"max_insns\": \"0xZZ\"}", "1: field 'max_insns': \"0xZZ\" is not a 64-bit hex value"},
    {"{\"max_insns\": \"0x12 \"}", "1: field 'max_insns': \"0x12 \" is not a 64-bit hex value"},
    {"{\"max_insns\": \"0x10000000000000000\"}",
     "1: field 'max_insns': \"0x10000000000000000\" is not a 64-bit hex value"},
    /* Choices. */
    {"{\"mode\": \"sev\"}", "1: field 'mode': \"sev\" is not one of: plain, sev-es, snp"},
    {"{\"exit_style\": \"QEMU\"}",
     "1: field 'exit_style': \"QEMU\" is not one of: snpref, qemu"},
    {"{\n  \"apic\": \"nosuch\"\n}", "2: field 'apic': no interrupt fabric named \"nosuch\""},
    {"{\"apic_mode\": \"x1apic\"}",
     "1: field 'apic_mode': \"x1apic\" is not one of: x2apic, xapic"},
    /* The PSP device (docs/psp.md). */
    {"{\n  \"psp\": {\n    \"base\": \"0xfeb00800\"\n  }\n}",
     "3: field 'psp.base': 0xfeb00800 is not 4 KiB aligned"},
    {"{\"psp\": {\"mbox_irq_id\": 64}}", "1: field 'psp.mbox_irq_id': 64 is outside 0..63"},
    {"{\"psp\": {\"enable\": 1}}", "1: field 'psp.enable': expected true or false"},
    {"{\"psp\": {\"irq\": 1}}",
     "1: field 'psp.irq': unknown key (enable, base, mbox_irq_id, hardware_isolation)"},
    {"{\"psp\": {\"base\": \"0x100000000\"}}",
     "1: field 'psp.base': 4294967296 is outside 0..4294963200"},
    /* A cpuid entry without its leaf: the line where the entry starts. */
    {"{\n  \"cpuid\": [\n    {\"leaf\": 1},\n    {\n      \"eax\": 1\n    }\n  ]\n}\n",
     "4: field 'cpuid[1]': missing key 'leaf'"},
    {"{\"cpuid\": [{}]}", "1: field 'cpuid[0]': missing key 'leaf'"},
    /* cpu_features: QEMU -cpu style names (model/config/cpufeat.c). */
    {"{\"cpu_features\": 3}",
     "1: field 'cpu_features': expected a string such as \"-x2apic,+tsc-deadline\""},
    {"{\"cpu_features\": \"x2apic\"}",
     "1: field 'cpu_features': 'x2apic' is not +NAME, -NAME or max"},
    /* hv (docs/ghcb-validation.md) and attestation (docs/attestation.md). */
    {"{\n  \"hv\": [\"kvm\"]\n}", "2: field 'hv': expected an object"},
    {"{\"hv\": \"strict\"}", "1: field 'hv': expected an object"},
    {"{\n  \"hv\": {\n    \"validation\": \"lax\"\n  }\n}",
     "3: field 'hv.validation': \"lax\" is not one of: kvm, strict"},
    {"{\"hv\": {\"validation\": \"KVM\"}}",
     "1: field 'hv.validation': \"KVM\" is not one of: kvm, strict"},
    {"{\"hv\": {\"validation\": 1}}", "1: field 'hv.validation': expected a string"},
    {"{\"sev\": {\"launch_vmsas\": \"aps\"}}",
     "1: field 'sev.launch_vmsas': \"aps\" is not one of: bsp, all"},
    {"{\"sev\": {\"launch_pat\": \"0x0007040600070402\"}}",
     "1: field 'sev.launch_pat': PA0 is 2, not a memory type (0, 1, 4, 5, 6 or 7)"},
    {"{\"sev\": {\"launch_pat\": \"0x0800000000000000\"}}",
     "1: field 'sev.launch_pat': PA7 is 8, not a memory type (0, 1, 4, 5, 6 or 7)"},
    {"{\n  \"hv\": {\n    \"validation\": \"kvm\",\n    \"validate\": \"kvm\"\n  }\n}",
     "4: field 'hv.validate': unknown key"},
    {"{\n\n  \"attestation\": \"certs\"\n}", "3: field 'attestation': expected an object"},
    {"{\"attestation\": {\"cert_dir\": 7}}",
     "1: field 'attestation.cert_dir': expected a directory name"},
    {"{\"attestation\": {\"cert_dir\": null}}",
     "1: field 'attestation.cert_dir': expected a directory name"},
    {"{\n  \"attestation\": {\n    \"certdir\": \"x\"\n  }\n}",
     "3: field 'attestation.certdir': unknown key"},
    {"{\"attestation\": {\"cert_dir\": \""
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}}", /* 256 */
     "1: field 'attestation.cert_dir': longer than 255 characters"},
};

START_TEST(cpu_features_load_and_go_back_into_the_json)
{
    struct snp_config c;
    ck_assert_int_eq(load_text(&c, "{\"cpu_features\": \"-x2apic,+tsc-deadline\"}"), 0);
    ck_assert_uint_eq(c.features.n, 2);
    ck_assert(!c.features.edit[0].on && c.features.edit[0].leaf == 1 && c.features.edit[0].bit == 21);
    ck_assert(c.features.edit[1].on && c.features.edit[1].bit == 24);
    char *j = config_to_json(&c);
    ck_assert_msg(strstr(j, "\"cpu_features\":\"-x2apic,+tsc-deadline\""), "%s", j);
    free(j);
    ck_assert_int_eq(load_text(&c, "{\"cpu_features\": \"+nosuch\"}"), -1);
    ck_assert_msg(strstr(g_err, "field 'cpu_features': no CPU feature named 'nosuch'"), "%s", g_err);
    config_defaults(&c);
    j = config_to_json(&c);
    ck_assert_ptr_null(strstr(j, "cpu_features")); /* absent when unset */
    free(j);
}
END_TEST

START_TEST(every_user_mistake_names_file_line_and_field_with_status_65)
{
    const struct bad *b = &bad_files[_i];
    struct snp_config c;
    char want[512];
    snprintf(want, sizeof(want), "%s:%s", g_path, b->msg);
    ck_assert_msg(load_text(&c, b->text) == -1, "accepted: %s", b->text);
    ck_assert_msg(strcmp(g_err, want) == 0, "for %s\n  got      \"%s\"\n  expected \"%s\"", b->text,
                  g_err, want);
    ck_assert_int_eq(g_status, 65);
}
END_TEST

START_TEST(more_than_64_cpuid_entries_are_refused_at_the_cpuid_key)
{
    static char text[8192];
    size_t n = (size_t)snprintf(text, sizeof(text), "{\n  \"vcpus\": 1,\n  \"cpuid\": [");
    for (int i = 0; i <= CFG_MAX_CPUID; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "%s\n    {\"leaf\": %d}", i ? "," : "", i);
    snprintf(text + n, sizeof(text) - n, "\n  ]\n}\n");
    struct snp_config c;
    ck_assert_int_eq(load_text(&c, text), -1);
    char want[256];
    snprintf(want, sizeof(want), "%s:3: field 'cpuid': more than 64 entries", g_path);
    ck_assert_str_eq(g_err, want);
    ck_assert_int_eq(g_status, 65);
    /* Exactly 64 is fine. */
    char *last = strrchr(text, ',');
    ck_assert_ptr_nonnull(last);
    snprintf(last, sizeof(text) - (size_t)(last - text), "\n  ]\n}\n");
    ck_assert_int_eq(load_text(&c, text), 0);
    ck_assert_uint_eq(c.ncpuid, 64);
    ck_assert_uint_eq(c.cpuid[63].leaf, 63);
}
END_TEST

START_TEST(a_nul_byte_in_the_file_is_malformed_input)
{
    write_file("{\"vcpus\": 2}\0{}", 15);
    struct snp_config c;
    config_defaults(&c);
    ck_assert_int_eq(config_load(&c, g_path, &g_status, g_err, sizeof(g_err)), -1);
    char want[256];
    snprintf(want, sizeof(want), "%s: config contains a NUL byte", g_path);
    ck_assert_str_eq(g_err, want);
    ck_assert_int_eq(g_status, 65);
}
END_TEST

START_TEST(a_missing_file_is_status_66_with_the_system_reason)
{
    struct snp_config c;
    config_defaults(&c);
    ck_assert_int_eq(config_load(&c, g_path, &g_status, g_err, sizeof(g_err)), -1);
    char want[256];
    snprintf(want, sizeof(want), "%s: cannot read config: No such file or directory", g_path);
    ck_assert_str_eq(g_err, want);
    ck_assert_int_eq(g_status, 66);
    /* Nothing was changed. */
    ck_assert_uint_eq(c.vcpus, 4);
}
END_TEST

START_TEST(a_directory_is_an_unreadable_file_with_status_66)
{
    struct snp_config c;
    config_defaults(&c);
    ck_assert_int_eq(config_load(&c, g_dir, &g_status, g_err, sizeof(g_err)), -1);
    char want[256];
    snprintf(want, sizeof(want), "%s: cannot read config: Is a directory", g_dir);
    ck_assert_str_eq(g_err, want);
    ck_assert_int_eq(g_status, 66);
}
END_TEST

/* ---- Validation --------------------------------------------------------------- */

START_TEST(validate_refuses_odd_ram_unknown_fabrics_and_modes_this_build_lacks)
{
    struct snp_config c;
    char err[160];
    config_defaults(&c);
    c.ram_mb = 9;
    ck_assert_int_eq(config_validate(&c, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "command line: field 'ram_mb': 9 must be a multiple of 2");

    config_defaults(&c);
    snprintf(c.apic, sizeof(c.apic), "nosuch");
    ck_assert_int_eq(config_validate(&c, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "command line: field 'apic': no interrupt fabric named \"nosuch\" "
                          "(see snpref fabrics)");

    /* SEV modes validate; an SNP policy without its must-be-one bit 17 does not. */
    static const char *const modes[] = {"sev-es", "snp"};
    for (unsigned i = 0; i < 2; i++) {
        config_defaults(&c);
        snprintf(c.mode, sizeof(c.mode), "%s", modes[i]);
        ck_assert_int_eq(config_validate(&c, err, sizeof(err)), 0);
    }
    config_defaults(&c);
    snprintf(c.mode, sizeof(c.mode), "snp");
    c.sev.policy = 0x10000;
    ck_assert_int_eq(config_validate(&c, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "command line: field 'sev.policy': 0x10000: bit 17 must be 1 (fact sheet 8.4)");
    config_defaults(&c);
    c.ram_mb = 10;
    ck_assert_int_eq(config_validate(&c, err, sizeof(err)), 0);
}
END_TEST

START_TEST(validate_keeps_the_psp_page_outside_ram_and_off_other_devices)
{
    struct snp_config c;
    char err[200];
    config_defaults(&c);
    c.psp.enable = true;
    ck_assert_int_eq(config_validate(&c, err, sizeof(err)), 0);
    c.psp.base = 0x1000;
    ck_assert_int_eq(config_validate(&c, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "command line: field 'psp.base': 0x1000 lies inside RAM (64 MiB)");
    c.psp.base = 0xFEC00000;
    ck_assert_int_eq(config_validate(&c, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "field 'psp.base': 0xfec00000 is another device's page"));
    config_defaults(&c);
    c.psp.hardware_isolation = true;
    ck_assert_int_eq(config_validate(&c, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "command line: field 'psp.hardware_isolation': needs psp.enable (an SNP "
                          "host without a PSP)");
    struct snp_config d;
    ck_assert_int_eq(load_text(&d, "{\"psp\": {\"enable\": true, \"base\": \"0xfe000000\", "
                                   "\"mbox_irq_id\": 9, \"hardware_isolation\": true}}"), 0);
    char *j = config_to_json(&d);
    ck_assert_ptr_nonnull(strstr(j, "\"psp\":{\"enable\":true,\"base\":\"0xfe000000\","
                                    "\"mbox_irq_id\":9,\"hardware_isolation\":true}"));
    free(j);
}
END_TEST

START_TEST(apic_mode_xapic_powers_on_in_xapic_and_needs_a_fabric_with_an_mmio_page)
{
    struct snp_config c;
    char err[160];
    ck_assert_int_eq(load_text(&c, "{\"apic_mode\": \"xapic\"}"), 0);
    ck_assert(c.apic_xapic);
    ck_assert_int_eq(config_validate(&c, err, sizeof(err)), 0);
    char *s = config_to_json(&c);
    ck_assert_ptr_nonnull(strstr(s, "\"apic\":\"emulated\",\"apic_mode\":\"xapic\","));
    free(s);
    ck_assert_int_eq(load_text(&c, "{\"apic_mode\": \"x2apic\"}"), 0);
    ck_assert(!c.apic_xapic);
    /* Secure AVIC is x2APIC only: its ops table has no mmio. */
    config_defaults(&c);
    snprintf(c.mode, sizeof(c.mode), "snp");
    snprintf(c.apic, sizeof(c.apic), "savic");
    c.apic_xapic = true;
    ck_assert_int_eq(config_validate(&c, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "command line: field 'apic_mode': apic \"savic\" has no xAPIC mode (no "
                          "MMIO page): use x2apic");
}
END_TEST

/* ---- Effective config JSON ----------------------------------------------------- */

START_TEST(to_json_writes_every_key_in_a_fixed_order)
{
    struct snp_config c;
    config_defaults(&c);
    char *s = config_to_json(&c);
    ck_assert_str_eq(s, "{\"vcpus\":4,\"mode\":\"plain\",\"apic\":\"emulated\",\"ram_mb\":64,"
                        "\"quantum\":2000,\"max_insns\":\"0x0\",\"core_hz\":2000000000,"
                        "\"tsc_hz\":2000000000,\"apic_timer_hz\":100000000,\"rtc_epoch\":1767225600,"
                        "\"tcg_buffer_mb\":32,"
                        "\"exit_style\":\"snpref\",\"cost\":{\"insn_millicycles\":1000,"
                        "\"vmexit\":1400,\"event_delivery\":150,\"ipi_wire\":400,\"self_ipi\":60,"
                        "\"device_msi\":400,\"hlt_wakeup\":800},\"sev\":{\"policy\":\"0x30000\",\"asid\":1,"
                     "\"sev_features\":\"0x0\",\"ap_create_policy\":\"kvm\","
                     "\"ap_create_features\":\"exact\",\"launch_vmsas\":\"bsp\","
                     "\"launch_pat\":\"0x7040600070406\",\"implicit_psc\":false,"
                     "\"key_seed\":\"0x736e70726566\"},\"cpuid\":[]}");
    free(s);
    c.ncpuid = 2;
    c.cpuid[0] = (struct cpuid_entry){0x1, 0, true, 1, 2, 3, 0xFFFFFFFF};
    c.cpuid[1] = (struct cpuid_entry){0xB, 1, false, 0, 0, 0, 0};
    s = config_to_json(&c);
    const char *arr = strstr(s, "\"cpuid\":");
    ck_assert_ptr_nonnull(arr);
    ck_assert_str_eq(arr, "\"cpuid\":[{\"leaf\":\"0x1\",\"eax\":\"0x1\",\"ebx\":\"0x2\","
                          "\"ecx\":\"0x3\",\"edx\":\"0xffffffff\"},{\"leaf\":\"0xb\","
                          "\"subleaf\":\"0x1\",\"eax\":\"0x0\",\"ebx\":\"0x0\",\"ecx\":\"0x0\","
                          "\"edx\":\"0x0\"}]}");
    free(s);
}
END_TEST

static void assert_same_config(const struct snp_config *a, const struct snp_config *b)
{
    ck_assert_uint_eq(a->vcpus, b->vcpus);
    ck_assert_str_eq(a->mode, b->mode);
    ck_assert_str_eq(a->apic, b->apic);
    ck_assert_int_eq(a->apic_xapic, b->apic_xapic);
    ck_assert_uint_eq(a->ram_mb, b->ram_mb);
    ck_assert_uint_eq(a->quantum, b->quantum);
    ck_assert_uint_eq(a->max_insns, b->max_insns);
    ck_assert_uint_eq(a->core_hz, b->core_hz);
    ck_assert_uint_eq(a->tsc_hz, b->tsc_hz);
    ck_assert_uint_eq(a->apic_timer_hz, b->apic_timer_hz);
    ck_assert_uint_eq(a->tcg_buffer_mb, b->tcg_buffer_mb);
    ck_assert_int_eq(a->exit_style, b->exit_style);
    ck_assert_mem_eq(&a->cost, &b->cost, sizeof(a->cost));
    ck_assert_int_eq(a->hv.validation, b->hv.validation);
    ck_assert_str_eq(a->attestation.cert_dir, b->attestation.cert_dir);
    ck_assert_uint_eq(a->ncpuid, b->ncpuid);
    for (unsigned i = 0; i < a->ncpuid; i++) {
        const struct cpuid_entry *x = &a->cpuid[i], *y = &b->cpuid[i];
        ck_assert_uint_eq(x->leaf, y->leaf);
        ck_assert_int_eq(x->any_subleaf, y->any_subleaf);
        if (!x->any_subleaf)
            ck_assert_uint_eq(x->subleaf, y->subleaf);
        ck_assert_uint_eq(x->eax, y->eax);
        ck_assert_uint_eq(x->ebx, y->ebx);
        ck_assert_uint_eq(x->ecx, y->ecx);
        ck_assert_uint_eq(x->edx, y->edx);
    }
}

START_TEST(to_json_read_back_gives_the_same_config)
{
    /* Every field differs from its default, so each must be in the JSON. */
    struct snp_config a;
    config_defaults(&a);
    a.vcpus = 256;
    snprintf(a.mode, sizeof(a.mode), "sev-es");
    a.ram_mb = 1048576;
    a.quantum = 1000000000;
    a.max_insns = UINT64_MAX - 1;
    a.core_hz = 100000000000ull;
    a.tsc_hz = 1234567;
    a.apic_timer_hz = 1000;
    a.tcg_buffer_mb = 2048;
    a.exit_style = EXIT_STYLE_QEMU;
    a.cost = (struct cost_model){1000000, 100000000, 1, 2, 3, 4, 0};
    a.hv.validation = HV_VALIDATION_STRICT;
    snprintf(a.attestation.cert_dir, sizeof(a.attestation.cert_dir), "certs dir/with \"quotes\"");
    a.ncpuid = CFG_MAX_CPUID;
    for (unsigned i = 0; i < CFG_MAX_CPUID; i++)
        a.cpuid[i] = (struct cpuid_entry){0x80000000u + i, i % 3, i % 2 == 0,
                                          0xFFFFFFFFu - i, i * 0x01010101u, i << 24, 0x80000000u >> (i % 32)};
    char *s = config_to_json(&a);
    write_file(s, strlen(s));
    struct snp_config b;
    config_defaults(&b);
    ck_assert_msg(config_load(&b, g_path, &g_status, g_err, sizeof(g_err)) == 0, "%s", g_err);
    assert_same_config(&a, &b);
    /* And once more: the second JSON is the first, byte for byte. */
    char *s2 = config_to_json(&b);
    ck_assert_str_eq(s2, s);
    free(s);
    free(s2);
}
END_TEST

/* ---- json_line_of ---------------------------------------------------------------- */

static const char lines_json[] =
    "{\n"                                          /* 1 */
    "  \"a\": 1,\n"                                /* 2 */
    "  \"s\": \"x { [ \\\" } ,\",\n"               /* 3 */
    "  \"cost\": {\n"                              /* 4 */
    "    \"vmexit\": 5,\n"                         /* 5 */
    "    \"inner\": { \"deep\": [1, 2] }\n"        /* 6 */
    "  },\n"                                       /* 7 */
    "  \"cpuid\": [\n"                             /* 8 */
    "    { \"leaf\": 1, \"eax\": 2 },\n"           /* 9 */
    "    {\n"                                      /* 10 */
    "      \"leaf\": 3,\n"                         /* 11 */
    "      \"eax\": [ {\"x\": 1}, \"]\" ]\n"       /* 12 */
    "    },\n"                                     /* 13 */
    "    { \"leaf\": 4,\n"                         /* 14 */
    "      \"eax\": 5 }\n"                         /* 15 */
    "  ],\n"                                       /* 16 */
    "  \"last\": true\n"                           /* 17 */
    "}\n";

static const struct {
    const char *path;
    unsigned line;
} line_cases[] = {
    {"a", 2},           {"s", 3},
    {"cost", 4},        {"cost.vmexit", 5},
    {"cost.inner", 6},  {"cost.inner.deep", 6},
    {"cpuid", 8},       {"cpuid[0]", 9},
    {"cpuid[0].eax", 9}, {"cpuid[1]", 10},
    {"cpuid[1].leaf", 11}, {"cpuid[1].eax", 12},
    {"cpuid[2]", 14},   {"cpuid[2].eax", 15},
    {"last", 17},
    /* Not there: 0. */
    {"missing", 0},     {"cost.missing", 0},
    {"cpuid[3]", 0},    {"cpuid[0].ecx", 0},
    {"a.b", 0},         {"cost[0]", 0},
    {"vmexit", 0},      {"leaf", 0},
};

START_TEST(json_line_of_finds_nested_members_and_array_elements)
{
    ck_assert_msg(json_line_of(lines_json, line_cases[_i].path) == line_cases[_i].line,
                  "%s: got line %u, expected %u", line_cases[_i].path,
                  json_line_of(lines_json, line_cases[_i].path), line_cases[_i].line);
}
END_TEST

START_TEST(json_line_of_survives_text_that_is_not_a_json_object)
{
    ck_assert_uint_eq(json_line_of("", "a"), 0);
    ck_assert_uint_eq(json_line_of("[1]", "a"), 0);
    ck_assert_uint_eq(json_line_of("{\"a\": ", "b"), 0);
    ck_assert_uint_eq(json_line_of("{\"a\": [1, 2", "a[5]"), 0);
    ck_assert_uint_eq(json_line_of("{\"a\" 1}", "a"), 0);
    ck_assert_uint_eq(json_line_of("\n\n{\"a\": 1}", "a"), 3);
}
END_TEST

static Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("config");
    tcase_add_checked_fixture(tc, setup_dir, teardown_dir);
    tcase_add_test(tc, defaults_are_the_documented_values_for_every_field);
    tcase_add_test(tc, defaults_pass_validation);
    tcase_add_test(tc, a_file_setting_every_key_is_loaded_exactly);
    tcase_add_test(tc, a_file_changes_only_the_keys_it_names);
    tcase_add_test(tc, integers_are_accepted_up_to_their_limits_as_numbers_or_hex_strings);
    tcase_add_loop_test(tc, every_user_mistake_names_file_line_and_field_with_status_65, 0,
                        (int)(sizeof(bad_files) / sizeof(bad_files[0])));
    tcase_add_test(tc, cpu_features_load_and_go_back_into_the_json);
    tcase_add_test(tc, more_than_64_cpuid_entries_are_refused_at_the_cpuid_key);
    tcase_add_test(tc, a_nul_byte_in_the_file_is_malformed_input);
    tcase_add_test(tc, a_missing_file_is_status_66_with_the_system_reason);
    tcase_add_test(tc, a_directory_is_an_unreadable_file_with_status_66);
    tcase_add_test(tc, validate_refuses_odd_ram_unknown_fabrics_and_modes_this_build_lacks);
    tcase_add_test(tc, validate_keeps_the_psp_page_outside_ram_and_off_other_devices);
    tcase_add_test(tc, apic_mode_xapic_powers_on_in_xapic_and_needs_a_fabric_with_an_mmio_page);
    tcase_add_test(tc, to_json_writes_every_key_in_a_fixed_order);
    tcase_add_test(tc, to_json_read_back_gives_the_same_config);
    tcase_add_loop_test(tc, json_line_of_finds_nested_members_and_array_elements, 0,
                        (int)(sizeof(line_cases) / sizeof(line_cases[0])));
    tcase_add_test(tc, json_line_of_survives_text_that_is_not_a_json_object);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ck_run(config_suite(), CK_RUN_FORK);
}
