/*
 * The module service on vsock port 7000 (docs/module-runtime.md, sections 2, 3 and 5): loads signed modules
 * into the module arena, runs their ECALLs on the module's own stacks on whichever vCPU is idle, and carries
 * their OCALLs to the host.
 *
 * Connections are service tasks (services.h): their steps run under the services lock and never block. A
 * call runs outside it: the step marks it runnable, and modsvc_run_calls (the idle-loop work every vCPU
 * runs, registered with runtime_set_idle_work) claims it, switches to a free stack of the module and runs
 * it. The vCPU whose step made a call runnable goes straight back to its idle loop and runs the call itself
 * unless another vCPU claimed it first, so a call never waits for a vCPU sleeping in WAIT.
 */
#ifndef ENCLAVE_MODSVC_H
#define ENCLAVE_MODSVC_H

#include <stddef.h>
#include <stdint.h>

#include "abi.h"

/*
 * Boot vCPU, after services_init and modmem_init, before READY: listens on port 7000 and registers the call
 * runner with the idle loop. Without vsock it does nothing. Production or debug comes from boot_info.flags.
 */
void modsvc_init(const struct boot_info *boot_info);

/* Every vCPU, from its idle loop: claims one runnable call and runs it. Nonzero if it ran one. */
int modsvc_run_calls(uint32_t vcpu);

/* The runtime API table (section 2): the address of an import a module may name, 0 if it is none of ours. */
int modapi_resolve(const char *name, uint64_t *address, void *ctx);

/* The API table's entries that modsvc.c provides (the module calls them on its own stack). */
uint32_t enclave_ocall(uint32_t index, const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len);
long enclave_api_print(const char *s, unsigned long n);
void *enclave_heap_alloc(size_t len);
int enclave_heap_free(void *p);
int enclave_module_range(uint64_t *base, uint64_t *size);

/*
 * modcall.S: switches to stack_top (16-byte aligned), calls run(arg) there and switches back. run's frame
 * and everything it calls live on the new stack.
 */
uint32_t modcall_switch(uint64_t stack_top, uint32_t (*run)(void *arg), void *arg);

#endif
