/*
 * Test guest: the demo runtime's services (echo on 5000, the ready handshake) plus ports for tests and
 * benchmarks. The pattern of 5001 and 5003 is byte i = (uint8_t)(i * 7 + (i >> 12)) for i in [0, 1 MiB)
 * (what VsockEndToEndTest checks), repeated (5003) every MiB.
 *   5000 echo
 *   5001 sends the 1 MiB pattern, then closes (the enclave closes first)
 *   5002 discard: reads and counts until the peer closes (host -> enclave one-way benchmark)
 *   5003 source: sends the pattern, repeated, until the peer closes (enclave -> host one-way benchmark)
 *   5004 per accepted connection: connects to host port 6000, sends "hello from the enclave\n", closes that
 *        connection and then the accepted one (enclave-initiated connections)
 */
#include "../alloc.h"
#include "../console.h"
#include "../mem.h"
#include "../panic.h"
#include "../runtime.h"
#include "../services.h"

#define PATTERN_SIZE (1u << 20)
#define HELLO_PORT   6000u

static const char hello[] = "hello from the enclave\n";
static uint8_t *pattern;

static uint8_t pattern_byte(uint32_t i)
{
    return (uint8_t)(i * 7u + (i >> 12));
}

/* Sends from the pattern at *offset (mod 1 MiB) as much as the connection takes; -1 once it takes no more. */
static int send_pattern(struct vsock_conn *c, uint64_t *offset, uint64_t limit)
{
    int space = vsock_send_space(c);
    if (space < 0)
        return -1;
    if (space == 0)
        return 0;
    uint32_t at = (uint32_t)(*offset % PATTERN_SIZE);
    uint64_t n = PATTERN_SIZE - at;
    if (n > (uint64_t)space)
        n = (uint64_t)space;
    if (n > limit - *offset)
        n = limit - *offset;
    int sent = vsock_send(c, pattern + at, (size_t)n);
    if (sent < 0)
        return sent == -EAGAIN ? 0 : -1;
    *offset += (uint64_t)sent;
    return 1;
}

/* state[0]: bytes sent. */
static int service_pattern_once(struct service_task *t)
{
    int r = send_pattern(t->conn, &t->state[0], PATTERN_SIZE);
    if (r < 0 || t->state[0] == PATTERN_SIZE) {
        console_printf("pattern: port %u: sent %lu bytes, closing\n", vsock_peer_port(t->conn),
                       (unsigned long)t->state[0]);
        return SERVICE_DONE;
    }
    return r ? SERVICE_WORKED : SERVICE_IDLE;
}

/* state[0]: bytes sent. */
static int service_source(struct service_task *t)
{
    int r = send_pattern(t->conn, &t->state[0], UINT64_MAX);
    if (r < 0) {
        console_printf("source: port %u: peer closed after %lu bytes\n", vsock_peer_port(t->conn),
                       (unsigned long)t->state[0]);
        return SERVICE_DONE;
    }
    return r ? SERVICE_WORKED : SERVICE_IDLE;
}

/* state[0]: bytes read. */
static int service_discard(struct service_task *t)
{
    size_t size;
    uint8_t *buf = services_scratch(&size);
    int n = vsock_recv(t->conn, buf, size);
    if (n == -EAGAIN)
        return SERVICE_IDLE;
    if (n <= 0) {
        console_printf("discard: port %u: %lu bytes, peer closed (%d)\n", vsock_peer_port(t->conn),
                       (unsigned long)t->state[0], n);
        return SERVICE_DONE;
    }
    t->state[0] += (uint64_t)n;
    return SERVICE_WORKED;
}

/* state[0]: 0 connect, 1 connecting, 2 sending; state[1]: the outgoing connection; state[2]: bytes sent. */
static int service_hello(struct service_task *t)
{
    struct vsock_conn *out = (struct vsock_conn *)(uintptr_t)t->state[1];
    int r;
    switch (t->state[0]) {
    case 0:
        if (!(out = vsock_connect(HELLO_PORT))) {
            console_printf("hello: no connection slot for host port %u\n", HELLO_PORT);
            return SERVICE_DONE;
        }
        t->state[1] = (uintptr_t)out;
        t->state[0] = 1;
        return SERVICE_WORKED;
    case 1:
        r = vsock_connected(out);
        if (r == 0)
            return SERVICE_IDLE;
        if (r < 0) {
            console_printf("hello: connecting to host port %u failed (error %d)\n", HELLO_PORT, -r);
            vsock_close(out);
            return SERVICE_DONE;
        }
        t->state[0] = 2;
        return SERVICE_WORKED;
    default:
        r = vsock_send(out, hello + t->state[2], sizeof hello - 1 - t->state[2]);
        if (r == -EAGAIN)
            return SERVICE_IDLE;
        if (r < 0) {
            console_printf("hello: sending to host port %u failed (error %d)\n", HELLO_PORT, -r);
            vsock_close(out);
            return SERVICE_DONE;
        }
        t->state[2] += (uint64_t)r;
        if (t->state[2] < sizeof hello - 1)
            return SERVICE_WORKED;
        console_printf("hello: said hello to host port %u from port %u\n", HELLO_PORT, vsock_local_port(out));
        vsock_close(out);
        return SERVICE_DONE;
    }
}

static void listen_or_panic(uint32_t port, service_step_fn step, const char *name)
{
    int r = services_listen(port, step, name);
    if (r != 0)
        panic("test-vsock-services: cannot listen on port %u (error %d)", port, -r);
}

void enclave_main(uint32_t vcpu, const struct boot_info *bi)
{
    runtime_start(vcpu, bi);
    if (vcpu == BOOT_VCPU) {
        services_init(bi);
        if (!services_vsock_up())
            panic("test-vsock-services: needs a vsock device");
        if (!(pattern = page_alloc(PATTERN_SIZE)))
            panic("test-vsock-services: no RAM for the pattern");
        for (uint32_t i = 0; i < PATTERN_SIZE; i++)
            pattern[i] = pattern_byte(i);
        listen_or_panic(5001, service_pattern_once, "pattern");
        listen_or_panic(5002, service_discard, "discard");
        listen_or_panic(5003, service_source, "source");
        listen_or_panic(5004, service_hello, "hello");
        runtime_ready();
    }
    runtime_serve(vcpu);
}
