/*
 * Hostile test guest: publishes a tx avail.idx of 0x8000 without having made a single chain available
 * (far more than the queue size ahead of what the device consumed). The device must go to
 * DEVICE_NEEDS_RESET instead of walking stale ring entries; then the guest resets it, sets it up
 * properly, serves echo on port 5000 and does the ready handshake.
 * REPORTs of the boot vCPU: 0, Status (with 0x40).
 */
#include "../console.h"
#include "../runtime.h"
#include "lib/hostile.h"

#define ENDLESS_AVAIL_IDX 0x8000u

void enclave_main(uint32_t vcpu, const struct boot_info *bi)
{
    runtime_start(vcpu, bi);
    if (vcpu == BOOT_VCPU) {
        struct raw_vsock dev;
        raw_setup(&dev, bi);
        console_printf("test-vsock-endless: tx avail.idx 0x%x with nothing posted\n", ENDLESS_AVAIL_IDX);
        raw_publish(&dev.q[1], ENDLESS_AVAIL_IDX);
        raw_expect_needs_reset(dev.base, "avail.idx far ahead of what was posted");
        hostile_recover(bi);
    }
    runtime_serve(vcpu);
}
