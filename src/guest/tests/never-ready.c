/*
 * Test guest: a boot held until the test releases it. It comes online but never reports READY, so with a
 * boot_timeout longer than the test the boot ends only by a stop: the same on a fast host and a slow one.
 * It says on the console (debug mode) when it is held, so a test waits for that rather than for a time.
 */
#include "../console.h"
#include "../runtime.h"

void enclave_main(uint32_t vcpu, const struct boot_info *boot_info)
{
    runtime_start(vcpu, boot_info);
    if (vcpu == BOOT_VCPU)
        console_printf("boot held: READY is never reported; waiting for the VMM to ask for shutdown\n");
    runtime_serve(vcpu);
}
