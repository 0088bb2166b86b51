/* Test guest: READY, then the boot vCPU ends the enclave on its own with SHUTDOWN(7). */
#include "../cpu.h"
#include "../ports.h"
#include "../runtime.h"

#define EXIT_CODE 7u

void enclave_main(uint32_t vcpu, const struct boot_info *boot_info)
{
    runtime_start(vcpu, boot_info);
    if (vcpu == BOOT_VCPU) {
        runtime_ready();
        port_shutdown(EXIT_CODE);
        cpu_spin_forever();
    }
    runtime_serve(vcpu);
}
