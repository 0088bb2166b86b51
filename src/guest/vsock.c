#include "vsock.h"

#include "alloc.h"
#include "console.h"
#include "cpu.h"
#include "mem.h"
#include "virtio_mmio.h"
#include "virtq.h"
#include "vsock_proto.h"

#define Q_RX     0u
#define Q_TX     1u
#define Q_EVENT  2u

#define MAX_CONNS      128
#define MAX_LISTENERS  16
#define BACKLOG_MAX    MAX_CONNS   /* REQUESTs are answered in the poll before services accept: 64 at once must fit */

/* rx buffers: 64 KiB each (the contract's size), at most 64 posted: 4 MiB. */
#define RX_BUF_SIZE    65536u
#define RX_BUFS_MAX    64u
#define RX_BUFS_MIN    4u
/* tx data buffers: header and payload in one descriptor. */
#define TX_BUF_SIZE    65536u
#define TX_PAYLOAD_MAX (TX_BUF_SIZE - VSOCK_HDR_SIZE)
#define TX_BUFS_MAX    64u
#define TX_BUFS_MIN    2u
/* Per-descriptor room for a control packet (header only). */
#define TX_HDR_SLOT    64u
/*
 * The tx queue's descriptors are split: data buffer b always travels in descriptor ctrl_descs + b, and
 * control packets (REQUEST, RESPONSE, CREDIT_*, SHUTDOWN, RST) take the ctrl_descs below from a pool of
 * their own. So a control packet never takes what vsock_send_space promised to data, and data never
 * starves control. At least this many are kept for control.
 */
#define TX_CTRL_MIN    16u
#define EVENT_BUFS     8u

/* The per-connection receive buffer (buf_alloc): a power of two, chosen at init from the free RAM. */
#define CONN_BUF_MAX   (256u * 1024u)
#define CONN_BUF_MIN   (16u * 1024u)

/* RSTs not tied to a live connection (answers to strangers, timeouts) wait here for a tx descriptor. */
#define ORPHAN_MAX     64u

/*
 * 2 s (docs/guest-abi.md: a SHUTDOWN(3) unanswered for 2 s is followed by RST) in TSC ticks, which ring 3
 * cannot measure without an exit: 2 s at 2.5 GHz, 1.7-5 s at any plausible rate (as runtime.c's timeout).
 * The same bound applies to a REQUEST the host never answers.
 */
#define TIMEOUT_TICKS  5000000000ull
#define TIMEOUT_SCAN_TICKS 10000000ull   /* look for expired connections every ~4 ms, not on every poll */

#define EPHEMERAL_FIRST 49152u
#define EPHEMERAL_LAST  65535u

/* Device complaints on the console (debug only) are capped, so a hostile device cannot flood it. */
#define COMPLAINTS_MAX 16u

enum conn_state { C_FREE, C_CONNECTING, C_ESTABLISHED, C_CLOSING, C_CLOSED };

/* Control packets a connection owes the peer, sent as soon as a tx descriptor is free, in this order. */
#define P_REQUEST        0x01u
#define P_RESPONSE       0x02u
#define P_CREDIT_REQUEST 0x04u
#define P_CREDIT_UPDATE  0x08u
#define P_SHUTDOWN       0x10u

struct vsock_conn {
    uint8_t state;
    uint8_t app_owned;        /* the application holds the handle */
    uint8_t pending;          /* P_* */
    uint8_t peer_shut;        /* SHUTDOWN flags received: RCV = the peer reads no more, SEND = it sends no more */
    uint8_t local_shut;       /* SHUTDOWN flags the application asked for */
    uint8_t shut_sent;        /* SHUTDOWN flags already on the wire */
    uint8_t credit_requested; /* a CREDIT_REQUEST was sent since the peer last gave credit */
    int err;                  /* what ended it: 0 or a negative errno */
    uint32_t local_port, peer_port;
    uint32_t peer_buf_alloc, peer_fwd_cnt, tx_cnt;   /* the peer's credit, our bytes sent */
    uint32_t rx_cnt, fwd_cnt, fwd_cnt_sent;          /* bytes received, read, and read as last told */
    uint8_t *buf;             /* conn_buf_size bytes, kept with the slot when it is reused */
    uint64_t deadline;        /* CONNECTING and CLOSING end here */
    struct vsock_listener *listener;   /* set while it waits in that listener's backlog */
    struct vsock_conn *next_in_backlog;
};

struct vsock_listener {
    uint32_t port;
    uint32_t active;
    uint32_t backlog_len;
    struct vsock_conn *backlog_head, *backlog_tail;
};

struct orphan_rst {
    uint32_t local_port, peer_port;
};

static struct {
    struct spinlock lock;
    uint32_t up;              /* atomic: set once init is done; cleared if the device turns out broken */
    uintptr_t base;
    uint64_t cid;
    uint32_t conn_buf_size;

    struct virtq rxq, txq, evq;

    uint8_t *rx_buf[RX_BUFS_MAX];
    uint32_t rx_count;
    uint8_t rx_posted[RX_BUFS_MAX];

    uint8_t *tx_buf[TX_BUFS_MAX];
    uint32_t tx_buf_count;
    uint16_t tx_buf_free[TX_BUFS_MAX];
    uint32_t tx_buf_free_count;
    uint8_t *tx_hdr;                          /* ctrl_descs slots of TX_HDR_SLOT bytes */
    uint32_t ctrl_descs;                      /* descriptors [0, ctrl_descs) carry control packets */
    uint16_t ctrl_free[VIRTQ_SIZE_MAX];
    uint32_t ctrl_free_count;
    uint8_t tx_desc_busy[VIRTQ_SIZE_MAX];

    struct virtio_vsock_event *events;
    uint8_t ev_posted[EVENT_BUFS];

    struct vsock_conn conns[MAX_CONNS];
    struct vsock_listener listeners[MAX_LISTENERS];
    struct orphan_rst orphans[ORPHAN_MAX];
    uint32_t orphan_head, orphan_count;
    uint32_t any_pending;     /* some connection has P_* bits set */
    uint32_t next_ephemeral;
    uint64_t last_timeout_scan;
    uint32_t complaints;
} vs;

static void complain_device(const char *what, uint32_t a, uint32_t b)
{
    if (vs.complaints < COMPLAINTS_MAX) {
        vs.complaints++;
        console_printf("vsock: device misbehaves: %s (0x%x, 0x%x)%s\n", what, a, b,
                       vs.complaints == COMPLAINTS_MAX ? "; no more such messages" : "");
    }
}

/* ---- connections ---- */

static void mark_pending(struct vsock_conn *c, uint8_t bits)
{
    c->pending |= bits;
    vs.any_pending = 1;
}

static void free_conn(struct vsock_conn *c)
{
    uint8_t *buf = c->buf;
    memset(c, 0, sizeof *c);
    c->buf = buf;
    c->state = C_FREE;
}

/* A closed connection nobody holds, with nothing left to send, gives its slot back. */
static void maybe_free(struct vsock_conn *c)
{
    if (c->state == C_CLOSED && !c->app_owned && !c->listener && !c->pending)
        free_conn(c);
}

static void queue_orphan_rst(uint32_t local_port, uint32_t peer_port)
{
    if (vs.orphan_count == ORPHAN_MAX)
        return;   /* best effort: the peer times out or retries; our state is already clean */
    struct orphan_rst *o = &vs.orphans[(vs.orphan_head + vs.orphan_count) % ORPHAN_MAX];
    o->local_port = local_port;
    o->peer_port = peer_port;
    vs.orphan_count++;
}

static void backlog_remove(struct vsock_conn *c)
{
    struct vsock_listener *l = c->listener;
    struct vsock_conn **link = &l->backlog_head, *prev = NULL;
    while (*link && *link != c) {
        prev = *link;
        link = &(*link)->next_in_backlog;
    }
    if (*link) {
        *link = c->next_in_backlog;
        if (l->backlog_tail == c)
            l->backlog_tail = prev;
        l->backlog_len--;
    }
    c->listener = NULL;
    c->next_in_backlog = NULL;
}

/* The connection is over on the wire (RST, timeout, transport reset): the holder sees err. */
static void conn_reset(struct vsock_conn *c, int err)
{
    c->state = C_CLOSED;
    c->pending = 0;
    if (!c->err)
        c->err = err;
    if (c->listener)
        backlog_remove(c);
    maybe_free(c);
}

/* We answer with RST and forget the connection (the peer broke the protocol). */
static void conn_abort(struct vsock_conn *c)
{
    queue_orphan_rst(c->local_port, c->peer_port);
    conn_reset(c, -ECONNRESET);
}

static struct vsock_conn *find_conn(uint32_t local_port, uint32_t peer_port)
{
    for (int i = 0; i < MAX_CONNS; i++) {
        struct vsock_conn *c = &vs.conns[i];
        if (c->state != C_FREE && c->state != C_CLOSED && c->local_port == local_port
            && c->peer_port == peer_port)
            return c;
    }
    return NULL;
}

static struct vsock_listener *find_listener(uint32_t port)
{
    for (int i = 0; i < MAX_LISTENERS; i++)
        if (vs.listeners[i].active && vs.listeners[i].port == port)
            return &vs.listeners[i];
    return NULL;
}

/* A free slot, preferring one that already has its buffer; NULL if none (or no RAM for a buffer). */
static struct vsock_conn *alloc_conn(uint32_t local_port, uint32_t peer_port)
{
    struct vsock_conn *found = NULL;
    for (int i = 0; i < MAX_CONNS && !(found && found->buf); i++) {
        struct vsock_conn *c = &vs.conns[i];
        if (c->state == C_FREE && (!found || c->buf))
            found = c;
    }
    if (!found || (!found->buf && !(found->buf = page_alloc(vs.conn_buf_size))))
        return NULL;
    free_conn(found);
    found->local_port = local_port;
    found->peer_port = peer_port;
    return found;
}

/* ---- tx ---- */

static int tx_reclaim(void)
{
    int n = 0;
    uint32_t id, len;
    int r;
    while ((r = virtq_next_used(&vs.txq, &id, &len)) == 1) {
        if (id >= vs.txq.size || !vs.tx_desc_busy[id]) {
            complain_device("tx used id not in flight", id, vs.txq.size);
            return -1;
        }
        vs.tx_desc_busy[id] = 0;
        if (id < vs.ctrl_descs)
            vs.ctrl_free[vs.ctrl_free_count++] = (uint16_t)id;
        else
            vs.tx_buf_free[vs.tx_buf_free_count++] = (uint16_t)(id - vs.ctrl_descs);
        n++;
    }
    if (r < 0) {
        complain_device("tx used.idx beyond what was made available", vs.txq.used->idx, vs.txq.last_used);
        return -1;
    }
    return n;
}

static void fill_hdr(struct virtio_vsock_hdr *h, uint16_t op, uint32_t local_port, uint32_t peer_port,
                     uint32_t len, uint32_t flags, struct vsock_conn *c)
{
    h->src_cid = vs.cid;
    h->dst_cid = VSOCK_HOST_CID;
    h->src_port = local_port;
    h->dst_port = peer_port;
    h->len = len;
    h->type = VIRTIO_VSOCK_TYPE_STREAM;
    h->op = op;
    h->flags = flags;
    if (c) {
        h->buf_alloc = vs.conn_buf_size;
        h->fwd_cnt = c->fwd_cnt;
        c->fwd_cnt_sent = c->fwd_cnt;
    } else {
        h->buf_alloc = 0;
        h->fwd_cnt = 0;
    }
}

static void post_tx(uint16_t d, uint64_t addr, uint32_t len)
{
    struct virtq_desc *desc = &vs.txq.desc[d];
    desc->addr = addr;
    desc->len = len;
    desc->flags = 0;
    desc->next = 0;
    vs.tx_desc_busy[d] = 1;
    virtq_add(&vs.txq, d);
}

/* A header-only packet in the descriptor's own slot. Returns 0, or -1 if no descriptor is free. */
static int send_control(uint16_t op, uint32_t local_port, uint32_t peer_port, uint32_t flags,
                        struct vsock_conn *c)
{
    if (vs.ctrl_free_count == 0)
        return -1;
    uint16_t d = vs.ctrl_free[--vs.ctrl_free_count];
    struct virtio_vsock_hdr *h = (struct virtio_vsock_hdr *)(vs.tx_hdr + (size_t)d * TX_HDR_SLOT);
    fill_hdr(h, op, local_port, peer_port, 0, flags, c);
    post_tx(d, (uint64_t)(uintptr_t)h, VSOCK_HDR_SIZE);
    return 0;
}

/* Sends what connections owe (P_* bits) and the orphan RSTs, as far as descriptors last. */
static int flush_control(void)
{
    int n = 0;
    while (vs.orphan_count) {
        struct orphan_rst *o = &vs.orphans[vs.orphan_head];
        if (send_control(VIRTIO_VSOCK_OP_RST, o->local_port, o->peer_port, 0, NULL) != 0)
            return n;
        vs.orphan_head = (vs.orphan_head + 1) % ORPHAN_MAX;
        vs.orphan_count--;
        n++;
    }
    if (!vs.any_pending)
        return n;
    for (int i = 0; i < MAX_CONNS; i++) {
        struct vsock_conn *c = &vs.conns[i];
        while (c->pending) {
            uint8_t bit = c->pending & (uint8_t)-c->pending;   /* lowest first: the P_* order */
            uint16_t op;
            uint32_t flags = 0;
            switch (bit) {
            case P_REQUEST: op = VIRTIO_VSOCK_OP_REQUEST; break;
            case P_RESPONSE: op = VIRTIO_VSOCK_OP_RESPONSE; break;
            case P_CREDIT_REQUEST: op = VIRTIO_VSOCK_OP_CREDIT_REQUEST; break;
            case P_CREDIT_UPDATE: op = VIRTIO_VSOCK_OP_CREDIT_UPDATE; break;
            default: op = VIRTIO_VSOCK_OP_SHUTDOWN; flags = c->local_shut; break;
            }
            if (send_control(op, c->local_port, c->peer_port, flags, c) != 0)
                return n;   /* any_pending stays set: the rest goes out on a later poll */
            c->pending &= (uint8_t)~bit;
            n++;
            if (bit == P_SHUTDOWN) {
                c->shut_sent = c->local_shut;
                if (c->shut_sent == VSOCK_SHUT_RDWR && c->peer_shut == VSOCK_SHUT_RDWR)
                    c->state = C_CLOSED;   /* both sides said SHUTDOWN(3): done */
            }
        }
        maybe_free(c);
    }
    vs.any_pending = 0;
    return n;
}

/* ---- rx ---- */

static void post_rx(uint32_t i)
{
    struct virtq_desc *d = &vs.rxq.desc[i];
    d->addr = (uint64_t)(uintptr_t)vs.rx_buf[i];
    d->len = RX_BUF_SIZE;
    d->flags = VIRTQ_DESC_F_WRITE;
    d->next = 0;
    vs.rx_posted[i] = 1;
    virtq_add(&vs.rxq, (uint16_t)i);
}

static void post_event(uint32_t i)
{
    struct virtq_desc *d = &vs.evq.desc[i];
    d->addr = (uint64_t)(uintptr_t)&vs.events[i];
    d->len = sizeof(struct virtio_vsock_event);
    d->flags = VIRTQ_DESC_F_WRITE;
    d->next = 0;
    vs.ev_posted[i] = 1;
    virtq_add(&vs.evq, (uint16_t)i);
}

static void accept_request(const struct virtio_vsock_hdr *h)
{
    struct vsock_listener *l = find_listener(h->dst_port);
    struct vsock_conn *c = NULL;
    if (l && l->backlog_len < BACKLOG_MAX)
        c = alloc_conn(h->dst_port, h->src_port);
    if (!c) {
        queue_orphan_rst(h->dst_port, h->src_port);
        return;
    }
    c->state = C_ESTABLISHED;
    c->peer_buf_alloc = h->buf_alloc;
    c->peer_fwd_cnt = h->fwd_cnt;
    c->listener = l;
    if (l->backlog_tail)
        l->backlog_tail->next_in_backlog = c;
    else
        l->backlog_head = c;
    l->backlog_tail = c;
    l->backlog_len++;
    mark_pending(c, P_RESPONSE);
}

static void receive_data(struct vsock_conn *c, const uint8_t *payload, uint32_t len)
{
    if (len == 0)
        return;
    if (c->state != C_ESTABLISHED || (c->local_shut & VSOCK_SHUT_RD) || (c->peer_shut & VSOCK_SHUT_WR)) {
        /* No one will read it: count it as read so the peer's credit does not run dry while it closes. */
        c->rx_cnt += len;
        c->fwd_cnt += len;
        return;
    }
    if (len > vsock_rx_room(vs.conn_buf_size, c->rx_cnt, c->fwd_cnt)) {
        conn_abort(c);   /* more than the credit we gave: the contract says RST */
        return;
    }
    vsock_ring_put(c->buf, vs.conn_buf_size, c->rx_cnt, payload, len);
    c->rx_cnt += len;
}

static void handle_packet(const struct virtio_vsock_hdr *h, const uint8_t *payload, uint32_t payload_len)
{
    if (h->dst_cid != vs.cid || h->src_cid != VSOCK_HOST_CID) {
        complain_device("packet not from the host to us", (uint32_t)h->src_cid, (uint32_t)h->dst_cid);
        return;
    }
    if (h->len != payload_len || (h->op != VIRTIO_VSOCK_OP_RW && h->len != 0)) {
        complain_device("packet length disagrees with the used length", h->len, payload_len);
        return;
    }
    if (h->type != VIRTIO_VSOCK_TYPE_STREAM) {
        if (h->op != VIRTIO_VSOCK_OP_RST)
            queue_orphan_rst(h->dst_port, h->src_port);
        return;
    }
    struct vsock_conn *c = find_conn(h->dst_port, h->src_port);
    if (!c) {
        if (h->op == VIRTIO_VSOCK_OP_REQUEST)
            accept_request(h);
        else if (h->op != VIRTIO_VSOCK_OP_RST)
            queue_orphan_rst(h->dst_port, h->src_port);
        return;
    }
    if (h->buf_alloc != c->peer_buf_alloc || h->fwd_cnt != c->peer_fwd_cnt)
        c->credit_requested = 0;
    c->peer_buf_alloc = h->buf_alloc;
    c->peer_fwd_cnt = h->fwd_cnt;

    switch (h->op) {
    case VIRTIO_VSOCK_OP_RESPONSE:
        if (c->state != C_CONNECTING) {
            conn_abort(c);
            return;
        }
        c->state = C_ESTABLISHED;
        return;
    case VIRTIO_VSOCK_OP_RST:
        conn_reset(c, c->state == C_CONNECTING ? -ECONNREFUSED : -ECONNRESET);
        return;
    case VIRTIO_VSOCK_OP_SHUTDOWN:
        if (c->state == C_CONNECTING) {
            conn_abort(c);
            return;
        }
        c->peer_shut |= (uint8_t)(h->flags & VSOCK_SHUT_RDWR);
        if (c->peer_shut == VSOCK_SHUT_RDWR && c->shut_sent == VSOCK_SHUT_RDWR) {
            c->state = C_CLOSED;   /* both sides said SHUTDOWN(3) */
            maybe_free(c);
        }
        return;
    case VIRTIO_VSOCK_OP_RW:
        if (c->state == C_CONNECTING) {
            conn_abort(c);
            return;
        }
        receive_data(c, payload, payload_len);
        return;
    case VIRTIO_VSOCK_OP_CREDIT_UPDATE:
        return;   /* the credit fields were taken above */
    case VIRTIO_VSOCK_OP_CREDIT_REQUEST:
        if (c->state == C_ESTABLISHED || c->state == C_CLOSING)
            mark_pending(c, P_CREDIT_UPDATE);
        return;
    default:   /* a REQUEST for a connection that exists, or an unknown op */
        conn_abort(c);
        return;
    }
}

static void device_broken(void);

static int rx_process(void)
{
    int n = 0;
    uint32_t id, len;
    int r;
    while ((r = virtq_next_used(&vs.rxq, &id, &len)) == 1) {
        if (id >= vs.rx_count || !vs.rx_posted[id]) {
            complain_device("rx used id not posted", id, vs.rx_count);
            device_broken();
            return n;
        }
        vs.rx_posted[id] = 0;
        if (len < VSOCK_HDR_SIZE || len > RX_BUF_SIZE) {
            complain_device("rx used length out of range", len, RX_BUF_SIZE);
        } else {
            /* One copy of the header: the device could still write the buffer; we act on what we read once. */
            struct virtio_vsock_hdr h;
            memcpy(&h, vs.rx_buf[id], sizeof h);
            handle_packet(&h, vs.rx_buf[id] + VSOCK_HDR_SIZE, len - VSOCK_HDR_SIZE);
        }
        post_rx(id);
        n++;
    }
    if (r < 0) {
        complain_device("rx used.idx beyond what was made available", vs.rxq.used->idx, vs.rxq.last_used);
        device_broken();
        return n;
    }
    if (n)
        virtq_kick(&vs.rxq);
    return n;
}

static void reset_all(int err)
{
    for (int i = 0; i < MAX_CONNS; i++)
        if (vs.conns[i].state != C_FREE)
            conn_reset(&vs.conns[i], err);
    vs.orphan_count = 0;
}

static int event_process(void)
{
    int n = 0;
    uint32_t id, len;
    int r;
    while ((r = virtq_next_used(&vs.evq, &id, &len)) == 1) {
        if (id >= EVENT_BUFS || !vs.ev_posted[id]) {
            complain_device("event used id not posted", id, EVENT_BUFS);
            device_broken();
            return n;
        }
        vs.ev_posted[id] = 0;
        uint32_t event = __atomic_load_n(&vs.events[id].id, __ATOMIC_RELAXED);
        if (len >= sizeof(struct virtio_vsock_event) && event == VIRTIO_VSOCK_EVENT_TRANSPORT_RESET) {
            console_printf("vsock: transport reset: every connection is gone\n");
            reset_all(-ECONNRESET);
        }
        post_event(id);
        n++;
    }
    if (r < 0) {
        complain_device("event used.idx beyond what was made available", vs.evq.used->idx, vs.evq.last_used);
        device_broken();
        return n;
    }
    if (n)
        virtq_kick(&vs.evq);
    return n;
}

/* The device said something impossible about its rings: stop using it, as a device in NEEDS_RESET does. */
static void device_broken(void)
{
    if (!__atomic_load_n(&vs.up, __ATOMIC_RELAXED))
        return;
    console_printf("vsock: device unusable (status 0x%x); every connection reset\n", vmmio_status(vs.base));
    __atomic_store_n(&vs.up, 0, __ATOMIC_RELEASE);
    reset_all(-EIO);
}

static void expire(uint64_t now)
{
    for (int i = 0; i < MAX_CONNS; i++) {
        struct vsock_conn *c = &vs.conns[i];
        if ((c->state == C_CONNECTING || c->state == C_CLOSING) && (int64_t)(now - c->deadline) > 0) {
            queue_orphan_rst(c->local_port, c->peer_port);
            conn_reset(c, c->state == C_CONNECTING ? -ETIMEDOUT : -ECONNRESET);
        }
    }
}

/* ---- the public API ---- */

int vsock_up(void)
{
    return (int)__atomic_load_n(&vs.up, __ATOMIC_ACQUIRE);
}

uintptr_t vsock_device_base(void)
{
    return vs.base;
}

int vsock_poll(void)
{
    if (!vsock_up() || !spin_trylock(&vs.lock))
        return 0;
    int work = 0;
    if (vsock_up()) {
        work += rx_process();
        int reclaimed = vsock_up() ? tx_reclaim() : 0;
        if (reclaimed < 0)
            device_broken();
        else
            work += reclaimed;
        if (vsock_up())
            work += event_process();
        uint64_t now = cpu_rdtsc();
        if (now - vs.last_timeout_scan > TIMEOUT_SCAN_TICKS) {
            vs.last_timeout_scan = now;
            expire(now);
        }
        if (vsock_up()) {
            work += flush_control();
            virtq_kick(&vs.txq);
        }
    }
    spin_unlock(&vs.lock);
    return work;
}

struct vsock_listener *vsock_listen(uint32_t port)
{
    struct vsock_listener *l = NULL;
    spin_lock(&vs.lock);
    if (!find_listener(port)) {
        for (int i = 0; i < MAX_LISTENERS; i++) {
            if (!vs.listeners[i].active) {
                l = &vs.listeners[i];
                memset(l, 0, sizeof *l);
                l->port = port;
                l->active = 1;
                break;
            }
        }
    }
    spin_unlock(&vs.lock);
    return l;
}

struct vsock_conn *vsock_accept(struct vsock_listener *l)
{
    spin_lock(&vs.lock);
    struct vsock_conn *c = l->backlog_head;
    if (c) {
        backlog_remove(c);
        c->app_owned = 1;
    }
    spin_unlock(&vs.lock);
    return c;
}

static int port_in_use(uint32_t port)
{
    if (find_listener(port))
        return 1;
    for (int i = 0; i < MAX_CONNS; i++)
        if (vs.conns[i].state != C_FREE && vs.conns[i].local_port == port)
            return 1;
    return 0;
}

struct vsock_conn *vsock_connect(uint32_t host_port)
{
    struct vsock_conn *c = NULL;
    spin_lock(&vs.lock);
    if (vsock_up()) {
        uint32_t span = EPHEMERAL_LAST - EPHEMERAL_FIRST + 1;
        for (uint32_t tries = 0; tries < span; tries++) {
            uint32_t port = EPHEMERAL_FIRST + (vs.next_ephemeral++ % span);
            if (port_in_use(port))
                continue;
            c = alloc_conn(port, host_port);
            break;
        }
        if (c) {
            c->state = C_CONNECTING;
            c->app_owned = 1;
            c->deadline = cpu_rdtsc() + TIMEOUT_TICKS;
            mark_pending(c, P_REQUEST);
            flush_control();
            virtq_kick(&vs.txq);
        }
    }
    spin_unlock(&vs.lock);
    return c;
}

int vsock_connected(struct vsock_conn *c)
{
    spin_lock(&vs.lock);
    int r = c->err ? c->err : c->state == C_CONNECTING || (c->pending & P_REQUEST) ? 0 : 1;
    spin_unlock(&vs.lock);
    return r;
}

static uint32_t peer_credit(const struct vsock_conn *c)
{
    return vsock_peer_credit(c->peer_buf_alloc, c->peer_fwd_cnt, c->tx_cnt);
}

static int send_space_locked(struct vsock_conn *c)
{
    if (c->err)
        return c->err;
    if ((c->local_shut & VSOCK_SHUT_WR) || (c->peer_shut & VSOCK_SHUT_RD) || c->state == C_CLOSED)
        return -EPIPE;
    if (c->state != C_ESTABLISHED || (c->pending & P_RESPONSE))
        return 0;
    uint64_t room = (uint64_t)vs.tx_buf_free_count * TX_PAYLOAD_MAX;
    uint64_t credit = peer_credit(c);
    uint64_t space = credit < room ? credit : room;
    return space > 0x7fffffff ? 0x7fffffff : (int)space;
}

int vsock_send_space(struct vsock_conn *c)
{
    spin_lock(&vs.lock);
    if (tx_reclaim() < 0)
        device_broken();
    int r = send_space_locked(c);
    spin_unlock(&vs.lock);
    return r;
}

int vsock_send(struct vsock_conn *c, const void *buf, size_t len)
{
    const uint8_t *src = buf;
    spin_lock(&vs.lock);
    if (tx_reclaim() < 0)
        device_broken();
    int space = send_space_locked(c);
    if (space <= 0) {
        if (space == 0 && c->state == C_ESTABLISHED && peer_credit(c) == 0 && !c->credit_requested) {
            c->credit_requested = 1;
            mark_pending(c, P_CREDIT_REQUEST);
            flush_control();
            virtq_kick(&vs.txq);
        }
        spin_unlock(&vs.lock);
        return space < 0 ? space : -EAGAIN;
    }
    size_t want = len < (size_t)space ? len : (size_t)space;
    size_t done = 0;
    while (done < want) {
        uint32_t chunk = want - done < TX_PAYLOAD_MAX ? (uint32_t)(want - done) : TX_PAYLOAD_MAX;
        uint16_t b = vs.tx_buf_free[--vs.tx_buf_free_count];
        uint8_t *p = vs.tx_buf[b];
        fill_hdr((struct virtio_vsock_hdr *)p, VIRTIO_VSOCK_OP_RW, c->local_port, c->peer_port, chunk, 0, c);
        memcpy(p + VSOCK_HDR_SIZE, src + done, chunk);
        post_tx((uint16_t)(vs.ctrl_descs + b), (uint64_t)(uintptr_t)p, VSOCK_HDR_SIZE + chunk);
        c->tx_cnt += chunk;
        done += chunk;
    }
    virtq_kick(&vs.txq);
    spin_unlock(&vs.lock);
    return (int)done;
}

uint32_t vsock_readable(struct vsock_conn *c)
{
    spin_lock(&vs.lock);
    uint32_t n = c->rx_cnt - c->fwd_cnt;
    spin_unlock(&vs.lock);
    return n;
}

/* What a read of an empty buffer returns: the error that ended it, 0 at end of stream, or -EAGAIN. */
static int empty_result(const struct vsock_conn *c)
{
    if (c->err)
        return c->err;
    if ((c->peer_shut & VSOCK_SHUT_WR) || (c->local_shut & VSOCK_SHUT_RD) || c->state == C_CLOSED)
        return 0;
    return -EAGAIN;
}

/* n bytes were read: tell the peer once half the buffer is free again. */
static void consumed_locked(struct vsock_conn *c, uint32_t n)
{
    c->fwd_cnt += n;
    if (c->state == C_ESTABLISHED && !(c->peer_shut & VSOCK_SHUT_WR)
        && vsock_credit_update_due(vs.conn_buf_size, c->fwd_cnt, c->fwd_cnt_sent)) {
        mark_pending(c, P_CREDIT_UPDATE);
        flush_control();
        virtq_kick(&vs.txq);
    }
}

int vsock_recv(struct vsock_conn *c, void *buf, size_t len)
{
    if (len == 0)
        return -EINVAL;   /* 0 means end of stream */
    spin_lock(&vs.lock);
    uint32_t held = c->rx_cnt - c->fwd_cnt;
    if (held == 0) {
        int r = empty_result(c);
        spin_unlock(&vs.lock);
        return r;
    }
    uint32_t n = len < held ? (uint32_t)len : held;
    if (n > 0x7fffffff)
        n = 0x7fffffff;
    vsock_ring_get(c->buf, vs.conn_buf_size, c->fwd_cnt, buf, n);
    consumed_locked(c, n);
    spin_unlock(&vs.lock);
    return (int)n;
}

int vsock_recv_peek(struct vsock_conn *c, const uint8_t **data)
{
    spin_lock(&vs.lock);
    uint32_t held = c->rx_cnt - c->fwd_cnt;
    int r;
    if (held == 0) {
        r = empty_result(c);
    } else {
        uint32_t at = c->fwd_cnt & (vs.conn_buf_size - 1);
        uint32_t contiguous = vs.conn_buf_size - at;
        *data = c->buf + at;
        r = (int)(held < contiguous ? held : contiguous);
    }
    spin_unlock(&vs.lock);
    return r;
}

void vsock_recv_consume(struct vsock_conn *c, uint32_t n)
{
    spin_lock(&vs.lock);
    uint32_t held = c->rx_cnt - c->fwd_cnt;
    consumed_locked(c, n < held ? n : held);
    spin_unlock(&vs.lock);
}

int vsock_shutdown(struct vsock_conn *c, int how)
{
    if (how & ~VSOCK_SHUT_RDWR || !how)
        return -EINVAL;
    spin_lock(&vs.lock);
    int r = 0;
    if (c->err) {
        r = c->err;
    } else if (c->state != C_ESTABLISHED) {
        r = -ENOTCONN;
    } else if ((c->local_shut | how) != c->local_shut) {
        c->local_shut |= (uint8_t)how;
        mark_pending(c, P_SHUTDOWN);
        flush_control();
        virtq_kick(&vs.txq);
    }
    spin_unlock(&vs.lock);
    return r;
}

void vsock_close(struct vsock_conn *c)
{
    spin_lock(&vs.lock);
    c->app_owned = 0;
    switch (c->state) {
    case C_CONNECTING:
        c->pending = 0;
        queue_orphan_rst(c->local_port, c->peer_port);
        c->state = C_CLOSED;
        break;
    case C_ESTABLISHED:
        if (c->local_shut != VSOCK_SHUT_RDWR || c->shut_sent != VSOCK_SHUT_RDWR) {
            c->local_shut = VSOCK_SHUT_RDWR;
            mark_pending(c, P_SHUTDOWN);
        }
        c->pending &= (uint8_t)~(P_CREDIT_UPDATE | P_CREDIT_REQUEST);
        if (c->peer_shut == VSOCK_SHUT_RDWR && c->shut_sent == VSOCK_SHUT_RDWR) {
            c->state = C_CLOSED;
        } else {
            c->state = C_CLOSING;
            c->deadline = cpu_rdtsc() + TIMEOUT_TICKS;
        }
        break;
    default:
        break;
    }
    if (vsock_up()) {
        flush_control();
        virtq_kick(&vs.txq);
    }
    maybe_free(c);
    spin_unlock(&vs.lock);
}

uint32_t vsock_local_port(const struct vsock_conn *c)
{
    return c->local_port;
}

uint32_t vsock_peer_port(const struct vsock_conn *c)
{
    return c->peer_port;
}

/* ---- bring-up ---- */

static uint32_t buffers_for(uint32_t want, uint32_t min, uint32_t size)
{
    /* At most a quarter of what is free goes to each pool of ring buffers. */
    size_t budget = page_alloc_free() / 4;
    while (want > min && (size_t)want * size > budget)
        want /= 2;
    return want;
}

static int setup_queue(struct virtq *q, uint32_t index)
{
    uint32_t max = vmmio_queue_max(vs.base, index);
    uint32_t size = virtq_size_for(max);
    if (size == 0) {
        console_printf("vsock: queue %u: QueueNumMax is %u\n", index, max);
        return -EIO;
    }
    if (virtq_alloc(q, index, size) != 0)
        return -ENOMEM;
    if (!vmmio_queue_setup(vs.base, index, size, (uintptr_t)q->desc, (uintptr_t)q->avail, (uintptr_t)q->used)) {
        console_printf("vsock: queue %u: the device did not take it (status 0x%x)\n", index,
                       vmmio_status(vs.base));
        return -EIO;
    }
    return 0;
}

static int init_locked(const struct boot_info *bi)
{
    if (vs.base)
        return -EBUSY;
    uintptr_t base = vmmio_find(bi, ABI_DEVICE_VSOCK);
    if (!base)
        return -ENODEV;
    if (vmmio_probe(base, VIRTIO_DEVICE_ID_VSOCK) != 0)
        return -EIO;
    vs.base = base;
    if (vmmio_negotiate(base, VIRTIO_F_VERSION_1, VIRTIO_VSOCK_F_STREAM, NULL) != 0)
        return -EIO;
    int r;
    if ((r = setup_queue(&vs.rxq, Q_RX)) != 0 || (r = setup_queue(&vs.txq, Q_TX)) != 0
        || (r = setup_queue(&vs.evq, Q_EVENT)) != 0)
        goto fail;
    r = -ENOMEM;
    uint32_t want;
    if (vs.evq.size < EVENT_BUFS || vs.txq.size < TX_CTRL_MIN + TX_BUFS_MIN) {
        console_printf("vsock: queues too small (tx %u, event %u)\n", vs.txq.size, vs.evq.size);
        r = -EIO;
        goto fail;
    }
    want = buffers_for(TX_BUFS_MAX, TX_BUFS_MIN, TX_BUF_SIZE);
    if (want > vs.txq.size - TX_CTRL_MIN)
        want = vs.txq.size - TX_CTRL_MIN;
    for (vs.tx_buf_count = 0; vs.tx_buf_count < want; vs.tx_buf_count++)
        if (!(vs.tx_buf[vs.tx_buf_count] = page_alloc(TX_BUF_SIZE)))
            break;
    vs.ctrl_descs = vs.txq.size - vs.tx_buf_count;
    if (!(vs.tx_hdr = page_alloc((size_t)vs.ctrl_descs * TX_HDR_SLOT))
        || !(vs.events = page_alloc(EVENT_BUFS * sizeof(struct virtio_vsock_event))))
        goto fail;
    want = buffers_for(vs.rxq.size < RX_BUFS_MAX ? vs.rxq.size : RX_BUFS_MAX, RX_BUFS_MIN, RX_BUF_SIZE);
    for (vs.rx_count = 0; vs.rx_count < want; vs.rx_count++)
        if (!(vs.rx_buf[vs.rx_count] = page_alloc(RX_BUF_SIZE)))
            break;
    if (vs.rx_count < RX_BUFS_MIN || vs.tx_buf_count < TX_BUFS_MIN)
        goto fail;
    /* Connection buffers come later, one per slot on first use: size them so 16 of them fit. */
    vs.conn_buf_size = CONN_BUF_MAX;
    while (vs.conn_buf_size > CONN_BUF_MIN && (size_t)vs.conn_buf_size * 16 > page_alloc_free())
        vs.conn_buf_size /= 2;

    for (uint32_t i = 0; i < vs.tx_buf_count; i++)
        vs.tx_buf_free[i] = (uint16_t)i;
    vs.tx_buf_free_count = vs.tx_buf_count;
    for (uint32_t i = 0; i < vs.ctrl_descs; i++)
        vs.ctrl_free[i] = (uint16_t)(vs.ctrl_descs - 1 - i);
    vs.ctrl_free_count = vs.ctrl_descs;
    vs.cid = vmmio_config64(base, 0);
    if (vs.cid != bi->cid)
        console_printf("vsock: the device's guest_cid %lu is not boot_info.cid %u; using the device's\n",
                       (unsigned long)vs.cid, bi->cid);
    vs.next_ephemeral = (uint32_t)cpu_rdtsc();

    vmmio_driver_ok(base);
    for (uint32_t i = 0; i < vs.rx_count; i++)
        post_rx(i);
    for (uint32_t i = 0; i < EVENT_BUFS; i++)
        post_event(i);
    virtq_kick(&vs.rxq);
    virtq_kick(&vs.evq);
    console_printf("vsock: device up at 0x%lx: cid %lu, queues %u/%u/%u, %u rx and %u tx buffers of 64 KiB, "
                   "%u KiB per connection\n", (unsigned long)base, (unsigned long)vs.cid, vs.rxq.size,
                   vs.txq.size, vs.evq.size, vs.rx_count, vs.tx_buf_count, vs.conn_buf_size >> 10);
    return 0;
fail:
    if (r == -ENOMEM)
        console_printf("vsock: not enough free RAM for the rings and buffers (%lu bytes left)\n",
                       (unsigned long)page_alloc_free());
    vmmio_fail(base);
    return r;
}

int vsock_init(const struct boot_info *bi)
{
    spin_lock(&vs.lock);
    int r = init_locked(bi);
    if (r == 0)
        __atomic_store_n(&vs.up, 1, __ATOMIC_RELEASE);
    spin_unlock(&vs.lock);
    return r;
}
