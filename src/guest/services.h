/*
 * The enclave's services: small state machines ("tasks"), one per vsock connection, stepped from the idle
 * loop of every vCPU. One vCPU at a time steps them (a try-lock: the others just poll the device), so a
 * step may use the shared scratch buffer and must never block: it does what it can and returns.
 *
 * The demo runtime has the echo service on port 5000 and the ready handshake (docs/guest-abi.md,
 * "Ready handshake"); test guests add listeners of their own with services_listen().
 */
#ifndef ENCLAVE_SERVICES_H
#define ENCLAVE_SERVICES_H

#include <stddef.h>
#include <stdint.h>

#include "abi.h"
#include "vsock.h"

/* docs/guest-abi.md, "Ready handshake" and "Demo service". */
#define READY_HANDSHAKE_PORT 9000u   /* host port the runtime connects to once its services listen */
#define READY_HANDSHAKE_BYTE 0xB7u   /* sent by the enclave, answered with the same byte by the VMM */
#define ECHO_PORT            5000u   /* the demo runtime's echo service */

/* What a step returns. */
#define SERVICE_IDLE    0    /* nothing to do now */
#define SERVICE_WORKED  1    /* made progress */
#define SERVICE_DONE   (-1)  /* finished: services closes its connection (if any) and frees the task */

struct service_task;
typedef int (*service_step_fn)(struct service_task *task);

struct service_task {
    struct vsock_conn *conn;   /* the accepted connection, or what the step opened itself */
    service_step_fn step;
    uint64_t state[4];         /* the step's own, zero at start */
};

/*
 * Boot vCPU, before READY: finds the vsock device in the boot info and sets it up, then listens on port
 * 5000 (echo). Without a vsock device the enclave has no services and READY goes through the STATUS port.
 * Panics if the device is listed but cannot be used.
 */
void services_init(const struct boot_info *boot_info);

/* Nonzero once services_init brought the vsock device up. */
int services_vsock_up(void);

/* Listens on port; every connection accepted there gets a task running step. 0 or a negative errno. */
int services_listen(uint32_t port, service_step_fn step, const char *name);

/*
 * A task for a connection (or NULL: the step opens one itself). From a step or while no step runs (before
 * READY). NULL if the task table is full.
 */
struct service_task *services_spawn(struct vsock_conn *conn, service_step_fn step);

/* Scratch memory for steps (only one step runs at a time). */
uint8_t *services_scratch(size_t *size);

/* Boot vCPU: starts the ready handshake (connect to host port 9000, send 0xB7, await 0xB7, close). */
void services_start_handshake(void);

/* Nonzero once the host answered the handshake. */
int services_handshake_done(void);

/* Every vCPU, from the idle loop: do pending work. Returns nonzero if there was any. Must not block. */
int services_poll(uint32_t vcpu);

/* The echo step (port 5000): sends back everything it reads, closes when the peer closed. */
int service_echo(struct service_task *task);

#endif
