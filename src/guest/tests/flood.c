/*
 * Test guest: READY, then tries to flood the host's disk through the VMM's log until it is asked to shut
 * down. Every round: 256 ports in and out (all 65536 over 256 rounds, except the three that would end or
 * park it), 16 words of the never-claimed MMIO page read and written, a REPORT, a byte-wide NOTIFY (which
 * misses the ioeventfd and exits) and a 32-bit one, a STATUS that is not READY, and a console line.
 * Shutdown is honoured between rounds (SHUTDOWN(0) from the boot vCPU, as the runtime does).
 */
#include "../console.h"
#include "../cpu.h"
#include "../mmio.h"
#include "../ports.h"
#include "../runtime.h"

#define PORTS_PER_ROUND 256u
#define MMIO_WORDS_PER_ROUND 16u
#define STATUS_NOT_READY 2u

/* SHUTDOWN, PANIC, WAIT and FAULT end or park the enclave: the flood skips writing them, and COM1's LCR,
 * whose DLAB bit would turn later console bytes into divisor writes. */
static int write_ends_the_flood(uint32_t port)
{
    return port == PORT_SHUTDOWN || port == PORT_PANIC || port == PORT_WAIT || port == PORT_FAULT
        || port == PORT_COM1 + 3u;
}

void enclave_main(uint32_t vcpu, const struct boot_info *boot_info)
{
    runtime_start(vcpu, boot_info);
    if (vcpu != BOOT_VCPU)
        runtime_serve(vcpu);
    runtime_ready();

    uintptr_t unclaimed = boot_info->ram_size + ABI_UNCLAIMED_PAGE_OFFSET;
    uint32_t port = 0;
    uint32_t word = 0;
    for (uint64_t round = 0;; round++) {
        if (control_shutdown_requested()) {
            port_shutdown(0);
            cpu_spin_forever();
        }
        for (uint32_t i = 0; i < PORTS_PER_ROUND; i++, port = (port + 1u) & 0xFFFFu) {
            (void)inb((uint16_t)port);
            if (!write_ends_the_flood(port))
                outb((uint16_t)port, (uint8_t)round);
        }
        for (uint32_t i = 0; i < MMIO_WORDS_PER_ROUND; i++, word = (word + 1u) % (ABI_DEVICE_SLOT_SIZE / 4u)) {
            (void)mmio_read32(unclaimed + 4u * word);
            mmio_write32(unclaimed + 4u * word, (uint32_t)round);
        }
        port_report((uint32_t)round);
        outb(PORT_NOTIFY, (uint8_t)round);
        port_notify((uint32_t)round);
        outl(PORT_STATUS, STATUS_NOT_READY);
        console_printf("flood round %lu: ports up to 0x%x, the console never stops\n", (unsigned long)round,
                       port);
    }
}
