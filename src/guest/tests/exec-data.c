/*
 * Test guest: READY, then the boot vCPU REPORTs the address of a `ret` in .data and calls it. .data is
 * RW+NX, so the fetch is a #PF (protection, instruction fetch) with rip = cr2 = that address.
 */
#include "../panic.h"
#include "../ports.h"
#include "../runtime.h"

static uint8_t code_in_data[16] = {0xc3}; /* ret */

void enclave_main(uint32_t vcpu, const struct boot_info *boot_info)
{
    runtime_start(vcpu, boot_info);
    if (vcpu == BOOT_VCPU) {
        runtime_ready();
        port_report((uint32_t)(uintptr_t)code_in_data);
        __asm__ volatile("call *%0" : : "r"(code_in_data) : "memory");
        panic("test-exec-data: a ret in .data ran; data pages must not be executable");
    }
    runtime_serve(vcpu);
}
