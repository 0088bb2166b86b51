/*
 * The runtime API table, version 2 (docs/module-runtime.md, section 2): every name a module may import, bound
 * by the loader to the runtime's own definitions. gcc emits calls to the mem* functions and strlen even in
 * freestanding code, so modules get the runtime's. Version 2 added the heap chunks and the module's range
 * that the trusted library (libde_trts) builds malloc and sgx_is_within_enclave on.
 */
#include "console.h"
#include "mem.h"
#include "modsvc.h"

#define PRINT_MAX 4096u   /* a line, not a stream: every console byte is two exits */

const int enclave_api_version = 2;

/* Console output, debug enclaves only (console_write is silent otherwise); returns n. */
long enclave_api_print(const char *s, unsigned long n)
{
    console_write(s, n < PRINT_MAX ? n : PRINT_MAX);
    return (long)n;
}

struct api_entry {
    const char *name;
    const void *address;
};

static const struct api_entry api_table[] = {
    { "enclave_api_version", &enclave_api_version },
    { "enclave_api_print", (const void *)enclave_api_print },
    { "enclave_ocall", (const void *)enclave_ocall },
    { "enclave_heap_alloc", (const void *)enclave_heap_alloc },
    { "enclave_heap_free", (const void *)enclave_heap_free },
    { "enclave_module_range", (const void *)enclave_module_range },
    { "memcpy", (const void *)memcpy },
    { "memmove", (const void *)memmove },
    { "memset", (const void *)memset },
    { "memcmp", (const void *)memcmp },
    { "strlen", (const void *)strlen },
};

static int same(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

int modapi_resolve(const char *name, uint64_t *address, void *ctx)
{
    (void)ctx;
    for (size_t i = 0; i < sizeof api_table / sizeof api_table[0]; i++) {
        if (same(name, api_table[i].name)) {
            *address = (uint64_t)(uintptr_t)api_table[i].address;
            return 0;
        }
    }
    return 1;
}
