/*
 * The guest side of docs/guest-abi.md. Every constant and layout here is part of the contract with the
 * VMM (org.enclaveruntime.vmm / devices); change both sides and the document in one commit.
 */
#ifndef ENCLAVE_ABI_H
#define ENCLAVE_ABI_H

#include <stddef.h>
#include <stdint.h>

/*
 * Fixed guest-physical addresses (identity mapped, so also the virtual addresses). Only boot info
 * (read-only) and the control page are readable from ring 3; the rest are the VMM's, supervisor-only.
 */
#define ABI_GDT_GPA           0x1000u
#define ABI_IDT_GPA           0x3000u
#define ABI_FAULT_STUB_GPA    0x4000u
#define ABI_BOOT_INFO_GPA     0x8000u
#define ABI_CONTROL_GPA       0x9000u
#define ABI_PAGE_TABLES_GPA   0x10000u
#define ABI_PAGE_TABLES_END   0x80000u
#define ABI_TSS_GPA           0x80000u    /* vCPU i's TSS at ABI_TSS_GPA + i * ABI_TSS_STRIDE */
#define ABI_TSS_STRIDE        128u
#define ABI_IO_BITMAP_GPA     0x88000u    /* shared by every TSS */
#define ABI_FAULT_STACKS_GPA  0x90000u    /* vCPU i's fault stack: ABI_FAULT_STACK_SIZE bytes from here + i * size */
#define ABI_FAULT_STACK_SIZE  0x400u
#define ABI_FLUSH_STACKS_GPA  0xA000u     /* vCPU i's TLB flush stack (IST2): ABI_FLUSH_STACK_SIZE bytes from here + i * size */
#define ABI_FLUSH_STACK_SIZE  64u
#define ABI_FLUSH_VECTOR      0x20u       /* `int $0x20` from ring 3 reloads CR3: this vCPU's TLB is flushed */
#define ABI_IMAGE_GPA         0x100000u

/* vCPU stacks: slot i is [ram_size - (i+1) * ABI_STACK_SLOT_SIZE, ram_size - i * ABI_STACK_SLOT_SIZE); its lowest page is a guard. */
#define ABI_STACK_SLOT_SIZE   0x10000u
#define ABI_STACK_GUARD_SIZE  0x1000u

/* GDT selectors; vCPU i's TSS is ABI_SELECTOR_TSS + 16 * i. The runtime never loads any of them. */
#define ABI_SELECTOR_CODE0    0x08u
#define ABI_SELECTOR_DATA0    0x10u
#define ABI_SELECTOR_CODE3    0x1bu
#define ABI_SELECTOR_DATA3    0x23u
#define ABI_SELECTOR_TSS      0x28u

#define ABI_BOOT_INFO_MAGIC    0x45434C56u   /* "VLCE" in memory */
#define ABI_BOOT_INFO_VERSION  3u         /* what the VMM writes; 3 added the module arena */
#define ABI_BOOT_FLAG_DEBUG    (1u << 0)
#define ABI_BOOT_FLAG_SSE      (1u << 1)   /* CR4.OSFXSR|OSXMMEXCPT set: SSE/SSE2 usable (modules; the runtime uses none) */
#define ABI_MAX_DEVICES        16u
#define ABI_DEVICE_VSOCK       1u

/* The device window: 2 MiB right above RAM, mapped but backed by no memory, so every access exits. */
#define ABI_DEVICE_WINDOW_SIZE     0x200000u
#define ABI_DEVICE_SLOT_SIZE       0x1000u
#define ABI_UNCLAIMED_PAGE_OFFSET  0x1FF000u   /* last 4 KiB of the window: never claimed by a device */

/* I/O ports. All but COM1 take a 32-bit `out`. */
#define PORT_COM1      0x3F8u
#define PORT_STATUS    0x500u
#define PORT_SHUTDOWN  0x501u
#define PORT_PANIC     0x502u
#define PORT_WAIT      0x503u
#define PORT_NOTIFY    0x504u
#define PORT_REPORT    0x505u
#define PORT_FAULT     0x506u   /* the VMM's fault stub only; the runtime never writes it */
#define PORT_MODMEM    0x507u   /* value = GPA of a struct modmem_request (docs/module-runtime.md, section 1) */

#define STATUS_READY   1u
#define PANIC_MESSAGE_MAX 512u   /* bytes the VMM reads at most, NUL included */

/* MODMEM requests (docs/module-runtime.md, section 1). */
#define MODMEM_OP_MAP    1u
#define MODMEM_OP_UNMAP  2u
#define MODMEM_R         4u
#define MODMEM_W         2u
#define MODMEM_X         1u
#define MODMEM_E_OP      1u   /* bad op or rights */
#define MODMEM_E_RANGE   2u   /* dst/length misaligned or outside the arena */
#define MODMEM_E_SOURCE  3u   /* src not user read/write RAM, or overlapping dst */
#define MODMEM_E_STATE   4u   /* MAP: a page already present; UNMAP: a page not present or of another tag */
#define MODMEM_E_REQUEST 5u   /* the request lies in the range it names, or (status left untouched) at a bad address */
#define MODMEM_LABEL_SIZE 48u

struct abi_device {
    uint32_t type;
    uint32_t reserved;
    uint64_t mmio_gpa;
};

struct boot_info {
    uint32_t magic;
    uint32_t version;
    uint32_t vcpu_count;
    uint32_t flags;
    uint64_t ram_size;
    uint64_t image_end;
    uint64_t stack_size;
    uint32_t cid;
    uint32_t device_count;
    struct abi_device devices[ABI_MAX_DEVICES];
    uint64_t module_arena_gpa;    /* version >= 3; both multiples of 2 MiB, size 0 = no arena */
    uint64_t module_arena_size;
};

/* 8-byte aligned, in user read/write RAM; the VMM writes only status. */
struct modmem_request {
    uint32_t op;
    uint32_t rights;
    uint64_t dst;
    uint64_t length;
    uint64_t src;
    uint32_t tag;
    uint32_t status;
    uint8_t label[MODMEM_LABEL_SIZE];
};

/* Shared with the VMM while the guest runs: only ever accessed through the __atomic builtins. */
struct control_page {
    uint32_t shutdown_requested;   /* VMM-written */
    uint32_t online_vcpus;         /* guest-written, one atomic increment per vCPU */
};

_Static_assert(offsetof(struct boot_info, magic) == 0, "boot_info.magic");
_Static_assert(offsetof(struct boot_info, version) == 4, "boot_info.version");
_Static_assert(offsetof(struct boot_info, vcpu_count) == 8, "boot_info.vcpu_count");
_Static_assert(offsetof(struct boot_info, flags) == 12, "boot_info.flags");
_Static_assert(offsetof(struct boot_info, ram_size) == 16, "boot_info.ram_size");
_Static_assert(offsetof(struct boot_info, image_end) == 24, "boot_info.image_end");
_Static_assert(offsetof(struct boot_info, stack_size) == 32, "boot_info.stack_size");
_Static_assert(offsetof(struct boot_info, cid) == 40, "boot_info.cid");
_Static_assert(offsetof(struct boot_info, device_count) == 44, "boot_info.device_count");
_Static_assert(offsetof(struct boot_info, devices) == 48, "boot_info.devices");
_Static_assert(offsetof(struct boot_info, module_arena_gpa) == 304, "boot_info.module_arena_gpa");
_Static_assert(offsetof(struct boot_info, module_arena_size) == 312, "boot_info.module_arena_size");
_Static_assert(sizeof(struct abi_device) == 16, "boot_info device entry");
_Static_assert(offsetof(struct modmem_request, status) == 36, "modmem_request.status");
_Static_assert(offsetof(struct modmem_request, label) == 40, "modmem_request.label");
_Static_assert(sizeof(struct modmem_request) == 88, "modmem_request");
_Static_assert(offsetof(struct abi_device, mmio_gpa) == 8, "device.mmio_gpa");
_Static_assert(sizeof(struct boot_info) <= 4096, "boot_info fits its page");
_Static_assert(offsetof(struct control_page, shutdown_requested) == 0, "control.shutdown_requested");
_Static_assert(offsetof(struct control_page, online_vcpus) == 4, "control.online_vcpus");

static inline struct control_page *control_page(void)
{
    return (struct control_page *)(uintptr_t)ABI_CONTROL_GPA;
}

static inline int control_shutdown_requested(void)
{
    return __atomic_load_n(&control_page()->shutdown_requested, __ATOMIC_ACQUIRE) != 0;
}

#endif
