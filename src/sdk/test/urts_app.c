/*
 * A small SGX-style application against the real enclave (UrtsEnclaveTest, KVM): loads the signed test module
 * (docs/module-runtime.md section 6) and calls its ECALLs 0 (empty), 1 (echo) and 7 (OCALL 0), from the main
 * thread and from 4 threads at once.
 *   urts-app SIGNED_MODULE        (the socket from ENCLAVE_SOCKET or the configuration, as any application)
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "sgx_urts.h"
#include "sgx_edger8r.h"

static int failures;

static int expect(const char *what, sgx_status_t got, sgx_status_t want)
{
    if (got == want)
        return 1;
    printf("FAIL %s: %s (0x%04x), expected %s (%s)\n", what, sgx_status_name(got) ? sgx_status_name(got) : "?", got,
           sgx_status_name(want), de_urts_last_error());
    __atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);
    return 0;
}

/* OCALL 0: the in bytes in upper case. */
static sgx_status_t upper(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len)
{
    if (in_len > out_cap)
        return SGX_ERROR_INVALID_PARAMETER;
    for (size_t i = 0; i < in_len; i++) {
        char c = ((const char *)in)[i];
        ((char *)out)[i] = c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
    }
    *out_len = in_len;
    return SGX_SUCCESS;
}

static const struct {
    size_t count;
    sgx_ocall_bridge_t fn[1];
} ocalls = { 1, { upper } };

static sgx_enclave_id_t eid;

static void *calls(void *arg)
{
    char text[64], out[64];
    size_t out_len;
    for (int i = 0; i < 50; i++) {
        snprintf(text, sizeof text, "thread %ld call %d", (long)(intptr_t)arg, i);
        size_t n = strlen(text);
        if (expect("ECALL 0", sgx_ecall(eid, 0, NULL, NULL, 0, NULL, 0, &out_len), SGX_SUCCESS) && out_len != 0)
            expect("ECALL 0 out bytes", SGX_ERROR_UNEXPECTED, SGX_SUCCESS);
        if (expect("ECALL 1", sgx_ecall(eid, 1, NULL, text, n, out, sizeof out, &out_len), SGX_SUCCESS)
            && (out_len != n || memcmp(out, text, n) != 0))
            expect("ECALL 1 echo", SGX_ERROR_UNEXPECTED, SGX_SUCCESS);
        if (expect("ECALL 7", sgx_ecall(eid, 7, &ocalls, text, n, out, sizeof out, &out_len), SGX_SUCCESS)) {
            char want[64];
            upper(text, n, want, sizeof want, &out_len);
            if (memcmp(out, want, n) != 0)
                expect("ECALL 7 answer", SGX_ERROR_UNEXPECTED, SGX_SUCCESS);
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc != 2) {
        fprintf(stderr, "usage: urts-app SIGNED_MODULE\n");
        return 2;
    }
    sgx_launch_token_t token = { 0 };
    int updated = 0;
    sgx_status_t s = sgx_create_enclave(argv[1], SGX_DEBUG_FLAG, &token, &updated, &eid, NULL);
    if (!expect("sgx_create_enclave", s, SGX_SUCCESS))
        return 1;
    calls((void *)0);
    expect("ECALL 11", sgx_ecall(eid, 11, NULL, NULL, 0, NULL, 0, NULL), SGX_ERROR_INVALID_FUNCTION);
    expect("ECALL 7 without OCALL table", sgx_ecall(eid, 7, NULL, "x", 1, NULL, 0, NULL), SGX_ERROR_INVALID_FUNCTION);
    pthread_t t[4];
    for (long i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, calls, (void *)(i + 1));
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    expect("sgx_destroy_enclave", sgx_destroy_enclave(eid), SGX_SUCCESS);
    expect("ECALL after destroy", sgx_ecall(eid, 0, NULL, NULL, 0, NULL, 0, NULL), SGX_ERROR_INVALID_ENCLAVE_ID);
    printf("urts-app: %s\n", failures == 0 ? "all calls as expected" : "FAILED");
    return failures == 0 ? 0 : 1;
}
