/*
 * Host-side check of the module service (modsvc.c, modapi.c, modcall.S with the loader module_elf.c, sha384.c,
 * the crypto and modmem.c), end to end over the simulated vsock device and host peer of vsock-sim.c (included
 * below, its main renamed), with real modules: the build's test module and bad modules, signed here with a key
 * made by the host's openssl. modmem.c's MODMEM requests (host_check_modmem) are served as the VMM does it
 * (docs/module-runtime.md, section 1): the arena is host memory whose pages get the rights of each MAP through mprotect, so module code
 * really runs from R-X pages on the module's stacks, and a write to a read-only page would crash this check.
 * Two vCPU threads run the idle loop (the calls, then the services) while the main thread runs the device and
 * the host application, so a call blocked in its OCALL waits for the host as it would in the enclave.
 *
 * Scenarios: refusals (debug module in a production enclave, missing import, R_X86_64_64, changed code, a
 * flipped signature bit, arena too small) leave no page mapped; LOAD, ATTACH, each ECALL of the test module, an OCALL round trip, a
 * nested ECALL during an OCALL, the module's lies (out_len > out_cap), bad index, out of memory; every
 * protocol error closes only its own connection; UNLOAD and closing the module connection (also while a call
 * waits for its OCALL) unmap everything.
 */
#define _GNU_SOURCE
#define main vsock_sim_main
#include "vsock-sim.c"
#include "../le.h"
#undef main

#include <math.h>
#include <sched.h>
#include <sys/mman.h>

#include "../cpu.h"
#include <unistd.h>

#include "../crypto.h"
#include "../modmem.h"
#include "../modproto.h"
#include "../modsvc.h"
#include "../module_elf.h"

#define SIM_ARENA_SIZE (32ull << 20)

static uint64_t arena_gpa;   /* host memory, 2 MiB aligned as the contract has it */

/* ---- what the module service needs from the runtime ---- */

static int (*idle_work)(uint32_t vcpu);
static void host_modproto_work(void);

void console_write(const char *s, size_t len)
{
    if (verbose)
        printf("  module prints: %.*s\n", (int)len, s);
}

void runtime_set_idle_work(int (*work)(uint32_t vcpu))
{
    idle_work = work;
}

/* One turn of the host side (main thread): the device, then the host clients. */
static void sim_turn(void)
{
    device_run();
    host_modproto_work();
}

/* An ECALL's vCPU waiting for its OCALL: keeps the services going, as the runtime's idle loop does. */
void runtime_wait_until(uint32_t vcpu, int (*done)(void *ctx), void *ctx)
{
    double t0 = now_s();
    while (!done(ctx)) {
        modmem_idle(vcpu);
        if (!services_poll(vcpu))
            sched_yield();
        if (now_s() - t0 > 30) {
            CHECK(0, "vCPU %u: an OCALL was not answered in 30 s", vcpu);
            exit(1);
        }
    }
}

static int sim_vcpus_run;

/* A vCPU's idle loop (runtime.c's serve_until without WAIT): the calls first, then the services. */
static void *sim_vcpu(void *arg)
{
    uint32_t vcpu = (uint32_t)(uintptr_t)arg;
    while (__atomic_load_n(&sim_vcpus_run, __ATOMIC_ACQUIRE)) {
        modmem_idle(vcpu);
        if (idle_work && idle_work(vcpu))
            continue;
        if (!services_poll(vcpu))
            sched_yield();   /* the build host is shared: idle vCPUs give the main thread its turn */
    }
    return NULL;
}

/* ---- the VMM side of the MODMEM port ---- */

static uint32_t page_tag[SIM_ARENA_SIZE / 4096];
static uint8_t page_present[SIM_ARENA_SIZE / 4096];
static uint32_t modmem_requests, modmem_refused, tlb_flushes;

static int in_arena(uint64_t a, uint64_t len)
{
    return a >= arena_gpa && a - arena_gpa <= SIM_ARENA_SIZE && len <= SIM_ARENA_SIZE - (a - arena_gpa);
}

static uint32_t present_pages(void)
{
    uint32_t n = 0;
    for (size_t i = 0; i < SIM_ARENA_SIZE / 4096; i++)
        n += __atomic_load_n(&page_present[i], __ATOMIC_RELAXED);
    return n;
}

/* Rights of a RW-mapped src page in the arena count as user RW RAM, as the contract says. */
static int src_ok(uint64_t src, uint64_t len)
{
    if (src >= (uint64_t)(uintptr_t)ram && src - (uintptr_t)ram <= RAM_SIZE && len <= RAM_SIZE - (src - (uintptr_t)ram))
        return 1;
    if (!in_arena(src, len))
        return 0;
    for (uint64_t p = (src - arena_gpa) / 4096; p < (src - arena_gpa + len + 4095) / 4096; p++)
        if (!page_present[p])
            return 0;
    return 1;
}

static uint32_t modmem_do(struct modmem_request *r)
{
    if ((r->op != 1 && r->op != 2) || (r->op == 1 && (!(r->rights & 4) || (r->rights & 3) == 3 || r->rights > 7)))
        return 1;
    if (r->dst % 4096 || r->length % 4096 || r->length == 0 || !in_arena(r->dst, r->length))
        return 2;
    uint64_t first = (r->dst - arena_gpa) / 4096, n = r->length / 4096;
    void *dst = (void *)(uintptr_t)r->dst;
    if (r->op == 1) {
        if (r->src && (!src_ok(r->src, r->length) || (r->src < r->dst + r->length && r->dst < r->src + r->length)))
            return 3;
        for (uint64_t p = first; p < first + n; p++)
            if (page_present[p])
                return 4;
        mprotect(dst, r->length, PROT_READ | PROT_WRITE);
        if (r->src)
            memcpy(dst, (void *)(uintptr_t)r->src, r->length);
        else
            memset(dst, 0, r->length);
        int prot = PROT_READ | (r->rights & 2 ? PROT_WRITE : 0) | (r->rights & 1 ? PROT_EXEC : 0);
        CHECK(mprotect(dst, r->length, prot) == 0, "mprotect");
        for (uint64_t p = first; p < first + n; p++) {
            page_tag[p] = r->tag;
            __atomic_store_n(&page_present[p], 1, __ATOMIC_RELAXED);
        }
        return 0;
    }
    for (uint64_t p = first; p < first + n; p++)
        if (!page_present[p] || page_tag[p] != r->tag)
            return 4;
    mprotect(dst, r->length, PROT_READ | PROT_WRITE);
    memset(dst, 0, r->length);
    mprotect(dst, r->length, PROT_NONE);
    for (uint64_t p = first; p < first + n; p++)
        __atomic_store_n(&page_present[p], 0, __ATOMIC_RELAXED);
    return 0;
}

/* modmem.c's port write, under ENCLAVE_HOST_CHECK. */
uint32_t host_check_modmem(struct modmem_request *r)
{
    __atomic_add_fetch(&modmem_requests, 1, __ATOMIC_RELAXED);
    uint32_t status = modmem_do(r);
    __atomic_store_n(&r->status, status, __ATOMIC_RELEASE);
    if (status)
        __atomic_add_fetch(&modmem_refused, 1, __ATOMIC_RELAXED);
    if (verbose)
        printf("  MODMEM %s 0x%" PRIx64 "+0x%" PRIx64 " rights %u tag %u: %u\n", r->op == 1 ? "MAP" : "UNMAP", r->dst,
               r->length, r->rights, r->tag, status);
    return status;
}

/* The TLB flush gate: mprotect already took effect on every thread. */
void host_check_flush(void)
{
    __atomic_add_fetch(&tlb_flushes, 1, __ATOMIC_RELAXED);
}

/* ---- signing (docs/module-format.md, "Signature structure"), with the host's openssl ---- */

static char key_dir[] = "/tmp/modsvc-sim-XXXXXX";
static uint8_t pub_der[1024];
static size_t pub_len;

static void run(const char *cmd)
{
    if (system(cmd) != 0) {
        printf("FAIL: %s\n", cmd);
        exit(1);
    }
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        printf("FAIL: cannot read %s (make builds the modules)\n", path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(*len + 1);
    CHECK(fread(b, 1, *len, f) == *len, "read %s", path);
    fclose(f);
    return b;
}

static void write_file(const char *path, const void *b, size_t len)
{
    FILE *f = fopen(path, "wb");
    CHECK(f && fwrite(b, 1, len, f) == len, "write %s", path);
    fclose(f);
}

static void make_key(void)
{
    char cmd[512];
    CHECK(mkdtemp(key_dir) != NULL, "mkdtemp");
    snprintf(cmd, sizeof cmd, "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -pkeyopt rsa_keygen_pubexp:3 "
             "-out %s/key.pem 2>/dev/null && openssl pkey -in %s/key.pem -pubout -outform DER -out %s/pub.der",
             key_dir, key_dir, key_dir);
    run(cmd);
    char path[256];
    snprintf(path, sizeof path, "%s/pub.der", key_dir);
    uint8_t *p = read_file(path, &pub_len);
    memcpy(pub_der, p, pub_len);
    free(p);
}

struct config {
    int debug;
    uint32_t tcs;
    uint64_t stack, heap;
};

/* The signed file; the measurement is the module's own unless the ELF is refused (then zeros: step 2 refuses
 * before step 4 looks). */
static uint8_t *sign(const uint8_t *elf_bytes, size_t len, struct config cfg, size_t *out_len)
{
    static struct module_elf elf;
    struct module_error err;
    uint8_t mr[48] = { 0 };
    if (module_elf_parse(elf_bytes, len, &elf, &err) == 0)
        module_measure(elf_bytes, &elf, mr);
    size_t k = pub_len, s = 384, S = 192 + k + s + 16;
    uint8_t *f = calloc(1, len + S);
    memcpy(f, elf_bytes, len);
    uint8_t *h = f + len;
    memcpy(h, "ENCLVMOD", 8);
    le_put16(h + 8, 1);
    le_put16(h + 10, 192);
    le_put32(h + 12, (uint32_t)S);
    le_put64(h + 16, len);
    le_put32(h + 24, KEY_TYPE_RSA3072);
    le_put32(h + 28, (uint32_t)k);
    le_put32(h + 32, (uint32_t)s);
    le_put32(h + 36, cfg.debug ? MODULE_ATTRIBUTE_DEBUG : 0);
    le_put16(h + 40, 7);
    le_put16(h + 42, 3);
    le_put32(h + 44, cfg.tcs);
    le_put64(h + 48, cfg.stack);
    le_put64(h + 56, cfg.heap);
    memcpy(h + 64, mr, 48);
    sha384(pub_der, pub_len, h + 112);
    memcpy(h + 192, pub_der, k);
    char tbs[256], sig[256], cmd[768];
    snprintf(tbs, sizeof tbs, "%s/tbs", key_dir);
    snprintf(sig, sizeof sig, "%s/sig", key_dir);
    write_file(tbs, h, 192 + k);
    snprintf(cmd, sizeof cmd, "openssl dgst -sha384 -sign %s/key.pem -out %s %s", key_dir, sig, tbs);
    run(cmd);
    size_t sl;
    uint8_t *sb = read_file(sig, &sl);
    CHECK(sl == 384, "signature of %zu bytes", sl);
    memcpy(h + 192 + k, sb, 384);
    free(sb);
    le_put64(h + 192 + k + s, S);
    memcpy(h + 200 + k + s, "ENCLVMOD", 8);
    *out_len = len + S;
    return f;
}

/* ---- the host application's side of port 7000 ---- */

struct frame {
    uint16_t type;
    uint32_t arg, len;
    uint8_t *payload;
};

struct client {
    struct hconn *c;
    uint8_t *out;
    size_t out_len, out_sent, got_read;
    struct frame frames[16];
    int nframes;
    int answer_ocalls;    /* answer OCALL 0 at once: status 0, out = the in bytes reversed (capped) */
    int ocalls;
};

static struct client clients[16];

static struct client *client_open(void)
{
    struct client *cl = NULL;
    for (int i = 0; i < 16 && !cl; i++)
        if (!clients[i].c)
            cl = &clients[i];
    CHECK(cl, "out of clients");
    memset(cl, 0, sizeof *cl);
    cl->c = host_connect(MODSVC_PORT, 0, HOST_BUF);
    cl->c->kind = K_RAW;
    for (double t0 = now_s(); cl->c->state == H_CONNECTING && now_s() - t0 < 10;)
        sim_turn();
    CHECK(cl->c->state == H_OPEN, "connection to port %u not open (state %d)", MODSVC_PORT, cl->c->state);
    return cl;
}

static void client_free(struct client *cl)
{
    free(cl->out);
    for (int i = 0; i < cl->nframes; i++)
        free(cl->frames[i].payload);
    cl->c = NULL;
}

static void client_close(struct client *cl)
{
    queue_to_guest(VIRTIO_VSOCK_OP_SHUTDOWN, cl->c->hport, cl->c->gport, 3, NULL, 0, cl->c);
    cl->c->shut_sent = 3;
    for (double t0 = now_s(); cl->c->state == H_OPEN && now_s() - t0 < 10;)
        sim_turn();
    client_free(cl);
}

static void send_raw(struct client *cl, const void *b, size_t n)
{
    cl->out = realloc(cl->out, cl->out_len + n);
    memcpy(cl->out + cl->out_len, b, n);
    cl->out_len += n;
}

static void send_frame(struct client *cl, uint16_t type, uint32_t arg, const void *prefix, size_t prefix_len,
                       const void *payload, size_t len)
{
    uint8_t h[16];
    le_put32(h, MODPROTO_MAGIC);
    le_put16(h + 4, type);
    le_put16(h + 6, 0);
    le_put32(h + 8, (uint32_t)(prefix_len + len));
    le_put32(h + 12, arg);
    send_raw(cl, h, 16);
    if (prefix_len)
        send_raw(cl, prefix, prefix_len);
    if (len)
        send_raw(cl, payload, len);
}

static void client_work(struct client *cl)
{
    struct hconn *c = cl->c;
    while (c->state == H_OPEN && cl->out_sent < cl->out_len && pending_count < MAX_PENDING / 2) {
        uint32_t credit = vsock_peer_credit(c->g_buf_alloc, c->g_fwd_cnt, c->tx_cnt);
        size_t n = cl->out_len - cl->out_sent;
        if (n > credit)
            n = credit;
        if (n > 65536 - VSOCK_HDR_SIZE)
            n = 65536 - VSOCK_HDR_SIZE;
        if (n == 0)
            break;
        queue_to_guest(VIRTIO_VSOCK_OP_RW, c->hport, c->gport, 0, cl->out + cl->out_sent, (uint32_t)n, c);
        cl->out_sent += n;
        c->tx_cnt += (uint32_t)n;
    }
    while (c->got_len - cl->got_read >= 16) {
        const uint8_t *h = c->got + cl->got_read;
        uint32_t len = le_get32(h + 8);
        CHECK(le_get32(h) == MODPROTO_MAGIC, "frame from the enclave with magic 0x%x", le_get32(h));
        if (c->got_len - cl->got_read - 16 < len)
            break;
        struct frame f = { (uint16_t)(h[4] | h[5] << 8), le_get32(h + 12), len, malloc(len + 1) };
        memcpy(f.payload, h + 16, len);
        f.payload[len] = 0;
        cl->got_read += 16 + len;
        if (f.type == MSG_OCALL && cl->answer_ocalls) {
            cl->ocalls++;
            uint32_t cap = le_get32(f.payload), n = len - 4 < cap ? len - 4 : cap;
            uint8_t *back = malloc(n + 1);
            for (uint32_t i = 0; i < n; i++)
                back[i] = f.payload[4 + (len - 4) - 1 - i];
            send_frame(cl, MSG_OCALL_RETURN, 0, NULL, 0, back, n);
            free(back);
            free(f.payload);
            continue;
        }
        CHECK(cl->nframes < 16, "frames pile up");
        cl->frames[cl->nframes++] = f;
    }
}

static void host_modproto_work(void)
{
    for (int i = 0; i < 16; i++)
        if (clients[i].c)
            client_work(&clients[i]);
}

/* Turns until cl has a frame or its connection closed; 1 if a frame. */
static int next_frame(struct client *cl, struct frame *f)
{
    double t0 = now_s();
    while (cl->nframes == 0 && cl->c->state == H_OPEN && now_s() - t0 < 20)
        sim_turn();
    client_work(cl);   /* what came before the close */
    if (cl->nframes == 0)
        return 0;
    *f = cl->frames[0];
    memmove(&cl->frames[0], &cl->frames[1], (size_t)--cl->nframes * sizeof cl->frames[0]);
    return 1;
}

static struct frame expect(struct client *cl, uint16_t type, uint32_t status, const char *what)
{
    struct frame f = { 0, 0, 0, NULL };
    if (!next_frame(cl, &f)) {
        CHECK(0, "%s: no answer (connection state %d)", what, cl->c->state);
        return f;
    }
    CHECK(f.type == type && f.arg == status, "%s: got type %u status 0x%x (%s), expected type %u status 0x%x", what,
          f.type, f.arg, f.type == MSG_ERROR || f.type == MSG_LOADED ? (char *)f.payload : "", type, status);
    return f;
}

/* ERROR with a reason containing words, then the enclave closes the connection. */
static void expect_error(struct client *cl, uint32_t status, const char *words, const char *what)
{
    struct frame f = expect(cl, MSG_ERROR, status, what);
    CHECK(f.payload && strstr((char *)f.payload, words), "%s: ERROR reason \"%s\" lacks \"%s\"", what,
          f.payload ? (char *)f.payload : "", words);
    free(f.payload);
    for (double t0 = now_s(); cl->c->state == H_OPEN && now_s() - t0 < 10;)
        sim_turn();
    CHECK(cl->c->state == H_CLOSED, "%s: the enclave did not close the connection after ERROR", what);
    client_free(cl);
}

static uint32_t load(struct client *cl, const uint8_t *file, size_t len, uint32_t status, const char *words,
                     struct frame *ok)
{
    send_frame(cl, MSG_LOAD, 0, NULL, 0, file, len);
    struct frame f = expect(cl, MSG_LOADED, status, words);
    uint32_t id = 0;
    if (status == SGX_SUCCESS) {
        CHECK(f.len == LOADED_SUCCESS_SIZE, "LOADED payload of %u bytes", f.len);
        id = f.len >= 4 ? le_get32(f.payload) : 0;
        if (ok)
            *ok = f;
        else
            free(f.payload);
    } else {
        CHECK(f.payload && strstr((char *)f.payload, words), "LOADED reason \"%s\" lacks \"%s\"",
              f.payload ? (char *)f.payload : "", words);
        free(f.payload);
    }
    return id;
}

static struct frame ecall(struct client *cl, uint32_t index, const void *in, size_t in_len, uint32_t out_cap,
                          uint32_t status, const char *what)
{
    uint8_t cap[4];
    le_put32(cap, out_cap);
    send_frame(cl, MSG_ECALL, index, cap, 4, in, in_len);
    return expect(cl, MSG_ECALL_RETURN, status, what);
}

static struct client *attach(uint32_t id)
{
    struct client *cl = client_open();
    send_frame(cl, MSG_ATTACH, id, NULL, 0, NULL, 0);
    free(expect(cl, MSG_ATTACHED, SGX_SUCCESS, "ATTACH").payload);
    return cl;
}

static uint8_t *module_file(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/modules/%s", getenv("MODSVC_SIM_MODULES") ? getenv("MODSVC_SIM_MODULES") : ".",
             name);
    return read_file(path, len);
}

static int all_unmapped(void)
{
    return present_pages() == 0;
}

/*
 * The trusted library's test module (libde_trts, SSE): malloc over heap chunks, snprintf and the math against
 * the host's, SHA-256, the module's range, RDRAND, and the heap shared by malloc and the call buffers.
 */
static void check_trts_module(void)
{
    size_t len, tl;
    uint8_t *tm = module_file("trts-module.so", &tl);
    struct config cfg = { 0, 2, 0x20000, 0x400000 };
    uint8_t *file = sign(tm, tl, cfg, &len);
    struct client *mc = client_open();
    struct frame loaded;
    uint32_t id = load(mc, file, len, SGX_SUCCESS, "LOAD trts-module", &loaded);
    uint64_t base;
    memcpy(&base, loaded.payload + 112, 8);
    free(loaded.payload);
    struct client *cc = attach(id);
    uint32_t rounds = 30, zero = 0;
    struct frame r = ecall(cc, 0, &rounds, 4, 4, SGX_SUCCESS, "trts ECALL 0 (malloc)");
    CHECK(r.len == 4 && memcmp(r.payload, &zero, 4) == 0, "malloc: %u blocks lost their bytes", r.len == 4 ? le_get32(r.payload) : 0);
    free(r.payload);
    double v[2] = { 20.0, 0.5 };
    char want[128];
    snprintf(want, sizeof want, "%g|%.2f|%.3e|%d|%s|%x", sqrt(v[0]), pow(v[0], v[1]), exp(v[1]), (int)floor(v[0]), "trts",
             0xbeefu);
    r = ecall(cc, 1, v, sizeof v, 128, SGX_SUCCESS, "trts ECALL 1 (format)");
    CHECK(r.len == strlen(want) + 1 && strcmp((char *)r.payload, want) == 0, "format: \"%s\", host \"%s\"", r.payload, want);
    free(r.payload);
    double pts[4] = { 3, 4, 1, 8 }, dist = 0;
    r = ecall(cc, 2, pts, sizeof pts, 8, SGX_SUCCESS, "trts ECALL 2 (distance)");
    if (r.len == 8)
        memcpy(&dist, r.payload, 8);
    CHECK(dist == sqrt(20.0), "distance A(3,4) B(1,8): %.17g, expected %.17g", dist, sqrt(20.0));
    free(r.payload);
    static const uint8_t abc[32] = { 0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22,
                                     0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00,
                                     0x15, 0xad };
    r = ecall(cc, 3, "abc", 3, 32, SGX_SUCCESS, "trts ECALL 3 (sha256)");
    CHECK(r.len == 32 && memcmp(r.payload, abc, 32) == 0, "SHA-256(abc) wrong");
    free(r.payload);
    r = ecall(cc, 4, "0123456789", 10, 4, SGX_SUCCESS, "trts ECALL 4 (range)");
    CHECK(r.len == 4 && le_get32(r.payload) == 31, "range flags 0x%x, expected 0x1f", r.len == 4 ? le_get32(r.payload) : 0);
    free(r.payload);
    struct frame r1 = ecall(cc, 5, NULL, 0, 32, SGX_SUCCESS, "trts ECALL 5 (rand)");
    struct frame r2 = ecall(cc, 5, NULL, 0, 32, SGX_SUCCESS, "trts ECALL 5 again");
    CHECK(r1.len == 32 && r2.len == 32 && memcmp(r1.payload, r2.payload, 32) != 0, "two draws of 32 random bytes are equal");
    free(r1.payload);
    free(r2.payload);
    /* malloc and the call buffers share HeapMaxSize: a held 3 MiB leaves no room for a 2 MiB answer until freed */
    uint32_t three = 3u << 20;
    free(ecall(cc, 6, &three, 4, 0, SGX_SUCCESS, "trts ECALL 6 (hold 3 MiB)").payload);
    free(ecall(cc, 6, &three, 4, 0, SGX_ERROR_OUT_OF_MEMORY, "trts ECALL 6 (another 3 MiB)").payload);
    free(ecall(cc, 5, NULL, 0, 2u << 20, SGX_ERROR_OUT_OF_MEMORY, "2 MiB out while 3 MiB are held").payload);
    free(ecall(cc, 7, NULL, 0, 0, SGX_SUCCESS, "trts ECALL 7 (release)").payload);
    r = ecall(cc, 5, NULL, 0, 2u << 20, SGX_SUCCESS, "2 MiB out after the release");
    CHECK(r.len == 2u << 20, "2 MiB of random bytes: %u", r.len);
    free(r.payload);
    client_close(cc);
    send_frame(mc, MSG_UNLOAD, id, NULL, 0, NULL, 0);
    free(expect(mc, MSG_UNLOADED, SGX_SUCCESS, "UNLOAD trts-module").payload);
    CHECK(all_unmapped(), "%u pages mapped after trts-module's UNLOAD", present_pages());
    client_close(mc);
    free(file);
    free(tm);
}

int main(void)
{
    verbose = getenv("VSOCK_SIM_VERBOSE") != NULL;
    srand(1);
    ram = aligned_alloc(1 << 21, RAM_SIZE);
    uint8_t *arena = mmap(NULL, SIM_ARENA_SIZE + (2u << 20), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (!ram || arena == MAP_FAILED) {
        printf("FAIL: no memory for guest RAM and the arena\n");
        return 1;
    }
    arena_gpa = ((uintptr_t)arena + (2u << 20) - 1) & ~(uint64_t)((2u << 20) - 1);
    boot.magic = ABI_BOOT_INFO_MAGIC;
    boot.version = ABI_BOOT_INFO_VERSION;
    boot.vcpu_count = 2;
    boot.flags = 0;   /* a production enclave: debug modules are refused */
    boot.ram_size = (uintptr_t)ram + RAM_SIZE;
    boot.image_end = (uintptr_t)ram;
    boot.cid = GUEST_CID;
    boot.device_count = 1;
    boot.devices[0].type = ABI_DEVICE_VSOCK;
    boot.devices[0].mmio_gpa = boot.ram_size;
    page_alloc_init(&boot);
    services_init(&boot);
    /* The arena is host memory apart from RAM here (the heap would end below it otherwise): named only now. */
    boot.module_arena_gpa = arena_gpa;
    boot.module_arena_size = SIM_ARENA_SIZE;
    modmem_init(&boot);
    modsvc_init(&boot);
    CHECK(idle_work == modsvc_run_calls, "modsvc_init did not register the call runner");
    dev.threaded = 1;
    sim_vcpus_run = 1;
    pthread_t vcpu_threads[2];
    for (uintptr_t i = 0; i < 2; i++)
        pthread_create(&vcpu_threads[i], NULL, sim_vcpu, (void *)i);
    make_key();

    size_t tm_len, bi_len, br_len;
    uint8_t *tm = module_file("test-module.so", &tm_len);
    uint8_t *bad_import = module_file("bad-import.so", &bi_len);
    uint8_t *bad_reloc = module_file("bad-reloc64.so", &br_len);
    struct config prod = { 0, 2, 0x10000, 0x100000 }, debug = prod;
    debug.debug = 1;
    size_t len;

    /* Refusals: each answered with its status and E-code, on the same connection, and nothing stays mapped. */
    struct client *mc = client_open();
    uint8_t *file = sign(tm, tm_len, debug, &len);
    load(mc, file, len, SGX_ERROR_NDEBUG_ENCLAVE, "E815:", NULL);
    free(file);
    file = sign(bad_import, bi_len, prod, &len);
    load(mc, file, len, SGX_ERROR_UNDEFINED_SYMBOL, "enclave_no_such_function", NULL);
    free(file);
    file = sign(bad_reloc, br_len, prod, &len);
    load(mc, file, len, SGX_ERROR_INVALID_ENCLAVE, "E805: ", NULL);
    free(file);
    file = sign(tm, tm_len, prod, &len);
    uint8_t *changed = malloc(len);
    memcpy(changed, file, len);
    uint8_t answer[4] = { 0x34, 0x12, 0xed, 0x5e };   /* ecall_answer's constant, in the code */
    uint8_t *code = memmem(changed, tm_len, answer, 4);
    CHECK(code != NULL, "ecall_answer's constant not found");
    if (code)
        code[0] ^= 1;
    load(mc, changed, len, SGX_ERROR_INVALID_SIGNATURE, "E811", NULL);
    memcpy(changed, file, len);
    changed[len - 100] ^= 0x10;   /* in the signature */
    load(mc, changed, len, SGX_ERROR_INVALID_SIGNATURE, "E812", NULL);
    struct config huge = { 0, 1000, 0x100000, 0x100000 };
    size_t big_len;
    uint8_t *big = sign(tm, tm_len, huge, &big_len);
    load(mc, big, big_len, SGX_ERROR_OUT_OF_EPC, "arena", NULL);
    free(big);
    CHECK(all_unmapped(), "%u arena pages still mapped after refused LOADs", present_pages());
    uint64_t free_before = modmem_free();

    /* LOAD: LOADED with the module's identity. */
    struct frame loaded;
    uint32_t id = load(mc, file, len, SGX_SUCCESS, "LOAD", &loaded);
    CHECK(id != 0, "module id 0");
    uint8_t mrsigner[48];
    sha384(pub_der, pub_len, mrsigner);
    CHECK(le_get32(loaded.payload + 4) == 2 && memcmp(loaded.payload + 8, file + tm_len + 64, 48) == 0
              && memcmp(loaded.payload + 56, mrsigner, 48) == 0 && (loaded.payload[104] | loaded.payload[105] << 8) == 7
              && (loaded.payload[106] | loaded.payload[107] << 8) == 3 && le_get32(loaded.payload + 108) == 0,
          "LOADED payload: tcs %u, identity fields wrong", le_get32(loaded.payload + 4));
    uint64_t base;
    memcpy(&base, loaded.payload + 112, 8);
    CHECK(in_arena(base, 4096) && base % 4096 == 0, "base 0x%" PRIx64 " not in the arena", base);
    free(loaded.payload);
    CHECK(present_pages() > 0, "nothing mapped after LOAD");

    /* ATTACH and every ECALL of the test module. */
    struct client *cc = attach(id);
    free(ecall(cc, 0, NULL, 0, 0, SGX_SUCCESS, "ECALL 0 (empty)").payload);
    uint8_t in[100000], expect_out[100000];
    for (size_t i = 0; i < sizeof in; i++)
        in[i] = (uint8_t)rand();
    struct frame r = ecall(cc, 1, in, sizeof in, sizeof in, SGX_SUCCESS, "ECALL 1 (echo)");
    CHECK(r.len == sizeof in && memcmp(r.payload, in, sizeof in) == 0, "echo came back as %u bytes", r.len);
    free(r.payload);
    free(ecall(cc, 1, in, 10, 9, SGX_ERROR_INVALID_PARAMETER, "ECALL 1, out_cap too small").payload);
    r = ecall(cc, 2, in, 5000, 8, SGX_SUCCESS, "ECALL 2 (sum)");
    uint64_t sum = 0, got = 0;
    for (size_t i = 0; i < 5000; i++)
        sum += in[i];
    if (r.len == 8)
        memcpy(&got, r.payload, 8);
    CHECK(r.len == 8 && got == sum, "sum %" PRIu64 ", expected %" PRIu64, got, sum);
    free(r.payload);
    r = ecall(cc, 3, NULL, 0, 9000, SGX_SUCCESS, "ECALL 3 (fill)");
    int same = r.len == 9000;
    for (uint32_t i = 0; same && i < 9000; i++)
        same = r.payload[i] == (uint8_t)(i * 7 + (i >> 12));
    CHECK(same, "fill: %u bytes, not the pattern", r.len);
    free(r.payload);
    r = ecall(cc, 4, in, 3000, 3000, SGX_SUCCESS, "ECALL 4 (transform)");
    for (size_t i = 0; i < 3000; i++)
        expect_out[i] = (uint8_t)~in[3000 - 1 - i];
    CHECK(r.len == 3000 && memcmp(r.payload, expect_out, 3000) == 0, "transform wrong (%u bytes)", r.len);
    free(r.payload);
    r = ecall(cc, 5, "hello, Module 7", 16, 64, SGX_SUCCESS, "ECALL 5 (string)");
    CHECK(r.len == 16 && memcmp(r.payload, "HELLO, MODULE 7", 16) == 0, "string came back as \"%s\"", r.payload);
    free(r.payload);
    free(ecall(cc, 5, "no NUL", 6, 64, SGX_ERROR_INVALID_PARAMETER, "ECALL 5 without a NUL").payload);
    r = ecall(cc, 6, in, 16, 24, SGX_SUCCESS, "ECALL 6 (addresses)");
    uint64_t a[3] = { 0, 0, 0 };
    if (r.len == 24)
        memcpy(a, r.payload, 24);
    CHECK(a[0] > base && in_arena(a[0], 16) && a[1] > a[0] && in_arena(a[1], 24) && a[2] > base && in_arena(a[2], 8),
          "addresses in 0x%" PRIx64 " out 0x%" PRIx64 " stack 0x%" PRIx64 " not in the module (base 0x%" PRIx64 ")",
          a[0], a[1], a[2], base);
    free(r.payload);
    cc->answer_ocalls = 1;
    r = ecall(cc, 7, in, 777, 1000, SGX_SUCCESS, "ECALL 7 (OCALL round trip)");
    for (size_t i = 0; i < 777; i++)
        expect_out[i] = in[777 - 1 - i];
    CHECK(cc->ocalls == 1 && r.len == 777 && memcmp(r.payload, expect_out, 777) == 0, "OCALL round trip: %d OCALLs, "
          "%u bytes back", cc->ocalls, r.len);
    free(r.payload);
    cc->answer_ocalls = 0;
    uint32_t spins = 1000;
    free(ecall(cc, 9, &spins, 4, 0, SGX_SUCCESS, "ECALL 9 (spin)").payload);
    free(ecall(cc, 10, NULL, 0, 16, SGX_ERROR_UNEXPECTED, "ECALL 10 (out_len > out_cap)").payload);
    free(ecall(cc, 11, NULL, 0, 0, SGX_ERROR_INVALID_FUNCTION, "ECALL 11").payload);
    free(ecall(cc, 1, in, 100, 2u << 20, SGX_ERROR_OUT_OF_MEMORY, "ECALL with 2 MiB out_cap").payload);
    free(ecall(cc, 1, in, 100, 100, SGX_SUCCESS, "ECALL after OUT_OF_MEMORY").payload);

    /* A nested ECALL during an OCALL: ECALL_NOT_ALLOWED, and the OCALL stays pending. */
    uint8_t cap[4];
    le_put32(cap, 64);
    send_frame(cc, MSG_ECALL, 7, cap, 4, "abc", 3);
    struct frame o = expect(cc, MSG_OCALL, 0, "OCALL of ECALL 7");
    CHECK(o.len == 7 && le_get32(o.payload) == 64 && memcmp(o.payload + 4, "abc", 3) == 0, "OCALL payload wrong (%u)",
          o.len);
    free(o.payload);
    free(ecall(cc, 0, NULL, 0, 0, SGX_ERROR_ECALL_NOT_ALLOWED, "nested ECALL").payload);
    send_frame(cc, MSG_OCALL_RETURN, 0x1234, NULL, 0, "xyz!", 4);
    r = expect(cc, MSG_ECALL_RETURN, 0x1234, "ECALL 7 after its OCALL_RETURN");
    CHECK(r.len == 0, "ECALL 7 returned status 0x1234 with %u bytes: out bytes go back only on SUCCESS", r.len);
    free(r.payload);

    /* Protocol errors: ERROR and close, each on its own connection; the call connection goes on. */
    struct client *bad = client_open();
    uint8_t junk[16] = { 1, 2, 3, 4, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
    send_raw(bad, junk, 16);
    expect_error(bad, SGX_ERROR_INVALID_PARAMETER, "bad magic", "bad magic");
    bad = client_open();
    send_frame(bad, 12, 0, NULL, 0, NULL, 0);
    expect_error(bad, SGX_ERROR_INVALID_PARAMETER, "type 12", "unknown type");
    bad = client_open();
    send_frame(bad, MSG_LOADED, 0, NULL, 0, NULL, 0);
    expect_error(bad, SGX_ERROR_INVALID_PARAMETER, "type 2", "a type only the enclave sends");
    bad = attach(id);
    uint8_t h[16];
    le_put32(h, MODPROTO_MAGIC);
    le_put16(h + 4, MSG_ECALL);
    le_put16(h + 6, 0);
    le_put32(h + 8, MODPROTO_MSG_MAX + 1);
    le_put32(h + 12, 1);
    send_raw(bad, h, 16);
    expect_error(bad, SGX_ERROR_INVALID_PARAMETER, "over the limit", "ECALL over 16 MiB");
    bad = client_open();
    le_put16(h + 4, MSG_ATTACH);
    le_put16(h + 6, 1);
    le_put32(h + 8, 0);
    send_raw(bad, h, 16);
    expect_error(bad, SGX_ERROR_INVALID_PARAMETER, "reserved", "reserved field set");
    bad = client_open();
    send_frame(bad, MSG_ECALL, 0, cap, 4, NULL, 0);
    expect_error(bad, SGX_ERROR_INVALID_STATE, "before ATTACH", "ECALL before ATTACH");
    bad = attach(id);
    send_frame(bad, MSG_OCALL_RETURN, 0, NULL, 0, NULL, 0);
    expect_error(bad, SGX_ERROR_INVALID_STATE, "without an OCALL", "OCALL_RETURN without OCALL");
    bad = attach(id);
    send_frame(bad, MSG_LOAD, 0, NULL, 0, file, 100);
    expect_error(bad, SGX_ERROR_INVALID_STATE, "LOAD", "LOAD on a call connection");
    bad = client_open();
    send_frame(bad, MSG_ATTACH, 999, NULL, 0, NULL, 0);
    free(expect(bad, MSG_ATTACHED, SGX_ERROR_INVALID_ENCLAVE_ID, "ATTACH to no module").payload);
    client_close(bad);
    r = ecall(cc, 1, in, 50, 50, SGX_SUCCESS, "ECALL after the other connections' errors");
    CHECK(r.len == 50 && memcmp(r.payload, in, 50) == 0, "echo after errors");
    free(r.payload);

    /* UNLOAD: everything unmapped; the call connection's next ECALL gets ERROR INVALID_ENCLAVE_ID. */
    send_frame(mc, MSG_UNLOAD, id + 1, NULL, 0, NULL, 0);
    free(expect(mc, MSG_UNLOADED, SGX_ERROR_INVALID_ENCLAVE_ID, "UNLOAD of another id").payload);
    send_frame(mc, MSG_UNLOAD, id, NULL, 0, NULL, 0);
    free(expect(mc, MSG_UNLOADED, SGX_SUCCESS, "UNLOAD").payload);
    CHECK(all_unmapped(), "%u pages mapped after UNLOAD", present_pages());
    CHECK(modmem_free() == free_before, "arena free %" PRIu64 " after UNLOAD, %" PRIu64 " before LOAD", modmem_free(),
          free_before);
    send_frame(cc, MSG_ECALL, 0, cap, 4, NULL, 0);
    expect_error(cc, SGX_ERROR_INVALID_ENCLAVE_ID, "unloaded", "ECALL into an unloaded module");

    /* The module connection closes while a call waits for its OCALL: unloaded once that call has returned. */
    id = load(mc, file, len, SGX_SUCCESS, "LOAD again on the same connection", NULL);
    cc = attach(id);
    send_frame(cc, MSG_ECALL, 7, cap, 4, "def", 3);
    free(expect(cc, MSG_OCALL, 0, "OCALL before the close").payload);
    client_close(mc);
    for (double t0 = now_s(); now_s() - t0 < 0.2;)
        sim_turn();
    CHECK(present_pages() > 0, "module unloaded while a call waits for its OCALL");
    send_frame(cc, MSG_OCALL_RETURN, 0, NULL, 0, "ok", 2);
    r = expect(cc, MSG_ECALL_RETURN, 0, "ECALL 7 after its module's connection closed");
    free(r.payload);
    for (double t0 = now_s(); !all_unmapped() && now_s() - t0 < 10;)
        sim_turn();
    CHECK(all_unmapped(), "%u pages mapped after the module connection closed", present_pages());
    client_close(cc);

    /* A call connection that closes during its OCALL: the OCALL fails, the ECALL ends, nothing leaks. */
    mc = client_open();
    id = load(mc, file, len, SGX_SUCCESS, "LOAD a third time", NULL);
    cc = attach(id);
    send_frame(cc, MSG_ECALL, 7, cap, 4, "ghi", 3);
    free(expect(cc, MSG_OCALL, 0, "OCALL before the call connection closes").payload);
    client_close(cc);
    for (double t0 = now_s(); now_s() - t0 < 0.2;)
        sim_turn();
    send_frame(mc, MSG_UNLOAD, id, NULL, 0, NULL, 0);
    free(expect(mc, MSG_UNLOADED, SGX_SUCCESS, "UNLOAD after the call connection closed").payload);
    CHECK(all_unmapped(), "%u pages mapped after the last UNLOAD", present_pages());
    client_close(mc);
    free(file);
    free(changed);

    check_trts_module();

    __atomic_store_n(&sim_vcpus_run, 0, __ATOMIC_RELEASE);
    for (int i = 0; i < 2; i++)
        pthread_join(vcpu_threads[i], NULL);
    free(tm);
    free(bad_import);
    free(bad_reloc);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", key_dir);
    run(cmd);
    CHECK(modmem_refused == 0, "%u MODMEM requests refused by the VMM side", modmem_refused);
    if (failures) {
        printf("modsvc-sim: %d failures\n", failures);
        return 1;
    }
    printf("modsvc-sim: refusals (debug in production, missing import, R_X86_64_64, changed code, bad signature, arena too small), "
           "LOAD, ATTACH, ECALLs 0-7, 9-11, OCALL, nested ECALL, out of memory, 9 protocol errors, UNLOAD, closes "
           "mid-OCALL, trts-module (malloc, snprintf, math, SHA-256, range, RDRAND, shared heap): all pass (%u MODMEM requests, %u TLB flushes)\n", modmem_requests,
           tlb_flushes);
    return 0;
}
