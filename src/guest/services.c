#include "services.h"

#include "alloc.h"
#include "console.h"
#include "cpu.h"
#include "panic.h"
#include "virtio_mmio.h"

#define MAX_SERVICES 16
#define MAX_TASKS    160        /* more than vsock's connection slots: a task never waits for one */
#define SCRATCH_SIZE (64u * 1024u)

struct service {
    uint32_t port;
    service_step_fn step;
    const char *name;
    struct vsock_listener *listener;
};

static struct spinlock services_lock;
static uint32_t vsock_ready;
static struct service services[MAX_SERVICES];
static uint32_t service_count;
static struct service_task tasks[MAX_TASKS];
static uint8_t task_active[MAX_TASKS];
static uint8_t *scratch;
static uint32_t handshake_done;

int services_vsock_up(void)
{
    return (int)__atomic_load_n(&vsock_ready, __ATOMIC_ACQUIRE);
}

uint8_t *services_scratch(size_t *size)
{
    *size = SCRATCH_SIZE;
    return scratch;
}

void services_init(const struct boot_info *bi)
{
    int r = vsock_init(bi);
    if (r == -ENODEV) {
        console_printf("services: no vsock device; READY goes through the STATUS port\n");
        return;
    }
    if (r != 0)
        panic("vsock device listed in boot info but unusable (error %d, device status 0x%x)", -r,
              vmmio_status(vsock_device_base()));
    if (!(scratch = page_alloc(SCRATCH_SIZE)))
        panic("no free RAM for the services' scratch buffer");
    __atomic_store_n(&vsock_ready, 1, __ATOMIC_RELEASE);
    if ((r = services_listen(ECHO_PORT, service_echo, "echo")) != 0)
        panic("cannot listen on vsock port %u (error %d)", ECHO_PORT, -r);
}

int services_listen(uint32_t port, service_step_fn step, const char *name)
{
    if (!services_vsock_up())
        return -ENODEV;
    int r = 0;
    spin_lock(&services_lock);
    if (service_count == MAX_SERVICES) {
        r = -EBUSY;
    } else {
        struct vsock_listener *l = vsock_listen(port);
        if (!l) {
            r = -EADDRINUSE;
        } else {
            services[service_count++] = (struct service){ port, step, name, l };
        }
    }
    spin_unlock(&services_lock);
    if (r == 0)
        console_printf("services: %s listening on vsock port %u\n", name, port);
    return r;
}

struct service_task *services_spawn(struct vsock_conn *conn, service_step_fn step)
{
    for (int i = 0; i < MAX_TASKS; i++) {
        if (!task_active[i]) {
            tasks[i] = (struct service_task){ .conn = conn, .step = step };
            task_active[i] = 1;
            return &tasks[i];
        }
    }
    return NULL;
}

static int step_all(void)
{
    int work = 0;
    for (uint32_t s = 0; s < service_count; s++) {   /* under services_lock, as services_listen */
        struct vsock_conn *c;
        while ((c = vsock_accept(services[s].listener)) != NULL) {
            work = 1;
            if (!services_spawn(c, services[s].step)) {
                console_printf("services: %s: no free task, connection closed\n", services[s].name);
                vsock_close(c);
            }
        }
    }
    for (int i = 0; i < MAX_TASKS; i++) {
        if (!task_active[i])
            continue;
        struct service_task *t = &tasks[i];
        int r = t->step(t);
        if (r == SERVICE_DONE) {
            if (t->conn)
                vsock_close(t->conn);
            task_active[i] = 0;
            work = 1;
        } else if (r != SERVICE_IDLE) {
            work = 1;
        }
    }
    return work;
}

int services_poll(uint32_t vcpu)
{
    (void)vcpu;
    if (!services_vsock_up())
        return 0;
    int work = vsock_poll();
    if (spin_trylock(&services_lock)) {
        work |= step_all();
        spin_unlock(&services_lock);
    }
    return work;
}

int service_echo(struct service_task *t)
{
    int space = vsock_send_space(t->conn);
    if (space < 0)
        return SERVICE_DONE;   /* reset, or the peer reads no more: nothing left to echo to */
    if (space == 0)
        return SERVICE_IDLE;   /* no credit yet (a reset shows up in send_space next time) */
    /* Straight from the receive buffer into tx buffers: one copy fewer than recv + send. */
    const uint8_t *data;
    int n = vsock_recv_peek(t->conn, &data);
    if (n == -EAGAIN)
        return SERVICE_IDLE;
    if (n <= 0)
        return SERVICE_DONE;   /* 0: the peer sends no more and everything was echoed */
    if (n > space)
        n = space;
    int sent = vsock_send(t->conn, data, (size_t)n);
    if (sent < 0)
        return sent == -EAGAIN ? SERVICE_IDLE : SERVICE_DONE;
    vsock_recv_consume(t->conn, (uint32_t)sent);
    return SERVICE_WORKED;
}

/* state[0]: 0 connect, 1 connecting, 2 send, 3 await the answer. */
static int handshake_step(struct service_task *t)
{
    uint8_t byte = READY_HANDSHAKE_BYTE;
    int r;
    switch (t->state[0]) {
    case 0:
        if (!(t->conn = vsock_connect(READY_HANDSHAKE_PORT)))
            panic("ready handshake: no vsock connection slot for host port %u", READY_HANDSHAKE_PORT);
        console_printf("handshake: connecting to host port %u from port %u\n", READY_HANDSHAKE_PORT,
                       vsock_local_port(t->conn));
        t->state[0] = 1;
        return SERVICE_WORKED;
    case 1:
        r = vsock_connected(t->conn);
        if (r == 0)
            return SERVICE_IDLE;
        if (r < 0)
            panic("ready handshake: connecting to host port %u failed (error %d)", READY_HANDSHAKE_PORT, -r);
        console_printf("handshake: connected\n");
        t->state[0] = 2;
        return SERVICE_WORKED;
    case 2:
        r = vsock_send(t->conn, &byte, 1);
        if (r == -EAGAIN)
            return SERVICE_IDLE;
        if (r != 1)
            panic("ready handshake: sending 0x%x to host port %u failed (error %d)", READY_HANDSHAKE_BYTE,
                  READY_HANDSHAKE_PORT, -r);
        console_printf("handshake: sent 0x%x\n", READY_HANDSHAKE_BYTE);
        t->state[0] = 3;
        return SERVICE_WORKED;
    default:
        r = vsock_recv(t->conn, &byte, 1);
        if (r == -EAGAIN)
            return SERVICE_IDLE;
        if (r != 1)
            panic("ready handshake: host port %u closed without an answer (%d)", READY_HANDSHAKE_PORT, r);
        if (byte != READY_HANDSHAKE_BYTE)
            panic("ready handshake: host answered 0x%x, expected 0x%x", byte, READY_HANDSHAKE_BYTE);
        console_printf("handshake: answered 0x%x; closing, the enclave is ready\n", byte);
        __atomic_store_n(&handshake_done, 1, __ATOMIC_RELEASE);
        return SERVICE_DONE;
    }
}

void services_start_handshake(void)
{
    spin_lock(&services_lock);
    struct service_task *t = services_spawn(NULL, handshake_step);
    spin_unlock(&services_lock);
    if (!t)
        panic("ready handshake: no free service task");
}

int services_handshake_done(void)
{
    return (int)__atomic_load_n(&handshake_done, __ATOMIC_ACQUIRE);
}
