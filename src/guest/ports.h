/*
 * Port I/O (IOPL 3 lets ring 3 use in/out directly) and the runtime's ports to the VMM, by name.
 * Every access here is a VM exit (~21 us on our hosts): keep them off hot paths.
 */
#ifndef ENCLAVE_PORTS_H
#define ENCLAVE_PORTS_H

#include <stdint.h>

#include "abi.h"

#ifdef ENCLAVE_HOST_CHECK
/* Host-side checks (check/vsock-sim.c): port accesses go to the simulation. */
void host_check_out(uint16_t port, uint32_t v, int width);
uint32_t host_check_in(uint16_t port, int width);
static inline void outb(uint16_t port, uint8_t v)
{
    host_check_out(port, v, 1);
}

static inline uint8_t inb(uint16_t port)
{
    return (uint8_t)host_check_in(port, 1);
}

static inline void outl(uint16_t port, uint32_t v)
{
    host_check_out(port, v, 4);
}

static inline uint32_t inl(uint16_t port)
{
    return host_check_in(port, 4);
}
#else
static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port) : "memory");
    return v;
}

static inline void outl(uint16_t port, uint32_t v)
{
    __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline uint32_t inl(uint16_t port)
{
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port) : "memory");
    return v;
}
#endif

/* Boot vCPU only, once every vCPU is online. */
static inline void port_status_ready(void)
{
    outl(PORT_STATUS, STATUS_READY);
}

/* The enclave ends cleanly with this exit code. */
static inline void port_shutdown(uint32_t exit_code)
{
    outl(PORT_SHUTDOWN, exit_code);
}

/* message: NUL-terminated, below 4 GiB, at most PANIC_MESSAGE_MAX bytes with the NUL. Use panic(). */
static inline void port_panic(const char *message)
{
    outl(PORT_PANIC, (uint32_t)(uintptr_t)message);
}

/* Idle: the VMM blocks this vCPU until there is work or shutdown is requested. May return spuriously. */
static inline void port_wait(void)
{
    outl(PORT_WAIT, 0);
}

static inline void port_notify(uint32_t queue)
{
    outl(PORT_NOTIFY, queue);
}

/* A number the VMM records against this vCPU (tests read it). */
static inline void port_report(uint32_t value)
{
    outl(PORT_REPORT, value);
}

#endif
