/*
 * Hostile test guest: sets up the rx queue with its descriptor table beyond the end of RAM. The device must
 * refuse QueueReady and go to DEVICE_NEEDS_RESET; then the guest resets it, sets it up properly, serves
 * echo on port 5000 and does the ready handshake.
 * REPORTs of the boot vCPU: 0, QueueReady as read back (0), Status (with 0x40).
 */
#include "../console.h"
#include "../panic.h"
#include "../ports.h"
#include "../runtime.h"
#include "../virtio_mmio.h"
#include "lib/hostile.h"

void enclave_main(uint32_t vcpu, const struct boot_info *bi)
{
    runtime_start(vcpu, bi);
    if (vcpu == BOOT_VCPU) {
        uintptr_t base = raw_begin(bi);
        struct virtq q;
        uint32_t size = virtq_size_for(vmmio_queue_max(base, 0));
        if (size == 0 || virtq_alloc(&q, 0, size) != 0)
            panic("test-vsock-bad-ring-addr: cannot make queue 0 (size %u)", size);
        uint64_t beyond_ram = bi->ram_size + 0x10000000ull;   /* 256 MiB past the end of RAM */
        int ready = vmmio_queue_setup(base, 0, size, beyond_ram, (uintptr_t)q.avail, (uintptr_t)q.used);
        port_report((uint32_t)ready);
        console_printf("test-vsock-bad-ring-addr: desc table at 0x%lx, QueueReady reads %d\n",
                       (unsigned long)beyond_ram, ready);
        raw_expect_needs_reset(base, "a descriptor table beyond RAM");
        hostile_recover(bi);
    }
    runtime_serve(vcpu);
}
