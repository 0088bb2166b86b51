#include "format.h"

#include <stdint.h>

struct sink {
    char *buf;
    size_t size;
    size_t len;
};

static void put(struct sink *s, char c)
{
    if (s->len + 1 < s->size)
        s->buf[s->len++] = c;
}

static void put_str(struct sink *s, const char *str)
{
    if (!str)
        str = "(null)";
    while (*str)
        put(s, *str++);
}

static void put_unsigned(struct sink *s, uint64_t v, unsigned base, unsigned width, char pad)
{
    char digits[20];   /* 2^64 - 1 has 20 decimal digits */
    unsigned n = 0;
    do {
        unsigned d = (unsigned)(v % base);
        digits[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        v /= base;
    } while (v);
    for (; width > n; width--)
        put(s, pad);
    while (n)
        put(s, digits[--n]);
}

size_t format_v(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct sink s = { buf, size, 0 };
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            put(&s, *fmt);
            continue;
        }
        fmt++;
        char pad = ' ';
        if (*fmt == '0') {
            pad = '0';
            fmt++;
        }
        unsigned width = 0;
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (unsigned)(*fmt++ - '0');
        int longs = 0;
        while (*fmt == 'l' || *fmt == 'z') {
            longs++;
            fmt++;
        }
        switch (*fmt) {
        case 'd': {
            int64_t v = longs ? va_arg(ap, int64_t) : va_arg(ap, int);
            uint64_t magnitude = (uint64_t)v;
            if (v < 0) {
                put(&s, '-');
                magnitude = -magnitude;
                if (width)
                    width--;
            }
            put_unsigned(&s, magnitude, 10, width, pad);
            break;
        }
        case 'u':
        case 'x': {
            uint64_t v = longs ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);
            put_unsigned(&s, v, *fmt == 'u' ? 10 : 16, width, pad);
            break;
        }
        case 'p':
            put_str(&s, "0x");
            put_unsigned(&s, (uintptr_t)va_arg(ap, void *), 16, width, pad);
            break;
        case 's':
            put_str(&s, va_arg(ap, const char *));
            break;
        case 'c':
            put(&s, (char)va_arg(ap, int));
            break;
        case '%':
            put(&s, '%');
            break;
        case '\0':
            fmt--;   /* a lone '%' at the end: print nothing, stop at the NUL */
            break;
        default:     /* unknown conversion: show it rather than guess at its argument */
            put(&s, '%');
            put(&s, *fmt);
            break;
        }
    }
    if (size)
        buf[s.len] = '\0';
    return s.len;
}

size_t format(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t n = format_v(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
