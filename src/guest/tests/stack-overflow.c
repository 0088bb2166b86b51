/*
 * Test guest: the last vCPU recurses without bound until its stack runs into the guard page below it: a
 * #PF (not present, write) the VMM reports with cr2 in that vCPU's guard. The boot vCPU is READY first
 * when it is not the one that overflows.
 */
#include "../panic.h"
#include "../ports.h"
#include "../runtime.h"

/* A bound gcc cannot see through, so that it neither warns of nor exploits the infinite recursion. */
static volatile uint32_t depth_limit = UINT32_MAX;

/* Not a tail call (the sum uses the callee's result) and a volatile frame: gcc keeps every frame. */
static uint32_t descend(volatile uint8_t *caller, uint32_t depth)
{
    volatile uint8_t frame[256];
    if (depth == depth_limit)
        return 0;
    frame[0] = (uint8_t)depth;
    frame[255] = caller[0];
    return descend(frame, depth + 1) + frame[1];
}

void enclave_main(uint32_t vcpu, const struct boot_info *boot_info)
{
    runtime_start(vcpu, boot_info);
    if (vcpu == BOOT_VCPU)
        runtime_ready();
    if (vcpu == boot_info->vcpu_count - 1) {
        uint8_t top = 0;
        uint32_t r = descend(&top, 0);
        panic("test-stack-overflow: the recursion returned %u; the guard page must stop it", r);
    }
    runtime_serve(vcpu);
}
