/* stdlib.h of the trusted library (libde_trts): the module's heap (malloc over HeapMaxSize), abs, abort. */
#ifndef TLIBC_STDLIB_H
#define TLIBC_STDLIB_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

void *malloc(size_t size);
void *calloc(size_t count, size_t size);
void *realloc(void *p, size_t size);
void free(void *p);

int abs(int x);
long labs(long x);
long long llabs(long long x);

/* Ends the enclave as CRASHED (ud2), naming the module and offset: a trusted abort cannot be resumed. */
__attribute__((noreturn)) void abort(void);

#ifdef __cplusplus
}
#endif

#endif
