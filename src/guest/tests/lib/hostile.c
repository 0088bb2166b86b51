#include "hostile.h"

#include "../../alloc.h"
#include "../../console.h"
#include "../../cpu.h"
#include "../../panic.h"
#include "../../ports.h"
#include "../../runtime.h"
#include "../../services.h"
#include "../../virtio_mmio.h"

/* ~5 s at 2.5 GHz: the device's event thread answers within milliseconds. */
#define NEEDS_RESET_TIMEOUT_TICKS 12500000000ull
/* Pauses between two Status reads (each read is an exit). */
#define STATUS_POLL_PAUSES 1000

uintptr_t raw_begin(const struct boot_info *bi)
{
    uintptr_t base = vmmio_find(bi, ABI_DEVICE_VSOCK);
    if (!base)
        panic("hostile test: boot info lists no vsock device");
    if (vmmio_probe(base, VIRTIO_DEVICE_ID_VSOCK) != 0)
        panic("hostile test: no virtio-vsock device at 0x%lx", (unsigned long)base);
    if (vmmio_negotiate(base, VIRTIO_F_VERSION_1, VIRTIO_VSOCK_F_STREAM, NULL) != 0)
        panic("hostile test: feature negotiation failed (status 0x%x)", vmmio_status(base));
    return base;
}

void raw_setup(struct raw_vsock *dev, const struct boot_info *bi)
{
    dev->base = raw_begin(bi);
    for (uint32_t i = 0; i < 3; i++) {
        uint32_t size = virtq_size_for(vmmio_queue_max(dev->base, i));
        if (size == 0 || virtq_alloc(&dev->q[i], i, size) != 0)
            panic("hostile test: cannot make queue %u (size %u)", i, size);
        struct virtq *q = &dev->q[i];
        if (!vmmio_queue_setup(dev->base, i, size, (uintptr_t)q->desc, (uintptr_t)q->avail, (uintptr_t)q->used))
            panic("hostile test: the device refused a proper queue %u (status 0x%x)", i,
                  vmmio_status(dev->base));
    }
    vmmio_driver_ok(dev->base);
}

void *raw_page(void)
{
    void *p = page_alloc(4096);
    if (!p)
        panic("hostile test: out of RAM");
    return p;
}

void raw_publish(struct virtq *q, uint16_t avail_idx)
{
    __atomic_store_n(&q->avail->idx, avail_idx, __ATOMIC_RELEASE);
    cpu_mfence();
    port_notify(q->index);
}

uint32_t raw_expect_needs_reset(uintptr_t base, const char *what)
{
    uint64_t start = cpu_rdtsc();
    uint32_t status;
    while (!((status = vmmio_status(base)) & VIRTIO_STATUS_DEVICE_NEEDS_RESET)) {
        if (cpu_rdtsc() - start > NEEDS_RESET_TIMEOUT_TICKS)
            panic("hostile test: after %s the device status stayed 0x%x, without DEVICE_NEEDS_RESET", what,
                  status);
        for (int i = 0; i < STATUS_POLL_PAUSES; i++)
            cpu_relax();
    }
    port_report(status);
    console_printf("hostile test: after %s the device status is 0x%x (DEVICE_NEEDS_RESET)\n", what, status);
    return status;
}

void hostile_recover(const struct boot_info *bi)
{
    console_printf("hostile test: resetting the device and setting it up properly\n");
    services_init(bi);
    if (!services_vsock_up())
        panic("hostile test: the vsock device did not come back after the reset");
    runtime_ready();
}
