#include "virtio_mmio.h"

#include "console.h"
#include "cpu.h"

/* Reads of Status after a reset before giving up: each is an exit (~20 us), so ~20 ms in all. */
#define RESET_POLLS 1000

uintptr_t vmmio_find(const struct boot_info *bi, uint32_t type)
{
    for (uint32_t i = 0; i < bi->device_count && i < ABI_MAX_DEVICES; i++) {
        const struct abi_device *d = &bi->devices[i];
        if (d->type != type)
            continue;
        uint64_t gpa = d->mmio_gpa;
        if (gpa < bi->ram_size || gpa - bi->ram_size >= ABI_UNCLAIMED_PAGE_OFFSET
            || gpa % ABI_DEVICE_SLOT_SIZE != 0) {
            console_printf("virtio: device %u (type %u) at 0x%lx is not a page of the device window\n", i, type,
                           (unsigned long)gpa);
            return 0;
        }
        return (uintptr_t)gpa;
    }
    return 0;
}

int vmmio_probe(uintptr_t base, uint32_t device_id)
{
    uint32_t magic = vmmio_read(base, VIRTIO_MMIO_MAGIC_VALUE);
    uint32_t version = vmmio_read(base, VIRTIO_MMIO_VERSION);
    uint32_t id = vmmio_read(base, VIRTIO_MMIO_DEVICE_ID);
    if (magic != VIRTIO_MMIO_MAGIC || version != VIRTIO_MMIO_VERSION_2 || id != device_id) {
        console_printf("virtio: at 0x%lx magic 0x%08x version %u device %u, expected 0x%08x, %u, %u\n",
                       (unsigned long)base, magic, version, id, VIRTIO_MMIO_MAGIC, VIRTIO_MMIO_VERSION_2,
                       device_id);
        return -1;
    }
    return 0;
}

int vmmio_reset(uintptr_t base)
{
    vmmio_write(base, VIRTIO_MMIO_STATUS, 0);
    for (int i = 0; i < RESET_POLLS; i++) {
        if (vmmio_status(base) == 0)
            return 0;
        cpu_relax();
    }
    console_printf("virtio: device at 0x%lx did not reset (status 0x%x)\n", (unsigned long)base,
                   vmmio_status(base));
    return -1;
}

static void add_status(uintptr_t base, uint32_t bits)
{
    vmmio_write(base, VIRTIO_MMIO_STATUS, vmmio_status(base) | bits);
}

int vmmio_negotiate(uintptr_t base, uint64_t required, uint64_t optional, uint64_t *accepted)
{
    if (vmmio_reset(base) != 0)
        return -1;
    add_status(base, VIRTIO_STATUS_ACKNOWLEDGE);
    add_status(base, VIRTIO_STATUS_DRIVER);

    vmmio_write(base, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    uint64_t offered = vmmio_read(base, VIRTIO_MMIO_DEVICE_FEATURES);
    vmmio_write(base, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    offered |= (uint64_t)vmmio_read(base, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
    if ((offered & required) != required) {
        console_printf("virtio: device offers features 0x%lx, the driver needs 0x%lx\n", (unsigned long)offered,
                       (unsigned long)required);
        vmmio_fail(base);
        return -1;
    }
    uint64_t take = required | (optional & offered);
    vmmio_write(base, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    vmmio_write(base, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)take);
    vmmio_write(base, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    vmmio_write(base, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(take >> 32));
    add_status(base, VIRTIO_STATUS_FEATURES_OK);
    if (!(vmmio_status(base) & VIRTIO_STATUS_FEATURES_OK)) {
        console_printf("virtio: device refused features 0x%lx (FEATURES_OK did not stick)\n",
                       (unsigned long)take);
        vmmio_fail(base);
        return -1;
    }
    if (accepted)
        *accepted = take;
    return 0;
}

uint32_t vmmio_queue_max(uintptr_t base, uint32_t q)
{
    vmmio_write(base, VIRTIO_MMIO_QUEUE_SEL, q);
    return vmmio_read(base, VIRTIO_MMIO_QUEUE_NUM_MAX);
}

int vmmio_queue_setup(uintptr_t base, uint32_t q, uint32_t size, uint64_t desc, uint64_t avail, uint64_t used)
{
    vmmio_write(base, VIRTIO_MMIO_QUEUE_SEL, q);
    vmmio_write(base, VIRTIO_MMIO_QUEUE_NUM, size);
    vmmio_write(base, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)desc);
    vmmio_write(base, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(desc >> 32));
    vmmio_write(base, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)avail);
    vmmio_write(base, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(avail >> 32));
    vmmio_write(base, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)used);
    vmmio_write(base, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(used >> 32));
    vmmio_write(base, VIRTIO_MMIO_QUEUE_READY, 1);
    return vmmio_read(base, VIRTIO_MMIO_QUEUE_READY) == 1;
}

void vmmio_driver_ok(uintptr_t base)
{
    add_status(base, VIRTIO_STATUS_DRIVER_OK);
}

void vmmio_fail(uintptr_t base)
{
    add_status(base, VIRTIO_STATUS_FAILED);
}

uint64_t vmmio_config64(uintptr_t base, uint32_t offset)
{
    /* The device's configuration never changes (ConfigGeneration 0); the loop is bounded all the same. */
    uint64_t value = 0;
    for (int tries = 0; tries < 4; tries++) {
        uint32_t gen = vmmio_read(base, VIRTIO_MMIO_CONFIG_GENERATION);
        value = vmmio_read(base, VIRTIO_MMIO_CONFIG + offset);
        value |= (uint64_t)vmmio_read(base, VIRTIO_MMIO_CONFIG + offset + 4) << 32;
        if (vmmio_read(base, VIRTIO_MMIO_CONFIG_GENERATION) == gen)
            break;
    }
    return value;
}
