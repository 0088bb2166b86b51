/*
 * Host-side check of the guest's vsock driver and services (vsock.c, virtq.c, virtio_mmio.c, alloc.c,
 * services.c, compiled for the host with ENCLAVE_HOST_CHECK so MMIO and port accesses land here), run
 * against a simulated virtio-mmio vsock device and a simulated host peer, single-threaded: the driver
 * polls, then the device runs, and so on. The device is strict: it checks what docs/guest-abi.md requires
 * of a driver (init order, features, ring addresses, descriptor bounds, header fields, credit, the
 * notification handshake) and fails the check on any breach.
 *
 * Scenarios, in order: bring-up; the ready handshake; RST for strangers; one echo stream of 4 MiB with a
 * slow host reader (credit in both directions); 64 concurrent echo connections; 200 connections one
 * after the other (slots are reused); a host that exceeds its credit is reset; a device that reports a
 * used id it was never given is dropped.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../abi.h"
#include "../alloc.h"
#include "../services.h"
#include "../virtio_mmio.h"
#include "../virtq.h"
#include "../vsock.h"
#include "../vsock_proto.h"

#define RAM_SIZE     (64u << 20)
#define GUEST_CID    3u
#define HOST_BUF     (256u * 1024u)
#define HOST_PORT0   1073741824u
#define MAX_HCONNS   256
#define MAX_PENDING  4096

static int failures;
static int verbose;
static int full_packets;   /* the host sends packets as large as the rx buffers allow (benchmark) */

#define CHECK(cond, ...)                                            \
    do {                                                            \
        if (!(cond)) {                                              \
            failures++;                                             \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);             \
            printf(__VA_ARGS__);                                    \
            printf("\n");                                           \
            if (failures > 20)                                      \
                exit(1);                                            \
        }                                                           \
    } while (0)

/* ---- what the guest code needs from the runtime ---- */

void console_printf(const char *fmt, ...)
{
    if (!verbose)
        return;
    va_list ap;
    va_start(ap, fmt);
    printf("  guest: ");
    vprintf(fmt, ap);
    va_end(ap);
}

void panic(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("FAIL guest panic: ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    exit(1);
}

/* ---- the simulated device ---- */

static uint8_t *ram;
static struct boot_info boot;

struct simq {
    uint32_t num, ready;
    uint64_t desc, avail, used;
    uint16_t last_avail;
    uint16_t idx_at_sleep;
    uint32_t notifies, notifies_at_sleep;
};

static struct {
    uint32_t status;
    uint32_t dev_sel, drv_sel, qsel;
    uint64_t driver_features;
    struct simq q[3];
    int asleep;
    int threaded;   /* vCPU threads poll concurrently: the device sleeps only if sleepy, for real (below) */
    int sleepy;     /* threaded: now and then wait for a notification, as the real device's thread does */
    uint32_t lost_notifies, sleeps;
    int broken;   /* the device has stopped (a test makes it lie) */
} dev;

static int in_ram(uint64_t addr, uint64_t len)
{
    uint64_t lo = (uintptr_t)ram, hi = lo + RAM_SIZE;
    return addr >= lo && addr <= hi && len <= hi - addr;
}

static void device_reset(void)
{
    memset(&dev, 0, sizeof dev);
}

uint32_t host_check_mmio_read32(uintptr_t gpa)
{
    uint32_t off = (uint32_t)(gpa - boot.ram_size);
    CHECK(gpa >= boot.ram_size && off < 0x1000 && off % 4 == 0, "MMIO read at 0x%" PRIxPTR, gpa);
    struct simq *q = &dev.q[dev.qsel < 3 ? dev.qsel : 0];
    switch (off) {
    case VIRTIO_MMIO_MAGIC_VALUE: return VIRTIO_MMIO_MAGIC;
    case VIRTIO_MMIO_VERSION: return 2;
    case VIRTIO_MMIO_DEVICE_ID: return VIRTIO_DEVICE_ID_VSOCK;
    case VIRTIO_MMIO_VENDOR_ID: return 0x454E434C;
    case VIRTIO_MMIO_DEVICE_FEATURES: return dev.dev_sel == 0 ? 1u : dev.dev_sel == 1 ? 1u : 0;
    case VIRTIO_MMIO_QUEUE_NUM_MAX: return dev.qsel < 3 ? 256 : 0;
    case VIRTIO_MMIO_QUEUE_READY: return q->ready;
    case VIRTIO_MMIO_STATUS: return dev.status;
    case VIRTIO_MMIO_CONFIG_GENERATION: return 0;
    case VIRTIO_MMIO_CONFIG: return GUEST_CID;
    case VIRTIO_MMIO_CONFIG + 4: return 0;
    default:
        CHECK(0, "MMIO read of register 0x%x", off);
        return 0xffffffff;
    }
}

void host_check_mmio_write32(uintptr_t gpa, uint32_t v)
{
    uint32_t off = (uint32_t)(gpa - boot.ram_size);
    CHECK(gpa >= boot.ram_size && off < 0x1000 && off % 4 == 0, "MMIO write at 0x%" PRIxPTR, gpa);
    struct simq *q = &dev.q[dev.qsel < 3 ? dev.qsel : 0];
    int setting_up = (dev.status & VIRTIO_STATUS_FEATURES_OK) && !(dev.status & VIRTIO_STATUS_DRIVER_OK);
    switch (off) {
    case VIRTIO_MMIO_DEVICE_FEATURES_SEL: dev.dev_sel = v; return;
    case VIRTIO_MMIO_DRIVER_FEATURES_SEL: dev.drv_sel = v; return;
    case VIRTIO_MMIO_DRIVER_FEATURES:
        CHECK((dev.status & VIRTIO_STATUS_DRIVER) && !(dev.status & VIRTIO_STATUS_FEATURES_OK),
              "features written in status 0x%x", dev.status);
        if (dev.drv_sel < 2) {
            dev.driver_features &= ~(0xffffffffull << (32 * dev.drv_sel));
            dev.driver_features |= (uint64_t)v << (32 * dev.drv_sel);
        }
        return;
    case VIRTIO_MMIO_QUEUE_SEL: dev.qsel = v; return;
    case VIRTIO_MMIO_QUEUE_NUM: CHECK(setting_up, "QueueNum outside set-up"); q->num = v; return;
    case VIRTIO_MMIO_QUEUE_DESC_LOW: q->desc = (q->desc & ~0xffffffffull) | v; return;
    case VIRTIO_MMIO_QUEUE_DESC_HIGH: q->desc = (q->desc & 0xffffffffull) | (uint64_t)v << 32; return;
    case VIRTIO_MMIO_QUEUE_DRIVER_LOW: q->avail = (q->avail & ~0xffffffffull) | v; return;
    case VIRTIO_MMIO_QUEUE_DRIVER_HIGH: q->avail = (q->avail & 0xffffffffull) | (uint64_t)v << 32; return;
    case VIRTIO_MMIO_QUEUE_DEVICE_LOW: q->used = (q->used & ~0xffffffffull) | v; return;
    case VIRTIO_MMIO_QUEUE_DEVICE_HIGH: q->used = (q->used & 0xffffffffull) | (uint64_t)v << 32; return;
    case VIRTIO_MMIO_QUEUE_READY: {
        CHECK(setting_up, "QueueReady outside set-up");
        uint32_t n = q->num;
        int ok = v == 1 && n && n <= 256 && !(n & (n - 1)) && in_ram(q->desc, 16ull * n) && q->desc % 16 == 0
                 && in_ram(q->avail, 6 + 2ull * n) && q->avail % 2 == 0 && in_ram(q->used, 6 + 8ull * n)
                 && q->used % 4 == 0;
        CHECK(ok, "queue %u set up badly: num %u desc 0x%" PRIx64, dev.qsel, n, q->desc);
        q->ready = ok;
        return;
    }
    case VIRTIO_MMIO_STATUS:
        if (v == 0) {
            device_reset();
            return;
        }
        CHECK((v & dev.status) == dev.status, "status bits cleared: 0x%x -> 0x%x", dev.status, v);
        if ((v & VIRTIO_STATUS_FEATURES_OK) && !(dev.status & VIRTIO_STATUS_FEATURES_OK)) {
            CHECK(dev.driver_features == (VIRTIO_F_VERSION_1 | VIRTIO_VSOCK_F_STREAM),
                  "driver features 0x%" PRIx64, dev.driver_features);
            if (!(dev.driver_features & VIRTIO_F_VERSION_1))
                v &= ~VIRTIO_STATUS_FEATURES_OK;
        }
        if ((v & VIRTIO_STATUS_DRIVER_OK) && !(dev.status & VIRTIO_STATUS_DRIVER_OK))
            CHECK(dev.q[0].ready && dev.q[1].ready && dev.q[2].ready, "DRIVER_OK before every queue is ready");
        CHECK(!(v & VIRTIO_STATUS_FEATURES_OK) || (v & VIRTIO_STATUS_DRIVER), "FEATURES_OK without DRIVER");
        CHECK(!(v & VIRTIO_STATUS_DRIVER) || (v & VIRTIO_STATUS_ACKNOWLEDGE), "DRIVER without ACKNOWLEDGE");
        dev.status = v;
        return;
    default:
        CHECK(0, "MMIO write 0x%x to register 0x%x", v, off);
    }
}

void host_check_out(uint16_t port, uint32_t v, int width)
{
    CHECK(port == PORT_NOTIFY && width == 4 && v < 3, "out 0x%x to port 0x%x, width %d", v, port, width);
    if (port == PORT_NOTIFY && v < 3)
        __atomic_add_fetch(&dev.q[v].notifies, 1, __ATOMIC_RELAXED);
}

uint32_t host_check_in(uint16_t port, int width)
{
    CHECK(0, "in from port 0x%x, width %d", port, width);
    return 0xffffffff;
}

static struct virtq_desc *desc_of(struct simq *q)
{
    return (struct virtq_desc *)(uintptr_t)q->desc;
}
static struct virtq_avail *avail_of(struct simq *q)
{
    return (struct virtq_avail *)(uintptr_t)q->avail;
}
static struct virtq_used *used_of(struct simq *q)
{
    return (struct virtq_used *)(uintptr_t)q->used;
}

/* The next chain's head, or -1. Checks avail.idx is not more than a queue ahead. */
static int pop_avail(struct simq *q)
{
    uint16_t idx = __atomic_load_n(&avail_of(q)->idx, __ATOMIC_ACQUIRE);
    if (idx == q->last_avail)
        return -1;
    CHECK((uint16_t)(idx - q->last_avail) <= q->num, "avail.idx %u runs ahead of %u", idx, q->last_avail);
    uint16_t head = avail_of(q)->ring[q->last_avail % q->num];
    q->last_avail++;
    CHECK(head < q->num, "avail head %u", head);
    return head;
}

static void push_used(struct simq *q, uint32_t id, uint32_t len)
{
    struct virtq_used *u = used_of(q);
    uint16_t idx = u->idx;
    u->ring[idx % q->num].id = id;
    u->ring[idx % q->num].len = len;
    __atomic_store_n(&u->idx, (uint16_t)(idx + 1), __ATOMIC_RELEASE);
}

/* Gathers a readable chain (checking every descriptor) into buf; returns its length. */
static uint32_t read_chain(struct simq *q, int head, uint8_t *buf, uint32_t cap)
{
    uint32_t total = 0, n = 0;
    for (int i = head;; ) {
        struct virtq_desc *d = &desc_of(q)[i];
        CHECK(++n <= q->num, "chain longer than the queue");
        CHECK(!(d->flags & (VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_INDIRECT)), "tx descriptor flags 0x%x", d->flags);
        CHECK(in_ram(d->addr, d->len), "tx descriptor 0x%" PRIx64 "+%u outside RAM", d->addr, d->len);
        CHECK(total + d->len <= cap, "tx chain too long");
        memcpy(buf + total, (void *)(uintptr_t)d->addr, d->len);
        total += d->len;
        if (!(d->flags & VIRTQ_DESC_F_NEXT))
            break;
        i = d->next;
        CHECK(i < (int)q->num, "next %d", i);
    }
    return total;
}

/* ---- the simulated host peer ---- */

enum { H_FREE, H_CONNECTING, H_OPEN, H_CLOSED };
enum { K_CLIENT, K_READY_SERVER, K_RAW };   /* RAW: the test sends by hand */

struct hconn {
    int state, kind;
    uint32_t hport, gport;
    uint32_t g_buf_alloc, g_fwd_cnt, tx_cnt;   /* the guest's credit for us; our bytes sent */
    uint32_t rx_cnt, fwd_cnt, fwd_sent;        /* bytes from the guest, consumed, as last told */
    uint8_t *sent, *got;                        /* the echo client's data and what came back */
    size_t to_send, sent_len, got_len, cap;
    uint32_t read_rate;                         /* bytes consumed per device run */
    int shut_sent;                              /* SHUTDOWN flags sent */
    int peer_shut, got_rst, ready_answered;
    int mute;                                   /* never answers the guest's SHUTDOWN */
};

static struct hconn hconns[MAX_HCONNS];

struct pkt {
    struct virtio_vsock_hdr h;
    uint8_t *data;
};
static struct pkt pending[MAX_PENDING];
static size_t pending_head, pending_count;

static struct {
    uint32_t refused;
    uint32_t rst_seen;
    uint32_t last_rst_src, last_rst_dst;
} seen;

static void queue_to_guest(uint16_t op, uint32_t hport, uint32_t gport, uint32_t flags, const uint8_t *data,
                           uint32_t len, struct hconn *c)
{
    CHECK(pending_count < MAX_PENDING, "pending packets overflow");
    struct pkt *p = &pending[(pending_head + pending_count++) % MAX_PENDING];
    memset(p, 0, sizeof *p);
    p->h.src_cid = VSOCK_HOST_CID;
    p->h.dst_cid = GUEST_CID;
    p->h.src_port = hport;
    p->h.dst_port = gport;
    p->h.len = len;
    p->h.type = VIRTIO_VSOCK_TYPE_STREAM;
    p->h.op = op;
    p->h.flags = flags;
    if (c) {
        p->h.buf_alloc = HOST_BUF;
        p->h.fwd_cnt = c->fwd_cnt;
        c->fwd_sent = c->fwd_cnt;
    }
    if (len) {
        p->data = malloc(len);
        memcpy(p->data, data, len);
    }
}

static struct hconn *find_hconn(uint32_t hport, uint32_t gport)
{
    for (int i = 0; i < MAX_HCONNS; i++)
        if (hconns[i].state != H_FREE && hconns[i].hport == hport && hconns[i].gport == gport)
            return &hconns[i];
    return NULL;
}

static struct hconn *new_hconn(void)
{
    for (int i = 0; i < MAX_HCONNS; i++)
        if (hconns[i].state == H_FREE || hconns[i].state == H_CLOSED) {
            free(hconns[i].sent);
            free(hconns[i].got);
            memset(&hconns[i], 0, sizeof hconns[i]);
            return &hconns[i];
        }
    CHECK(0, "out of host connections");
    exit(1);
}

static void host_got_packet(const struct virtio_vsock_hdr *h, const uint8_t *payload)
{
    CHECK(h->src_cid == GUEST_CID && h->dst_cid == VSOCK_HOST_CID, "cids %" PRIu64 " -> %" PRIu64,
          h->src_cid, h->dst_cid);
    CHECK(h->type == VIRTIO_VSOCK_TYPE_STREAM, "type %u", h->type);
    CHECK(h->op == VIRTIO_VSOCK_OP_RW || h->len == 0, "op %u with %u payload bytes", h->op, h->len);
    struct hconn *c = find_hconn(h->dst_port, h->src_port);
    if (h->op == VIRTIO_VSOCK_OP_RST) {
        seen.rst_seen++;
        seen.last_rst_src = h->src_port;
        seen.last_rst_dst = h->dst_port;
        if (c) {
            c->got_rst = 1;
            c->state = H_CLOSED;
        }
        return;
    }
    if (!c) {
        CHECK(h->op == VIRTIO_VSOCK_OP_REQUEST, "op %u for no connection (%u -> %u)", h->op, h->src_port,
              h->dst_port);
        if (h->dst_port != READY_HANDSHAKE_PORT) {   /* nothing listens there: refused */
            seen.refused++;
            queue_to_guest(VIRTIO_VSOCK_OP_RST, h->dst_port, h->src_port, 0, NULL, 0, NULL);
            return;
        }
        c = new_hconn();
        c->state = H_OPEN;
        c->kind = K_READY_SERVER;
        c->hport = h->dst_port;
        c->gport = h->src_port;
        c->g_buf_alloc = h->buf_alloc;
        c->g_fwd_cnt = h->fwd_cnt;
        c->read_rate = HOST_BUF;
        queue_to_guest(VIRTIO_VSOCK_OP_RESPONSE, c->hport, c->gport, 0, NULL, 0, c);
        return;
    }
    CHECK(c->state != H_CLOSED, "op %u after the connection %u closed", h->op, c->hport);
    c->g_buf_alloc = h->buf_alloc;
    c->g_fwd_cnt = h->fwd_cnt;
    switch (h->op) {
    case VIRTIO_VSOCK_OP_RESPONSE:
        CHECK(c->state == H_CONNECTING, "RESPONSE in state %d", c->state);
        c->state = H_OPEN;
        break;
    case VIRTIO_VSOCK_OP_RW:
        CHECK(c->state == H_OPEN, "RW in state %d", c->state);
        CHECK(!(c->peer_shut & VIRTIO_VSOCK_SHUTDOWN_SEND), "RW after the guest's SHUTDOWN(send)");
        CHECK(c->rx_cnt - c->fwd_cnt + h->len <= HOST_BUF, "guest exceeded our credit: %u in flight + %u",
              c->rx_cnt - c->fwd_cnt, h->len);
        if (c->got_len + h->len > c->cap) {
            c->cap = (c->got_len + h->len) * 2;
            c->got = realloc(c->got, c->cap);
        }
        memcpy(c->got + c->got_len, payload, h->len);
        c->got_len += h->len;
        c->rx_cnt += h->len;
        if (c->kind == K_READY_SERVER) {
            CHECK(h->len == 1 && payload[0] == READY_HANDSHAKE_BYTE && !c->ready_answered,
                  "ready handshake sent %u bytes, first 0x%x", h->len, payload[0]);
            uint8_t b = READY_HANDSHAKE_BYTE;
            c->ready_answered = 1;
            queue_to_guest(VIRTIO_VSOCK_OP_RW, c->hport, c->gport, 0, &b, 1, c);
            c->tx_cnt += 1;
        }
        break;
    case VIRTIO_VSOCK_OP_SHUTDOWN:
        c->peer_shut |= (int)h->flags;
        if (c->peer_shut == 3 && !c->mute) {
            if (c->shut_sent != 3) {
                queue_to_guest(VIRTIO_VSOCK_OP_SHUTDOWN, c->hport, c->gport, 3, NULL, 0, c);
                c->shut_sent = 3;
            }
            c->state = H_CLOSED;
        }
        break;
    case VIRTIO_VSOCK_OP_CREDIT_UPDATE:
        break;
    case VIRTIO_VSOCK_OP_CREDIT_REQUEST:
        queue_to_guest(VIRTIO_VSOCK_OP_CREDIT_UPDATE, c->hport, c->gport, 0, NULL, 0, c);
        break;
    default:
        CHECK(0, "op %u from the guest", h->op);
    }
}

/* The host side of each open connection: consume at its rate, send what credit allows. */
static void host_work(void)
{
    for (int i = 0; i < MAX_HCONNS; i++) {
        struct hconn *c = &hconns[i];
        if (c->state != H_OPEN)
            continue;
        uint32_t held = c->rx_cnt - c->fwd_cnt;
        c->fwd_cnt += held < c->read_rate ? held : c->read_rate;
        if (c->fwd_cnt - c->fwd_sent >= HOST_BUF / 2)
            queue_to_guest(VIRTIO_VSOCK_OP_CREDIT_UPDATE, c->hport, c->gport, 0, NULL, 0, c);
        if (c->kind != K_CLIENT || (c->shut_sent & VIRTIO_VSOCK_SHUTDOWN_SEND))
            continue;
        while (c->sent_len < c->to_send && pending_count < MAX_PENDING / 2) {
            uint32_t credit = vsock_peer_credit(c->g_buf_alloc, c->g_fwd_cnt, c->tx_cnt);
            size_t n = c->to_send - c->sent_len;
            if (n > credit)
                n = credit;
            if (n > 65536 - VSOCK_HDR_SIZE)
                n = 65536 - VSOCK_HDR_SIZE;
            if (!full_packets)
                n = n > 1 ? 1 + (size_t)rand() % n : n;   /* random packet sizes */
            if (n == 0)
                break;
            queue_to_guest(VIRTIO_VSOCK_OP_RW, c->hport, c->gport, 0, c->sent + c->sent_len, (uint32_t)n, c);
            c->sent_len += n;
            c->tx_cnt += (uint32_t)n;
        }
        if (c->sent_len == c->to_send) {
            queue_to_guest(VIRTIO_VSOCK_OP_SHUTDOWN, c->hport, c->gport, VIRTIO_VSOCK_SHUTDOWN_SEND, NULL, 0, c);
            c->shut_sent |= VIRTIO_VSOCK_SHUTDOWN_SEND;
        }
    }
}

static uint8_t chain_buf[1 << 17];

/* No host connection holds bytes it has yet to consume (consuming needs device runs, not notifications). */
static int host_idle(void)
{
    for (int i = 0; i < MAX_HCONNS; i++)
        if (hconns[i].state == H_OPEN && hconns[i].rx_cnt != hconns[i].fwd_cnt)
            return 0;
    return 1;
}

static double now_s(void);

/*
 * The device's sleep with vCPU threads running, as the real device does it: clear NO_NOTIFY, full fence, look
 * at every avail.idx once more; if tx has nothing new, wait for a notification (up to 200 ms). A queue whose
 * avail.idx moved past what the device read after its fence, without a notification on that queue, is a lost
 * notification: its driver published and then believed NO_NOTIFY, which the handshake forbids.
 */
static void threaded_sleep(void)
{
    uint16_t idx[3];
    uint32_t notifies[3];
    int work = 0;
    for (int i = 0; i < 3; i++)
        __atomic_store_n(&used_of(&dev.q[i])->flags, 0, __ATOMIC_RELEASE);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    for (int i = 0; i < 3; i++) {
        notifies[i] = __atomic_load_n(&dev.q[i].notifies, __ATOMIC_ACQUIRE);
        idx[i] = __atomic_load_n(&avail_of(&dev.q[i])->idx, __ATOMIC_ACQUIRE);
    }
    /* rx buffers waiting is the normal idle state, and the event queue is never used: only tx is work. */
    work = idx[1] != dev.q[1].last_avail;
    if (!work) {
        dev.sleeps++;
        double t0 = now_s();
        int woken = 0;
        while (!woken && now_s() - t0 < 0.2)
            for (int i = 0; i < 2; i++)
                woken |= __atomic_load_n(&dev.q[i].notifies, __ATOMIC_ACQUIRE) != notifies[i];
        /* Awake, by a notification or the timeout: a queue published since the fence must have notified too
         * (its driver read NO_NOTIFY clear). The notify follows the publication closely; allow it a second. */
        for (int i = 0; i < 2; i++) {
            double t1 = now_s();
            while (__atomic_load_n(&avail_of(&dev.q[i])->idx, __ATOMIC_ACQUIRE) != idx[i]
                   && __atomic_load_n(&dev.q[i].notifies, __ATOMIC_ACQUIRE) == notifies[i]) {
                if (now_s() - t1 > 1.0) {
                    dev.lost_notifies++;
                    CHECK(0, "queue %d: avail.idx moved from %u while the device slept, without a notification",
                          i, idx[i]);
                    break;
                }
            }
        }
    }
    for (int i = 0; i < 3; i++)
        __atomic_store_n(&used_of(&dev.q[i])->flags, VIRTQ_USED_F_NO_NOTIFY, __ATOMIC_RELEASE);
}

/* One run of the device: check notifications, take tx, deliver rx, then maybe sleep. */
static void device_run(void)
{
    if (!(dev.status & VIRTIO_STATUS_DRIVER_OK) || dev.broken)
        return;
    for (int i = 0; i < 3; i++) {
        struct simq *q = &dev.q[i];
        if (dev.asleep && __atomic_load_n(&avail_of(q)->idx, __ATOMIC_ACQUIRE) != q->idx_at_sleep)
            CHECK(q->notifies != q->notifies_at_sleep, "queue %d: published while the device slept, no notify", i);
    }
    dev.asleep = 0;
    struct simq *tx = &dev.q[1], *rx = &dev.q[0];
    int head;
    while ((head = pop_avail(tx)) >= 0) {
        uint32_t len = read_chain(tx, head, chain_buf, sizeof chain_buf);
        CHECK(len >= VSOCK_HDR_SIZE, "tx chain of %u bytes", len);
        struct virtio_vsock_hdr h;
        memcpy(&h, chain_buf, sizeof h);
        CHECK(h.len == len - VSOCK_HDR_SIZE, "hdr.len %u, chain %u", h.len, len);
        host_got_packet(&h, chain_buf + VSOCK_HDR_SIZE);
        push_used(tx, (uint32_t)head, 0);
    }
    host_work();
    while (pending_count) {
        head = pop_avail(rx);
        if (head < 0)
            break;
        struct virtq_desc *d = &desc_of(rx)[head];
        CHECK(d->flags == VIRTQ_DESC_F_WRITE && in_ram(d->addr, d->len) && d->len >= VSOCK_HDR_SIZE,
              "rx descriptor flags 0x%x len %u", d->flags, d->len);
        struct pkt *p = &pending[pending_head];
        CHECK(p->h.len <= d->len - VSOCK_HDR_SIZE, "rx buffer of %u for %u bytes", d->len, p->h.len);
        memcpy((void *)(uintptr_t)d->addr, &p->h, sizeof p->h);
        if (p->h.len)
            memcpy((uint8_t *)(uintptr_t)d->addr + VSOCK_HDR_SIZE, p->data, p->h.len);
        free(p->data);
        push_used(rx, (uint32_t)head, VSOCK_HDR_SIZE + p->h.len);
        pending_head = (pending_head + 1) % MAX_PENDING;
        pending_count--;
    }
    if (dev.threaded) {
        if (dev.sleepy && pending_count == 0 && host_idle())
            threaded_sleep();
        else
            for (int i = 0; i < 3; i++)
                __atomic_store_n(&used_of(&dev.q[i])->flags, VIRTQ_USED_F_NO_NOTIFY, __ATOMIC_RELEASE);
        return;
    }
    /* Sleep now and then, the way the contract says: clear NO_NOTIFY, fence, look again. */
    dev.asleep = rand() % 3 == 0;
    for (int i = 0; i < 3; i++) {
        struct simq *q = &dev.q[i];
        __atomic_store_n(&used_of(q)->flags, dev.asleep ? 0 : VIRTQ_USED_F_NO_NOTIFY, __ATOMIC_RELEASE);
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        q->idx_at_sleep = __atomic_load_n(&avail_of(q)->idx, __ATOMIC_ACQUIRE);
        q->notifies_at_sleep = q->notifies;
    }
}

/* Polls the guest (on "vCPU" 0 and 1 alternately) and runs the device until done() or a bound. */
static int run_until(int (*done)(void), int rounds)
{
    for (int i = 0; i < rounds; i++) {
        if (done())
            return 1;
        services_poll((uint32_t)(i & 1));
        device_run();
    }
    return done();
}

static struct hconn *host_connect(uint32_t gport, size_t bytes, uint32_t read_rate)
{
    static uint32_t next_port = HOST_PORT0;
    struct hconn *c = new_hconn();
    c->state = H_CONNECTING;
    c->kind = K_CLIENT;
    c->hport = next_port++;
    c->gport = gport;
    c->to_send = bytes;
    c->read_rate = read_rate;
    c->sent = malloc(bytes ? bytes : 1);
    for (size_t i = 0; i < bytes; i++)
        c->sent[i] = (uint8_t)rand();
    queue_to_guest(VIRTIO_VSOCK_OP_REQUEST, c->hport, c->gport, 0, NULL, 0, c);
    return c;
}

static struct hconn *watched[64];
static int watched_count;

static int all_watched_closed(void)
{
    for (int i = 0; i < watched_count; i++)
        if (watched[i]->state != H_CLOSED)
            return 0;
    return 1;
}

static void check_echoed(struct hconn *c)
{
    CHECK(!c->got_rst, "echo connection %u was reset", c->hport);
    size_t same = 0;
    size_t common = c->got_len < c->to_send ? c->got_len : c->to_send;
    while (same < common && c->got[same] == c->sent[same])
        same++;
    CHECK(c->got_len == c->to_send && same == c->to_send,
          "echo of %zu bytes came back as %zu bytes, the first %zu intact", c->to_send, c->got_len, same);
    CHECK(c->peer_shut == 3, "the guest did not close (SHUTDOWN flags %d)", c->peer_shut);
}

static int rst_arrived(void)
{
    return seen.rst_seen > 0;
}

/* Guest-side services for the scenarios below. */
#define SOURCE_BYTES (300u * 1024u)
static uint32_t connect_results;
static int connect_error;

static uint8_t source_byte(uint64_t i)
{
    return (uint8_t)(i * 7 + (i >> 9));
}

/* Sends SOURCE_BYTES, then DONE: the enclave closes first. state[0]: bytes sent. */
static int step_source(struct service_task *t)
{
    uint8_t chunk[4096];
    int space = vsock_send_space(t->conn);
    if (space < 0)
        return SERVICE_DONE;
    uint64_t left = SOURCE_BYTES - t->state[0];
    size_t n = left < sizeof chunk ? (size_t)left : sizeof chunk;
    if ((size_t)space < n)
        n = (size_t)space;
    if (n == 0)
        return t->state[0] == SOURCE_BYTES ? SERVICE_DONE : SERVICE_IDLE;
    for (size_t i = 0; i < n; i++)
        chunk[i] = source_byte(t->state[0] + i);
    int r = vsock_send(t->conn, chunk, n);
    CHECK(r == (int)n, "send took %d of %zu promised bytes", r, n);
    t->state[0] += (uint64_t)(r > 0 ? r : 0);
    return SERVICE_WORKED;
}

/* Connects to host port 6000 (refused by the simulated host), records the result. */
static int step_connect_refused(struct service_task *t)
{
    struct vsock_conn *out = (struct vsock_conn *)(uintptr_t)t->state[1];
    if (!out) {
        out = vsock_connect(6000);
        CHECK(out != NULL, "vsock_connect gave no connection");
        t->state[1] = (uintptr_t)out;
        return SERVICE_WORKED;
    }
    int r = vsock_connected(out);
    if (r == 0)
        return SERVICE_IDLE;
    connect_error = r;
    connect_results++;
    vsock_close(out);
    return SERVICE_DONE;
}

/* Says "abc", shuts its sending side, then reads until the peer's end of stream. state[0]: step. */
static int half_close_flags_seen = -1;
static int step_half_close(struct service_task *t)
{
    uint8_t buf[64];
    switch (t->state[0]) {
    case 0:
        if (vsock_send(t->conn, "abc", 3) != 3)
            return SERVICE_IDLE;
        CHECK(vsock_shutdown(t->conn, VSOCK_SHUT_WR) == 0, "shutdown(WR)");
        CHECK(vsock_send(t->conn, "x", 1) == -EPIPE, "send after shutdown(WR) was not EPIPE");
        t->state[0] = 1;
        return SERVICE_WORKED;
    default: {
        int n = vsock_recv(t->conn, buf, sizeof buf);
        if (n == -EAGAIN)
            return SERVICE_IDLE;
        if (n > 0) {
            t->state[1] += (uint64_t)n;
            return SERVICE_WORKED;
        }
        CHECK(n == 0 && t->state[1] == 10, "half-closed service read %" PRIu64 " bytes, then %d", t->state[1], n);
        return SERVICE_DONE;
    }
    }
}

static int connect_done(void)
{
    return connect_results > 0;
}

static struct hconn *mute_conn;

static int mute_conn_reset(void)
{
    return mute_conn->got_rst;
}

/* Two "vCPUs" polling at once, as on a real multi-vCPU enclave, while this thread is the device. */
static int vcpus_run;

static void *vcpu_thread(void *arg)
{
    uint32_t vcpu = (uint32_t)(uintptr_t)arg;
    while (__atomic_load_n(&vcpus_run, __ATOMIC_ACQUIRE))
        services_poll(vcpu);
    return NULL;
}

static int run_threaded_until(int (*done)(void), int seconds)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (!done()) {
        device_run();
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (t.tv_sec - t0.tv_sec > seconds)
            return 0;
    }
    return 1;
}

/* Discards what it reads (as test-vsock-services' port 5002). */
static int step_discard(struct service_task *t)
{
    size_t size;
    uint8_t *buf = services_scratch(&size);
    int n = vsock_recv(t->conn, buf, size);
    if (n == -EAGAIN)
        return SERVICE_IDLE;
    return n <= 0 ? SERVICE_DONE : SERVICE_WORKED;
}

/* Sends from a fixed buffer until the peer shuts its receiving side (as port 5003). */
static int step_endless(struct service_task *t)
{
    static uint8_t data[64 * 1024];
    int space = vsock_send_space(t->conn);
    if (space < 0)
        return SERVICE_DONE;
    if (space == 0)
        return SERVICE_IDLE;
    vsock_send(t->conn, data, (size_t)space < sizeof data ? (size_t)space : sizeof data);
    return SERVICE_WORKED;
}


static void start_vcpus(pthread_t *vcpus)
{
    __atomic_store_n(&vcpus_run, 1, __ATOMIC_RELEASE);
    for (uintptr_t i = 0; i < 2; i++)
        pthread_create(&vcpus[i], NULL, vcpu_thread, (void *)i);
}

static void stop_vcpus(pthread_t *vcpus)
{
    __atomic_store_n(&vcpus_run, 0, __ATOMIC_RELEASE);
    for (int i = 0; i < 2; i++)
        pthread_join(vcpus[i], NULL);
}

/*
 * One stress round, with the vCPU threads running and the device sleeping now and then for real: 1 to 8
 * echo connections at once (one of big bytes, or several smaller), random packet sizes or full ones, random
 * host reading rates. Every byte is compared; a failure names the connection and the first offset that
 * differs. Returns the bytes echoed.
 */
static uint64_t stress_round(unsigned seed, size_t big)
{
    static const int counts[] = { 1, 1, 2, 4, 8 };
    srand(seed);
    int k = counts[rand() % 5];
    full_packets = rand() % 2;
    uint64_t total = 0;
    for (int i = 0; i < k; i++) {
        size_t bytes = k == 1 ? big : 1 + (size_t)rand() % (big / (size_t)k);
        uint32_t rate = rand() % 4 == 0 ? UINT32_MAX : 1024 + (uint32_t)rand() % HOST_BUF;
        watched[i] = host_connect(ECHO_PORT, bytes, rate);
        total += bytes;
    }
    watched_count = k;
    uint32_t sleeps = dev.sleeps;
    double t0 = now_s();
    CHECK(run_threaded_until(all_watched_closed, 600), "stress seed %u: %d echoes did not finish", seed, k);
    for (int i = 0; i < k; i++) {
        if (watched[i]->state != H_CLOSED)
            printf("  stress seed %u: connection %d: sent %zu of %zu, got %zu\n", seed, i, watched[i]->sent_len,
                   watched[i]->to_send, watched[i]->got_len);
        check_echoed(watched[i]);
    }
    if (verbose || getenv("VSOCK_SIM_STRESS"))
        printf("  stress seed %u: %d connection(s), %.1f MiB echoed in %.1f s, %s packets, device slept %u times\n",
               seed, k, (double)total / (1 << 20), now_s() - t0, full_packets ? "full" : "random", dev.sleeps - sleeps);
    return total;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/*
 * VSOCK_SIM_BENCH=1 (built without sanitizers): time spent in the enclave's services_poll against the
 * simulated device's, per direction. The device here copies like the real one (guest RAM to and from a
 * buffer instead of a socket), so the guest's share is what the enclave itself costs per byte.
 */
static void bench(const char *what, struct hconn *c, uint64_t bytes, int count_from_guest)
{
    double guest = 0, device = 0;
    while (count_from_guest ? c->rx_cnt < bytes : c->sent_len < c->to_send) {
        double t0 = now_s();
        services_poll(0);
        double t1 = now_s();
        device_run();
        double t2 = now_s();
        guest += t1 - t0;
        device += t2 - t1;
        if (c->got_len > (64u << 20)) {   /* keep the host side's copy of what arrived small */
            c->got_len = 0;
        }
    }
    printf("bench %s: %.0f MiB; enclave side %.2f s (%.2f GB/s of enclave CPU), simulated device %.2f s\n", what,
           (double)bytes / (1 << 20), guest, (double)bytes / guest / 1e9, device);
}

static int device_unused(void)
{
    return !vsock_up();
}

int main(void)
{
    verbose = getenv("VSOCK_SIM_VERBOSE") != NULL;
    srand(1);
    /* RAM is host memory here; boot info describes it as if it started at its address. */
    ram = aligned_alloc(1 << 21, RAM_SIZE);
    boot.magic = ABI_BOOT_INFO_MAGIC;
    boot.version = ABI_BOOT_INFO_VERSION;
    boot.vcpu_count = 1;
    boot.ram_size = (uintptr_t)ram + RAM_SIZE;   /* "ram_size" is where RAM ends, as in the guest */
    boot.image_end = (uintptr_t)ram;
    boot.cid = GUEST_CID;
    boot.device_count = 1;
    boot.devices[0].type = ABI_DEVICE_VSOCK;
    boot.devices[0].mmio_gpa = boot.ram_size;
    page_alloc_init(&boot);

    /* Bring-up. */
    services_init(&boot);
    CHECK(services_vsock_up(), "vsock not up");
    CHECK(dev.status == (VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK
                         | VIRTIO_STATUS_DRIVER_OK), "status 0x%x after init", dev.status);
    CHECK(dev.q[0].num == 256 && dev.q[1].num == 256 && dev.q[2].num == 256, "queue sizes");

    /* The ready handshake. */
    services_start_handshake();
    CHECK(run_until(services_handshake_done, 1000), "handshake not done");
    struct hconn *ready = NULL;
    for (int i = 0; i < MAX_HCONNS; i++)
        if (hconns[i].kind == K_READY_SERVER && hconns[i].state != H_FREE)
            ready = &hconns[i];
    CHECK(ready && ready->ready_answered, "no handshake connection");
    watched[0] = ready;
    watched_count = 1;
    CHECK(run_until(all_watched_closed, 1000), "handshake connection not closed (flags %d)",
          ready ? ready->peer_shut : -1);

    /* RST for a port nobody listens on, and for a connection that does not exist. */
    queue_to_guest(VIRTIO_VSOCK_OP_REQUEST, 4242, 7777, 0, NULL, 0, NULL);
    CHECK(run_until(rst_arrived, 100), "no RST for a REQUEST to a closed port");
    CHECK(seen.last_rst_src == 7777 && seen.last_rst_dst == 4242, "RST %u -> %u", seen.last_rst_src,
          seen.last_rst_dst);
    seen.rst_seen = 0;
    uint8_t junk[3] = { 1, 2, 3 };
    queue_to_guest(VIRTIO_VSOCK_OP_RW, 4243, ECHO_PORT, 0, junk, 3, NULL);
    CHECK(run_until(rst_arrived, 100), "no RST for data on no connection");
    CHECK(seen.last_rst_src == ECHO_PORT && seen.last_rst_dst == 4243, "RST %u -> %u",
          seen.last_rst_src, seen.last_rst_dst);
    seen.rst_seen = 0;

    if (getenv("VSOCK_SIM_STRESS")) {
        /* VSOCK_SIM_STRESS=<seconds> [VSOCK_SIM_SEED=<first seed>] [VSOCK_SIM_MIB=<big echo>]: rounds until then. */
        double until = now_s() + atof(getenv("VSOCK_SIM_STRESS"));
        unsigned seed = getenv("VSOCK_SIM_SEED") ? (unsigned)atoi(getenv("VSOCK_SIM_SEED")) : 1;
        size_t big = (size_t)(getenv("VSOCK_SIM_MIB") ? atoi(getenv("VSOCK_SIM_MIB")) : 64) << 20;
        unsigned first = seed;
        uint64_t total = 0;
        dev.threaded = 1;
        dev.sleepy = 1;
        pthread_t vcpus[2];
        start_vcpus(vcpus);
        while (now_s() < until && !failures)
            total += stress_round(seed++, big);
        stop_vcpus(vcpus);
        printf("vsock-sim stress: seeds %u..%u, %.0f MiB echoed, %u device sleeps, %u lost notifications, %d failures\n",
               first, seed - 1, (double)total / (1 << 20), dev.sleeps, dev.lost_notifies, failures);
        return failures ? 1 : 0;
    }

    if (getenv("VSOCK_SIM_BENCH")) {
        full_packets = 1;
        uint64_t bytes = 1ull << 30;
        services_listen(5202, step_discard, "discard");
        services_listen(5203, step_endless, "endless");
        struct hconn *c = host_connect(5202, 0, UINT32_MAX);
        free(c->sent);
        c->sent = calloc(1, bytes);
        c->to_send = bytes;
        bench("host -> enclave (discard, recv copies out)", c, bytes, 0);
        c = host_connect(5203, 0, UINT32_MAX);
        c->kind = K_RAW;
        bench("enclave -> host (source)", c, bytes, 1);
        c = host_connect(ECHO_PORT, 0, UINT32_MAX);
        free(c->sent);
        c->sent = calloc(1, bytes / 4);
        c->to_send = bytes / 4;
        bench("echo (each byte both ways)", c, bytes / 4, 1);
        return 0;
    }

    /* One echo stream of 4 MiB, the host reading slowly. */
    watched[0] = host_connect(ECHO_PORT, 4u << 20, 20000);
    watched_count = 1;
    CHECK(run_until(all_watched_closed, 200000), "4 MiB echo did not finish: sent %zu, got %zu",
          watched[0]->sent_len, watched[0]->got_len);
    check_echoed(watched[0]);

    /* 64 at once, of different sizes and reading speeds. */
    for (int i = 0; i < 64; i++)
        watched[i] = host_connect(ECHO_PORT, (size_t)rand() % (300 * 1024), 4096 + (uint32_t)rand() % 200000);
    watched_count = 64;
    CHECK(run_until(all_watched_closed, 400000), "64 concurrent echoes did not finish");
    for (int i = 0; i < 64; i++)
        check_echoed(watched[i]);

    /* 200 in a row: more than the driver's 128 slots, so closed ones must be reused. */
    for (int i = 0; i < 200; i++) {
        watched[0] = host_connect(ECHO_PORT, 10, HOST_BUF);
        watched_count = 1;
        CHECK(run_until(all_watched_closed, 1000), "connection %d in a row did not finish", i);
        check_echoed(watched[0]);
    }

    /* The enclave sends 300 KiB (more than the host's buffer: credit updates) and closes first. */
    CHECK(services_listen(5101, step_source, "source") == 0, "listen 5101");
    watched[0] = host_connect(5101, 0, 30000);
    watched_count = 1;
    CHECK(run_until(all_watched_closed, 100000), "source did not finish: got %zu", watched[0]->got_len);
    CHECK(watched[0]->got_len == SOURCE_BYTES && watched[0]->peer_shut == 3 && !watched[0]->got_rst,
          "source: %zu bytes, SHUTDOWN flags %d, rst %d", watched[0]->got_len, watched[0]->peer_shut,
          watched[0]->got_rst);
    for (size_t i = 0; i < watched[0]->got_len; i++)
        if (watched[0]->got[i] != source_byte(i)) {
            CHECK(0, "source byte %zu differs", i);
            break;
        }

    /* The enclave shuts its sending side first, then reads to the end, then closes. */
    CHECK(services_listen(5103, step_half_close, "half-close") == 0, "listen 5103");
    struct hconn *half = host_connect(5103, 10, HOST_BUF);
    for (int i = 0; i < 10000 && (half->state == H_CONNECTING || (half->state == H_OPEN && half->peer_shut == 0));
         i++) {
        services_poll(0);
        device_run();
    }
    half_close_flags_seen = half->peer_shut;
    CHECK(half_close_flags_seen == VIRTIO_VSOCK_SHUTDOWN_SEND && half->got_len == 3 && memcmp(half->got, "abc", 3) == 0,
          "after shutdown(WR) the host saw flags %d and %zu bytes", half_close_flags_seen, half->got_len);
    watched[0] = half;
    watched_count = 1;
    CHECK(run_until(all_watched_closed, 1000) && half->peer_shut == 3 && !half->got_rst,
          "half-closed connection did not close cleanly (flags %d, rst %d)", half->peer_shut, half->got_rst);

    /* An enclave connection to a host port nobody listens on is refused. */
    CHECK(services_listen(5102, step_connect_refused, "refused") == 0, "listen 5102");
    watched[0] = host_connect(5102, 0, HOST_BUF);
    CHECK(run_until(connect_done, 1000), "connect to a closed host port never ended");
    CHECK(connect_error == -ECONNREFUSED && seen.refused == 1, "connect ended with %d (refused %u)",
          connect_error, seen.refused);

    /* The host resets an echo connection mid-stream: the guest must go quiet on it. */
    struct hconn *victim = host_connect(ECHO_PORT, 1u << 20, 1000);
    for (int i = 0; i < 300; i++) {
        services_poll(0);
        device_run();
    }
    CHECK(victim->state == H_OPEN && victim->got_len > 0, "victim state %d, %zu echoed", victim->state,
          victim->got_len);
    victim->kind = K_RAW;   /* the host sends nothing more on it */
    queue_to_guest(VIRTIO_VSOCK_OP_RST, victim->hport, victim->gport, 0, NULL, 0, NULL);
    device_run();           /* takes what the guest sent before, then delivers the RST */
    victim->state = H_CLOSED;   /* from here, anything but silence from the guest on it fails */
    for (int i = 0; i < 3000; i++) {
        services_poll(0);
        device_run();
    }
    watched[0] = host_connect(ECHO_PORT, 1000, HOST_BUF);
    CHECK(run_until(all_watched_closed, 1000), "echo after a reset did not finish");
    check_echoed(watched[0]);

    /* The same echoes with two vCPU threads polling concurrently (the driver's and the services' locks). */
    dev.threaded = 1;
    pthread_t vcpus[2];
    start_vcpus(vcpus);
    for (int i = 0; i < 64; i++)
        watched[i] = host_connect(ECHO_PORT, (size_t)rand() % (300 * 1024), 4096 + (uint32_t)rand() % 200000);
    watched_count = 64;
    CHECK(run_threaded_until(all_watched_closed, 120), "64 concurrent echoes on two vCPU threads did not finish");
    for (int i = 0; i < 64; i++)
        check_echoed(watched[i]);
    watched[0] = host_connect(ECHO_PORT, 4u << 20, 50000);
    watched_count = 1;
    CHECK(run_threaded_until(all_watched_closed, 120), "4 MiB echo on two vCPU threads did not finish");
    check_echoed(watched[0]);
    /* A few stress rounds (VSOCK_SIM_STRESS runs them for as long as asked), the device sleeping for real. */
    dev.sleepy = 1;
    for (unsigned seed = 1; seed <= 3; seed++)
        stress_round(seed, 8u << 20);
    dev.sleepy = 0;
    stop_vcpus(vcpus);
    dev.threaded = 0;

    /* A SHUTDOWN(3) left unanswered: after 2 s (by the TSC) the guest sends RST and forgets it. */
    mute_conn = host_connect(ECHO_PORT, 100, HOST_BUF);
    mute_conn->mute = 1;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < 100000 && !mute_conn->got_rst; i++) {
        run_until(mute_conn_reset, 1000);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (t1.tv_sec - t0.tv_sec > 30)
            break;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double waited = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    CHECK(mute_conn->got_rst && mute_conn->peer_shut == 3 && mute_conn->got_len == 100,
          "unanswered close: rst %d after %.1f s, flags %d, %zu echoed", mute_conn->got_rst, waited,
          mute_conn->peer_shut, mute_conn->got_len);
    if (verbose)
        printf("  unanswered SHUTDOWN(3) reset after %.2f s\n", waited);

    /* A host that sends beyond its credit is reset: 5 packets of 60 KiB without the guest polling. */
    struct hconn *greedy = host_connect(ECHO_PORT, 0, HOST_BUF);
    greedy->kind = K_RAW;
    device_run();
    services_poll(0);
    device_run();
    CHECK(greedy->state == H_OPEN, "greedy connection not open");
    static uint8_t big[60000];
    for (int i = 0; i < 5; i++)
        queue_to_guest(VIRTIO_VSOCK_OP_RW, greedy->hport, greedy->gport, 0, big, sizeof big, greedy);
    device_run();
    watched[0] = greedy;
    watched_count = 1;
    CHECK(run_until(all_watched_closed, 100) && greedy->got_rst, "credit overrun not answered with RST");

    /* A device reporting a tx used id it never got: the driver stops using it instead of trusting it. */
    push_used(&dev.q[1], 999, 0);
    dev.broken = 1;
    CHECK(run_until(device_unused, 10), "driver still uses a device that reported used id 999");

    if (failures) {
        printf("vsock-sim: %d failures\n", failures);
        return 1;
    }
    printf("vsock-sim: bring-up, handshake, RSTs, 4 MiB echo, 64 concurrent, 200 in a row, two vCPU threads, enclave close, half-close, "
           "stress rounds, refused connect, host reset, close timeout, credit overrun, lying device: all pass\n");
    return 0;
}
