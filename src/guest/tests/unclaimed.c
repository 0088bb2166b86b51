/*
 * Test guest: accesses an I/O port and an MMIO address that no device claims, REPORTs what each read
 * returned (the VMM must answer all ones, 0xffffffff), then READY; serves and honours shutdown.
 * REPORTs of the boot vCPU, in order: 0 (its index), the port read, the MMIO read.
 */
#include "../console.h"
#include "../mmio.h"
#include "../ports.h"
#include "../runtime.h"

#define UNCLAIMED_PORT 0x600u
#define WRITTEN_VALUE  0x5a5a5a5au

void enclave_main(uint32_t vcpu, const struct boot_info *boot_info)
{
    runtime_start(vcpu, boot_info);
    if (vcpu == BOOT_VCPU) {
        outl(UNCLAIMED_PORT, WRITTEN_VALUE);
        uint32_t port_value = inl(UNCLAIMED_PORT);
        port_report(port_value);

        uintptr_t mmio = boot_info->ram_size + ABI_UNCLAIMED_PAGE_OFFSET;
        mmio_write32(mmio, WRITTEN_VALUE);
        uint32_t mmio_value = mmio_read32(mmio);
        port_report(mmio_value);

        console_printf("test-unclaimed: port 0x%x read 0x%08x, mmio 0x%lx read 0x%08x\n", UNCLAIMED_PORT,
                       port_value, (unsigned long)mmio, mmio_value);
        runtime_ready();
    }
    runtime_serve(vcpu);
}
