/*
 * A small printf-style formatter into a caller's buffer. Conversions: %s %c %d %u %x %p %%, with the
 * length modifiers l, ll, z and a zero-padded width for numbers (e.g. %016lx). No floating point.
 */
#ifndef ENCLAVE_FORMAT_H
#define ENCLAVE_FORMAT_H

#include <stdarg.h>
#include <stddef.h>

/* Always NUL-terminates (if size > 0); returns the length written, without the NUL, truncated to fit. */
size_t format_v(char *buf, size_t size, const char *fmt, va_list ap);
size_t format(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
