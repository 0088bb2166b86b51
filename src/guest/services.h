/*
 * The seam where the enclave's services plug in (virtio-vsock, the module loader, ECALLs). Today there
 * are none; the idle loop and the bring-up already call through here.
 */
#ifndef ENCLAVE_SERVICES_H
#define ENCLAVE_SERVICES_H

#include <stdint.h>

#include "abi.h"

/* Boot vCPU, before READY: find and set up devices from the boot info. Panics on what it cannot use. */
void services_init(const struct boot_info *boot_info);

/* Every vCPU, from the idle loop: do pending work. Returns nonzero if there was any. Must not block. */
int services_poll(uint32_t vcpu);

#endif
