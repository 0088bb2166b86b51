/* Test guest: READY, then the boot vCPU reads the unmapped null page: a #PF the VMM reports with cr2 = 0. */
#include "../console.h"
#include "../panic.h"
#include "../runtime.h"

void enclave_main(uint32_t vcpu, const struct boot_info *boot_info)
{
    runtime_start(vcpu, boot_info);
    if (vcpu == BOOT_VCPU) {
        runtime_ready();
        console_printf("test-null-read: reading GPA 0\n");
        uint32_t v;
        /* Absolute address 0 in asm: in C a NULL dereference is undefined and may be compiled away. */
        __asm__ volatile("movl 0, %0" : "=r"(v) : : "memory");
        panic("test-null-read: reading GPA 0 returned 0x%x; the null page must not be mapped", v);
    }
    runtime_serve(vcpu);
}
