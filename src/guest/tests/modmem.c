/*
 * Test guest for module memory (docs/module-runtime.md, section 1). The boot info's cid picks the scenario,
 * since a test guest has no other input (ModuleMemoryKvmTest sets it):
 *   3  checks: every step REPORTs step * 0x100 + result (a MODMEM status, or 1 for "as expected"), then
 *      0x600D, READY, and serves until shutdown: bad requests get their status and the enclave goes on
 *   4  MAPs a page R+X, REPORTs its address, writes to it: a #PF (protection, write)
 *   5  MAPs two pages R+W for module 7, REPORTs the first, calls into the second: a #PF (instruction fetch)
 *      in module 7 at module offset 0x1010
 *   6  MAPs code R+X and data R+W for module 7; the code reads the data (REPORTed), the data is UNMAPped,
 *      the code runs again: a #PF (not present, read) in module 7 at module offset 0x2a
 * The label of module 7 is the bytes 1, 2, ..., 48 (MRENCLAVE 0102030405060708...).
 */
#include "../alloc.h"
#include "../console.h"
#include "../cpu.h"
#include "../mem.h"
#include "../modmem.h"
#include "../panic.h"
#include "../ports.h"
#include "../runtime.h"

#define PAGE 4096u
#define TAG 7u
#define DONE 0x600Du
#define MODULE_CALL_OFFSET 0x20u

static uint8_t label[MODMEM_LABEL_SIZE];
static const uint8_t rodata_page[PAGE] __attribute__((aligned(PAGE))) = {1};
/* A request ring 3 cannot write, so neither can the VMM: its status must stay as it is. */
static const struct modmem_request readonly_request __attribute__((aligned(8))) = {
    .op = MODMEM_OP_MAP, .rights = MODMEM_R, .length = PAGE, .status = 0xFFFFFFFFu,
};

static void step(uint32_t n, uint32_t result)
{
    console_printf("test-modmem: step %u: %u\n", n, result);
    port_report(n * 0x100u + result);
}

static uint32_t raw_request(struct modmem_request *req)
{
    req->status = 0xFFFFFFFFu;
    outl(PORT_MODMEM, (uint32_t)(uintptr_t)req);
    return __atomic_load_n(&req->status, __ATOMIC_ACQUIRE);
}

static uint32_t map_request(uint32_t op, uint32_t rights, uint64_t dst, uint64_t length, uint64_t src)
{
    struct modmem_request req = {.op = op, .rights = rights, .dst = dst, .length = length, .src = src};
    return raw_request(&req);
}

/* A page of code in RAM we may copy from: "mov $value, %eax; ret". */
static uint8_t *code_returning(uint32_t value)
{
    uint8_t *code = page_alloc(PAGE);
    if (!code)
        panic("test-modmem: no page for code");
    uint8_t bytes[] = {0xb8, (uint8_t)value, (uint8_t)(value >> 8), (uint8_t)(value >> 16), (uint8_t)(value >> 24),
                       0xc3};
    memcpy(code + MODULE_CALL_OFFSET, bytes, sizeof bytes);
    return code;
}

static uint32_t call(uint64_t address)
{
    uint32_t (*fn)(void) = (uint32_t (*)(void))(uintptr_t)address;
    return fn();
}

static uint64_t reserve(uint64_t length)
{
    uint64_t gpa = modmem_reserve(length);
    if (!gpa)
        panic("test-modmem: cannot reserve %lu bytes of %lu free in an arena of %lu", length, modmem_free(),
              modmem_arena_size());
    return gpa;
}

static void checks(const struct boot_info *bi)
{
    uint64_t arena = bi->module_arena_gpa, arena_end = bi->module_arena_gpa + bi->module_arena_size;
    step(1, modmem_arena_size() >= 4 * PAGE && modmem_free() == modmem_arena_size());

    /* MAP R+X from a heap page, then run what was copied. */
    uint64_t code = reserve(PAGE);
    step(2, code == arena);
    step(3, modmem_map(code, code_returning(0x1234), PAGE, MODMEM_R | MODMEM_X, TAG, label));
    step(4, call(code + MODULE_CALL_OFFSET) == 0x1234);

    /* MAP R+W with zeros, write it, and copy from it (an arena page mapped W is a valid source). */
    uint64_t data = reserve(PAGE);
    step(5, modmem_map(data, NULL, PAGE, MODMEM_R | MODMEM_W, 0, NULL));
    volatile uint32_t *word = (volatile uint32_t *)(uintptr_t)data;
    step(6, word[0] == 0 && word[1023] == 0);
    memcpy((void *)(uintptr_t)data, code_returning(0x5678), PAGE);
    uint64_t copy = reserve(PAGE);
    step(7, modmem_map(copy, (const void *)(uintptr_t)data, PAGE, MODMEM_R | MODMEM_X, TAG, label));
    step(8, call(copy + MODULE_CALL_OFFSET) == 0x5678);

    /* Bad op and rights. */
    uint64_t spare = reserve(PAGE);
    step(10, map_request(3, MODMEM_R, spare, PAGE, 0));
    step(11, map_request(MODMEM_OP_MAP, MODMEM_W, spare, PAGE, 0));
    step(12, map_request(MODMEM_OP_MAP, MODMEM_R | MODMEM_W | MODMEM_X, spare, PAGE, 0));
    step(13, map_request(MODMEM_OP_MAP, MODMEM_R | 8, spare, PAGE, 0));
    /* Bad ranges, overflow included. */
    step(20, map_request(MODMEM_OP_MAP, MODMEM_R, spare + 8, PAGE, 0));
    step(21, map_request(MODMEM_OP_MAP, MODMEM_R, spare, 0, 0));
    step(22, map_request(MODMEM_OP_MAP, MODMEM_R, spare, 100, 0));
    step(23, map_request(MODMEM_OP_MAP, MODMEM_R, arena - PAGE, PAGE, 0));
    step(24, map_request(MODMEM_OP_MAP, MODMEM_R, arena_end - PAGE, 2 * PAGE, 0));
    step(25, map_request(MODMEM_OP_MAP, MODMEM_R, spare, 0 - (uint64_t)PAGE, 0));
    /* Bad sources: read-only image pages, the VMM's pages, the device window, wrap-around, unmapped arena. */
    step(30, map_request(MODMEM_OP_MAP, MODMEM_R, spare, PAGE, (uint64_t)(uintptr_t)rodata_page));
    step(31, map_request(MODMEM_OP_MAP, MODMEM_R, spare, PAGE, (uint64_t)(uintptr_t)&checks & ~(uint64_t)(PAGE - 1)));
    step(32, map_request(MODMEM_OP_MAP, MODMEM_R, spare, PAGE, ABI_BOOT_INFO_GPA));
    step(33, map_request(MODMEM_OP_MAP, MODMEM_R, spare, PAGE, ABI_PAGE_TABLES_GPA));
    step(34, map_request(MODMEM_OP_MAP, MODMEM_R, spare, PAGE, bi->ram_size));
    step(35, map_request(MODMEM_OP_MAP, MODMEM_R, spare, PAGE, 0 - (uint64_t)PAGE));
    step(36, map_request(MODMEM_OP_MAP, MODMEM_R, spare, PAGE, code));   /* mapped, but R+X */
    step(37, map_request(MODMEM_OP_MAP, MODMEM_R, spare, PAGE, spare + PAGE));
    /* Wrong state. */
    step(40, modmem_map(code, NULL, PAGE, MODMEM_R, TAG, label));
    step(41, modmem_unmap(code, PAGE, TAG + 1));
    step(42, modmem_unmap(spare, PAGE, 0));
    step(43, modmem_unmap(code, 2 * PAGE, TAG));   /* code is TAG's, data is tag 0's */
    /* Bad request addresses: the VMM writes no status (or, inside the range it names, status 5). */
    step(50, modmem_map(spare, NULL, PAGE, MODMEM_R, 0, NULL) == 0 && modmem_unmap(spare, PAGE, 0) == 0);
    outl(PORT_MODMEM, (uint32_t)(uintptr_t)&readonly_request);
    step(51, *(volatile const uint32_t *)&readonly_request.status == 0xFFFFFFFFu
                 && modmem_map(spare, NULL, PAGE, MODMEM_R, 0, NULL) == 0);
    uint64_t misaligned[12];
    struct modmem_request *skewed = (struct modmem_request *)(uintptr_t)((uintptr_t)misaligned + 4);
    *skewed = (struct modmem_request){.op = MODMEM_OP_UNMAP, .dst = spare, .length = PAGE};
    step(52, raw_request(skewed) == 0xFFFFFFFFu);
    struct modmem_request *inside = (struct modmem_request *)(uintptr_t)data;
    *inside = (struct modmem_request){.op = MODMEM_OP_UNMAP, .dst = data, .length = PAGE};
    step(53, raw_request(inside));
    step(54, word[0] == MODMEM_OP_UNMAP);   /* still mapped, not scrubbed */

    /* The flush gate returns, here and after an UNMAP. */
    modmem_flush_tlb();
    step(60, 1);
    step(61, modmem_unmap(spare, PAGE, 0));
    step(62, modmem_unmap(data, PAGE, 0));
    modmem_release(data, PAGE);
    /* data is not reserved again before this vCPU has flushed (the others flush in their idle loops). */
    uint64_t other = reserve(PAGE);
    step(63, other != data);
    modmem_release(other, PAGE);
    modmem_idle(BOOT_VCPU);
    uint64_t again = 0;
    for (uint64_t start = cpu_rdtsc(); cpu_rdtsc() - start < 5000000000ull; cpu_relax()) {
        again = reserve(PAGE);
        if (again == data)
            break;
        modmem_release(again, PAGE);
    }
    step(64, again == data);
    step(65, modmem_map(again, NULL, PAGE, MODMEM_R, 0, NULL) == 0 && word[0] == 0);   /* zeros */
    port_report(DONE);
}

/* cid 4: a write to R+X module memory. */
static void write_code(void)
{
    uint64_t code = reserve(PAGE);
    if (modmem_map(code, code_returning(1), PAGE, MODMEM_R | MODMEM_X, TAG, label))
        panic("test-modmem: MAP R+X failed");
    port_report((uint32_t)code);
    *(volatile uint8_t *)(uintptr_t)code = 0x90;
    panic("test-modmem: wrote to an R+X page");
}

/* cid 5: a call into R+W module memory. */
static void execute_data(void)
{
    uint64_t data = reserve(2 * PAGE);
    uint8_t *code = code_returning(1);
    if (modmem_map(data, code, PAGE, MODMEM_R | MODMEM_W, TAG, label)
        || modmem_map(data + PAGE, code, PAGE, MODMEM_R | MODMEM_W, TAG, label))
        panic("test-modmem: MAP R+W failed");
    port_report((uint32_t)data);
    call(data + PAGE + 0x10);
    panic("test-modmem: ran code in an R+W page");
}

/* cid 6: module code reading its data page after the UNMAP. */
static void read_unmapped(void)
{
    uint64_t base = reserve(2 * PAGE);
    uint64_t data = base + PAGE;
    uint32_t *value = page_alloc(PAGE);
    *value = 0x55AA;
    if (modmem_map(data, value, PAGE, MODMEM_R | MODMEM_W, TAG, label))
        panic("test-modmem: MAP of the data page failed");
    /* movabs $data, %rax; mov (%rax), %eax; ret: the load is at module offset 0x20 + 10 = 0x2a. */
    uint8_t *code = page_alloc(PAGE);
    uint8_t bytes[] = {0x48, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0x8b, 0x00, 0xc3};
    memcpy(bytes + 2, &data, 8);
    memcpy(code + MODULE_CALL_OFFSET, bytes, sizeof bytes);
    if (modmem_map(base, code, PAGE, MODMEM_R | MODMEM_X, TAG, label))
        panic("test-modmem: MAP of the code page failed");
    port_report(call(base + MODULE_CALL_OFFSET));
    if (modmem_unmap(data, PAGE, TAG))
        panic("test-modmem: UNMAP of the data page failed");
    modmem_idle(BOOT_VCPU);
    port_report((uint32_t)base);
    call(base + MODULE_CALL_OFFSET);
    panic("test-modmem: read an unmapped page");
}

void enclave_main(uint32_t vcpu, const struct boot_info *boot_info)
{
    runtime_start(vcpu, boot_info);
    if (vcpu == BOOT_VCPU) {
        for (uint32_t i = 0; i < MODMEM_LABEL_SIZE; i++)
            label[i] = (uint8_t)(i + 1);
        if (boot_info->version < 3 || boot_info->module_arena_size == 0)
            panic("test-modmem: no module arena (boot info version %u)", boot_info->version);
        switch (boot_info->cid) {
        case 3:
            checks(boot_info);
            break;
        case 4:
            runtime_ready();
            write_code();
            break;
        case 5:
            runtime_ready();
            execute_data();
            break;
        case 6:
            runtime_ready();
            read_unmapped();
            break;
        default:
            panic("test-modmem: no scenario for cid %u", boot_info->cid);
        }
        runtime_ready();
    }
    runtime_serve(vcpu);
}
