/* Test guest: READY, then every vCPU spins forever, ignoring shutdown_requested and never exiting. */
#include "../cpu.h"
#include "../runtime.h"

void enclave_main(uint32_t vcpu, const struct boot_info *boot_info)
{
    runtime_start(vcpu, boot_info);
    if (vcpu == BOOT_VCPU)
        runtime_ready();
    cpu_spin_forever();
}
