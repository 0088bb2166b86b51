/*
 * The enclave's virtio-vsock driver and its socket API (docs/guest-abi.md, "virtio-vsock").
 *
 * Non-blocking and poll-driven: there are no threads or interrupts, so nothing happens unless someone calls
 * vsock_poll() (services_poll does, on every vCPU, from the idle loop). Any vCPU may call any function; one
 * lock serialises the driver (vsock_poll only tries it, so idle vCPUs never queue up behind each other).
 * Functions return negative errno values; -EAGAIN means "not now, poll and try again".
 *
 * Connection handles belong to the caller from vsock_accept()/vsock_connect() until vsock_close(); after
 * that the driver finishes the close on the wire and reuses the slot.
 */
#ifndef ENCLAVE_VSOCK_H
#define ENCLAVE_VSOCK_H

#include <stddef.h>
#include <stdint.h>

#include "abi.h"

#define EIO           5
#define EAGAIN       11
#define ENOMEM       12
#define EBUSY        16
#define ENODEV       19
#define EINVAL       22
#define EPIPE        32
#define EADDRINUSE   98
#define ENOTCONN    107
#define ECONNRESET  104
#define ETIMEDOUT   110
#define ECONNREFUSED 111

/* vsock_shutdown's how: the directions of the SHUTDOWN flags. */
#define VSOCK_SHUT_RD   1
#define VSOCK_SHUT_WR   2
#define VSOCK_SHUT_RDWR 3

struct vsock_conn;
struct vsock_listener;

/*
 * Boot vCPU, once: finds the vsock device in the boot info, resets it, negotiates, sets up the rx, tx and
 * event queues, posts buffers, DRIVER_OK. Returns 0, -ENODEV if boot info lists no vsock device, or -EIO /
 * -ENOMEM if the device or the memory would not do (said on the console). Needs page_alloc_init first.
 */
int vsock_init(const struct boot_info *boot_info);

/* Nonzero once vsock_init succeeded (and the device has not been found broken since). */
int vsock_up(void);

/* The device's register base (0 before vsock_init). */
uintptr_t vsock_device_base(void);

/* Does pending device work: received packets, used tx buffers, queued control packets, timeouts. Returns
 * nonzero if it did any. Returns 0 at once if another vCPU is polling. */
int vsock_poll(void);

/* Listens on an enclave port. NULL if the port is taken or the listener table is full. */
struct vsock_listener *vsock_listen(uint32_t port);

/* The next connection a host peer opened to this listener (already answered), or NULL if none is waiting. */
struct vsock_conn *vsock_accept(struct vsock_listener *listener);

/*
 * Opens a connection to a host port from a free local port. Returns at once (NULL without a free slot or
 * memory); vsock_connected() says when it is open or refused.
 */
struct vsock_conn *vsock_connect(uint32_t host_port);

/* 1 open, 0 still connecting, or the error (-ECONNREFUSED, -ETIMEDOUT, -ECONNRESET) that ended it. */
int vsock_connected(struct vsock_conn *c);

/*
 * Bytes vsock_send() would take right now: the peer's credit, capped by free tx buffers; 0 if none (or still
 * connecting); -EPIPE once either side shut this direction; the error of a connection that was reset.
 */
int vsock_send_space(struct vsock_conn *c);

/*
 * Queues up to len bytes for the peer (copied: buf is free again on return); returns how many it took
 * (> 0; 0 only for len 0), -EAGAIN without credit or tx buffers (or while connecting), or an error as
 * vsock_send_space. Data buffers are the driver's own, so after vsock_send_space(c) returned n > 0, a
 * vsock_send(c, ..., <= n) takes all of it unless another caller sent in between or the peer shrank
 * its buffer.
 */
int vsock_send(struct vsock_conn *c, const void *buf, size_t len);

/*
 * Takes up to len (> 0) received bytes; returns how many (> 0), 0 at end of stream (the peer sent no more and
 * everything was read), -EAGAIN if nothing is there yet, or the error that ended the connection (after
 * the bytes received before it).
 */
int vsock_recv(struct vsock_conn *c, void *buf, size_t len);

/*
 * Zero-copy reading: *data points at received bytes in the connection's buffer and the result is how many
 * are there contiguously (> 0), or what vsock_recv would return instead (0 at end of stream, -EAGAIN, an
 * error). The bytes stay valid and in place until vsock_recv_consume(c, n) with n <= that count gives them
 * back (sending from them in between is fine: the driver only writes beyond them).
 */
int vsock_recv_peek(struct vsock_conn *c, const uint8_t **data);
void vsock_recv_consume(struct vsock_conn *c, uint32_t n);

/* Bytes received and not yet read. */
uint32_t vsock_readable(struct vsock_conn *c);

/* SHUTDOWN for the directions in how (VSOCK_SHUT_*). 0 or an error. */
int vsock_shutdown(struct vsock_conn *c, int how);

/* Gives the handle back: SHUTDOWN both ways (or RST if not open yet); the driver finishes it. */
void vsock_close(struct vsock_conn *c);

uint32_t vsock_local_port(const struct vsock_conn *c);
uint32_t vsock_peer_port(const struct vsock_conn *c);

#endif
