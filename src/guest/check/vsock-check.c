/*
 * Host-side check of the pure parts of the guest's vsock driver, built and run by `make check`:
 * split-ring index arithmetic across the 16-bit wrap (virtq.h), credit-based flow control across the
 * 32-bit wrap (vsock_proto.h), the connection ring buffer, and mem.c's copies (renamed g_* for the host),
 * each against a plain reference model. Deterministic: a fixed-seed generator.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../virtq.h"
#include "../vsock_proto.h"

void *g_memcpy(void *dst, const void *src, size_t n);
void *g_memmove(void *dst, const void *src, size_t n);
void *g_memset(void *dst, int c, size_t n);

static int failures;
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

#define CHECK(cond, ...)                                        \
    do {                                                        \
        if (!(cond)) {                                          \
            if (failures++ < 20) {                              \
                printf("FAIL %s:%d: ", __FILE__, __LINE__);     \
                printf(__VA_ARGS__);                            \
                printf("\n");                                   \
            }                                                   \
        }                                                       \
    } while (0)

static void check_queue_size(void)
{
    for (uint32_t max = 0; max < 70000; max++) {
        uint32_t want = 0;
        for (uint32_t s = 1; s <= max && s <= VIRTQ_SIZE_MAX; s *= 2)
            want = s;
        CHECK(virtq_size_for(max) == want, "virtq_size_for(%u) = %u, want %u", max, virtq_size_for(max), want);
    }
    CHECK(virtq_size_for(UINT32_MAX) == VIRTQ_SIZE_MAX, "virtq_size_for(UINT32_MAX)");
    for (uint32_t size = 1; size <= VIRTQ_SIZE_MAX; size *= 2) {
        size_t avail_end = virtq_avail_offset(size) + 6 + 2 * (size_t)size;
        CHECK(virtq_used_offset(size) % 4096 == 0, "used ring of size %u not page aligned", size);
        CHECK(virtq_used_offset(size) >= avail_end, "used ring of size %u overlaps avail", size);
        CHECK(virtq_avail_offset(size) % 2 == 0 && virtq_avail_offset(size) >= 16 * (size_t)size,
              "avail ring of size %u", size);
        CHECK(virtq_total_bytes(size) == virtq_used_offset(size) + 6 + 8 * (size_t)size, "total of size %u", size);
    }
}

/*
 * A driver and a device exchanging chains around a ring, with 16-bit indexes started near the wrap:
 * the model counts in 64 bits. Also a device that publishes more than was made available.
 */
static void check_ring_indexes(void)
{
    for (int round = 0; round < 2000; round++) {
        uint32_t size = 1u << (rng() % 9);
        uint16_t start = (uint16_t)(65536 - (rng() % (3 * size + 1)));
        uint16_t avail = start, used = start, last_used = start;
        uint64_t made = 0, done = 0, taken = 0;
        uint32_t outstanding = 0;
        uint32_t slot_owner[VIRTQ_SIZE_MAX];
        for (int step = 0; step < 600; step++) {
            switch (rng() % 3) {
            case 0:   /* driver makes a chain available */
                if (made - taken < size) {
                    slot_owner[virtq_slot(avail, size)] = (uint32_t)made;
                    avail++;
                    made++;
                    outstanding++;
                }
                break;
            case 1:   /* device uses one */
                if (done < made) {
                    used++;
                    done++;
                }
                break;
            default: {   /* driver takes what is used */
                int n = virtq_used_new(used, last_used, outstanding);
                CHECK(n >= 0 && (uint64_t)n == done - taken, "used_new %d, model %" PRIu64, n, done - taken);
                for (int i = 0; i < n; i++) {
                    CHECK(slot_owner[virtq_slot(last_used, size)] == (uint32_t)taken,
                          "slot of chain %" PRIu64 " wrong after wrap (size %u)", taken, size);
                    last_used++;
                    taken++;
                    outstanding--;
                }
                break;
            }
            }
            CHECK(virtq_slot(avail, size) == (start + made) % size, "avail slot after %" PRIu64, made);
        }
        /* A device claiming more than is outstanding is refused, wherever the indexes are. */
        uint16_t lying = (uint16_t)(last_used + outstanding + 1 + rng() % 1000);
        CHECK(virtq_used_new(lying, last_used, outstanding) == -1, "used.idx %u accepted (last %u, outstanding %u)",
              lying, last_used, outstanding);
        CHECK(virtq_used_new((uint16_t)(last_used - 1), last_used, outstanding) == -1,
              "used.idx going backwards accepted");
    }
}

/*
 * Sender and receiver of one connection, counters started near 2^32: the sender never has more in flight
 * than the receiver's buffer, the receiver's room matches, credit updates come when half was freed.
 */
static void check_credit(void)
{
    for (int round = 0; round < 500; round++) {
        uint32_t buf = 1u << (14 + rng() % 5);
        uint32_t base = (uint32_t)(0 - (rng() % (4ull * buf)));
        uint32_t tx_cnt = base, rx_cnt = base, fwd_cnt = base, fwd_sent = base, peer_fwd = base;
        uint64_t sent = 0, consumed = 0, consumed_told = 0;
        for (int step = 0; step < 2000; step++) {
            uint32_t credit = vsock_peer_credit(buf, peer_fwd, tx_cnt);
            uint64_t model_credit = buf - (sent - consumed_told);
            CHECK(credit == model_credit, "credit %u, model %" PRIu64, credit, model_credit);
            CHECK(vsock_rx_room(buf, rx_cnt, fwd_cnt) == buf - (sent - consumed), "rx room");
            if (rng() % 2 && credit) {
                uint32_t n = 1 + (uint32_t)(rng() % credit);
                CHECK(n <= vsock_rx_room(buf, rx_cnt, fwd_cnt), "credit promised more than the receiver holds");
                tx_cnt += n;
                rx_cnt += n;
                sent += n;
            } else if (sent > consumed) {
                uint32_t n = 1 + (uint32_t)(rng() % (sent - consumed));
                fwd_cnt += n;
                consumed += n;
                int due = vsock_credit_update_due(buf, fwd_cnt, fwd_sent);
                CHECK(due == (consumed - consumed_told >= buf / 2), "credit_update_due");
                if (due || rng() % 4 == 0) {   /* an update, or any packet carrying fwd_cnt */
                    fwd_sent = fwd_cnt;
                    peer_fwd = fwd_cnt;
                    consumed_told = consumed;
                }
            }
        }
        /* Lies and shrinking buffers give no credit, never a huge one. */
        CHECK(vsock_peer_credit(buf, tx_cnt + 1, tx_cnt) == 0, "fwd_cnt ahead of tx_cnt gave credit");
        CHECK(vsock_peer_credit(buf, tx_cnt + (uint32_t)(rng() % 0x7fffffff) + 1, tx_cnt) == 0,
              "fwd_cnt far ahead gave credit");
        CHECK(vsock_peer_credit(0, peer_fwd, peer_fwd + 1) == 0, "buf_alloc 0 gave credit");
        CHECK(vsock_peer_credit(10, peer_fwd, peer_fwd + 11) == 0, "shrunk buf_alloc gave credit");
        CHECK(vsock_rx_room(buf, rx_cnt + buf + 5, rx_cnt) == 0, "overfull buffer has room");
    }
}

/* Bytes through the connection ring in random chunk sizes, counters started near the 32-bit wrap. */
static void check_ring_buffer(void)
{
    enum { SIZE = 4096 };
    static uint8_t ring[SIZE], out[SIZE], in[SIZE];
    for (int round = 0; round < 200; round++) {
        uint32_t rx = (uint32_t)(0 - (rng() % (3 * SIZE))), fwd = rx;
        uint64_t produced = 0, checked = 0;
        while (checked < 200000) {
            uint32_t room = vsock_rx_room(SIZE, rx, fwd);
            if (room && rng() % 2) {
                uint32_t n = 1 + (uint32_t)(rng() % room);
                for (uint32_t i = 0; i < n; i++)
                    in[i] = (uint8_t)((produced + i) * 7 + 3);
                vsock_ring_put(ring, SIZE, rx, in, n);
                rx += n;
                produced += n;
            } else if (rx != fwd) {
                uint32_t held = rx - fwd;
                uint32_t n = 1 + (uint32_t)(rng() % held);
                vsock_ring_get(ring, SIZE, fwd, out, n);
                for (uint32_t i = 0; i < n; i++)
                    CHECK(out[i] == (uint8_t)((checked + i) * 7 + 3), "ring byte %" PRIu64, checked + i);
                fwd += n;
                checked += n;
            }
        }
    }
}

/* mem.c against libc: every offset and length combination up to 80 bytes, overlapping both ways. */
static void check_mem(void)
{
    static uint8_t a[512], b[512], ref[512];
    for (size_t len = 0; len < 80; len++) {
        for (size_t src = 0; src < 100; src += 3) {
            for (size_t dst = 0; dst < 100; dst += 3) {
                for (size_t i = 0; i < sizeof a; i++)
                    a[i] = b[i] = (uint8_t)(i * 13 + 1);
                memmove(ref, a, sizeof a);
                memmove(ref + dst, ref + src, len);
                CHECK(g_memmove(b + dst, b + src, len) == b + dst, "memmove result");
                CHECK(memcmp(ref, b, sizeof b) == 0, "memmove(dst+%zu, src+%zu, %zu)", dst, src, len);
            }
        }
        memset(ref, 0, sizeof ref);
        memset(b, 0, sizeof b);
        memset(ref + 7, 0xa5, len);
        CHECK(g_memset(b + 7, 0xa5, len) == b + 7, "memset result");
        CHECK(memcmp(ref, b, sizeof b) == 0, "memset %zu", len);
        CHECK(g_memcpy(b, a + 100, len) == b, "memcpy result");
        CHECK(memcmp(b, a + 100, len) == 0, "memcpy %zu", len);
    }
}

int main(void)
{
    check_queue_size();
    check_ring_indexes();
    check_credit();
    check_ring_buffer();
    check_mem();
    if (failures) {
        printf("vsock-check: %d failures\n", failures);
        return 1;
    }
    printf("vsock-check: ring indexes, credit, ring buffer and mem.c copies all pass\n");
    return 0;
}
