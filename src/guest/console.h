/*
 * The serial console: an 8250 UART on COM1, transmit only, and only when the boot info says debug.
 * Every byte costs two VM exits, so print lines, not streams.
 */
#ifndef ENCLAVE_CONSOLE_H
#define ENCLAVE_CONSOLE_H

#include <stddef.h>

/* Writes whole: lines from different vCPUs do not interleave within one call. */
void console_write(const char *s, size_t len);
void console_puts(const char *s);
void console_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
