/*
 * The module protocol's framing (docs/module-runtime.md section 3) over the hybrid-vsock bridge (docs/vsock.md).
 * Sockets are non-blocking and every wait is a poll() with a bound, so that an enclave that stalls in the middle
 * of a message can never hang the application; only the wait for an ECALL's answer may be unbounded (trusted
 * code may rightly run long, and an enclave that ends closes the connection, which ends that wait too).
 */
#define _GNU_SOURCE
#include "urts_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_LINE 32

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for `events` until `deadline` (ms, CLOCK_MONOTONIC; -1 = no bound). */
static enum wire_result await(int fd, short events, int64_t deadline, const char *what)
{
    for (;;) {
        int wait = -1;
        if (deadline >= 0) {
            int64_t left = deadline - now_ms();
            if (left <= 0) {
                urts_fail("the enclave sent nothing while this process waited for %s", what);
                return WIRE_TIMEOUT;
            }
            wait = left > 0x7fffffff ? 0x7fffffff : (int)left;
        }
        struct pollfd p = { .fd = fd, .events = events };
        int n = poll(&p, 1, wait);
        if (n > 0)
            return WIRE_OK; /* readable, writable, or an error/hang-up the next read or write reports */
        if (n < 0 && errno != EINTR) {
            urts_fail("poll failed while waiting for %s: %s", what, strerror(errno));
            return WIRE_CLOSED;
        }
    }
}

static int64_t deadline_after(int ms)
{
    return ms < 0 ? -1 : now_ms() + ms;
}

/* Fills dst (or drops n bytes when dst is NULL); the first byte may take first_ms, every later one the stall bound. */
static enum wire_result fill(int fd, uint8_t *dst, size_t n, int first_ms, const char *what)
{
    uint8_t sink[4096];
    size_t got = 0;
    int64_t deadline = deadline_after(first_ms);
    while (got < n) {
        size_t want = n - got;
        uint8_t *at = dst != NULL ? dst + got : sink;
        if (dst == NULL && want > sizeof sink)
            want = sizeof sink;
        ssize_t r = recv(fd, at, want, 0);
        if (r > 0) {
            got += (size_t)r;
            deadline = deadline_after(urts_timeouts()->stall_ms);
            continue;
        }
        if (r == 0) {
            urts_fail("the enclave closed the connection %s %s", got ? "in the middle of" : "before", what);
            return WIRE_CLOSED;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            urts_fail("the connection to the enclave broke while reading %s: %s", what, strerror(errno));
            return WIRE_CLOSED;
        }
        enum wire_result w = await(fd, POLLIN, deadline, what);
        if (w != WIRE_OK)
            return w;
    }
    return WIRE_OK;
}

static enum wire_result write_all(int fd, struct iovec *iov, int cnt, const char *what)
{
    int64_t deadline = deadline_after(urts_timeouts()->stall_ms);
    while (cnt > 0) {
        if (iov->iov_len == 0) {
            iov++;
            cnt--;
            continue;
        }
        struct msghdr m = { .msg_iov = iov, .msg_iovlen = (size_t)cnt };
        ssize_t w = sendmsg(fd, &m, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                urts_fail("the connection to the enclave broke while sending %s: %s", what, strerror(errno));
                return WIRE_CLOSED;
            }
            enum wire_result r = await(fd, POLLOUT, deadline, what);
            if (r != WIRE_OK)
                return r;
            continue;
        }
        deadline = deadline_after(urts_timeouts()->stall_ms);
        size_t left = (size_t)w;
        while (cnt > 0 && left >= iov->iov_len) {
            left -= iov->iov_len;
            iov++;
            cnt--;
        }
        if (cnt > 0) {
            iov->iov_base = (uint8_t *)iov->iov_base + left;
            iov->iov_len -= left;
        }
    }
    return WIRE_OK;
}

static const char *type_name(unsigned t)
{
    static const char *const names[] = { "?", "LOAD", "LOADED", "ATTACH", "ATTACHED", "ECALL", "ECALL_RETURN",
                                         "OCALL", "OCALL_RETURN", "UNLOAD", "UNLOADED", "ERROR" };
    return t < sizeof names / sizeof names[0] ? names[t] : "?";
}

enum wire_result wire_send(int fd, uint16_t type, uint32_t arg, const void *p1, size_t n1, const void *p2, size_t n2)
{
    uint8_t h[16];
    uint32_t magic = URTS_MAGIC, length = (uint32_t)(n1 + n2);
    uint16_t reserved = 0;
    /* x86-64 is little-endian, the wire's order. */
    memcpy(h, &magic, 4);
    memcpy(h + 4, &type, 2);
    memcpy(h + 6, &reserved, 2);
    memcpy(h + 8, &length, 4);
    memcpy(h + 12, &arg, 4);
    struct iovec iov[3] = { { h, 16 }, { (void *)(uintptr_t)p1, n1 }, { (void *)(uintptr_t)p2, n2 } };
    return write_all(fd, iov, 3, type_name(type));
}

enum wire_result wire_receive(int fd, int first_byte_ms, struct frame_header *h)
{
    uint8_t b[16];
    uint32_t magic;
    uint16_t reserved;
    enum wire_result r = fill(fd, b, sizeof b, first_byte_ms, "the next message");
    if (r != WIRE_OK)
        return r;
    memcpy(&magic, b, 4);
    memcpy(&h->type, b + 4, 2);
    memcpy(&reserved, b + 6, 2);
    memcpy(&h->length, b + 8, 4);
    memcpy(&h->arg, b + 12, 4);
    if (magic != URTS_MAGIC) {
        urts_fail("a message with magic 0x%08x instead of 0x%08x (\"ENCM\")", magic, URTS_MAGIC);
        return WIRE_PROTOCOL;
    }
    if (h->type < T_LOAD || h->type > T_ERROR) {
        urts_fail("a message of unknown type %u", h->type);
        return WIRE_PROTOCOL;
    }
    switch (h->type) {
    case T_LOADED: case T_ATTACHED: case T_ECALL_RETURN: case T_OCALL: case T_UNLOADED: case T_ERROR:
        break;
    default:
        urts_fail("a %s message (type %u), which only the host sends", type_name(h->type), h->type);
        return WIRE_PROTOCOL;
    }
    if (reserved != 0) {
        urts_fail("a %s message whose reserved field is %u, not 0", type_name(h->type), reserved);
        return WIRE_PROTOCOL;
    }
    if (h->length > URTS_LIMIT) {
        urts_fail("a %s message with a payload of %u bytes, over the limit of %u", type_name(h->type), h->length,
                  URTS_LIMIT);
        return WIRE_PROTOCOL;
    }
    return WIRE_OK;
}

enum wire_result wire_read_payload(int fd, void *dst, size_t n)
{
    return fill(fd, dst, n, urts_timeouts()->stall_ms, "a message's payload");
}

/* "OK", one space, 1 to 10 digits (docs/vsock.md). */
static int ok_line(const char *s)
{
    size_t digits = 0;
    if (strncmp(s, "OK ", 3) != 0)
        return 0;
    for (s += 3; *s; s++, digits++)
        if (*s < '0' || *s > '9')
            return 0;
    return digits >= 1 && digits <= 10;
}

int wire_connect(const char *socket_path, sgx_status_t *status)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    if (strlen(socket_path) >= sizeof a.sun_path) {
        urts_fail("the enclave's socket path %s is longer than a Unix socket path may be (%zu bytes)", socket_path,
                  sizeof a.sun_path - 1);
        *status = SGX_ERROR_NO_DEVICE;
        return -1;
    }
    strcpy(a.sun_path, socket_path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        urts_fail("cannot create a Unix socket: %s", strerror(errno));
        *status = SGX_ERROR_UNEXPECTED;
        return -1;
    }
    int64_t deadline = deadline_after(urts_timeouts()->stall_ms);
    /* A non-blocking Unix connect either completes or fails with EAGAIN while the listener's backlog is full. */
    while (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN && now_ms() < deadline) {
            struct timespec pause = { 0, 10 * 1000 * 1000 };
            nanosleep(&pause, NULL);
            continue;
        }
        urts_fail("cannot connect to the enclave's vsock socket %s: %s (is the enclave running? `enclavectl status`; "
                  "the socket's group is [vsock] group)", socket_path, strerror(errno));
        close(fd);
        *status = errno == EAGAIN ? SGX_ERROR_SERVICE_TIMEOUT : SGX_ERROR_NO_DEVICE;
        return -1;
    }
    static const char request[] = "CONNECT 7000\n";
    struct iovec iov = { (void *)request, sizeof request - 1 };
    enum wire_result r = write_all(fd, &iov, 1, "CONNECT 7000");
    char line[MAX_LINE + 1];
    size_t len = 0;
    while (r == WIRE_OK) {
        char c;
        r = fill(fd, (uint8_t *)&c, 1, (int)(deadline - now_ms() > 0 ? deadline - now_ms() : 1),
                 "the answer to CONNECT 7000");
        if (r != WIRE_OK)
            break;
        if (c == '\n')
            break;
        if (len == MAX_LINE) {
            urts_fail("an answer line to CONNECT 7000 longer than %d bytes", MAX_LINE);
            r = WIRE_PROTOCOL;
            break;
        }
        line[len++] = c;
    }
    if (r == WIRE_OK) {
        line[len] = 0;
        if (!ok_line(line)) {
            urts_fail("the answer line '%s' to CONNECT 7000, not 'OK <port>'", line);
            r = WIRE_PROTOCOL;
        }
    }
    switch (r) {
    case WIRE_OK:
        return fd;
    case WIRE_CLOSED:
        urts_fail("the enclave behind %s accepted no connection to its module service (vsock port 7000): it is not "
                  "READY yet, or its image has no module service", socket_path);
        *status = SGX_ERROR_SERVICE_UNAVAILABLE;
        break;
    case WIRE_TIMEOUT:
        *status = SGX_ERROR_SERVICE_TIMEOUT;
        break;
    case WIRE_PROTOCOL:
        *status = SGX_ERROR_UNEXPECTED;
        break;
    }
    close(fd);
    return -1;
}
