/*
 * A module with an initialised pointer to an imported function: R_X86_64_64 against enclave_api_print, which
 * docs/module-format.md rule R1 refuses (E805). module sign refuses it too, so tests that need it signed sign
 * it by hand.
 */
#include <stddef.h>
#include <stdint.h>

extern long enclave_api_print(const char *text, unsigned long length);

long (*const print_pointer)(const char *, unsigned long) = enclave_api_print;

static uint32_t ecall_print(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len)
{
    (void)out, (void)out_cap;
    *out_len = 0;
    return (uint32_t)print_pointer(in, in_len);
}

const struct {
    uint64_t count;
    uint32_t (*fn[1])(const void *, size_t, void *, size_t, size_t *);
} enclave_ecalls = { 1, { ecall_print } };
