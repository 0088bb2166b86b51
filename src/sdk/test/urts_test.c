/*
 * Host test of libde_urts against a peer playing the enclave (UrtsProtocolTest runs it against
 * org.enclaveruntime.sdk.ScriptedEnclave, one scenario per run, with the peer's script for that scenario):
 *   urts-test SCENARIO MODULE_FILE
 * The socket comes from ENCLAVE_SOCKET or ENCLAVE_CONF as for any application. Exit 0 when every check held;
 * each failed check prints a line starting with "FAIL".
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sgx_urts.h"
#include "sgx_edger8r.h"

static int failures, checks;
static const char *module_file;

#define CHECK(cond, ...)                                                                                           \
    do {                                                                                                           \
        __atomic_add_fetch(&checks, 1, __ATOMIC_RELAXED);                                                          \
        if (!(cond)) {                                                                                             \
            __atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);                                                    \
            printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                                                 \
            printf(__VA_ARGS__);                                                                                   \
            printf(" (last error: %s)\n", de_urts_last_error());                                                   \
        }                                                                                                          \
    } while (0)

static const char *name(sgx_status_t s)
{
    const char *n = sgx_status_name(s);
    return n != NULL ? n : "(unnamed)";
}

#define EXPECT(expr, want)                                                                                         \
    do {                                                                                                           \
        sgx_status_t got_ = (expr);                                                                                \
        CHECK(got_ == (sgx_status_t)(want), "%s = 0x%04x %s, expected 0x%04x %s", #expr, got_, name(got_),         \
              (unsigned)(want), name((sgx_status_t)(want)));                                                       \
    } while (0)

static sgx_enclave_id_t create(void)
{
    sgx_enclave_id_t eid = 0;
    sgx_launch_token_t token = { 0 };
    int updated = 7;
    sgx_misc_attribute_t misc;
    memset(&misc, 0xab, sizeof misc);
    EXPECT(sgx_create_enclave(module_file, SGX_DEBUG_FLAG, &token, &updated, &eid, &misc), SGX_SUCCESS);
    CHECK(eid != 0, "enclave id %llu", (unsigned long long)eid);
    CHECK(updated == 0, "launch token updated = %d", updated);
    CHECK(misc.secs_attr.flags == 0 && misc.secs_attr.xfrm == 0 && misc.misc_select == 0, "misc attributes zeroed");
    return eid;
}

/* The Good script's ECALL 1 echoes in; status 2 when out_cap < in_len. */
static void echo(sgx_enclave_id_t eid, const char *text)
{
    char out[256];
    size_t out_len = 99;
    size_t n = strlen(text);
    EXPECT(sgx_ecall(eid, 1, NULL, text, n, out, sizeof out, &out_len), SGX_SUCCESS);
    CHECK(out_len == n && memcmp(out, text, n) == 0, "echo of '%s': %zu bytes '%.*s'", text, out_len, (int)out_len,
          out);
}

static void scenario_basic(void)
{
    char out[8];
    size_t out_len = 5;
    EXPECT(sgx_create_enclave(NULL, 0, NULL, NULL, NULL, NULL), SGX_ERROR_INVALID_PARAMETER);
    sgx_enclave_id_t none = 0;
    EXPECT(sgx_create_enclave("/nonexistent/module.signed.so", 0, NULL, NULL, &none, NULL),
           SGX_ERROR_ENCLAVE_FILE_ACCESS);
    CHECK(none == 0, "no enclave id after a failure");

    sgx_enclave_id_t eid = create();
    sgx_enclave_id_t second = create();
    CHECK(second != eid, "two loads, two ids (%llu, %llu)", (unsigned long long)eid, (unsigned long long)second);
    EXPECT(sgx_ecall(eid, 0, NULL, NULL, 0, NULL, 0, &out_len), SGX_SUCCESS);
    CHECK(out_len == 0, "empty ECALL: %zu out bytes", out_len);
    echo(eid, "hello, enclave");
    echo(second, "second module");
    EXPECT(sgx_ecall(eid, 1, NULL, "too long", 8, out, 4, &out_len), SGX_ERROR_INVALID_PARAMETER);
    CHECK(out_len == 0, "no out bytes with a failure status");
    EXPECT(sgx_ecall(eid, 3, NULL, NULL, 0, NULL, 0, NULL), 0x2a); /* a module's own status passes unchanged */
    EXPECT(sgx_ecall(eid, 99, NULL, NULL, 0, NULL, 0, NULL), SGX_ERROR_INVALID_FUNCTION);
    EXPECT(sgx_ecall(eid, -1, NULL, NULL, 0, NULL, 0, NULL), SGX_ERROR_INVALID_PARAMETER);
    EXPECT(sgx_ecall(eid, 0, NULL, out, (16u << 20) - 3, NULL, 0, NULL), SGX_ERROR_INVALID_PARAMETER);
    EXPECT(sgx_ecall(eid, 0, NULL, NULL, 4, NULL, 0, NULL), SGX_ERROR_INVALID_PARAMETER);
    EXPECT(sgx_ecall(eid + 1000, 0, NULL, NULL, 0, NULL, 0, NULL), SGX_ERROR_INVALID_ENCLAVE_ID);
    EXPECT(sgx_destroy_enclave(eid), SGX_SUCCESS);
    EXPECT(sgx_ecall(eid, 0, NULL, NULL, 0, NULL, 0, NULL), SGX_ERROR_INVALID_ENCLAVE_ID);
    EXPECT(sgx_destroy_enclave(eid), SGX_ERROR_INVALID_ENCLAVE_ID);
    echo(second, "still there");
    EXPECT(sgx_destroy_enclave(second), SGX_SUCCESS);
}

static void scenario_refused(void)
{
    sgx_enclave_id_t eid = 0;
    EXPECT(sgx_create_enclave(module_file, 0, NULL, NULL, &eid, NULL), SGX_ERROR_INVALID_SIGNATURE);
    CHECK(eid == 0, "no enclave id for a refused module");
    CHECK(strstr(de_urts_last_error(), "E812: the signature does not verify") != NULL, "the loader's reason: '%s'",
          de_urts_last_error());
}

/* OCALL 5 of the Good script (ECALL 2): its in bytes reversed; "status" answers that status. */
static sgx_status_t reverse(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len)
{
    const unsigned char *i = in;
    unsigned char *o = out;
    if (((uintptr_t)in & 7) || ((uintptr_t)out & 7))
        return SGX_ERROR_UNEXPECTED;
    if (in_len == 6 && memcmp(in, "status", 6) == 0)
        return (sgx_status_t)0x1234;
    if (in_len == 4 && memcmp(in, "liar", 4) == 0) {
        *out_len = out_cap + 1;
        return SGX_SUCCESS;
    }
    if (in_len > out_cap)
        return SGX_ERROR_INVALID_PARAMETER;
    for (size_t k = 0; k < in_len; k++)
        o[k] = i[in_len - 1 - k];
    *out_len = in_len;
    return SGX_SUCCESS;
}

static const struct {
    size_t count;
    sgx_ocall_bridge_t fn[6];
} six = { 6, { NULL, NULL, NULL, NULL, NULL, reverse } }, five = { 5, { reverse, reverse, reverse, reverse, reverse } };

static void scenario_ocall(void)
{
    sgx_enclave_id_t eid = create();
    char out[16];
    size_t out_len = 0;
    EXPECT(sgx_ecall(eid, 2, &six, "abcdef", 6, out, sizeof out, &out_len), SGX_SUCCESS);
    CHECK(out_len == 6 && memcmp(out, "fedcba", 6) == 0, "the OCALL's answer came back: %zu '%.*s'", out_len,
          (int)out_len, out);
    EXPECT(sgx_ecall(eid, 2, &six, "status", 6, out, sizeof out, &out_len), 0x1234);
    EXPECT(sgx_ecall(eid, 2, &six, "liar", 4, out, sizeof out, &out_len), SGX_ERROR_INVALID_PARAMETER);
    EXPECT(sgx_ecall(eid, 2, &six, "0123456789abcdefXYZ", 19, out, sizeof out, &out_len),
           SGX_ERROR_INVALID_PARAMETER);
    EXPECT(sgx_ecall(eid, 2, &five, "abc", 3, out, sizeof out, &out_len), SGX_ERROR_INVALID_FUNCTION);
    EXPECT(sgx_ecall(eid, 2, NULL, "abc", 3, out, sizeof out, &out_len), SGX_ERROR_INVALID_FUNCTION);
    EXPECT(sgx_ecall(eid, 2, &six, NULL, 0, NULL, 0, &out_len), SGX_SUCCESS);
    EXPECT(sgx_destroy_enclave(eid), SGX_SUCCESS);
}

static sgx_enclave_id_t nested_eid;
static sgx_status_t nested_status = SGX_SUCCESS;

static sgx_status_t nested(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len)
{
    (void)in, (void)in_len, (void)out, (void)out_cap, (void)out_len;
    nested_status = sgx_ecall(nested_eid, 0, NULL, NULL, 0, NULL, 0, NULL);
    return SGX_SUCCESS;
}

static const struct {
    size_t count;
    sgx_ocall_bridge_t fn[6];
} nesting = { 6, { NULL, NULL, NULL, NULL, NULL, nested } };

static void scenario_nested(void)
{
    nested_eid = create();
    EXPECT(sgx_ecall(nested_eid, 2, &nesting, NULL, 0, NULL, 0, NULL), SGX_SUCCESS);
    EXPECT(nested_status, SGX_ERROR_ECALL_NOT_ALLOWED);
    echo(nested_eid, "after the OCALL");
    EXPECT(sgx_destroy_enclave(nested_eid), SGX_SUCCESS);
}

#define THREADS 8
#define CALLS 200

static void *caller(void *arg)
{
    sgx_enclave_id_t eid = *(sgx_enclave_id_t *)arg;
    static __thread char text[64];
    for (int i = 0; i < CALLS; i++) {
        snprintf(text, sizeof text, "thread %lu call %d", (unsigned long)pthread_self() % 1000003, i);
        echo(eid, text);
    }
    return NULL;
}

static void scenario_threads(void)
{
    sgx_enclave_id_t eid = create();
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, caller, &eid);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    EXPECT(sgx_destroy_enclave(eid), SGX_SUCCESS);
}

static void scenario_crash(void)
{
    sgx_enclave_id_t eid = create();
    EXPECT(sgx_ecall(eid, 0, NULL, NULL, 0, NULL, 0, NULL), SGX_ERROR_ENCLAVE_CRASHED);
    EXPECT(sgx_ecall(eid, 0, NULL, NULL, 0, NULL, 0, NULL), SGX_ERROR_ENCLAVE_LOST);
    EXPECT(sgx_ecall(eid, 1, NULL, "x", 1, NULL, 0, NULL), SGX_ERROR_ENCLAVE_LOST);
    EXPECT(sgx_destroy_enclave(eid), SGX_SUCCESS);
    EXPECT(sgx_ecall(eid, 0, NULL, NULL, 0, NULL, 0, NULL), SGX_ERROR_INVALID_ENCLAVE_ID);
}

static void scenario_module_lost(void)
{
    sgx_enclave_id_t eid = create();
    struct timespec pause = { 0, 200 * 1000 * 1000 };
    nanosleep(&pause, NULL); /* the peer closes the module connection after LOADED */
    EXPECT(sgx_ecall(eid, 0, NULL, NULL, 0, NULL, 0, NULL), SGX_ERROR_ENCLAVE_LOST);
    EXPECT(sgx_ecall(eid, 0, NULL, NULL, 0, NULL, 0, NULL), SGX_ERROR_ENCLAVE_LOST);
    EXPECT(sgx_destroy_enclave(eid), SGX_SUCCESS);
}

static void scenario_attach_closed(void)
{
    sgx_enclave_id_t eid = create();
    EXPECT(sgx_ecall(eid, 0, NULL, NULL, 0, NULL, 0, NULL), SGX_ERROR_SERVICE_UNAVAILABLE);
    echo(eid, "the enclave is not lost"); /* the peer serves the second call connection */
    EXPECT(sgx_destroy_enclave(eid), SGX_SUCCESS);
}

static void expect_unexpected(sgx_enclave_id_t eid, int index, size_t out_cap, const char *text)
{
    char out[16];
    EXPECT(sgx_ecall(eid, index, NULL, NULL, 0, out, out_cap, NULL), SGX_ERROR_UNEXPECTED);
    CHECK(strstr(de_urts_last_error(), text) != NULL, "ECALL %d: '%s' names '%s'", index, de_urts_last_error(), text);
}

static void scenario_bad(void)
{
    sgx_enclave_id_t eid = create();
    expect_unexpected(eid, 9, 0, "magic 0x12345678");
    expect_unexpected(eid, 10, 0, "over the limit");
    expect_unexpected(eid, 11, 8, "more than its out capacity 8");
    expect_unexpected(eid, 12, 0, "type 4");
    expect_unexpected(eid, 13, 0, "unknown type 99");
    expect_unexpected(eid, 14, 0, "only the host sends");
    expect_unexpected(eid, 15, 0, "reserved field");
    expect_unexpected(eid, 16, 0, "without its out_capacity");
    EXPECT(sgx_ecall(eid, 0, NULL, NULL, 0, NULL, 0, NULL), SGX_SUCCESS);
    EXPECT(sgx_destroy_enclave(eid), SGX_SUCCESS);
}

static void scenario_stall(void)
{
    sgx_enclave_id_t eid = create();
    char out[16];
    EXPECT(sgx_ecall(eid, 17, NULL, NULL, 0, out, sizeof out, NULL), SGX_ERROR_SERVICE_TIMEOUT);
    EXPECT(sgx_ecall(eid, 18, NULL, NULL, 0, out, sizeof out, NULL), SGX_ERROR_SERVICE_TIMEOUT);
    EXPECT(sgx_ecall(eid, 0, NULL, NULL, 0, NULL, 0, NULL), SGX_SUCCESS);
    EXPECT(sgx_destroy_enclave(eid), SGX_SUCCESS);
}

static void scenario_error(void)
{
    sgx_enclave_id_t eid = create();
    EXPECT(sgx_ecall(eid, 0, NULL, NULL, 0, NULL, 0, NULL), SGX_ERROR_INVALID_ENCLAVE_ID);
    CHECK(strstr(de_urts_last_error(), "module 7 is unloaded") != NULL, "ERROR's reason: '%s'", de_urts_last_error());
    EXPECT(sgx_destroy_enclave(eid), SGX_SUCCESS);
}

static void scenario_no_device(void)
{
    sgx_enclave_id_t eid = 0;
    EXPECT(sgx_create_enclave(module_file, 0, NULL, NULL, &eid, NULL), SGX_ERROR_NO_DEVICE);
}

static void scenario_no_service(void)
{
    sgx_enclave_id_t eid = 0;
    EXPECT(sgx_create_enclave(module_file, 0, NULL, NULL, &eid, NULL), SGX_ERROR_SERVICE_UNAVAILABLE);
}

static sgx_status_t in_flight_status = SGX_SUCCESS;

static void *long_call(void *arg)
{
    in_flight_status = sgx_ecall(*(sgx_enclave_id_t *)arg, 20, NULL, NULL, 0, NULL, 0, NULL);
    return NULL;
}

static void scenario_destroy_in_flight(void)
{
    sgx_enclave_id_t eid = create();
    pthread_t t;
    pthread_create(&t, NULL, long_call, &eid);
    struct timespec pause = { 0, 300 * 1000 * 1000 };
    nanosleep(&pause, NULL);
    EXPECT(sgx_destroy_enclave(eid), SGX_SUCCESS);
    pthread_join(t, NULL);
    EXPECT(in_flight_status, SGX_ERROR_INVALID_ENCLAVE_ID);
}

static void scenario_names(void)
{
    for (unsigned v = 0; v < 0x10000; v++) {
        const char *n = sgx_status_name((sgx_status_t)v);
        if (n != NULL)
            printf("0x%04x %s\n", v, n);
    }
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        void (*run)(void);
    } scenarios[] = {
        { "basic", scenario_basic }, { "refused", scenario_refused }, { "ocall", scenario_ocall },
        { "nested", scenario_nested }, { "threads", scenario_threads }, { "crash", scenario_crash }, { "module-lost", scenario_module_lost },
        { "attach-closed", scenario_attach_closed },
        { "bad", scenario_bad }, { "stall", scenario_stall }, { "error", scenario_error },
        { "no-device", scenario_no_device }, { "no-service", scenario_no_service },
        { "destroy-in-flight", scenario_destroy_in_flight }, { "names", scenario_names },
    };
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc != 3) {
        fprintf(stderr, "usage: urts-test SCENARIO MODULE_FILE\n");
        return 2;
    }
    module_file = argv[2];
    for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++) {
        if (strcmp(argv[1], scenarios[i].name) == 0) {
            scenarios[i].run();
            printf("%s: %d checks, %d failed\n", argv[1], checks, failures);
            return failures == 0 ? 0 : 1;
        }
    }
    fprintf(stderr, "urts-test: no scenario '%s'\n", argv[1]);
    return 2;
}
