#include "runtime.h"

#include "alloc.h"
#include "console.h"
#include "cpu.h"
#include "modmem.h"
#include "panic.h"
#include "ports.h"
#include "services.h"

/*
 * How long the boot vCPU waits for the others, in TSC ticks (the TSC rate is not known in ring 3 without
 * an exit): 2 s at our hosts' 2.4 GHz, 1.7 to 5 s at any plausible rate. Far more than a VMM needs to
 * start its vCPU threads; the point is a clear panic instead of a silent hang.
 */
#define ONLINE_TIMEOUT_TICKS 5000000000ull

/*
 * Idle-loop rounds of polling before a WAIT exit: 256 pauses are ~19 us on our EPYC hosts (pause ~76 ns),
 * about what the WAIT exit itself costs (~21 us), so idling never spends more than twice the minimum.
 */
#define IDLE_POLLS 256

/* Version 2 (no module arena) is still accepted: the runtime then has no module memory. */
#define MIN_BOOT_INFO_VERSION 2u
#define ARENA_ALIGN 0x200000u

static const struct boot_info *boot_info_seen;
static int (*idle_work)(uint32_t vcpu);   /* set once before READY; read by every vCPU */

const struct boot_info *runtime_boot_info(void)
{
    return boot_info_seen;
}

/* Run by every vCPU, so that whichever panics first names the real problem. */
static void check_boot_info(uint32_t vcpu, const struct boot_info *bi)
{
    if ((uintptr_t)bi != ABI_BOOT_INFO_GPA)
        panic("boot info at %p, expected at 0x%x (RSI at entry)", (const void *)bi, ABI_BOOT_INFO_GPA);
    if (bi->magic != ABI_BOOT_INFO_MAGIC)
        panic("boot info magic is 0x%08x, expected 0x%08x", bi->magic, ABI_BOOT_INFO_MAGIC);
    /* Later versions only append fields, so anything from the minimum on is readable. */
    if (bi->version < MIN_BOOT_INFO_VERSION)
        panic("boot info version %u, this runtime needs at least %u", bi->version, MIN_BOOT_INFO_VERSION);
    if (bi->vcpu_count == 0)
        panic("boot info vcpu_count is 0");
    if (bi->device_count > ABI_MAX_DEVICES)
        panic("boot info device_count is %u, at most %u allowed", bi->device_count, ABI_MAX_DEVICES);
    if (bi->image_end > bi->ram_size)
        panic("boot info image_end 0x%lx is beyond ram_size 0x%lx", bi->image_end, bi->ram_size);
    if (vcpu >= bi->vcpu_count)
        panic("vcpu %u started, but boot info vcpu_count is %u", vcpu, bi->vcpu_count);
    if (bi->version >= 3 && bi->module_arena_size != 0) {
        uint64_t stacks = (uint64_t)bi->vcpu_count * ABI_STACK_SLOT_SIZE;
        uint64_t gpa = bi->module_arena_gpa, size = bi->module_arena_size;
        if (gpa % ARENA_ALIGN || size % ARENA_ALIGN || gpa < bi->image_end || stacks > bi->ram_size
            || size > bi->ram_size - stacks || gpa > bi->ram_size - stacks - size)
            panic("boot info module arena 0x%lx + 0x%lx is not 2 MiB aligned between the image and the stacks",
                  gpa, size);
    }
}

static void wait_all_online(uint32_t count)
{
    uint64_t start = cpu_rdtsc();
    for (;;) {
        uint32_t online = __atomic_load_n(&control_page()->online_vcpus, __ATOMIC_ACQUIRE);
        if (online == count)
            return;
        if (online > count)
            panic("%u vCPUs came online, boot info says %u", online, count);
        if (cpu_rdtsc() - start > ONLINE_TIMEOUT_TICKS)
            panic("only %u of %u vCPUs came online", online, count);
        cpu_relax();
    }
}

void runtime_start(uint32_t vcpu, const struct boot_info *bi)
{
    check_boot_info(vcpu, bi);
    if (vcpu == BOOT_VCPU) {
        boot_info_seen = bi;
        page_alloc_init(bi);
        modmem_init(bi);
        console_printf("enclave runtime %s: %u vCPU%s, %lu MiB RAM, cid %u%s\n", RUNTIME_VERSION,
                       bi->vcpu_count, bi->vcpu_count == 1 ? "" : "s", bi->ram_size >> 20, bi->cid,
                       bi->flags & ABI_BOOT_FLAG_DEBUG ? ", debug" : "");
    }
    /* REPORT before counting online: once READY is out, every vCPU's index has been reported. */
    port_report(vcpu);
    __atomic_add_fetch(&control_page()->online_vcpus, 1, __ATOMIC_ACQ_REL);
    console_printf("vcpu %u online\n", vcpu);

    if (vcpu == BOOT_VCPU)
        wait_all_online(bi->vcpu_count);
}

void runtime_set_idle_work(int (*work)(uint32_t vcpu))
{
    __atomic_store_n(&idle_work, work, __ATOMIC_RELEASE);
}

/*
 * Polls services until done(ctx) says so (never, if done is NULL); honours shutdown; WAITs when idle. With
 * run_work, does the idle work first on every turn: a vCPU whose step just made a call runnable comes
 * straight back here (the step reported work) and runs it, unless another vCPU claimed it first.
 */
static void serve_until(uint32_t vcpu, int (*done)(void *), void *ctx, int run_work, int may_wait)
{
    unsigned polls = 0;
    while (!done || !done(ctx)) {
        if (control_shutdown_requested()) {
            /* The first vCPU to see it ends the enclave (the boot vCPU may be busy in a long ECALL, which a
             * forced stop would end anyway, only later); the others wait here to be torn down with it. */
            static uint32_t shutting_down;
            if (!__atomic_exchange_n(&shutting_down, 1, __ATOMIC_ACQ_REL)) {
                console_printf("shutdown requested (seen by vcpu %u)\n", vcpu);
                port_shutdown(0);
            }
            cpu_spin_forever();
        }
        modmem_idle(vcpu);
        int (*work)(uint32_t) = run_work ? __atomic_load_n(&idle_work, __ATOMIC_ACQUIRE) : NULL;
        if (work && work(vcpu)) {
            polls = 0;
            continue;
        }
        if (services_poll(vcpu)) {
            polls = 0;
            continue;
        }
        /* A vCPU waiting for something another vCPU may complete (an OCALL's answer, received by whichever
         * vCPU polls the device) must not sleep in WAIT: nothing could wake it, as ring 3 has no IPI. */
        if (++polls < IDLE_POLLS || !may_wait) {
            cpu_relax();
            continue;
        }
        polls = 0;
        modmem_wait(vcpu);   /* the modmem_idle at the top of the loop flushes before anything else runs */
        port_wait();   /* the VMM returns at once if shutdown is requested or device work is pending */
    }
}

static int handshake_done(void *ctx)
{
    (void)ctx;
    return services_handshake_done();
}

void runtime_wait_until(uint32_t vcpu, int (*done)(void *ctx), void *ctx)
{
    serve_until(vcpu, done, ctx, 0, 0);
    modmem_idle(vcpu);   /* done may have come true right after a WAIT: flush before module code runs again */
}

void runtime_ready(void)
{
    if (!services_vsock_up()) {
        port_status_ready();
        return;
    }
    /* With vsock, READY is the VMM's answer to the handshake; the STATUS port stays silent. */
    services_start_handshake();
    serve_until(BOOT_VCPU, handshake_done, NULL, 0, 1);
}

void runtime_serve(uint32_t vcpu)
{
    serve_until(vcpu, NULL, NULL, 1, 1);
    cpu_spin_forever();
}
