/*
 * Host-side check of the runtime's arena allocator (modmem.c): first fit, coalescing, the flush generation
 * that keeps a released range from being reserved again before every vCPU flushed its TLB, and a random
 * workload against a page-by-page model. The VMM's side (port 0x507) is played by host_check_modmem, which
 * answers every well-formed request with 0 and remembers what is mapped.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../modmem.h"

#define PAGE 4096u
#define ARENA 0x40000000ull
#define ARENA_SIZE (8ull << 20)
#define PAGES (ARENA_SIZE / PAGE)

static int failures;
static unsigned flushes;
static int vmm_silent;
static unsigned char mapped[PAGES];

#define CHECK(cond, ...)                                                   \
    do {                                                                   \
        if (!(cond)) {                                                     \
            fprintf(stderr, "modmem-check:%d: %s: ", __LINE__, #cond);     \
            fprintf(stderr, __VA_ARGS__);                                  \
            fputc('\n', stderr);                                           \
            failures++;                                                    \
        }                                                                  \
    } while (0)

void console_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
}

void host_check_flush(void)
{
    flushes++;
}

uint32_t host_check_modmem(struct modmem_request *req)
{
    if (vmm_silent)
        return 0;   /* a request the VMM could not write to */
    uint64_t first = (req->dst - ARENA) / PAGE, n = req->length / PAGE;
    for (uint64_t i = first; i < first + n; i++) {
        if (mapped[i] != (req->op == MODMEM_OP_UNMAP)) {
            req->status = MODMEM_E_STATE;
            return req->status;
        }
    }
    for (uint64_t i = first; i < first + n; i++)
        mapped[i] = req->op == MODMEM_OP_MAP;
    req->status = 0;
    return 0;
}

static struct boot_info boot(uint32_t vcpus)
{
    struct boot_info bi = {.magic = ABI_BOOT_INFO_MAGIC, .version = 3, .vcpu_count = vcpus,
                           .module_arena_gpa = ARENA, .module_arena_size = ARENA_SIZE};
    return bi;
}

static void basics(void)
{
    struct boot_info bi = boot(2);
    modmem_init(&bi);
    CHECK(modmem_arena_size() == ARENA_SIZE, "%lu", (unsigned long)modmem_arena_size());
    CHECK(modmem_reserve(0) == 0, "nothing to reserve");
    CHECK(modmem_reserve(UINT64_MAX) == 0, "overflow");
    CHECK(modmem_reserve(ARENA_SIZE + 1) == 0, "larger than the arena");
    uint64_t a = modmem_reserve(1), b = modmem_reserve(PAGE), c = modmem_reserve(3 * PAGE);
    CHECK(a == ARENA && b == ARENA + PAGE && c == ARENA + 2 * PAGE, "first fit: %lx %lx %lx", a, b, c);
    CHECK(modmem_free() == ARENA_SIZE - 5 * PAGE, "free %lu", (unsigned long)modmem_free());

    /* Never mapped, so no flush is needed: released ranges are at once reusable and coalesce. */
    modmem_release(b, PAGE);
    modmem_release(a, 1);
    CHECK(modmem_reserve(2 * PAGE) == ARENA, "a and b merged");
    CHECK(modmem_free() == ARENA_SIZE - 5 * PAGE, "free %lu", (unsigned long)modmem_free());

    /* Unmapped: not before both vCPUs flushed. */
    CHECK(modmem_map(c, NULL, 3 * PAGE, MODMEM_R, 1, NULL) == 0, "map");
    CHECK(modmem_unmap(c, 3 * PAGE, 1) == 0, "unmap");
    modmem_release(c, 3 * PAGE);
    uint64_t d = modmem_reserve(3 * PAGE);
    CHECK(d == ARENA + 5 * PAGE, "c is not reusable yet: %lx", d);
    modmem_release(d, 3 * PAGE);
    unsigned before = flushes;
    modmem_idle(0);
    modmem_idle(0);
    CHECK(flushes == before + 1, "one flush for one generation: %u", flushes - before);
    uint64_t e = modmem_reserve(3 * PAGE);
    CHECK(e != c, "vCPU 1 has not flushed");
    modmem_release(e, 3 * PAGE);
    modmem_wait(1);   /* asleep in WAIT: it flushes before it runs anything */
    CHECK(modmem_reserve(3 * PAGE) == c, "reusable once every vCPU flushed");
    modmem_idle(1);
    CHECK(flushes == before + 2, "vCPU 1 flushed on its way out of WAIT: %u", flushes - before);
    modmem_idle(1);
    CHECK(flushes == before + 2, "and only once");

    /* Statuses: the VMM's, or E_REQUEST when it wrote none. */
    CHECK(modmem_unmap(c, PAGE, 1) == MODMEM_E_STATE, "not mapped");
    vmm_silent = 1;
    CHECK(modmem_map(c, NULL, PAGE, MODMEM_R, 1, NULL) == MODMEM_E_REQUEST, "no status written");
    vmm_silent = 0;

    /* Releases outside the arena are refused, not taken. */
    uint64_t free_before = modmem_free();
    modmem_release(ARENA - PAGE, PAGE);
    modmem_release(ARENA + ARENA_SIZE, PAGE);
    modmem_release(ARENA + ARENA_SIZE - PAGE, 2 * PAGE);
    modmem_release(ARENA + 1, PAGE);
    CHECK(modmem_free() == free_before, "free %lu, was %lu", (unsigned long)modmem_free(), (unsigned long)free_before);
}

/* Random reserve/map/unmap/release against a page model; both vCPUs idle now and then. */
static void random_workload(void)
{
    struct boot_info bi = boot(2);
    memset(mapped, 0, sizeof mapped);
    modmem_init(&bi);
    static uint64_t starts[64], lengths[64];
    static unsigned char owned[PAGES];
    memset(owned, 0, sizeof owned);
    unsigned count = 0;
    srand(11);
    for (int round = 0; round < 200000; round++) {
        int r = rand() % 8;
        if (r < 3 && count < 64) {
            uint64_t length = (uint64_t)(1 + rand() % 64) * PAGE;
            uint64_t gpa = modmem_reserve(length);
            if (gpa) {
                CHECK(gpa >= ARENA && gpa + length <= ARENA + ARENA_SIZE, "%lx", gpa);
                for (uint64_t p = (gpa - ARENA) / PAGE; p < (gpa - ARENA + length) / PAGE; p++) {
                    CHECK(!owned[p], "page %lu reserved twice", (unsigned long)p);
                    owned[p] = 1;
                }
                CHECK(modmem_map(gpa, NULL, length, MODMEM_R, 1, NULL) == 0, "map %lx", gpa);
                starts[count] = gpa;
                lengths[count++] = length;
            }
        } else if (r < 6 && count > 0) {
            unsigned i = (unsigned)rand() % count;
            CHECK(modmem_unmap(starts[i], lengths[i], 1) == 0, "unmap %lx", starts[i]);
            for (uint64_t p = (starts[i] - ARENA) / PAGE; p < (starts[i] - ARENA + lengths[i]) / PAGE; p++)
                owned[p] = 0;
            modmem_release(starts[i], lengths[i]);
            starts[i] = starts[--count];
            lengths[i] = lengths[count];
        } else {
            modmem_idle((uint32_t)(rand() % 2));
        }
        if (failures > 10)
            return;
    }
    uint64_t held = 0;
    for (unsigned i = 0; i < count; i++)
        held += lengths[i];
    CHECK(modmem_free() == ARENA_SIZE - held, "free %lu, held %lu", (unsigned long)modmem_free(), (unsigned long)held);
}

int main(void)
{
    basics();
    random_workload();
    if (failures) {
        fprintf(stderr, "modmem-check: %d failures\n", failures);
        return 1;
    }
    printf("modmem-check: first fit, coalescing, flush generations, statuses, random workload: all pass\n");
    return 0;
}
