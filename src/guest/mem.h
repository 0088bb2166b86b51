/* The memory and string primitives the compiler may call on its own (struct copies, zeroing). */
#ifndef ENCLAVE_MEM_H
#define ENCLAVE_MEM_H

#include <stddef.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

#endif
