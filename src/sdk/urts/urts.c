/*
 * libde_urts: sgx_create_enclave, sgx_destroy_enclave and sgx_ecall over the enclave's module service, the C
 * counterpart of org.enclaveruntime.sdk.EnclaveModule (same rules; docs/sdk.md, docs/module-runtime.md 3-5).
 *
 * An enclave id names one loaded module: its module connection (which loaded it; closing it unloads the module)
 * and the call connections of the threads that called it. Each thread has its own call connection per enclave
 * (the role of an SGX TCS), opened at its first ECALL, closed when the thread ends or the enclave is destroyed.
 *
 * Lifetimes: an enclave is reference-counted (the registry holds one reference, each call connection one), so a
 * destroy on one thread never frees memory a call on another thread still uses. A call connection's fd is closed
 * only by its own thread; sgx_destroy_enclave shuts the socket down, which ends a wait in progress on it.
 */
#define _GNU_SOURCE
#include "sgx_urts.h"
#include "sgx_edger8r.h"
#include "urts_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

enum state { OPEN, LOST, CLOSED };

struct enclave;

struct call_conn {
    struct enclave *enc;
    int fd;
    /* Set while an OCALL handler runs on this connection: an ECALL into the same enclave now would be nested. */
    int in_ocall;
    struct call_conn *next_of_thread;
    struct call_conn *next_of_enclave;
};

struct enclave {
    sgx_enclave_id_t eid;
    uint32_t module_id;
    int module_fd;
    char socket[sizeof(((struct sockaddr_un *)0)->sun_path)];
    int refs;                  /* atomic */
    pthread_mutex_t lock;      /* state and conns */
    enum state state;
    struct call_conn *conns;
    struct enclave *next;      /* registry, under registry_lock */
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct enclave *registry;
static sgx_enclave_id_t next_eid = 1;

static pthread_key_t thread_conns;
static pthread_once_t thread_conns_once = PTHREAD_ONCE_INIT;

static void unref(struct enclave *e)
{
    if (__atomic_sub_fetch(&e->refs, 1, __ATOMIC_ACQ_REL) == 0) {
        pthread_mutex_destroy(&e->lock);
        free(e);
    }
}

/* The enclave with id `eid`, with a reference the caller drops, or NULL. */
static struct enclave *lookup(sgx_enclave_id_t eid)
{
    pthread_mutex_lock(&registry_lock);
    struct enclave *e = registry;
    while (e != NULL && e->eid != eid)
        e = e->next;
    if (e != NULL)
        __atomic_add_fetch(&e->refs, 1, __ATOMIC_ACQ_REL);
    pthread_mutex_unlock(&registry_lock);
    return e;
}

static enum state state_of(struct enclave *e)
{
    pthread_mutex_lock(&e->lock);
    enum state s = e->state;
    pthread_mutex_unlock(&e->lock);
    return s;
}

static void mark_lost(struct enclave *e)
{
    pthread_mutex_lock(&e->lock);
    if (e->state == OPEN)
        e->state = LOST;
    pthread_mutex_unlock(&e->lock);
}

/* Closes a call connection of this thread and forgets it everywhere. */
static void drop(struct call_conn *c)
{
    struct enclave *e = c->enc;
    pthread_mutex_lock(&e->lock);
    for (struct call_conn **p = &e->conns; *p != NULL; p = &(*p)->next_of_enclave) {
        if (*p == c) {
            *p = c->next_of_enclave;
            break;
        }
    }
    pthread_mutex_unlock(&e->lock);
    close(c->fd);
    struct call_conn *head = pthread_getspecific(thread_conns);
    if (head == c) {
        pthread_setspecific(thread_conns, c->next_of_thread);
    } else {
        for (struct call_conn *p = head; p != NULL; p = p->next_of_thread) {
            if (p->next_of_thread == c) {
                p->next_of_thread = c->next_of_thread;
                break;
            }
        }
    }
    free(c);
    unref(e);
}

/* A thread ends: its call connections close (the enclave cancels what they had not finished). */
static void thread_ended(void *head)
{
    struct call_conn *c = head;
    pthread_setspecific(thread_conns, head);
    while (c != NULL) {
        struct call_conn *next = c->next_of_thread;
        drop(c);
        c = next;
    }
    pthread_setspecific(thread_conns, NULL);
}

static void make_key(void)
{
    pthread_key_create(&thread_conns, thread_ended);
}

/* This thread's call connection to `eid`, or NULL. Connections to destroyed enclaves not in use are dropped. */
static struct call_conn *mine(sgx_enclave_id_t eid)
{
    struct call_conn *found = NULL, *c = pthread_getspecific(thread_conns);
    while (c != NULL) {
        struct call_conn *next = c->next_of_thread;
        if (c->enc->eid == eid)
            found = c;
        else if (!c->in_ocall && state_of(c->enc) == CLOSED)
            drop(c);
        c = next;
    }
    return found;
}

/* Reads an ERROR or refusal reason: at most 400 bytes kept as text, the rest dropped. */
static enum wire_result read_reason(int fd, uint32_t length, char *text, size_t cap)
{
    size_t keep = length < cap - 1 ? length : cap - 1;
    enum wire_result w = wire_read_payload(fd, text, keep);
    if (w == WIRE_OK)
        w = wire_read_payload(fd, NULL, length - keep);
    text[w == WIRE_OK ? keep : 0] = 0;
    for (size_t i = 0; text[i]; i++)
        if ((unsigned char)text[i] < 0x20)
            text[i] = ' ';
    return w;
}

/* An ERROR message's status (never SUCCESS: an ERROR that claims success is itself a protocol breach). */
static sgx_status_t error_message(int fd, const struct frame_header *h, const char *during)
{
    char reason[401];
    if (read_reason(fd, h->length, reason, sizeof reason) != WIRE_OK)
        return SGX_ERROR_UNEXPECTED;
    urts_fail("the enclave ended the connection during %s with %s (0x%04x)%s%s", during,
              sgx_status_name((sgx_status_t)h->arg) ? sgx_status_name((sgx_status_t)h->arg) : "status", h->arg,
              reason[0] ? ": " : "", reason);
    return h->arg == SGX_SUCCESS ? SGX_ERROR_UNEXPECTED : (sgx_status_t)h->arg;
}

static sgx_status_t wire_status(enum wire_result w, sgx_status_t closed)
{
    switch (w) {
    case WIRE_OK:
        return SGX_SUCCESS;
    case WIRE_CLOSED:
        return closed;
    case WIRE_TIMEOUT:
        return SGX_ERROR_SERVICE_TIMEOUT;
    case WIRE_PROTOCOL:
        break;
    }
    return SGX_ERROR_UNEXPECTED;
}

static sgx_status_t read_module(const char *file_name, uint8_t **bytes, size_t *size)
{
    int fd = open(file_name, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0) {
        urts_fail("cannot open the module file %s: %s", file_name, strerror(errno));
        return SGX_ERROR_ENCLAVE_FILE_ACCESS;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        urts_fail("%s is not a regular file", file_name);
        close(fd);
        return SGX_ERROR_ENCLAVE_FILE_ACCESS;
    }
    if ((uint64_t)st.st_size > URTS_LOAD_LIMIT) {
        urts_fail("%s is %lld bytes; a module loaded into the enclave may have at most %u", file_name,
                  (long long)st.st_size, URTS_LOAD_LIMIT);
        close(fd);
        return SGX_ERROR_OUT_OF_EPC;
    }
    *size = (size_t)st.st_size;
    *bytes = malloc(*size ? *size : 1);
    if (*bytes == NULL) {
        close(fd);
        return SGX_ERROR_OUT_OF_MEMORY;
    }
    size_t got = 0;
    while (got < *size) {
        ssize_t r = read(fd, *bytes + got, *size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            urts_fail("cannot read the module file %s: %s", file_name, r < 0 ? strerror(errno) : "it shrank");
            free(*bytes);
            close(fd);
            return SGX_ERROR_ENCLAVE_FILE_ACCESS;
        }
        got += (size_t)r;
    }
    close(fd);
    return SGX_SUCCESS;
}

/* Sends LOAD and reads LOADED: the module id, or the loader's refusal. */
static sgx_status_t load(int fd, const char *file_name, const uint8_t *bytes, size_t size, uint32_t *module_id)
{
    struct frame_header h;
    enum wire_result w = wire_send(fd, T_LOAD, 0, bytes, size, NULL, 0);
    if (w == WIRE_OK)
        w = wire_receive(fd, urts_timeouts()->load_ms, &h);
    if (w != WIRE_OK)
        return wire_status(w, SGX_ERROR_ENCLAVE_CRASHED);
    if (h.type == T_ERROR)
        return error_message(fd, &h, "LOAD");
    if (h.type != T_LOADED) {
        urts_fail("a message of type %u in answer to LOAD", h.type);
        return SGX_ERROR_UNEXPECTED;
    }
    if (h.arg != SGX_SUCCESS) {
        char reason[401];
        w = read_reason(fd, h.length, reason, sizeof reason);
        if (w != WIRE_OK)
            return wire_status(w, SGX_ERROR_ENCLAVE_CRASHED);
        urts_fail("%s: the enclave refused the module with %s (0x%04x): %s", file_name,
                  sgx_status_name((sgx_status_t)h.arg) ? sgx_status_name((sgx_status_t)h.arg) : "status", h.arg,
                  reason);
        return (sgx_status_t)h.arg;
    }
    if (h.length != URTS_LOADED_SIZE) {
        urts_fail("a LOADED payload of %u bytes, not %d", h.length, URTS_LOADED_SIZE);
        return SGX_ERROR_UNEXPECTED;
    }
    uint8_t loaded[URTS_LOADED_SIZE];
    w = wire_read_payload(fd, loaded, sizeof loaded);
    if (w != WIRE_OK)
        return wire_status(w, SGX_ERROR_ENCLAVE_CRASHED);
    memcpy(module_id, loaded, 4);
    return SGX_SUCCESS;
}

sgx_status_t SGX_CDECL sgx_create_enclave(const char *file_name, const int debug, sgx_launch_token_t *launch_token,
                                          int *launch_token_updated, sgx_enclave_id_t *enclave_id,
                                          sgx_misc_attribute_t *misc_attr)
{
    /* debug and the launch token mean nothing here (docs/sdk.md): the enclave's mode and the module decide. */
    (void)debug;
    (void)launch_token;
    urts_clear_error();
    if (file_name == NULL || enclave_id == NULL) {
        urts_fail("sgx_create_enclave needs a file name and a place for the enclave id");
        return SGX_ERROR_INVALID_PARAMETER;
    }
    pthread_once(&thread_conns_once, make_key);
    struct enclave *e = calloc(1, sizeof *e);
    if (e == NULL)
        return SGX_ERROR_OUT_OF_MEMORY;
    sgx_status_t s = urts_socket_path(e->socket, sizeof e->socket);
    uint8_t *bytes = NULL;
    size_t size = 0;
    if (s == SGX_SUCCESS)
        s = read_module(file_name, &bytes, &size);
    if (s == SGX_SUCCESS) {
        e->module_fd = wire_connect(e->socket, &s);
        if (e->module_fd >= 0) {
            s = load(e->module_fd, file_name, bytes, size, &e->module_id);
            if (s != SGX_SUCCESS)
                close(e->module_fd);
        }
    }
    free(bytes);
    if (s != SGX_SUCCESS) {
        free(e);
        return s;
    }
    pthread_mutex_init(&e->lock, NULL);
    e->refs = 1;
    e->state = OPEN;
    pthread_mutex_lock(&registry_lock);
    e->eid = next_eid++;
    e->next = registry;
    registry = e;
    pthread_mutex_unlock(&registry_lock);
    *enclave_id = e->eid;
    if (launch_token_updated != NULL)
        *launch_token_updated = 0;
    if (misc_attr != NULL)
        memset(misc_attr, 0, sizeof *misc_attr);
    return SGX_SUCCESS;
}

sgx_status_t SGX_CDECL sgx_destroy_enclave(const sgx_enclave_id_t enclave_id)
{
    urts_clear_error();
    pthread_mutex_lock(&registry_lock);
    struct enclave **p = &registry;
    while (*p != NULL && (*p)->eid != enclave_id)
        p = &(*p)->next;
    struct enclave *e = *p;
    if (e != NULL)
        *p = e->next;
    pthread_mutex_unlock(&registry_lock);
    if (e == NULL) {
        urts_fail("enclave id %llu is not (any more) an enclave of this process", (unsigned long long)enclave_id);
        return SGX_ERROR_INVALID_ENCLAVE_ID;
    }
    pthread_mutex_lock(&e->lock);
    enum state was = e->state;
    e->state = CLOSED;
    /* Ends waits on other threads; each thread closes its own fd when it sees the connection end. */
    for (struct call_conn *c = e->conns; c != NULL; c = c->next_of_enclave)
        shutdown(c->fd, SHUT_RDWR);
    pthread_mutex_unlock(&e->lock);
    if (was == OPEN) {
        /* The enclave unloads once no call runs in the module; closing the connection unloads it in any case. */
        struct frame_header h;
        if (wire_send(e->module_fd, T_UNLOAD, e->module_id, NULL, 0, NULL, 0) == WIRE_OK
            && wire_receive(e->module_fd, urts_timeouts()->stall_ms, &h) == WIRE_OK)
            (void)wire_read_payload(e->module_fd, NULL, h.length);
        urts_clear_error();
    }
    close(e->module_fd);
    unref(e);
    return SGX_SUCCESS;
}

/*
 * Whether the module connection has ended (the enclave stopped or crashed). Checked before a new call connection
 * ATTACHes, because module ids start again from 1 in a restarted enclave: a stale id must not reach another
 * application's module. Under e->lock, so that sgx_destroy_enclave cannot close the fd meanwhile.
 */
static int module_connection_ended(struct enclave *e)
{
    int ended = 0;
    pthread_mutex_lock(&e->lock);
    if (e->state == OPEN) {
        struct pollfd p = { .fd = e->module_fd, .events = POLLIN };
        char b;
        if (poll(&p, 1, 0) > 0) {
            ssize_t r = recv(e->module_fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
            ended = r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
        }
        if (ended)
            e->state = LOST;
    }
    pthread_mutex_unlock(&e->lock);
    return ended;
}

/* This thread's new call connection to `e` (whose reference it takes over), or NULL with *status set. */
static struct call_conn *attach(struct enclave *e, sgx_status_t *status)
{
    struct frame_header h;
    if (module_connection_ended(e)) {
        urts_fail("the enclave closed the connection that loaded the module: the enclave ended (`enclavectl status` "
                  "says why); destroy this enclave id and create it again once the enclave runs");
        *status = SGX_ERROR_ENCLAVE_LOST;
        unref(e);
        return NULL;
    }
    int fd = wire_connect(e->socket, status);
    if (fd < 0) {
        unref(e);
        return NULL;
    }
    enum wire_result w = wire_send(fd, T_ATTACH, e->module_id, NULL, 0, NULL, 0);
    if (w == WIRE_OK)
        w = wire_receive(fd, urts_timeouts()->stall_ms, &h);
    if (w == WIRE_CLOSED && !module_connection_ended(e)) {
        /* The enclave lives (its module connection is open) but closed this one: it serves 64 at most. */
        urts_fail("the enclave closed a new call connection at once while the module stays loaded: it serves at most "
                  "64 connections at a time (module and call connections of every application)");
        *status = SGX_ERROR_SERVICE_UNAVAILABLE;
    } else if (w != WIRE_OK) {
        if (w == WIRE_CLOSED)
            mark_lost(e);
        *status = wire_status(w, SGX_ERROR_ENCLAVE_LOST);
    } else if (h.type == T_ERROR) {
        *status = error_message(fd, &h, "ATTACH");
    } else if (h.type != T_ATTACHED || h.length != 0) {
        urts_fail("a message of type %u with %u bytes in answer to ATTACH", h.type, h.length);
        *status = SGX_ERROR_UNEXPECTED;
    } else if (h.arg != SGX_SUCCESS) {
        urts_fail("the enclave refused a call connection with 0x%04x", h.arg);
        *status = (sgx_status_t)h.arg;
    } else {
        struct call_conn *c = calloc(1, sizeof *c);
        if (c == NULL) {
            *status = SGX_ERROR_OUT_OF_MEMORY;
        } else {
            c->enc = e;
            c->fd = fd;
            pthread_mutex_lock(&e->lock);
            enum state s = e->state;
            if (s == OPEN) {
                c->next_of_enclave = e->conns;
                e->conns = c;
            }
            pthread_mutex_unlock(&e->lock);
            if (s == OPEN) {
                c->next_of_thread = pthread_getspecific(thread_conns);
                pthread_setspecific(thread_conns, c);
                return c;
            }
            /* Destroyed (or lost) while this connection was being made. */
            free(c);
            urts_fail("the enclave was %s while a call connection was being made",
                      s == CLOSED ? "destroyed" : "lost");
            *status = s == CLOSED ? SGX_ERROR_INVALID_ENCLAVE_ID : SGX_ERROR_ENCLAVE_LOST;
        }
    }
    close(fd);
    unref(e);
    return NULL;
}

/*
 * The status of a broken call connection, which is dropped: ours (destroyed), the enclave's end (ENCLAVE_CRASHED
 * for the call whose request had gone out, ENCLAVE_LOST for every later one), a timeout or a protocol breach.
 */
static sgx_status_t call_failure(struct call_conn *c, enum wire_result w, int in_flight)
{
    struct enclave *e = c->enc;
    sgx_status_t s;
    if (w == WIRE_CLOSED) {
        if (state_of(e) == CLOSED) {
            urts_fail("the enclave was destroyed while the call ran");
            s = SGX_ERROR_INVALID_ENCLAVE_ID;
        } else {
            mark_lost(e);
            s = in_flight ? SGX_ERROR_ENCLAVE_CRASHED : SGX_ERROR_ENCLAVE_LOST;
        }
    } else {
        s = wire_status(w, SGX_ERROR_UNEXPECTED);
    }
    drop(c);
    return s;
}

/* Runs OCALL handler `index` for an OCALL message (header read) and sends OCALL_RETURN. */
static enum wire_result serve_ocall(struct call_conn *c, const struct frame_header *h, const void *table)
{
    uint32_t cap;
    if (h->length < 4) {
        urts_fail("an OCALL message of %u bytes, without its out_capacity", h->length);
        return WIRE_PROTOCOL;
    }
    enum wire_result w = wire_read_payload(c->fd, &cap, 4);
    if (w != WIRE_OK)
        return w;
    size_t in_len = h->length - 4;
    size_t out_cap = cap < URTS_MAX_CALL_BYTES ? cap : URTS_MAX_CALL_BYTES;
    /* malloc's alignment (16) satisfies the 8 the generated bridges check. */
    void *in = in_len ? malloc(in_len) : NULL;
    void *out = out_cap ? calloc(1, out_cap) : NULL;
    sgx_status_t status = SGX_SUCCESS;
    size_t out_len = 0;
    w = wire_read_payload(c->fd, in, in_len); /* in NULL (out of memory) drops them */
    if (w != WIRE_OK) {
        free(in);
        free(out);
        return w;
    }
    const size_t *count = table;
    const sgx_ocall_bridge_t *fn = table == NULL ? NULL
        : (const sgx_ocall_bridge_t *)(const void *)((const uint8_t *)table + offsetof(sgx_ocall_table_t, fn));
    if ((in_len && in == NULL) || (out_cap && out == NULL)) {
        status = SGX_ERROR_OUT_OF_MEMORY;
    } else if (table == NULL || h->arg >= *count || fn[h->arg] == NULL) {
        status = SGX_ERROR_INVALID_FUNCTION;
    } else {
        c->in_ocall = 1;
        status = fn[h->arg](in, in_len, out, out_cap, &out_len);
        c->in_ocall = 0;
        if (status == SGX_SUCCESS && out_len > out_cap)
            status = SGX_ERROR_INVALID_PARAMETER; /* the handler claims more than the module's buffer */
    }
    w = wire_send(c->fd, T_OCALL_RETURN, status, out, status == SGX_SUCCESS ? out_len : 0, NULL, 0);
    free(in);
    free(out);
    return w;
}

sgx_status_t sgx_ecall(sgx_enclave_id_t eid, int index, const void *ocall_table, const void *in, size_t in_len,
                       void *out, size_t out_cap, size_t *out_len)
{
    sgx_status_t s;
    urts_clear_error();
    if (out_len != NULL)
        *out_len = 0;
    if (index < 0 || in_len > URTS_MAX_CALL_BYTES || out_cap > URTS_MAX_CALL_BYTES || (in == NULL && in_len != 0)
        || (out == NULL && out_cap != 0)) {
        urts_fail("ECALL %d with %zu bytes in and room for %zu out; each may be 0 to %u, with a buffer", index, in_len,
                  out_cap, URTS_MAX_CALL_BYTES);
        return SGX_ERROR_INVALID_PARAMETER;
    }
    pthread_once(&thread_conns_once, make_key);
    struct call_conn *c = mine(eid);
    if (c != NULL && c->in_ocall) {
        urts_fail("ECALL %d from inside an OCALL handler of the same enclave on the same thread: nested ECALLs are not "
                  "supported (make the call from another thread, or after the OCALL returns)", index);
        return SGX_ERROR_ECALL_NOT_ALLOWED;
    }
    enum state now = c != NULL ? state_of(c->enc) : OPEN;
    if (now != OPEN) {
        s = now == LOST ? SGX_ERROR_ENCLAVE_LOST : SGX_ERROR_INVALID_ENCLAVE_ID;
        drop(c);
        c = NULL;
        if (s == SGX_ERROR_ENCLAVE_LOST) {
            urts_fail("the enclave was lost; destroy this enclave id and create it again once the enclave runs");
            return s;
        }
    }
    if (c == NULL) {
        struct enclave *e = lookup(eid);
        if (e == NULL) {
            urts_fail("enclave id %llu is not (any more) an enclave of this process", (unsigned long long)eid);
            return SGX_ERROR_INVALID_ENCLAVE_ID;
        }
        if (state_of(e) == LOST) {
            urts_fail("the enclave was lost; destroy this enclave id and create it again once the enclave runs");
            unref(e);
            return SGX_ERROR_ENCLAVE_LOST;
        }
        c = attach(e, &s);
        if (c == NULL)
            return s;
    }
    uint32_t cap32 = (uint32_t)out_cap;
    enum wire_result w = wire_send(c->fd, T_ECALL, (uint32_t)index, &cap32, 4, in, in_len);
    if (w != WIRE_OK)
        return call_failure(c, w, 0);
    for (;;) {
        struct frame_header h;
        w = wire_receive(c->fd, -1, &h);
        if (w != WIRE_OK)
            return call_failure(c, w, 1);
        switch (h.type) {
        case T_ECALL_RETURN:
            if (h.length > out_cap) {
                urts_fail("ECALL_RETURN with %u out bytes for ECALL %d, more than its out capacity %zu", h.length, index,
                          out_cap);
                return call_failure(c, WIRE_PROTOCOL, 1);
            }
            w = wire_read_payload(c->fd, h.arg == SGX_SUCCESS ? out : NULL, h.length);
            if (w != WIRE_OK)
                return call_failure(c, w, 1);
            if (h.arg == SGX_SUCCESS && out_len != NULL)
                *out_len = h.length;
            return (sgx_status_t)h.arg;
        case T_OCALL:
            w = serve_ocall(c, &h, ocall_table);
            if (w != WIRE_OK)
                return call_failure(c, w, 1);
            break;
        case T_ERROR:
            s = error_message(c->fd, &h, "an ECALL");
            drop(c);
            return s;
        default:
            urts_fail("a message of type %u during ECALL %d", h.type, index);
            return call_failure(c, WIRE_PROTOCOL, 1);
        }
    }
}
