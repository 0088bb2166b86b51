/*
 * Test guest: READY, then the boot vCPU writes to the console without end and never looks at the control
 * page, so only the VMM's kick ends it. With the console on a pipe nobody reads, its vCPU thread blocks in
 * the VMM's console write: a vCPU thread a teardown cannot stop.
 */
#include "../console.h"
#include "../runtime.h"

void enclave_main(uint32_t vcpu, const struct boot_info *boot_info)
{
    runtime_start(vcpu, boot_info);
    if (vcpu == BOOT_VCPU) {
        runtime_ready();
        for (uint32_t line = 0;; line++)
            console_printf("console-flood line %u: nobody may be reading this console\n", line);
    }
    runtime_serve(vcpu);
}
