/* Test guest: READY, then the boot vCPU panics with a message starting "test panic: ". */
#include "../panic.h"
#include "../runtime.h"

void enclave_main(uint32_t vcpu, const struct boot_info *boot_info)
{
    runtime_start(vcpu, boot_info);
    if (vcpu == BOOT_VCPU) {
        runtime_ready();
        panic("test panic: requested by test-panic on vcpu %u", vcpu);
    }
    runtime_serve(vcpu);
}
