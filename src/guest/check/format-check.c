/*
 * Host-side check of the guest's formatter (format.c), built and run by `make check` (Maven's test phase).
 * The host's snprintf is the oracle for every conversion both support; the cases where ours differs on
 * purpose (truncation result, unknown conversions) have their expectations written out.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../format.h"

static int failures;

static void expect_equal(const char *what, const char *got, size_t got_len, const char *want)
{
    if (strcmp(got, want) != 0 || got_len != strlen(want)) {
        printf("FAIL %s: got \"%s\" (length %zu), want \"%s\" (length %zu)\n", what, got, got_len, want,
               strlen(want));
        failures++;
    }
}

/* Formats with both and compares; the format string must be valid for both. */
__attribute__((format(printf, 1, 2))) static void same_as_libc(const char *fmt, ...)
{
    char ours[256], theirs[256];
    va_list a, b;
    va_start(a, fmt);
    va_copy(b, a);
    size_t n = format_v(ours, sizeof ours, fmt, a);
    vsnprintf(theirs, sizeof theirs, fmt, b);
    va_end(b);
    va_end(a);
    expect_equal(fmt, ours, n, theirs);
}

int main(void)
{
    same_as_libc("plain text");
    same_as_libc("%d %d %d", 0, 42, -42);
    same_as_libc("%d %d", INT32_MAX, INT32_MIN);
    same_as_libc("%ld %ld %ld", (long)INT64_MAX, (long)INT64_MIN, -1L);
    same_as_libc("%u %u", 0u, UINT32_MAX);
    same_as_libc("%lu %zu", (unsigned long)UINT64_MAX, (size_t)12345);
    same_as_libc("%x %x %lx", 0u, 0xdeadbeefu, (unsigned long)UINT64_MAX);
    same_as_libc("%08x|%016lx|%2x|%5u|%05d|%4d", 0xabcu, 0x1234UL, 0xfffu, 7u, -42, 3);
    same_as_libc("%s|%s|%c%c", "hello", "", 'o', 'k');
    same_as_libc("100%% %s", "done");
    same_as_libc("%p", (void *)0x100000);
    same_as_libc("enclave runtime %s: %u vCPU%s, %lu MiB RAM, cid %u%s", "0.1.0", 2u, "s", 128UL, 16u, "");

    char buf[64];
    size_t n;

    n = format(buf, 6, "%s", "truncated");
    expect_equal("truncation keeps size - 1 bytes and the NUL", buf, n, "trunc");

    n = format(buf, 1, "%d", 12345);
    expect_equal("size 1 gives an empty string", buf, n, "");

    buf[0] = 'x';
    n = format(buf, 0, "%d", 1);
    if (n != 0 || buf[0] != 'x') {
        printf("FAIL size 0 must write nothing: returned %zu, buf[0] = '%c'\n", n, buf[0]);
        failures++;
    }

    /* The next three feed format() what gcc rightly warns about: that is the point of checking them. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat"
#pragma GCC diagnostic ignored "-Wformat-overflow"
    n = format(buf, sizeof buf, "%s", (const char *)NULL);
    expect_equal("NULL string", buf, n, "(null)");

    n = format(buf, sizeof buf, "a%qb");
    expect_equal("unknown conversion is shown, not guessed at", buf, n, "a%qb");

    n = format(buf, sizeof buf, "end%");
    expect_equal("lone trailing percent", buf, n, "end");
#pragma GCC diagnostic pop

    if (failures) {
        printf("format-check: %d failure(s)\n", failures);
        return 1;
    }
    return 0;
}
