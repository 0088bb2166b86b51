/*
 * Hostile test guest: sets QueueNum of the rx queue to 3, not a power of two, on otherwise proper rings.
 * QueueReady must not take it, and the device goes to DEVICE_NEEDS_RESET; then the guest resets it, sets
 * it up properly, serves echo on port 5000 and does the ready handshake.
 * REPORTs of the boot vCPU: 0, QueueReady as read back (0), Status (with 0x40).
 */
#include "../console.h"
#include "../panic.h"
#include "../ports.h"
#include "../runtime.h"
#include "../virtio_mmio.h"
#include "lib/hostile.h"

#define BAD_QUEUE_SIZE 3u

void enclave_main(uint32_t vcpu, const struct boot_info *bi)
{
    runtime_start(vcpu, bi);
    if (vcpu == BOOT_VCPU) {
        uintptr_t base = raw_begin(bi);
        struct virtq q;
        if (virtq_alloc(&q, 0, VIRTQ_SIZE_MAX) != 0)
            panic("test-vsock-queue-size: out of RAM");
        int ready = vmmio_queue_setup(base, 0, BAD_QUEUE_SIZE, (uintptr_t)q.desc, (uintptr_t)q.avail,
                                      (uintptr_t)q.used);
        port_report((uint32_t)ready);
        console_printf("test-vsock-queue-size: QueueNum %u, QueueReady reads %d\n", BAD_QUEUE_SIZE, ready);
        raw_expect_needs_reset(base, "a queue size that is not a power of two");
        hostile_recover(bi);
    }
    runtime_serve(vcpu);
}
