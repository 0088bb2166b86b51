/*
 * Hostile test guest: two bad tx descriptors, one after the other, each on a freshly set-up device:
 * first one whose [addr, addr + len) lies outside RAM (in the device window), then one whose addr + len
 * overflows 64 bits. After each the device must go to DEVICE_NEEDS_RESET; then the guest resets it, sets
 * it up properly, serves echo on port 5000 and does the ready handshake.
 * REPORTs of the boot vCPU: 0, Status after the first (with 0x40), Status after the second (with 0x40).
 */
#include "../console.h"
#include "../runtime.h"
#include "lib/hostile.h"

static void bad_tx(const struct boot_info *bi, uint64_t addr, uint32_t len, const char *what)
{
    struct raw_vsock dev;
    raw_setup(&dev, bi);
    struct virtq *tx = &dev.q[1];
    tx->desc[0] = (struct virtq_desc){ .addr = addr, .len = len, .flags = 0, .next = 0 };
    tx->avail->ring[0] = 0;
    console_printf("test-vsock-bad-desc: tx descriptor addr 0x%lx len %u (%s)\n", (unsigned long)addr, len, what);
    raw_publish(tx, 1);
    raw_expect_needs_reset(dev.base, what);
}

void enclave_main(uint32_t vcpu, const struct boot_info *bi)
{
    runtime_start(vcpu, bi);
    if (vcpu == BOOT_VCPU) {
        bad_tx(bi, bi->ram_size + 0x100000u, 64, "a descriptor outside RAM");
        bad_tx(bi, UINT64_MAX - 15, 64, "a descriptor whose addr + len overflows");
        hostile_recover(bi);
    }
    runtime_serve(vcpu);
}
