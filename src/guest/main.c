/*
 * The demo enclave runtime: boots every vCPU, brings up the vsock device with the echo service on port
 * 5000 and the module service on port 7000, reports READY (the vsock ready handshake, or the STATUS port
 * without a device), serves until asked to shut down.
 */
#include "modmem.h"
#include "modsvc.h"
#include "runtime.h"
#include "services.h"

void enclave_main(uint32_t vcpu, const struct boot_info *boot_info)
{
    runtime_start(vcpu, boot_info);
    if (vcpu == BOOT_VCPU) {
        services_init(boot_info);
        modsvc_init(boot_info);
        runtime_ready();
    }
    runtime_serve(vcpu);
}
