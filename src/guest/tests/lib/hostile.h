/*
 * Support for the hostile vsock test guests: each drives the device by hand (virtio_mmio.h, virtq.h), does
 * one forbidden thing, waits for the device to say DEVICE_NEEDS_RESET, REPORTs the Status it read, and
 * then brings the device up properly (services_init resets it) to show that it, and the VMM, survived.
 */
#ifndef ENCLAVE_TESTS_HOSTILE_H
#define ENCLAVE_TESTS_HOSTILE_H

#include <stdint.h>

#include "../../abi.h"
#include "../../virtq.h"

struct raw_vsock {
    uintptr_t base;
    struct virtq q[3];   /* rx, tx, event */
};

/* Finds and probes the device, resets it and negotiates VERSION_1 (+STREAM). Panics if it cannot. */
uintptr_t raw_begin(const struct boot_info *boot_info);

/* raw_begin, then all three queues on fresh rings and DRIVER_OK: a device ready for bad chains. */
void raw_setup(struct raw_vsock *dev, const struct boot_info *boot_info);

/* A page of RAM for descriptors to point at (a valid address). */
void *raw_page(void);

/* Publishes avail.idx (release) and writes NOTIFY unconditionally, so even a sleeping device looks. */
void raw_publish(struct virtq *q, uint16_t avail_idx);

/*
 * Waits (bounded: ~5 s) until Status has DEVICE_NEEDS_RESET, then REPORTs the Status and says it on the
 * console. Panics, naming what, if the device never says so.
 */
uint32_t raw_expect_needs_reset(uintptr_t base, const char *what);

/* The common end of every hostile guest on the boot vCPU: proper set-up, echo on 5000, the handshake. */
void hostile_recover(const struct boot_info *boot_info);

#endif
