#include "modsvc.h"

#include <stdarg.h>

#include "console.h"
#include "cpu.h"
#include "format.h"
#include "le.h"
#include "mem.h"
#include "modmem.h"
#include "module_elf.h"
#include "modproto.h"
#include "runtime.h"
#include "services.h"
#include "vsock.h"

#define MAX_MODULES 16u
#define MAX_CONNS   64u      /* port 7000 connections at once; more are closed at once */
#define MAX_STACKS  64u      /* stacks a module may use at once (the claim bitmap); TCSNum beyond is mapped, idle */
#define MAX_CHUNKS  64u      /* heap chunks a module holds at once through enclave_heap_alloc (its malloc's) */
#define MAX_EXTENTS (MAX_CONNS + MAX_CHUNKS)
#define GUARD_SIZE  4096u
#define RECV_CHUNK  (1u << 20)

#define PAGE_DOWN(x) ((x) & ~4095ull)
#define PAGE_UP(x)   (((x) + 4095ull) & ~4095ull)

enum { EXTENT_CALL, EXTENT_CHUNK };

struct extent {
    uint64_t off, len;
    uint32_t kind;                     /* EXTENT_*: only chunks go back through enclave_heap_free */
};

struct module {
    uint32_t id;                       /* 0: free slot */
    uint32_t unloading;                /* no new calls; unloaded once calls is 0 */
    uint32_t calls;                    /* ECALLs holding buffers (received, running or answering); steps only */
    uint32_t tcs_num;
    struct module_signature sig;       /* scalar fields only: its pointers went with the staging copy */
    struct module_elf elf;
    uint64_t base, range_len;          /* the reserved arena range */
    uint64_t stacks, stack_size;       /* first stack's guard page; each slot is GUARD_SIZE + stack_size */
    uint64_t heap, heap_size;          /* call buffers: HeapMaxSize - image_size, mapped RW at load */
    uint64_t ecalls, ecall_count;      /* the relocated table in module memory */
    uint64_t stack_busy;               /* claim bitmap of the first min(tcs_num, 64) stacks; atomic */
    struct spinlock heap_lock;         /* the extents: steps (call buffers) and running calls (chunks) */
    uint32_t extent_count, chunk_count; /* heap allocations, sorted by offset; chunks among them */
    struct extent extents[MAX_EXTENTS];
};

/* A call's life: the step fills it and makes it RUNNABLE; a vCPU claims it (RUNNING) and posts DONE. */
enum { CALL_NONE, CALL_RUNNABLE, CALL_RUNNING, CALL_DONE };
/* An OCALL: the running call POSTs it, the step sends it (SENT) and stores the answer (ANSWERED), or the
 * connection broke (FAILED). */
enum { OCALL_NONE, OCALL_POSTED, OCALL_SENT, OCALL_ANSWERED, OCALL_FAILED };

struct call {
    uint32_t state;                    /* CALL_*, atomic */
    uint32_t index, status, vcpu, stack;
    struct module *module;
    uint8_t *buffer;                   /* in bytes, then out_cap bytes, in the module's heap (NULL if both 0) */
    uint64_t in_len, out_cap, out_len;
    uint64_t stack_lo, stack_hi;       /* where it runs (enclave_ocall finds its call by its stack pointer) */
    uint64_t home_sp;                  /* free space on its vCPU's own stack, below the frames of the switch */
    uint32_t ocall_state;              /* OCALL_*, atomic */
    uint32_t ocall_index, ocall_status;
    const uint8_t *ocall_in;
    uint8_t *ocall_out;
    uint64_t ocall_in_len, ocall_out_cap, ocall_out_len;
};

enum { ROLE_NONE, ROLE_MODULE, ROLE_CALL };
enum { RX_HEADER, RX_PREFIX, RX_PAYLOAD };

struct mconn {
    uint32_t used;
    uint32_t role;
    struct vsock_conn *conn;
    uint32_t module_id;                /* the module it loaded (ROLE_MODULE) or attached to (ROLE_CALL) */
    /* receiving */
    uint32_t rx_phase, rx_have;
    uint8_t hdr[MODPROTO_HDR_SIZE];
    uint8_t prefix[4];
    uint16_t rx_type;
    uint32_t rx_arg;
    uint64_t rx_len, rx_done;
    uint8_t *rx_dst;                   /* where the payload goes; NULL: read and dropped */
    uint32_t reply_status;             /* an ECALL refused while its payload is dropped: the answer */
    uint64_t staging, staging_len;     /* LOAD: the file's copy in the arena */
    /* sending: one message at a time */
    uint8_t tx_head[MODPROTO_HDR_SIZE + 4];
    uint32_t tx_head_len, tx_head_sent;
    const uint8_t *tx_body;
    uint64_t tx_body_len, tx_body_sent;
    uint32_t free_call_after_tx;       /* the ECALL_RETURN being sent: free the call's buffers after it */
    uint32_t close_after_tx;           /* an ERROR being sent: close after it */
    uint32_t closing;                  /* peer gone or ERROR sent: wind down, then DONE */
    uint32_t unload_requested;         /* UNLOAD received: answer UNLOADED once unloaded */
    uint8_t loaded[LOADED_SUCCESS_SIZE];
    char reason[256];
    struct call call;
};

static struct module modules[MAX_MODULES];
static struct mconn conns[MAX_CONNS];
static uint32_t next_module_id = 1;
static uint32_t production;            /* boot_info.flags without debug: DEBUG modules are refused */

static struct module *module_by_id(uint32_t id)
{
    for (uint32_t i = 0; i < MAX_MODULES; i++)
        if (id != 0 && modules[i].id == id)
            return &modules[i];
    return NULL;
}

/* ---- module memory ---- */

/* [addr, addr + len) lies in one mapped region of the module (writable ones only if write). */
static int module_owns(const struct module *m, uint64_t addr, uint64_t len, int write)
{
    if (len == 0)
        return 1;
    if (addr < m->base || addr - m->base > m->range_len || len > m->range_len - (addr - m->base))
        return 0;
    for (uint32_t i = 0; i < m->elf.segment_count; i++) {
        const struct module_segment *s = &m->elf.segments[i];
        uint64_t lo = m->base + PAGE_DOWN(s->vaddr), hi = m->base + PAGE_UP(s->vaddr + s->mem_size);
        if (addr >= lo && addr + len <= hi)
            return !write || (s->flags & MODMEM_W);
    }
    if (addr >= m->heap && addr + len <= m->heap + m->heap_size)
        return 1;
    uint64_t stride = GUARD_SIZE + m->stack_size;
    if (addr >= m->stacks && addr < m->stacks + stride * m->tcs_num) {
        uint64_t slot = (addr - m->stacks) / stride;
        uint64_t lo = m->stacks + slot * stride + GUARD_SIZE;
        return addr >= lo && addr + len <= lo + m->stack_size;
    }
    return 0;
}

/* Unmaps every region of a module (those mapped so far: mapped_segments segments, stacks and heap if
 * mapped_rest) and gives its range back. */
static void module_release(struct module *m, uint32_t mapped_segments, int mapped_rest)
{
    for (uint32_t i = 0; i < mapped_segments; i++) {
        const struct module_segment *s = &m->elf.segments[i];
        uint64_t lo = PAGE_DOWN(s->vaddr);
        modmem_unmap(m->base + lo, PAGE_UP(s->vaddr + s->mem_size) - lo, m->id);
    }
    if (mapped_rest) {
        for (uint32_t i = 0; i < m->tcs_num; i++)
            modmem_unmap(m->stacks + i * (GUARD_SIZE + m->stack_size) + GUARD_SIZE, m->stack_size, m->id);
        if (m->heap_size)
            modmem_unmap(m->heap, m->heap_size, m->id);
    }
    modmem_release(m->base, m->range_len);
    m->id = 0;
}

/* First fit in the module's heap; 16-byte aligned. The GPA, or 0. At most MAX_CONNS call buffers (one per
 * connection) and MAX_CHUNKS chunks, so neither kind can starve the other of bookkeeping. */
static uint64_t heap_alloc(struct module *m, uint64_t len, uint32_t kind)
{
    if (len > m->heap_size)
        return 0;
    len = (len + 15) & ~15ull;
    uint64_t gpa = 0, at = 0;
    spin_lock(&m->heap_lock);
    if (m->extent_count == MAX_EXTENTS || (kind == EXTENT_CHUNK && m->chunk_count == MAX_CHUNKS))
        goto out;
    for (uint32_t i = 0; i <= m->extent_count; i++) {
        uint64_t end = i < m->extent_count ? m->extents[i].off : m->heap_size;
        if (end - at >= len) {
            memmove(&m->extents[i + 1], &m->extents[i], (m->extent_count - i) * sizeof m->extents[0]);
            m->extents[i] = (struct extent){ at, len, kind };
            m->extent_count++;
            m->chunk_count += kind == EXTENT_CHUNK;
            gpa = m->heap + at;
            break;
        }
        if (i < m->extent_count)
            at = m->extents[i].off + m->extents[i].len;
    }
out:
    spin_unlock(&m->heap_lock);
    return gpa;
}

/* Frees the allocation of this kind at gpa: 0, or -1 if there is none. */
static int heap_free(struct module *m, uint64_t gpa, uint32_t kind)
{
    int r = -1;
    spin_lock(&m->heap_lock);
    for (uint32_t i = 0; i < m->extent_count; i++) {
        if (m->heap + m->extents[i].off == gpa && m->extents[i].kind == kind) {
            m->extent_count--;
            m->chunk_count -= kind == EXTENT_CHUNK;
            memmove(&m->extents[i], &m->extents[i + 1], (m->extent_count - i) * sizeof m->extents[0]);
            r = 0;
            break;
        }
    }
    spin_unlock(&m->heap_lock);
    return r;
}

/* ---- loading (section 2) ---- */

/* The sgx_status_t for a loader E-code (section 4). */
static uint32_t load_status(uint32_t code)
{
    switch (code) {
    case MODULE_E_MISSING_IMPORT: return SGX_ERROR_UNDEFINED_SYMBOL;
    case MODULE_E_DEBUG_IN_PRODUCTION: return SGX_ERROR_NDEBUG_ENCLAVE;
    case 806: return SGX_ERROR_INVALID_METADATA;
    case 809: case 810: case 811: case 812: return SGX_ERROR_INVALID_SIGNATURE;
    default: return SGX_ERROR_INVALID_ENCLAVE;   /* E800-E805, E816: the file's structure or ELF */
    }
}

/* The ECALL table: found, its count 1..4096, the table inside one readable segment, every entry in an
 * executable one. 0 or refuses (err). */
static uint32_t find_ecalls(struct module *m, const uint8_t *image, struct module_error *err)
{
    uint64_t vaddr, size;
    err->code = MODULE_E_NO_ECALLS;
    if (module_find_symbol(&m->elf, image, MODULE_ECALLS_SYMBOL, &vaddr, &size) != 0) {
        format(err->reason, sizeof err->reason, "the module defines no dynamic symbol %s", MODULE_ECALLS_SYMBOL);
        return err->code;
    }
    const struct module_segment *table = NULL;
    for (uint32_t i = 0; i < m->elf.segment_count; i++) {
        const struct module_segment *s = &m->elf.segments[i];
        if (vaddr >= s->vaddr && vaddr - s->vaddr <= s->mem_size && s->mem_size - (vaddr - s->vaddr) >= 8)
            table = s;
    }
    if (!table || vaddr % 8 != 0) {
        format(err->reason, sizeof err->reason, "%s at 0x%lx is not an aligned table inside a segment",
               MODULE_ECALLS_SYMBOL, (unsigned long)vaddr);
        return err->code;
    }
    uint64_t count;
    memcpy(&count, image + vaddr, 8);
    uint64_t room = (table->vaddr + table->mem_size - vaddr - 8) / 8;
    if (count < 1 || count > MODULE_ECALLS_MAX || count > room) {
        format(err->reason, sizeof err->reason, "%s: count %lu, expected 1 to %u entries inside its segment",
               MODULE_ECALLS_SYMBOL, (unsigned long)count, MODULE_ECALLS_MAX);
        return err->code;
    }
    for (uint64_t i = 0; i < count; i++) {
        uint64_t fn;
        memcpy(&fn, image + vaddr + 8 + 8 * i, 8);
        int ok = 0;
        for (uint32_t s = 0; s < m->elf.segment_count && !ok; s++) {
            const struct module_segment *seg = &m->elf.segments[s];
            ok = (seg->flags & MODMEM_X) && fn >= m->base + seg->vaddr && fn - m->base - seg->vaddr < seg->mem_size;
        }
        if (!ok) {
            format(err->reason, sizeof err->reason, "%s entry %lu (module address 0x%lx) is not in executable code",
                   MODULE_ECALLS_SYMBOL, (unsigned long)i, (unsigned long)(fn - m->base));
            return err->code;
        }
    }
    m->ecalls = m->base + vaddr;
    m->ecall_count = count;
    return 0;
}

/*
 * Steps 2-6 after module_verify passed (step 1), for the file's own copy in the arena: nothing of the module
 * is mapped executable before every check passed, and a refusal unmaps and releases all it took. Returns the
 * status; on refusal the reason.
 */
static uint32_t place_module(struct module *m, const uint8_t *file, char *reason, size_t reason_size)
{
    struct module_error err = { 0, { 0 } };
    if ((m->sig.attributes & MODULE_ATTRIBUTE_DEBUG) && production) {
        format(reason, reason_size, "E%u: a debug module (DisableDebug 0) cannot load into a production enclave",
               MODULE_E_DEBUG_IN_PRODUCTION);
        return SGX_ERROR_NDEBUG_ENCLAVE;
    }
    uint64_t image = m->elf.image_size, arena = modmem_arena_size();
    m->tcs_num = m->sig.tcs_num;
    m->stack_size = m->sig.stack_max_size;
    m->heap_size = m->sig.heap_max_size - image;   /* module_verify checked image_size <= HeapMaxSize (E806) */
    uint64_t stride = GUARD_SIZE + m->stack_size;
    if (image > arena || m->heap_size > arena - image || m->tcs_num > (arena - image - m->heap_size) / stride) {
        format(reason, reason_size, "the module needs HeapMaxSize %lu bytes and %u stacks of %lu bytes; the module "
               "arena has %lu bytes", (unsigned long)m->sig.heap_max_size, m->tcs_num, (unsigned long)m->stack_size,
               (unsigned long)arena);
        return SGX_ERROR_OUT_OF_EPC;
    }
    m->range_len = image + m->tcs_num * stride + m->heap_size;
    if (!(m->base = modmem_reserve(m->range_len))) {
        format(reason, reason_size, "no free range of %lu bytes in the module arena (%lu of %lu bytes free)",
               (unsigned long)m->range_len, (unsigned long)modmem_free(), (unsigned long)arena);
        return SGX_ERROR_OUT_OF_EPC;
    }
    m->stacks = m->base + image;
    m->heap = m->stacks + m->tcs_num * stride;
    uint64_t staging = modmem_reserve(image);
    if (!staging || modmem_map(staging, NULL, image, MODMEM_R | MODMEM_W, 0, NULL) != 0) {
        if (staging)
            modmem_release(staging, image);
        module_release(m, 0, 0);
        format(reason, reason_size, "no room in the module arena to build the %lu-byte image", (unsigned long)image);
        return SGX_ERROR_OUT_OF_EPC;
    }
    uint8_t *built = (uint8_t *)(uintptr_t)staging;
    uint32_t status = SGX_SUCCESS, mapped = 0, r;
    module_build_image(file, &m->elf, built);
    if ((r = module_relocate(&m->elf, built, m->base, modapi_resolve, NULL, &err)) != 0
        || (r = find_ecalls(m, built, &err)) != 0) {
        format(reason, reason_size, "E%u: %s", err.code, err.reason);
        status = load_status(err.code);
        goto out;
    }
    /* W^X from here on: each segment's pages get its own rights, copied from the relocated image. */
    for (; mapped < m->elf.segment_count; mapped++) {
        const struct module_segment *s = &m->elf.segments[mapped];
        uint64_t lo = PAGE_DOWN(s->vaddr), len = PAGE_UP(s->vaddr + s->mem_size) - lo;
        if ((r = modmem_map(m->base + lo, built + lo, len, (s->flags & 7u) | MODMEM_R, m->id, m->sig.mrenclave))) {
            format(reason, reason_size, "MODMEM MAP of segment %u failed (status %u)", mapped, r);
            status = SGX_ERROR_UNEXPECTED;
            goto out;
        }
    }
    for (uint32_t i = 0; i < m->tcs_num; i++) {
        uint64_t lo = m->stacks + i * stride + GUARD_SIZE;
        if ((r = modmem_map(lo, NULL, m->stack_size, MODMEM_R | MODMEM_W, m->id, m->sig.mrenclave))) {
            while (i-- > 0)
                modmem_unmap(m->stacks + i * stride + GUARD_SIZE, m->stack_size, m->id);
            format(reason, reason_size, "MODMEM MAP of stack %u failed (status %u)", i, r);
            status = SGX_ERROR_UNEXPECTED;
            goto out;
        }
    }
    if (m->heap_size && (r = modmem_map(m->heap, NULL, m->heap_size, MODMEM_R | MODMEM_W, m->id, m->sig.mrenclave))) {
        for (uint32_t i = 0; i < m->tcs_num; i++)
            modmem_unmap(m->stacks + i * stride + GUARD_SIZE, m->stack_size, m->id);
        format(reason, reason_size, "MODMEM MAP of the %lu-byte heap failed (status %u)", (unsigned long)m->heap_size, r);
        status = SGX_ERROR_UNEXPECTED;
        goto out;
    }
out:
    modmem_unmap(staging, image, 0);
    modmem_release(staging, image);
    if (status != SGX_SUCCESS)
        module_release(m, mapped, 0);   /* stacks and heap were unmapped above on their own failure */
    return status;
}

/* The LOAD's file is in m's staging range: verify, place, answer LOADED. The staging range goes away. */
static void finish_load(struct mconn *c, uint32_t *status)
{
    const uint8_t *file = (const uint8_t *)(uintptr_t)c->staging;
    struct module *m = NULL;
    for (uint32_t i = 0; i < MAX_MODULES && !m; i++)
        if (modules[i].id == 0)
            m = &modules[i];
    struct module_error err = { 0, { 0 } };
    uint32_t r;
    if (!m) {
        format(c->reason, sizeof c->reason, "the enclave holds %u modules, the most it can", MAX_MODULES);
        *status = SGX_ERROR_OUT_OF_MEMORY;
    } else if ((r = module_verify(file, c->rx_len, &m->sig, &m->elf, &err)) != 0) {
        format(c->reason, sizeof c->reason, "E%u: %s", err.code, err.reason);
        *status = load_status(err.code);
    } else {
        m->sig.public_key = NULL;
        m->sig.signature = NULL;
        m->id = next_module_id++;
        if (next_module_id == 0)
            next_module_id = 1;
        m->unloading = 0;
        m->calls = 0;
        m->extent_count = 0;
        m->chunk_count = 0;
        __atomic_store_n(&m->stack_busy, 0, __ATOMIC_RELAXED);
        *status = place_module(m, file, c->reason, sizeof c->reason);
        if (*status != SGX_SUCCESS)
            m->id = 0;
    }
    if (c->staging_len) {
        modmem_unmap(c->staging, c->staging_len, 0);
        modmem_release(c->staging, c->staging_len);
    }
    c->staging = c->staging_len = 0;
    if (*status != SGX_SUCCESS) {
        console_printf("modules: LOAD refused (0x%x): %s\n", *status, c->reason);
        return;
    }
    c->role = ROLE_MODULE;
    c->module_id = m->id;
    uint8_t *p = c->loaded;
    le_put32(p, m->id);
    le_put32(p + 4, m->tcs_num);
    memcpy(p + 8, m->sig.mrenclave, 48);
    memcpy(p + 56, m->sig.mrsigner, 48);
    le_put16(p + 104, m->sig.prod_id);
    le_put16(p + 106, m->sig.isv_svn);
    le_put32(p + 108, m->sig.attributes);
    le_put64(p + 112, m->base);
    console_printf("modules: loaded module %u at 0x%lx: %lu bytes, %lu ECALLs, %u stacks of %lu, heap %lu\n", m->id,
                   (unsigned long)m->base, (unsigned long)m->elf.image_size, (unsigned long)m->ecall_count,
                   m->tcs_num, (unsigned long)m->stack_size, (unsigned long)m->heap_size);
}

/* ---- calls ---- */

static uint32_t run_on_stack(void *arg)
{
    struct call *c = arg;
    typedef uint32_t (*ecall_fn)(const void *, size_t, void *, size_t, size_t *);
    ecall_fn fn;
    memcpy(&fn, (const uint8_t *)(uintptr_t)c->module->ecalls + 8 + 8 * (uint64_t)c->index, sizeof fn);
    size_t out_len = 0;
    uint8_t *in = c->in_len ? c->buffer : NULL;
    uint8_t *out = c->out_cap ? c->buffer + ((c->in_len + 15) & ~15ull) : NULL;
    uint32_t status = fn(in, c->in_len, out, c->out_cap, &out_len);
    c->out_len = out_len;
    return status;
}

static uint64_t stack_pointer(void)
{
    uint64_t sp;
    __asm__ volatile("mov %%rsp, %0" : "=r"(sp));
    return sp;
}

/* Claims a stack of m: its index, or -1 if all are busy. */
static int claim_stack(struct module *m)
{
    uint32_t usable = m->tcs_num < MAX_STACKS ? m->tcs_num : MAX_STACKS;
    uint64_t busy = __atomic_load_n(&m->stack_busy, __ATOMIC_ACQUIRE);
    for (;;) {
        uint32_t i = 0;
        while (i < usable && (busy >> i & 1))
            i++;
        if (i == usable)
            return -1;
        if (__atomic_compare_exchange_n(&m->stack_busy, &busy, busy | 1ull << i, 0, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE))
            return (int)i;
    }
}

int modsvc_run_calls(uint32_t vcpu)
{
    for (uint32_t i = 0; i < MAX_CONNS; i++) {
        struct call *c = &conns[i].call;
        if (__atomic_load_n(&c->state, __ATOMIC_ACQUIRE) != CALL_RUNNABLE)
            continue;
        struct module *m = __atomic_load_n(&c->module, __ATOMIC_ACQUIRE);
        if (!m)
            continue;                  /* cancelled by its connection just now */
        int stack = claim_stack(m);
        if (stack < 0)
            continue;                  /* at most TCSNum at once: it waits for a vCPU finishing one */
        uint32_t expected = CALL_RUNNABLE;
        if (!__atomic_compare_exchange_n(&c->state, &expected, CALL_RUNNING, 0, __ATOMIC_ACQ_REL,
                                         __ATOMIC_RELAXED)) {
            __atomic_fetch_and(&m->stack_busy, ~(1ull << stack), __ATOMIC_RELEASE);
            continue;
        }
        uint64_t lo = m->stacks + (uint64_t)stack * (GUARD_SIZE + m->stack_size) + GUARD_SIZE;
        c->stack = (uint32_t)stack;
        c->vcpu = vcpu;
        __atomic_store_n(&c->stack_lo, lo, __ATOMIC_RELAXED);
        c->home_sp = (stack_pointer() - 512) & ~15ull;   /* well below what modcall_switch pushes here */
        __atomic_store_n(&c->stack_hi, lo + m->stack_size, __ATOMIC_RELEASE);
        uint32_t status = modcall_switch(lo + m->stack_size, run_on_stack, c);
        if (status == SGX_SUCCESS && c->out_len > c->out_cap) {
            console_printf("modules: module %u ECALL %u returned out_len %lu > out_cap %lu\n", m->id, c->index,
                           (unsigned long)c->out_len, (unsigned long)c->out_cap);
            status = SGX_ERROR_UNEXPECTED;
        }
        if (status != SGX_SUCCESS || c->out_len > c->out_cap)
            c->out_len = 0;
        c->status = status;
        __atomic_store_n(&c->stack_hi, 0, __ATOMIC_RELAXED);
        __atomic_fetch_and(&m->stack_busy, ~(1ull << stack), __ATOMIC_RELEASE);
        __atomic_store_n(&c->state, CALL_DONE, __ATOMIC_RELEASE);
        return 1;
    }
    return 0;
}

/* The running call whose stack holds sp, or NULL (not called from an ECALL). */
static struct call *call_on_stack(uint64_t sp)
{
    for (uint32_t i = 0; i < MAX_CONNS; i++) {
        struct call *c = &conns[i].call;
        if (__atomic_load_n(&c->state, __ATOMIC_ACQUIRE) != CALL_RUNNING)
            continue;
        uint64_t hi = __atomic_load_n(&c->stack_hi, __ATOMIC_ACQUIRE);
        if (sp < hi && sp >= __atomic_load_n(&c->stack_lo, __ATOMIC_RELAXED))
            return c;
    }
    return NULL;
}

static int ocall_settled(void *arg)
{
    uint32_t s = __atomic_load_n(&((struct call *)arg)->ocall_state, __ATOMIC_ACQUIRE);
    return s == OCALL_ANSWERED || s == OCALL_FAILED;
}

/*
 * Runs on the vCPU's own stack: the services the waiting vCPU keeps going (a LOAD's signature check among
 * them) must not eat into the module's stack, which may be as small as 8 KiB.
 */
static uint32_t wait_for_answer(void *arg)
{
    struct call *c = arg;
    runtime_wait_until(c->vcpu, ocall_settled, c);
    return 0;
}

uint32_t enclave_ocall(uint32_t index, const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len)
{
    struct call *c = call_on_stack(stack_pointer());
    if (!c)
        return SGX_ERROR_OCALL_NOT_ALLOWED;
    struct module *m = c->module;
    if (in_len > MODPROTO_MSG_MAX - 4 || out_cap > MODPROTO_MSG_MAX || out_cap > UINT32_MAX
        || !module_owns(m, (uintptr_t)in, in_len, 0) || !module_owns(m, (uintptr_t)out, out_cap, 1)
        || !module_owns(m, (uintptr_t)out_len, sizeof *out_len, 1))
        return SGX_ERROR_INVALID_PARAMETER;
    c->ocall_index = index;
    c->ocall_in = in;
    c->ocall_in_len = in_len;
    c->ocall_out = out;
    c->ocall_out_cap = out_cap;
    c->ocall_out_len = 0;
    __atomic_store_n(&c->ocall_state, OCALL_POSTED, __ATOMIC_RELEASE);
    /* This vCPU keeps the services going (with one vCPU nobody else would), but runs no other call. */
    modcall_switch(c->home_sp, wait_for_answer, c);
    uint32_t status = SGX_ERROR_UNEXPECTED;
    *out_len = 0;
    if (__atomic_load_n(&c->ocall_state, __ATOMIC_ACQUIRE) == OCALL_ANSWERED) {
        status = c->ocall_status;
        *out_len = c->ocall_out_len;
    }
    __atomic_store_n(&c->ocall_state, OCALL_NONE, __ATOMIC_RELEASE);
    return status;
}

/*
 * The module's own heap, for its malloc (docs/module-runtime.md section 2, API version 2): chunks from the
 * same budget as the call buffers, found by the calling ECALL's stack. NULL outside an ECALL, for 0 bytes,
 * or when the heap has no room.
 */
void *enclave_heap_alloc(size_t len)
{
    struct call *c = call_on_stack(stack_pointer());
    if (!c || len == 0)
        return NULL;
    return (void *)(uintptr_t)heap_alloc(c->module, len, EXTENT_CHUNK);
}

/* Gives a chunk of enclave_heap_alloc back: 0, or -1 if p is not one of the calling module's chunks. */
int enclave_heap_free(void *p)
{
    struct call *c = call_on_stack(stack_pointer());
    if (!c || !p)
        return -1;
    return heap_free(c->module, (uintptr_t)p, EXTENT_CHUNK);
}

/* The calling module's range (image, stacks, heap): 0, or -1 outside an ECALL. */
int enclave_module_range(uint64_t *base, uint64_t *size)
{
    struct call *c = call_on_stack(stack_pointer());
    if (!c)
        return -1;
    *base = c->module->base;
    *size = c->module->range_len;
    return 0;
}

/* ---- the connection step ---- */

static void queue_message(struct mconn *c, uint16_t type, uint32_t arg, const uint8_t *prefix, uint32_t prefix_len,
                          const void *body, uint64_t body_len)
{
    uint8_t *h = c->tx_head;
    le_put32(h, MODPROTO_MAGIC);
    le_put16(h + 4, type);
    le_put16(h + 6, 0);
    le_put32(h + 8, (uint32_t)(prefix_len + body_len));
    le_put32(h + 12, arg);
    if (prefix_len)
        memcpy(h + MODPROTO_HDR_SIZE, prefix, prefix_len);
    c->tx_head_len = MODPROTO_HDR_SIZE + prefix_len;
    c->tx_head_sent = 0;
    c->tx_body = body;
    c->tx_body_len = body_len;
    c->tx_body_sent = 0;
}

static int tx_pending(const struct mconn *c)
{
    return c->tx_head_sent < c->tx_head_len || c->tx_body_sent < c->tx_body_len;
}

/* 1 sent all, 0 not yet, -1 the connection is broken. */
static int tx_push(struct mconn *c, int *work)
{
    while (c->tx_head_sent < c->tx_head_len) {
        int r = vsock_send(c->conn, c->tx_head + c->tx_head_sent, c->tx_head_len - c->tx_head_sent);
        if (r == -EAGAIN)
            return 0;
        if (r < 0)
            return -1;
        c->tx_head_sent += (uint32_t)r;
        *work = 1;
    }
    while (c->tx_body_sent < c->tx_body_len) {
        uint64_t n = c->tx_body_len - c->tx_body_sent;
        int r = vsock_send(c->conn, c->tx_body + c->tx_body_sent, n < RECV_CHUNK ? (size_t)n : RECV_CHUNK);
        if (r == -EAGAIN)
            return 0;
        if (r < 0)
            return -1;
        c->tx_body_sent += (uint64_t)r;
        *work = 1;
    }
    return 1;
}

/* ERROR with a reason, then the connection closes. */
static void protocol_error(struct mconn *c, uint32_t status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void protocol_error(struct mconn *c, uint32_t status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t n = format_v(c->reason, sizeof c->reason, fmt, ap);
    va_end(ap);
    console_printf("modules: connection from port %u: ERROR 0x%x: %s\n", vsock_peer_port(c->conn), status, c->reason);
    queue_message(c, MSG_ERROR, status, NULL, 0, c->reason, n);
    c->close_after_tx = 1;
    c->rx_phase = RX_HEADER;
    c->rx_have = 0;
}

static void expect_payload(struct mconn *c, uint8_t *dst)
{
    c->rx_phase = RX_PAYLOAD;
    c->rx_dst = dst;
    c->rx_done = 0;
}

static void call_free(struct mconn *c)
{
    struct call *k = &c->call;
    if (k->module) {
        if (k->buffer)
            heap_free(k->module, (uintptr_t)k->buffer, EXTENT_CALL);
        k->module->calls--;
    }
    __atomic_store_n(&k->module, NULL, __ATOMIC_RELAXED);
    k->buffer = NULL;
    __atomic_store_n(&k->state, CALL_NONE, __ATOMIC_RELEASE);
}

static void start_load(struct mconn *c)
{
    c->reply_status = SGX_SUCCESS;
    uint64_t len = PAGE_UP(c->rx_len ? c->rx_len : 1);
    c->staging = modmem_reserve(len);
    if (c->staging && modmem_map(c->staging, NULL, len, MODMEM_R | MODMEM_W, 0, NULL) != 0) {
        modmem_release(c->staging, len);
        c->staging = 0;
    }
    if (!c->staging) {
        c->reply_status = SGX_ERROR_OUT_OF_EPC;
        format(c->reason, sizeof c->reason, "no room in the module arena for the %lu-byte file (%lu bytes free)",
               (unsigned long)c->rx_len, (unsigned long)modmem_free());
        expect_payload(c, NULL);
        return;
    }
    c->staging_len = len;
    expect_payload(c, (uint8_t *)(uintptr_t)c->staging);
}

/* A complete header: every check of section 3, then what the payload is for. */
static void on_header(struct mconn *c)
{
    const uint8_t *h = c->hdr;
    uint32_t magic = le_get32(h), len = le_get32(h + 8);
    uint16_t type = (uint16_t)(h[4] | h[5] << 8), reserved = (uint16_t)(h[6] | h[7] << 8);
    c->rx_type = type;
    c->rx_arg = le_get32(h + 12);
    c->rx_len = len;
    c->rx_have = 0;
    struct call *k = &c->call;
    if (magic != MODPROTO_MAGIC)
        return protocol_error(c, SGX_ERROR_INVALID_PARAMETER, "bad magic 0x%08x, expected 0x%08x", magic, MODPROTO_MAGIC);
    if (reserved != 0)
        return protocol_error(c, SGX_ERROR_INVALID_PARAMETER, "message type %u: reserved field is 0x%x, not 0", type,
                              reserved);
    if (type != MSG_LOAD && type != MSG_ATTACH && type != MSG_ECALL && type != MSG_OCALL_RETURN && type != MSG_UNLOAD)
        return protocol_error(c, SGX_ERROR_INVALID_PARAMETER, "message type %u is not one a host sends", type);
    if (len > (type == MSG_LOAD ? MODPROTO_LOAD_MAX : MODPROTO_MSG_MAX))
        return protocol_error(c, SGX_ERROR_INVALID_PARAMETER, "message type %u: payload of %u bytes is over the limit "
                              "of %u", type, len, type == MSG_LOAD ? MODPROTO_LOAD_MAX : MODPROTO_MSG_MAX);
    uint32_t ecall_state = __atomic_load_n(&k->state, __ATOMIC_ACQUIRE);
    uint32_t ocall_state = __atomic_load_n(&k->ocall_state, __ATOMIC_ACQUIRE);
    switch (type) {
    case MSG_LOAD:
        if (!(c->role == ROLE_NONE || (c->role == ROLE_MODULE && c->module_id == 0)))
            return protocol_error(c, SGX_ERROR_INVALID_STATE, "LOAD on a connection that %s",
                                  c->role == ROLE_CALL ? "is attached to a module" : "already loaded a module");
        if (c->rx_arg != 0)
            return protocol_error(c, SGX_ERROR_INVALID_PARAMETER, "LOAD with arg %u, not 0", c->rx_arg);
        c->role = ROLE_MODULE;
        return start_load(c);
    case MSG_ATTACH:
        if (c->role != ROLE_NONE)
            return protocol_error(c, SGX_ERROR_INVALID_STATE, "ATTACH on a connection that is already a %s connection",
                                  c->role == ROLE_CALL ? "call" : "module");
        if (len != 0)
            return protocol_error(c, SGX_ERROR_INVALID_PARAMETER, "ATTACH with a %u-byte payload, expected none", len);
        struct module *m = module_by_id(c->rx_arg);
        if (!m || m->unloading) {
            queue_message(c, MSG_ATTACHED, SGX_ERROR_INVALID_ENCLAVE_ID, NULL, 0, NULL, 0);
            return;
        }
        c->role = ROLE_CALL;
        c->module_id = m->id;
        queue_message(c, MSG_ATTACHED, SGX_SUCCESS, NULL, 0, NULL, 0);
        return;
    case MSG_ECALL:
        if (c->role != ROLE_CALL)
            return protocol_error(c, SGX_ERROR_INVALID_STATE, "ECALL before ATTACH");
        if (len < 4)
            return protocol_error(c, SGX_ERROR_INVALID_PARAMETER, "ECALL with a %u-byte payload, without out_capacity",
                                  len);
        if (ecall_state != CALL_NONE && ocall_state != OCALL_SENT)
            return protocol_error(c, SGX_ERROR_INVALID_STATE, "ECALL while ECALL %u is in flight", k->index);
        c->rx_phase = RX_PREFIX;
        return;
    case MSG_OCALL_RETURN:
        if (c->role != ROLE_CALL || ecall_state != CALL_RUNNING || ocall_state != OCALL_SENT)
            return protocol_error(c, SGX_ERROR_INVALID_STATE, "OCALL_RETURN without an OCALL");
        if (len > k->ocall_out_cap)
            return protocol_error(c, SGX_ERROR_INVALID_PARAMETER, "OCALL_RETURN with %u bytes, the OCALL's out_capacity "
                                  "is %lu", len, (unsigned long)k->ocall_out_cap);
        return expect_payload(c, k->ocall_out);
    default: /* MSG_UNLOAD */
        if (c->role != ROLE_MODULE || c->module_id == 0 || c->unload_requested)
            return protocol_error(c, SGX_ERROR_INVALID_STATE, "UNLOAD on a connection without a loaded module");
        if (len != 0)
            return protocol_error(c, SGX_ERROR_INVALID_PARAMETER, "UNLOAD with a %u-byte payload, expected none", len);
        if (c->rx_arg != c->module_id) {
            queue_message(c, MSG_UNLOADED, SGX_ERROR_INVALID_ENCLAVE_ID, NULL, 0, NULL, 0);
            return;
        }
        c->unload_requested = 1;
        return;
    }
}

/* The ECALL's out_capacity is in: where its in bytes go, or why it is refused (the bytes are then dropped). */
static void on_ecall_prefix(struct mconn *c)
{
    struct call *k = &c->call;
    uint64_t out_cap = le_get32(c->prefix), in_len = c->rx_len - 4;
    c->rx_len = in_len;
    c->reply_status = SGX_SUCCESS;
    struct module *m = module_by_id(c->module_id);
    if (!m || m->unloading)
        return protocol_error(c, SGX_ERROR_INVALID_ENCLAVE_ID, "module %u is unloaded", c->module_id);
    if (__atomic_load_n(&k->state, __ATOMIC_ACQUIRE) != CALL_NONE) {
        c->reply_status = SGX_ERROR_ECALL_NOT_ALLOWED;   /* nested in an OCALL: that OCALL stays pending */
    } else if (c->rx_arg >= m->ecall_count) {
        c->reply_status = SGX_ERROR_INVALID_FUNCTION;
    } else {
        uint64_t gpa = 0, need = ((in_len + 15) & ~15ull) + out_cap;
        if (need && !(gpa = heap_alloc(m, need, EXTENT_CALL))) {
            c->reply_status = SGX_ERROR_OUT_OF_MEMORY;
        } else {
            m->calls++;
            __atomic_store_n(&k->module, m, __ATOMIC_RELAXED);
            k->index = c->rx_arg;
            k->buffer = (uint8_t *)(uintptr_t)gpa;
            k->in_len = in_len;
            k->out_cap = out_cap;
            k->out_len = 0;
            if (out_cap)
                memset(k->buffer + need - out_cap, 0, out_cap);   /* no earlier call's bytes in it */
            return expect_payload(c, k->buffer);
        }
    }
    expect_payload(c, NULL);
}

static void on_payload(struct mconn *c)
{
    struct call *k = &c->call;
    c->rx_phase = RX_HEADER;
    c->rx_have = 0;
    switch (c->rx_type) {
    case MSG_LOAD: {
        uint32_t status = c->reply_status;
        if (status == SGX_SUCCESS)
            finish_load(c, &status);
        if (status == SGX_SUCCESS)
            queue_message(c, MSG_LOADED, SGX_SUCCESS, NULL, 0, c->loaded, LOADED_SUCCESS_SIZE);
        else
            queue_message(c, MSG_LOADED, status, NULL, 0, c->reason, strlen(c->reason));
        return;
    }
    case MSG_ECALL:
        if (c->reply_status != SGX_SUCCESS)
            return queue_message(c, MSG_ECALL_RETURN, c->reply_status, NULL, 0, NULL, 0);
        __atomic_store_n(&k->state, CALL_RUNNABLE, __ATOMIC_RELEASE);
        return;
    case MSG_OCALL_RETURN:
        k->ocall_out_len = c->rx_len;
        k->ocall_status = c->rx_arg;
        __atomic_store_n(&k->ocall_state, OCALL_ANSWERED, __ATOMIC_RELEASE);
        return;
    }
}

/* Reads what there is: 1 progress, 0 nothing yet, -1 the peer is gone. */
static int rx_step(struct mconn *c)
{
    int r;
    if (c->rx_phase == RX_HEADER) {
        r = vsock_recv(c->conn, c->hdr + c->rx_have, MODPROTO_HDR_SIZE - c->rx_have);
        if (r > 0 && (c->rx_have += (uint32_t)r) == MODPROTO_HDR_SIZE) {
            on_header(c);
            if (c->rx_phase == RX_PAYLOAD && c->rx_len == 0)
                on_payload(c);
        }
    } else if (c->rx_phase == RX_PREFIX) {
        r = vsock_recv(c->conn, c->prefix + c->rx_have, 4 - c->rx_have);
        if (r > 0 && (c->rx_have += (uint32_t)r) == 4) {
            on_ecall_prefix(c);
            if (c->rx_phase == RX_PAYLOAD && c->rx_len == 0)
                on_payload(c);
        }
    } else {
        uint64_t left = c->rx_len - c->rx_done;
        size_t n = left < RECV_CHUNK ? (size_t)left : RECV_CHUNK;
        if (c->rx_dst) {
            r = vsock_recv(c->conn, c->rx_dst + c->rx_done, n);
        } else {
            const uint8_t *data;
            r = vsock_recv_peek(c->conn, &data);
            if (r > 0) {
                if ((size_t)r > n)
                    r = (int)n;
                vsock_recv_consume(c->conn, (uint32_t)r);
            }
        }
        if (r > 0 && (c->rx_done += (uint64_t)r) == c->rx_len)
            on_payload(c);
    }
    if (r == -EAGAIN)
        return 0;
    return r > 0 ? 1 : -1;
}

/*
 * Winding down (peer gone, or after ERROR): a call in flight is cancelled if not yet claimed, else its
 * OCALL fails and we wait for it; a loaded module is unloaded once no call runs in it. 1 when all is done.
 */
static int wind_down(struct mconn *c)
{
    struct call *k = &c->call;
    uint32_t expected = CALL_RUNNABLE;
    if (__atomic_compare_exchange_n(&k->state, &expected, CALL_DONE, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        expected = CALL_DONE;
    if (expected == CALL_RUNNING) {
        uint32_t o = __atomic_load_n(&k->ocall_state, __ATOMIC_ACQUIRE);
        if (o == OCALL_POSTED || o == OCALL_SENT)
            __atomic_store_n(&k->ocall_state, OCALL_FAILED, __ATOMIC_RELEASE);
        return 0;
    }
    if (expected == CALL_DONE)
        call_free(c);
    if (c->staging_len) {
        modmem_unmap(c->staging, c->staging_len, 0);
        modmem_release(c->staging, c->staging_len);
        c->staging = c->staging_len = 0;
    }
    if (c->role == ROLE_MODULE && c->module_id) {
        struct module *m = module_by_id(c->module_id);
        if (m) {
            m->unloading = 1;
            if (m->calls)
                return 0;
            console_printf("modules: module %u unloaded (its connection closed)\n", m->id);
            module_release(m, m->elf.segment_count, 1);
        }
        c->module_id = 0;
    }
    return 1;
}

static struct mconn *mconn_of(struct service_task *t)
{
    if (t->state[0])
        return &conns[t->state[0] - 1];
    for (uint32_t i = 0; i < MAX_CONNS; i++) {
        if (!conns[i].used && __atomic_load_n(&conns[i].call.state, __ATOMIC_ACQUIRE) == CALL_NONE) {
            memset(&conns[i], 0, sizeof conns[i]);
            conns[i].used = 1;
            conns[i].conn = t->conn;
            t->state[0] = i + 1;
            return &conns[i];
        }
    }
    return NULL;
}

static int modsvc_step(struct service_task *t)
{
    struct mconn *c = mconn_of(t);
    if (!c) {
        console_printf("modules: more than %u connections, port %u closed\n", MAX_CONNS, vsock_peer_port(t->conn));
        return SERVICE_DONE;
    }
    struct call *k = &c->call;
    int work = 0;
    for (int round = 0; round < 64; round++) {
        if (tx_pending(c)) {
            int r = tx_push(c, &work);
            if (r == 0)
                break;
            if (r < 0)
                c->closing = 1;
            if (c->free_call_after_tx) {
                c->free_call_after_tx = 0;
                call_free(c);
            }
            if (c->close_after_tx)
                c->closing = 1;
        }
        if (c->closing) {
            if (!wind_down(c))
                return work ? SERVICE_WORKED : SERVICE_IDLE;
            c->used = 0;
            return SERVICE_DONE;
        }
        if (c->role == ROLE_CALL) {
            if (__atomic_load_n(&k->ocall_state, __ATOMIC_ACQUIRE) == OCALL_POSTED) {
                uint8_t cap[4];
                le_put32(cap, (uint32_t)k->ocall_out_cap);
                __atomic_store_n(&k->ocall_state, OCALL_SENT, __ATOMIC_RELEASE);
                queue_message(c, MSG_OCALL, k->ocall_index, cap, 4, k->ocall_in, k->ocall_in_len);
                work = 1;
                continue;
            }
            if (__atomic_load_n(&k->state, __ATOMIC_ACQUIRE) == CALL_DONE) {
                const uint8_t *out = k->buffer + ((k->in_len + 15) & ~15ull);
                queue_message(c, MSG_ECALL_RETURN, k->status, NULL, 0, out, k->out_len);
                c->free_call_after_tx = 1;
                work = 1;
                continue;
            }
        }
        if (c->role == ROLE_MODULE && c->unload_requested) {
            struct module *m = module_by_id(c->module_id);
            if (m) {
                m->unloading = 1;
                if (m->calls)
                    break;             /* a call still runs in it: answer once it has finished */
                console_printf("modules: module %u unloaded\n", m->id);
                module_release(m, m->elf.segment_count, 1);
            }
            c->unload_requested = 0;
            c->module_id = 0;
            queue_message(c, MSG_UNLOADED, SGX_SUCCESS, NULL, 0, NULL, 0);
            work = 1;
            continue;
        }
        int r = rx_step(c);
        if (r < 0)
            c->closing = 1;
        else if (r == 0)
            break;
        work = 1;
    }
    return work ? SERVICE_WORKED : SERVICE_IDLE;
}

void modsvc_init(const struct boot_info *bi)
{
    if (!services_vsock_up())
        return;
    production = !(bi->flags & ABI_BOOT_FLAG_DEBUG);
    runtime_set_idle_work(modsvc_run_calls);
    int r = services_listen(MODSVC_PORT, modsvc_step, "modules");
    if (r != 0)
        console_printf("modules: cannot listen on vsock port %u (error %d)\n", MODSVC_PORT, -r);
}
