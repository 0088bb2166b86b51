/*
 * The life of every enclave program, on every vCPU:
 *   runtime_start()  bring-up: boot info checked, this vCPU counted online and announced
 *   runtime_ready()  boot vCPU only: the enclave is READY (after services_init())
 *   runtime_serve()  the idle loop: poll services, honour shutdown, WAIT when idle
 * The demo runtime (main.c) and the test guests (tests/) are built from these steps.
 */
#ifndef ENCLAVE_RUNTIME_H
#define ENCLAVE_RUNTIME_H

#include <stdint.h>

#include "abi.h"

#define BOOT_VCPU 0u

/* Defined by each program; called by boot.S with the registers the VMM set (RDI, RSI). Never returns. */
__attribute__((noreturn)) void enclave_main(uint32_t vcpu, const struct boot_info *boot_info);

/*
 * Checks the boot info (panics if it is not a version we understand or does not count this vCPU), then
 * REPORTs this vCPU's index, counts it online and prints "vcpu N online" (so READY implies every vCPU has
 * REPORTed). The boot vCPU also prints the banner first and returns only once every vCPU is online
 * (panics if they are not within a bounded time).
 */
void runtime_start(uint32_t vcpu, const struct boot_info *boot_info);

/*
 * Boot vCPU: tells the VMM the enclave is READY. With a vsock device brought up by services_init(), that is
 * the ready handshake over vsock (returns once the host answered; services are served meanwhile);
 * without one, the STATUS port.
 */
void runtime_ready(void);

/*
 * Serves until the VMM asks for shutdown; then the boot vCPU writes SHUTDOWN(0) and every vCPU stops.
 * Never returns.
 */
__attribute__((noreturn)) void runtime_serve(uint32_t vcpu);

/*
 * Work a program adds to every vCPU's idle loop, before it polls the services (the module service's calls):
 * returns nonzero if it did some (then the vCPU does not WAIT). Boot vCPU, once, before READY.
 */
void runtime_set_idle_work(int (*work)(uint32_t vcpu));

/*
 * For a vCPU blocked inside idle work (an ECALL waiting for its OCALL's answer): keeps the services going and
 * honours shutdown, but runs no idle work and never WAITs (another vCPU may receive the answer, and ring 3
 * cannot wake a vCPU sleeping in WAIT), until done(ctx).
 */
void runtime_wait_until(uint32_t vcpu, int (*done)(void *ctx), void *ctx);

/* The boot info runtime_start() was given (valid after it returned on the boot vCPU). */
const struct boot_info *runtime_boot_info(void);

#endif
