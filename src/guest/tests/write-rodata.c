/*
 * Test guest: READY, then the boot vCPU REPORTs the address of a constant in .rodata and writes it. The
 * rodata segment (p_flags R) is mapped read-only, so the write is a #PF (protection, write) at that address.
 */
#include "../panic.h"
#include "../ports.h"
#include "../runtime.h"

static const uint32_t constant = 0x600d600d;

void enclave_main(uint32_t vcpu, const struct boot_info *boot_info)
{
    runtime_start(vcpu, boot_info);
    if (vcpu == BOOT_VCPU) {
        runtime_ready();
        port_report((uint32_t)(uintptr_t)&constant);
        __asm__ volatile("movl $0, (%0)" : : "r"(&constant) : "memory");
        panic("test-write-rodata: wrote .rodata, which now reads 0x%x; it must be read-only", constant);
    }
    runtime_serve(vcpu);
}
