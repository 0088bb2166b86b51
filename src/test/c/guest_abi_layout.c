/*
 * Prints every constant, struct field offset and struct size src/guest/abi.h declares, as "<name> <value>":
 * macros by their C name, fields as "<struct>.<field>", sizes as "sizeof.<struct>". Compiled with the
 * host's gcc and run by GuestAbiLayoutTest, which compares each with the VMM's Java constants and checks
 * that nothing abi.h declares is missing here.
 */
#include <stdio.h>

#include "abi.h"

#define N(name) printf("%s %llu\n", #name, (unsigned long long)(name))
#define OFF(s, f) printf("%s.%s %zu\n", #s, #f, offsetof(struct s, f))
#define SIZE(s) printf("sizeof.%s %zu\n", #s, sizeof(struct s))

int main(void)
{
    N(ABI_GDT_GPA); N(ABI_IDT_GPA); N(ABI_FAULT_STUB_GPA); N(ABI_BOOT_INFO_GPA); N(ABI_CONTROL_GPA);
    N(ABI_PAGE_TABLES_GPA); N(ABI_PAGE_TABLES_END); N(ABI_TSS_GPA); N(ABI_TSS_STRIDE); N(ABI_IO_BITMAP_GPA);
    N(ABI_FAULT_STACKS_GPA); N(ABI_FAULT_STACK_SIZE); N(ABI_IMAGE_GPA);
    N(ABI_FLUSH_STACKS_GPA); N(ABI_FLUSH_STACK_SIZE); N(ABI_FLUSH_VECTOR);
    N(ABI_STACK_SLOT_SIZE); N(ABI_STACK_GUARD_SIZE);
    N(ABI_SELECTOR_CODE0); N(ABI_SELECTOR_DATA0); N(ABI_SELECTOR_CODE3); N(ABI_SELECTOR_DATA3); N(ABI_SELECTOR_TSS);
    N(ABI_BOOT_INFO_MAGIC); N(ABI_BOOT_INFO_VERSION); N(ABI_BOOT_FLAG_DEBUG); N(ABI_BOOT_FLAG_SSE); N(ABI_MAX_DEVICES);
    N(ABI_DEVICE_VSOCK);
    N(ABI_DEVICE_WINDOW_SIZE); N(ABI_DEVICE_SLOT_SIZE); N(ABI_UNCLAIMED_PAGE_OFFSET);
    N(PORT_COM1); N(PORT_STATUS); N(PORT_SHUTDOWN); N(PORT_PANIC); N(PORT_WAIT); N(PORT_NOTIFY); N(PORT_REPORT);
    N(PORT_FAULT); N(PORT_MODMEM);
    N(MODMEM_OP_MAP); N(MODMEM_OP_UNMAP); N(MODMEM_R); N(MODMEM_W); N(MODMEM_X);
    N(MODMEM_E_OP); N(MODMEM_E_RANGE); N(MODMEM_E_SOURCE); N(MODMEM_E_STATE); N(MODMEM_E_REQUEST);
    N(MODMEM_LABEL_SIZE);
    N(STATUS_READY); N(PANIC_MESSAGE_MAX);

    OFF(abi_device, type); OFF(abi_device, reserved); OFF(abi_device, mmio_gpa); SIZE(abi_device);
    OFF(boot_info, magic); OFF(boot_info, version); OFF(boot_info, vcpu_count); OFF(boot_info, flags);
    OFF(boot_info, ram_size); OFF(boot_info, image_end); OFF(boot_info, stack_size); OFF(boot_info, cid);
    OFF(boot_info, device_count); OFF(boot_info, devices); OFF(boot_info, module_arena_gpa);
    OFF(boot_info, module_arena_size); SIZE(boot_info);
    OFF(modmem_request, op); OFF(modmem_request, rights); OFF(modmem_request, dst); OFF(modmem_request, length);
    OFF(modmem_request, src); OFF(modmem_request, tag); OFF(modmem_request, status); OFF(modmem_request, label);
    SIZE(modmem_request);
    OFF(control_page, shutdown_requested); OFF(control_page, online_vcpus); SIZE(control_page);
    return 0;
}
