/*
 * Test guest: SSE2 in ring 3 (docs/guest-abi.md, "SSE for module code"). Every vCPU computes sqrt(2) with
 * sqrtsd and REPORTs the low and high halves of the double's bits, then the boot vCPU ends with SHUTDOWN(0).
 * Without CR4.OSFXSR the sqrtsd is #UD and the enclave crashes instead. This file alone is compiled with SSE
 * (src/guest/Makefile), as module code is; the runtime it links with is not.
 */
#include "../cpu.h"
#include "../ports.h"
#include "../runtime.h"

static uint64_t sqrt_bits(uint64_t x)
{
    double d, r;
    uint64_t bits;
    __builtin_memcpy(&d, &x, 8);
    __asm__ volatile("sqrtsd %1, %0" : "=x"(r) : "x"(d));
    __builtin_memcpy(&bits, &r, 8);
    return bits;
}

void enclave_main(uint32_t vcpu, const struct boot_info *boot_info)
{
    /* Before runtime_start counts this vCPU online: the boot vCPU's SHUTDOWN cannot come before the REPORTs. */
    if (!(boot_info->flags & ABI_BOOT_FLAG_SSE))
        port_report(0xdead5e5e);
    uint64_t r = sqrt_bits(0x4000000000000000ull);   /* 2.0 */
    port_report((uint32_t)r);
    port_report((uint32_t)(r >> 32));
    runtime_start(vcpu, boot_info);
    if (vcpu == BOOT_VCPU) {
        runtime_ready();
        port_shutdown(0);
        cpu_spin_forever();
    }
    runtime_serve(vcpu);
}
