/* Status names, the per-thread failure text, and the timeouts (with their environment overrides). */
#define _GNU_SOURCE
#include "sgx_urts.h"
#include "urts_internal.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

const char *sgx_status_name(sgx_status_t status)
{
    switch (status) {
#define NAME(s) case s: return #s;
    NAME(SGX_SUCCESS)
    NAME(SGX_ERROR_UNEXPECTED)
    NAME(SGX_ERROR_INVALID_PARAMETER)
    NAME(SGX_ERROR_OUT_OF_MEMORY)
    NAME(SGX_ERROR_ENCLAVE_LOST)
    NAME(SGX_ERROR_INVALID_STATE)
    NAME(SGX_ERROR_INVALID_FUNCTION)
    NAME(SGX_ERROR_OUT_OF_TCS)
    NAME(SGX_ERROR_ENCLAVE_CRASHED)
    NAME(SGX_ERROR_ECALL_NOT_ALLOWED)
    NAME(SGX_ERROR_OCALL_NOT_ALLOWED)
    NAME(SGX_ERROR_UNDEFINED_SYMBOL)
    NAME(SGX_ERROR_INVALID_ENCLAVE)
    NAME(SGX_ERROR_INVALID_ENCLAVE_ID)
    NAME(SGX_ERROR_INVALID_SIGNATURE)
    NAME(SGX_ERROR_NDEBUG_ENCLAVE)
    NAME(SGX_ERROR_OUT_OF_EPC)
    NAME(SGX_ERROR_NO_DEVICE)
    NAME(SGX_ERROR_INVALID_METADATA)
    NAME(SGX_ERROR_INVALID_VERSION)
    NAME(SGX_ERROR_ENCLAVE_FILE_ACCESS)
    NAME(SGX_ERROR_SERVICE_UNAVAILABLE)
    NAME(SGX_ERROR_SERVICE_TIMEOUT)
    NAME(SGX_ERROR_MEMORY_MAP_CONFLICT)
    NAME(SGX_ERROR_DEVICE_BUSY)
    NAME(SGX_ERROR_MODE_INCOMPATIBLE)
    NAME(SGX_ERROR_INVALID_MISC)
    NAME(SGX_ERROR_INVALID_LAUNCH_TOKEN)
    NAME(SGX_ERROR_MAC_MISMATCH)
    NAME(SGX_ERROR_INVALID_ATTRIBUTE)
#undef NAME
    }
    return NULL;
}

static __thread char last_error[512];

void urts_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
}

void urts_clear_error(void)
{
    last_error[0] = 0;
}

const char *de_urts_last_error(void)
{
    return last_error;
}

static struct urts_timeouts timeouts = { 10000, 60000 };
static pthread_once_t timeouts_once = PTHREAD_ONCE_INIT;

/* A positive whole number of milliseconds, at most a day; anything else keeps the default. */
static void env_ms(const char *name, int *ms)
{
    const char *v = getenv(name);
    char *end;
    if (v == NULL || *v == 0)
        return;
    long n = strtol(v, &end, 10);
    if (*end == 0 && n > 0 && n <= 86400000L)
        *ms = (int)n;
}

static void read_timeouts(void)
{
    env_ms("DE_URTS_STALL_TIMEOUT_MS", &timeouts.stall_ms);
    env_ms("DE_URTS_LOAD_TIMEOUT_MS", &timeouts.load_ms);
}

const struct urts_timeouts *urts_timeouts(void)
{
    pthread_once(&timeouts_once, read_timeouts);
    return &timeouts;
}
