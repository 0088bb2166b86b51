#ifndef ENCLAVE_PANIC_H
#define ENCLAVE_PANIC_H

/*
 * Ends the enclave as CRASHED with this message: printed on the console and handed to the VMM through
 * the PANIC port. Callable from any vCPU; the first one wins, later ones just stop.
 */
__attribute__((noreturn, format(printf, 1, 2))) void panic(const char *fmt, ...);

#endif
