/*
 * Entry of every vCPU (docs/guest-abi.md): 64-bit mode, CPL 3, paging on, identity mapped.
 * RDI = vCPU index, RSI = boot info GPA, RSP = top of this vCPU's stack (16-byte aligned).
 * All C needs beyond that is the SysV call alignment; .bss is zeroed by the VMM's loader (all vCPUs
 * start at once, so none of them may clear memory another is already using).
 */
    .section .text.boot, "ax", @progbits
    .globl _start
    .type _start, @function
_start:
    xorl %ebp, %ebp        /* end of the frame-pointer chain, for stack walks in crash dumps */
    andq $-16, %rsp        /* the ABI promises this; make it so even if a VMM gets it wrong */
    cld
    call enclave_main      /* rsp % 16 == 8 at its first instruction, as SysV requires */
    ud2                    /* enclave_main never returns; if it did, end as a triple fault */
    .size _start, . - _start

    .section .note.GNU-stack, "", @progbits
