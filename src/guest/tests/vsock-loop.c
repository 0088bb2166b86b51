/*
 * Hostile test guest: a tx chain that loops (descriptor 0 -> 1 -> 0 -> ...), every descriptor itself
 * valid. The device must see the loop (a chain has at most queue-size descriptors) and go to
 * DEVICE_NEEDS_RESET; then the guest resets it, sets it up properly, serves echo on port 5000 and does
 * the ready handshake.
 * REPORTs of the boot vCPU: 0, Status (with 0x40).
 */
#include "../console.h"
#include "../runtime.h"
#include "lib/hostile.h"

void enclave_main(uint32_t vcpu, const struct boot_info *bi)
{
    runtime_start(vcpu, bi);
    if (vcpu == BOOT_VCPU) {
        struct raw_vsock dev;
        raw_setup(&dev, bi);
        struct virtq *tx = &dev.q[1];
        uint8_t *page = raw_page();
        tx->desc[0] = (struct virtq_desc){ .addr = (uintptr_t)page, .len = 64, .flags = VIRTQ_DESC_F_NEXT, .next = 1 };
        tx->desc[1] = (struct virtq_desc){ .addr = (uintptr_t)page + 64, .len = 64, .flags = VIRTQ_DESC_F_NEXT,
                                           .next = 0 };
        tx->avail->ring[0] = 0;
        console_printf("test-vsock-loop: tx chain 0 -> 1 -> 0\n");
        raw_publish(tx, 1);
        raw_expect_needs_reset(dev.base, "a looped descriptor chain");
        hostile_recover(bi);
    }
    runtime_serve(vcpu);
}
