/*
 * The virtio-mmio version 2 transport (virtio 1.2 §4.2.2), driver side: register offsets and the steps of
 * the standard initialisation, each usable on its own (the hostile test guests take them apart). Every
 * register access is one 32-bit MMIO access through mmio.h, i.e. one exit to the VMM: none of this is on
 * a data path.
 */
#ifndef ENCLAVE_VIRTIO_MMIO_H
#define ENCLAVE_VIRTIO_MMIO_H

#include <stdint.h>

#include "abi.h"
#include "mmio.h"

#define VIRTIO_MMIO_MAGIC_VALUE          0x000
#define VIRTIO_MMIO_VERSION              0x004
#define VIRTIO_MMIO_DEVICE_ID            0x008
#define VIRTIO_MMIO_VENDOR_ID            0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES      0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL  0x014
#define VIRTIO_MMIO_DRIVER_FEATURES      0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL  0x024
#define VIRTIO_MMIO_QUEUE_SEL            0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX        0x034
#define VIRTIO_MMIO_QUEUE_NUM            0x038
#define VIRTIO_MMIO_QUEUE_READY          0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY         0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS     0x060
#define VIRTIO_MMIO_INTERRUPT_ACK        0x064
#define VIRTIO_MMIO_STATUS               0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW       0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH      0x084
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW     0x090
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH    0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW     0x0a0
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH    0x0a4
#define VIRTIO_MMIO_CONFIG_GENERATION    0x0fc
#define VIRTIO_MMIO_CONFIG               0x100

#define VIRTIO_MMIO_MAGIC        0x74726976u   /* "virt" */
#define VIRTIO_MMIO_VERSION_2    2u
#define VIRTIO_DEVICE_ID_VSOCK   19u

/* Device status bits (virtio 1.2 §2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE         0x01u
#define VIRTIO_STATUS_DRIVER              0x02u
#define VIRTIO_STATUS_DRIVER_OK           0x04u
#define VIRTIO_STATUS_FEATURES_OK         0x08u
#define VIRTIO_STATUS_DEVICE_NEEDS_RESET  0x40u
#define VIRTIO_STATUS_FAILED              0x80u

#define VIRTIO_F_VERSION_1      (1ull << 32)
#define VIRTIO_VSOCK_F_STREAM   (1ull << 0)

static inline uint32_t vmmio_read(uintptr_t base, uint32_t reg)
{
    return mmio_read32(base + reg);
}

static inline void vmmio_write(uintptr_t base, uint32_t reg, uint32_t value)
{
    mmio_write32(base + reg, value);
}

static inline uint32_t vmmio_status(uintptr_t base)
{
    return vmmio_read(base, VIRTIO_MMIO_STATUS);
}

/*
 * The register base of the first boot_info device of this type, checked to be a page of the device window;
 * 0 if there is none (or its address is not in the window, said on the console).
 */
uintptr_t vmmio_find(const struct boot_info *boot_info, uint32_t type);

/* Checks magic, version 2 and the device ID. Returns 0, or -1 after saying on the console what is wrong. */
int vmmio_probe(uintptr_t base, uint32_t device_id);

/*
 * Reset (Status 0, read back), ACKNOWLEDGE, DRIVER, then the features: required must all be offered (else
 * FAILED, -1), optional ones are taken where offered; then FEATURES_OK, read back (-1 and FAILED if the
 * device refused). *accepted = what was written to DriverFeatures. Returns 0 on success.
 */
int vmmio_negotiate(uintptr_t base, uint64_t required, uint64_t optional, uint64_t *accepted);

/* QueueNumMax of queue q (0: the queue does not exist). Selects q. */
uint32_t vmmio_queue_max(uintptr_t base, uint32_t q);

/*
 * Sets queue q up: QueueSel, QueueNum, the three ring addresses, QueueReady = 1, then reads QueueReady
 * back. Returns 1 if the device took the queue, 0 if QueueReady did not stick. No checks of its own: the
 * hostile test guests hand it bad values on purpose.
 */
int vmmio_queue_setup(uintptr_t base, uint32_t q, uint32_t size, uint64_t desc, uint64_t avail, uint64_t used);

/* DRIVER_OK added to the current status bits. */
void vmmio_driver_ok(uintptr_t base);

/* FAILED added: the driver gives up on the device. */
void vmmio_fail(uintptr_t base);

/* Writes Status 0 and waits (bounded) until it reads 0. Returns 0, or -1 if the device never reset. */
int vmmio_reset(uintptr_t base);

/* A 64-bit config field as two 32-bit reads (low word first), retried until ConfigGeneration is stable. */
uint64_t vmmio_config64(uintptr_t base, uint32_t offset);

#endif
