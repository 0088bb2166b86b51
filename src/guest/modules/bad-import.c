/*
 * A module the loader must refuse with UNDEFINED_SYMBOL (E814): it imports enclave_no_such_function, which
 * the runtime API table does not have. Otherwise a valid module (module sign accepts it: imports are the
 * loader's business).
 */
#include <stddef.h>
#include <stdint.h>

extern uint32_t enclave_no_such_function(void);

static uint32_t ecall_missing(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len)
{
    (void)in, (void)in_len, (void)out, (void)out_cap;
    *out_len = 0;
    return enclave_no_such_function();
}

const struct {
    uint64_t count;
    uint32_t (*fn[1])(const void *, size_t, void *, size_t, size_t *);
} enclave_ecalls = { 1, { ecall_missing } };
