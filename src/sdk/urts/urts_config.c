/*
 * Where the enclave's vsock socket is, found as enclavectl finds it (docs/configuration.md): $ENCLAVE_SOCKET
 * first (libde_urts only), else [vsock] socket of the one configuration file ($ENCLAVE_CONF if set and not
 * empty, else /etc/enclave.conf if it exists), else the built-in default. Only that one key is read: the file is
 * enclavectl's to check (`enclavectl config check`), so everything else in it is skipped, not judged.
 */
#define _GNU_SOURCE
#include "urts_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_SOCKET "/run/enclave/vsock.sock"
#define SYSTEM_FILE "/etc/enclave.conf"

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = 0;
    return s;
}

/* A comment after a value starts at ';' or '#' at the value's start or after white space. */
static void cut_comment(char *v)
{
    for (char *p = v; *p; p++) {
        if ((*p == ';' || *p == '#') && (p == v || isspace((unsigned char)p[-1]))) {
            *p = 0;
            return;
        }
    }
}

static int copy_out(char *out, size_t cap, const char *value, const char *origin)
{
    if (strlen(value) >= cap) {
        urts_fail("%s: the socket path is longer than %zu bytes", origin, cap - 1);
        return 0;
    }
    strcpy(out, value);
    return 1;
}

/* 1 found (out set), 0 not in the file, -1 failure (text set). */
static int read_socket_key(const char *file, char *out, size_t cap)
{
    FILE *f = fopen(file, "re");
    if (f == NULL) {
        urts_fail("cannot read the configuration file %s: %s (ENCLAVE_CONF names it; ENCLAVE_SOCKET names the socket "
                  "directly)", file, strerror(errno));
        return -1;
    }
    char line[4096];
    int in_vsock = 0, found = 0, lineno = 0;
    while (!found && fgets(line, sizeof line, f) != NULL) {
        char *s = line;
        lineno++;
        if (lineno == 1 && (unsigned char)s[0] == 0xEF && (unsigned char)s[1] == 0xBB && (unsigned char)s[2] == 0xBF)
            s += 3; /* UTF-8 byte-order mark */
        s = trim(s);
        if (*s == 0 || *s == ';' || *s == '#')
            continue;
        if (*s == '[') {
            char *end = strchr(s, ']');
            if (end != NULL) {
                *end = 0;
                in_vsock = strcmp(trim(s + 1), "vsock") == 0;
            }
            continue;
        }
        if (!in_vsock)
            continue;
        char *sep = s + strcspn(s, "=:");
        if (*sep == 0)
            continue;
        *sep = 0;
        if (strcmp(trim(s), "socket") != 0)
            continue;
        char *value = sep + 1;
        cut_comment(value);
        value = trim(value);
        if (*value != '/') {
            urts_fail("%s:%d: [vsock] socket '%s' is not an absolute path", file, lineno, value);
            fclose(f);
            return -1;
        }
        char origin[4200];
        snprintf(origin, sizeof origin, "%s:%d", file, lineno);
        found = copy_out(out, cap, value, origin) ? 1 : -1;
    }
    fclose(f);
    return found;
}

sgx_status_t urts_socket_path(char *out, size_t cap)
{
    const char *env = getenv("ENCLAVE_SOCKET");
    if (env != NULL && *env != 0)
        return copy_out(out, cap, env, "ENCLAVE_SOCKET") ? SGX_SUCCESS : SGX_ERROR_NO_DEVICE;
    const char *file = getenv("ENCLAVE_CONF");
    if (file == NULL || *file == 0)
        file = access(SYSTEM_FILE, F_OK) == 0 ? SYSTEM_FILE : NULL;
    if (file != NULL) {
        int r = read_socket_key(file, out, cap);
        if (r < 0)
            return SGX_ERROR_NO_DEVICE;
        if (r > 0)
            return SGX_SUCCESS;
    }
    return copy_out(out, cap, DEFAULT_SOCKET, "the default") ? SGX_SUCCESS : SGX_ERROR_NO_DEVICE;
}
