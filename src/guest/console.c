#include "console.h"

#include <stdarg.h>
#include <stdint.h>

#include "abi.h"
#include "cpu.h"
#include "format.h"
#include "mem.h"
#include "ports.h"

#define UART_THR 0          /* transmit holding register (write) */
#define UART_LSR 5          /* line status register (read) */
#define UART_LSR_THRE 0x20  /* transmit holding register empty */

/* An emulated UART is always ready; the bound only keeps a broken one from hanging the enclave. */
#define UART_READY_POLLS 1024

static struct spinlock console_lock;

/*
 * Only in debug mode: each byte costs two VM exits (~40 us), which is most of the boot time otherwise,
 * and without debug the VMM throws the output away anyway. The flag is read from the boot info at its
 * fixed address, so every vCPU can print from its first instruction on.
 */
static int console_enabled(void)
{
    const struct boot_info *bi = (const struct boot_info *)(uintptr_t)ABI_BOOT_INFO_GPA;
    return (bi->flags & ABI_BOOT_FLAG_DEBUG) != 0;
}

static void uart_put(char c)
{
    for (int i = 0; i < UART_READY_POLLS && !(inb(PORT_COM1 + UART_LSR) & UART_LSR_THRE); i++)
        cpu_relax();
    outb(PORT_COM1 + UART_THR, (uint8_t)c);
}

void console_write(const char *s, size_t len)
{
    if (!console_enabled())
        return;
    spin_lock(&console_lock);
    for (size_t i = 0; i < len; i++)
        uart_put(s[i]);
    spin_unlock(&console_lock);
}

void console_puts(const char *s)
{
    console_write(s, strlen(s));
}

void console_printf(const char *fmt, ...)
{
    if (!console_enabled())
        return;
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    size_t n = format_v(line, sizeof line, fmt, ap);
    va_end(ap);
    console_write(line, n);
}
