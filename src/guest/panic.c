#include "panic.h"

#include <stdarg.h>

#include "abi.h"
#include "console.h"
#include "cpu.h"
#include "format.h"
#include "ports.h"

/*
 * Static, not on the stack: the PANIC port carries a 32-bit GPA, and the stacks sit at the top of RAM,
 * which may be above 4 GiB. The image is at 1 MiB, so this buffer always is below.
 */
static char panic_message[PANIC_MESSAGE_MAX];
static uint32_t panicking;

void panic(const char *fmt, ...)
{
    if (__atomic_exchange_n(&panicking, 1, __ATOMIC_ACQ_REL))
        cpu_spin_forever();   /* another vCPU is already reporting; the VMM tears us down with it */

    va_list ap;
    va_start(ap, fmt);
    format_v(panic_message, sizeof panic_message, fmt, ap);
    va_end(ap);

    console_printf("panic: %s\n", panic_message);
    port_panic(panic_message);
    cpu_spin_forever();       /* the VMM does not resume a vCPU after PANIC; this is in case it does */
}
