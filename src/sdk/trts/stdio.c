/*
 * snprintf and vsnprintf: flags - + space # 0, width and precision (also *), lengths hh h l ll z j t, and
 * d i u o x X c s p % e E f F g G. Doubles are converted exactly (a big integer for the integer part, the
 * fraction multiplied out digit by digit) and rounded half to even on the exact value, as glibc does; so the
 * output is the host printf's. No %n (a format must not write memory), no %a, no wide characters.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct out {
    char *s;
    size_t cap, len;
};

static void put(struct out *o, char c)
{
    if (o->len + 1 < o->cap)
        o->s[o->len] = c;
    o->len++;
}

static void put_n(struct out *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        put(o, s[i]);
}

static void pad(struct out *o, char c, int n)
{
    for (; n > 0; n--)
        put(o, c);
}

enum { F_MINUS = 1, F_PLUS = 2, F_SPACE = 4, F_HASH = 8, F_ZERO = 16 };

struct spec {
    int flags, width, prec;   /* prec -1: none */
    char conv;
};

/*
 * Writes prefix (sign, 0x), zeros, body, then tail_zeros and tail with width and flags: the layout every
 * conversion shares (the tail: a double's fraction digits past the exact ones, and its exponent).
 */
static void emit_tail(struct out *o, const struct spec *sp, const char *prefix, int zeros, const char *body, size_t n,
                      int tail_zeros, const char *tail, size_t tn)
{
    size_t pl = strlen(prefix);
    int len = (int)(pl + (size_t)zeros + n + (size_t)tail_zeros + tn);
    int fill = sp->width > len ? sp->width - len : 0;
    if (!(sp->flags & F_MINUS) && !(sp->flags & F_ZERO))
        pad(o, ' ', fill);
    put_n(o, prefix, pl);
    if (!(sp->flags & F_MINUS) && (sp->flags & F_ZERO))
        pad(o, '0', fill);
    pad(o, '0', zeros);
    put_n(o, body, n);
    pad(o, '0', tail_zeros);
    put_n(o, tail, tn);
    if (sp->flags & F_MINUS)
        pad(o, ' ', fill);
}

static void emit(struct out *o, const struct spec *sp, const char *prefix, int zeros, const char *body, size_t n)
{
    emit_tail(o, sp, prefix, zeros, body, n, 0, "", 0);
}

static void integer(struct out *o, struct spec *sp, uint64_t v, int negative)
{
    char buf[24];
    int n = 0, base = sp->conv == 'o' ? 8 : (sp->conv == 'x' || sp->conv == 'X' || sp->conv == 'p') ? 16 : 10;
    const char *digits = sp->conv == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
    uint64_t u = v;
    while (u) {
        buf[sizeof buf - 1 - n++] = digits[u % (unsigned)base];
        u /= (unsigned)base;
    }
    const char *prefix = "";
    if (negative)
        prefix = "-";
    else if ((sp->conv == 'd' || sp->conv == 'i') && (sp->flags & F_PLUS))
        prefix = "+";
    else if ((sp->conv == 'd' || sp->conv == 'i') && (sp->flags & F_SPACE))
        prefix = " ";
    else if (((sp->flags & F_HASH) && v != 0 && sp->conv == 'x') || sp->conv == 'p')
        prefix = "0x";
    else if ((sp->flags & F_HASH) && v != 0 && sp->conv == 'X')
        prefix = "0X";
    int zeros = 0;
    if (sp->prec >= 0) {
        sp->flags &= ~F_ZERO;
        zeros = sp->prec > n ? sp->prec - n : 0;
    } else if (n == 0) {
        zeros = 1;   /* 0 */
    }
    if (sp->conv == 'o' && (sp->flags & F_HASH) && zeros == 0 && (n == 0 || buf[sizeof buf - n] != '0'))
        zeros = 1;
    emit(o, sp, prefix, zeros, buf + sizeof buf - n, (size_t)n);
}

/* ---- doubles ---- */

#define BIG_LIMBS 36   /* 36 * 32 bits hold 2^1024 and 2^1074 */

struct big {
    uint32_t w[BIG_LIMBS];   /* little-endian limbs */
    int n;                   /* limbs in use */
};

static void big_set(struct big *b, uint64_t v, int shift)
{
    memset(b->w, 0, sizeof b->w);
    b->n = 0;
    int limb = shift / 32, bit = shift % 32;
    unsigned __int128 x = (unsigned __int128)v << bit;
    for (int i = 0; i < 3 && limb + i < BIG_LIMBS; i++)
        b->w[limb + i] = (uint32_t)(x >> (32 * i));
    b->n = BIG_LIMBS;
    while (b->n > 0 && b->w[b->n - 1] == 0)
        b->n--;
}

/* b /= d; returns the remainder. */
static uint32_t big_div(struct big *b, uint32_t d)
{
    uint64_t r = 0;
    for (int i = b->n - 1; i >= 0; i--) {
        uint64_t cur = r << 32 | b->w[i];
        b->w[i] = (uint32_t)(cur / d);
        r = cur % d;
    }
    while (b->n > 0 && b->w[b->n - 1] == 0)
        b->n--;
    return (uint32_t)r;
}

/* The fraction f / 2^bits (f < 2^bits): multiply by 10, the digit is what passes 2^bits. */
static int frac_digit(struct big *f, int bits)
{
    uint64_t carry = 0;
    int n = (bits + 31) / 32 + 1;
    if (n > BIG_LIMBS)
        n = BIG_LIMBS;
    for (int i = 0; i < n; i++) {
        uint64_t cur = (uint64_t)f->w[i] * 10 + carry;
        f->w[i] = (uint32_t)cur;
        carry = cur >> 32;
    }
    int limb = bits / 32, bit = bits % 32;
    uint32_t digit = f->w[limb] >> bit;
    if (limb + 1 < BIG_LIMBS && bit)
        digit |= f->w[limb + 1] << (32 - bit);
    f->w[limb] &= bit ? (1u << bit) - 1 : 0;
    if (limb + 1 < BIG_LIMBS)
        f->w[limb + 1] = 0;
    return (int)digit;
}

static int big_zero(const struct big *f)
{
    for (int i = 0; i < BIG_LIMBS; i++)
        if (f->w[i])
            return 0;
    return 1;
}

/*
 * The exact decimal digits of a finite |x|: the integer part in ip (ip_len digits, "" for 0), and a source
 * of the fraction's digits.
 */
struct decimal {
    char ip[320];
    int ip_len;
    struct big frac;
    int frac_bits;   /* the fraction is frac / 2^frac_bits; 0: no fraction */
};

static void decimal_of(double x, struct decimal *d)
{
    uint64_t u;
    memcpy(&u, &x, 8);
    int e = (int)(u >> 52 & 0x7ff);
    uint64_t m = u & ((1ull << 52) - 1);
    if (e)
        m |= 1ull << 52;
    else
        e = 1;
    e -= 1075;   /* x = m * 2^e */
    d->ip_len = 0;
    d->frac_bits = 0;
    memset(&d->frac, 0, sizeof d->frac);
    struct big ib;
    if (e >= 0) {
        big_set(&ib, m, e);
    } else if (e > -64) {
        big_set(&ib, m >> -e, 0);
        big_set(&d->frac, m & ((1ull << -e) - 1), 0);
        d->frac_bits = -e;
    } else {
        big_set(&ib, 0, 0);
        big_set(&d->frac, m, 0);
        d->frac_bits = -e;
    }
    char rev[320];
    int n = 0;
    while (ib.n > 0) {
        uint32_t r = big_div(&ib, 1000000000u);
        for (int i = 0; i < 9; i++) {
            rev[n++] = (char)('0' + r % 10);
            r /= 10;
        }
    }
    while (n > 0 && rev[n - 1] == '0')
        n--;
    for (int i = 0; i < n; i++)
        d->ip[i] = rev[n - 1 - i];
    d->ip_len = n;
}

static int next_frac(struct decimal *d)
{
    return d->frac_bits ? frac_digit(&d->frac, d->frac_bits) : 0;
}

static int frac_left(const struct decimal *d)
{
    return d->frac_bits && !big_zero(&d->frac);
}

/*
 * Rounds the digits buf[0..n) given the next digit and whether anything nonzero follows: half to even.
 * Returns 1 if the carry ran out of the front (buf is then all zeros: the caller puts a 1 before it).
 */
static int round_digits(char *buf, int n, int next, int sticky)
{
    int up = next > 5 || (next == 5 && (sticky || (n > 0 && (buf[n - 1] - '0') % 2 == 1)));
    if (next == 5 && !sticky && n == 0)
        up = 0;   /* 0.5 to no digits: 0 is even */
    if (!up)
        return 0;
    for (int i = n - 1; i >= 0; i--) {
        if (buf[i] != '9') {
            buf[i]++;
            return 0;
        }
        buf[i] = '0';
    }
    return 1;
}

/* A double has at most 1074 fraction digits (and then at most one integer digit), 767 significant ones, 309
 * integer digits: digits past PREC_EXACT are all 0, and so is the next one, so no rounding reaches back. */
#define PREC_EXACT 1080
#define DIGITS_MAX (PREC_EXACT + 320)

/* %f: digits before the point, then prec after, rounded. Into buf: "ddd" "fff" with the point's place. */
static int fixed_digits(struct decimal *d, int prec, char *buf, int *int_len)
{
    int n = 0;
    for (int i = 0; i < d->ip_len; i++)
        buf[n++] = d->ip[i];
    if (n == 0)
        buf[n++] = '0';
    int il = n;
    for (int i = 0; i < prec; i++)
        buf[n++] = (char)('0' + next_frac(d));
    int next = next_frac(d);
    if (round_digits(buf, n, next, frac_left(d))) {
        memmove(buf + 1, buf, (size_t)n);
        buf[0] = '1';
        n++;
        il++;
    }
    *int_len = il;
    return n;
}

/* %e: sig significant digits, rounded; *exp10 the exponent of the first. x = 0 gives zeros and 0. */
static int sci_digits(struct decimal *d, int sig, char *buf, int *exp10)
{
    int n = 0, next, sticky;
    if (d->ip_len > 0) {
        *exp10 = d->ip_len - 1;
        for (int i = 0; i < d->ip_len && n < sig; i++)
            buf[n++] = d->ip[i];
        if (n < sig) {
            while (n < sig)
                buf[n++] = (char)('0' + next_frac(d));
            next = next_frac(d);
            sticky = frac_left(d);
        } else {
            next = sig < d->ip_len ? d->ip[sig] - '0' : next_frac(d);
            sticky = frac_left(d);
            for (int i = sig + 1; i < d->ip_len; i++)
                sticky |= d->ip[i] != '0';
        }
    } else if (!frac_left(d)) {
        *exp10 = 0;
        for (; n < sig; n++)
            buf[n] = '0';
        return n;
    } else {
        int z = 0, c;
        while ((c = next_frac(d)) == 0)
            z++;
        *exp10 = -(z + 1);
        buf[n++] = (char)('0' + c);
        while (n < sig)
            buf[n++] = (char)('0' + next_frac(d));
        next = next_frac(d);
        sticky = frac_left(d);
    }
    if (round_digits(buf, n, next, sticky)) {
        buf[0] = '1';
        (*exp10)++;
    }
    return n;
}

static void floating(struct out *o, struct spec *sp, double x)
{
    uint64_t u;
    memcpy(&u, &x, 8);
    int negative = (int)(u >> 63), upper = sp->conv == 'E' || sp->conv == 'F' || sp->conv == 'G';
    const char *sign = negative ? "-" : (sp->flags & F_PLUS) ? "+" : (sp->flags & F_SPACE) ? " " : "";
    if ((u >> 52 & 0x7ff) == 0x7ff) {
        const char *w = (u & ((1ull << 52) - 1)) ? (upper ? "NAN" : "nan") : (upper ? "INF" : "inf");
        sp->flags &= ~F_ZERO;
        emit(o, sp, sign, 0, w, 3);
        return;
    }
    struct decimal d;
    char buf[DIGITS_MAX + 8], body[DIGITS_MAX + 16];
    int prec = sp->prec < 0 ? 6 : sp->prec, extra = 0;
    char c = (char)(sp->conv | 0x20);
    int exp10 = 0, n, bl = 0, il;
    decimal_of(negative ? -x : x, &d);
    int strip = 0;
    if (c == 'g') {
        int P = prec == 0 ? 1 : prec;
        struct decimal copy = d;
        sci_digits(&copy, P < PREC_EXACT ? P : PREC_EXACT, buf, &exp10);
        strip = !(sp->flags & F_HASH);
        if (P > exp10 && exp10 >= -4) {
            c = 'f';
            prec = P - 1 - exp10;
        } else {
            c = 'e';
            prec = P - 1;
        }
    }
    if (prec > PREC_EXACT) {
        extra = prec - (PREC_EXACT);
        prec = PREC_EXACT;
    }
    char tail[8];
    int tl = 0;
    if (c == 'f') {
        n = fixed_digits(&d, prec, buf, &il);
        memcpy(body, buf, (size_t)il);
        bl = il;
        int fl = n - il;
        if (strip)
            while (fl > 0 && buf[il + fl - 1] == '0')
                fl--;
        if (fl > 0 || (sp->flags & F_HASH))
            body[bl++] = '.';
        memcpy(body + bl, buf + il, (size_t)fl);
        bl += fl;
    } else {
        n = sci_digits(&d, prec + 1, buf, &exp10);
        body[bl++] = buf[0];
        int fl = n - 1;
        if (strip)
            while (fl > 0 && buf[fl] == '0')
                fl--;
        if (fl > 0 || (sp->flags & F_HASH))
            body[bl++] = '.';
        memcpy(body + bl, buf + 1, (size_t)fl);
        bl += fl;
        tail[tl++] = upper ? 'E' : 'e';
        tail[tl++] = exp10 < 0 ? '-' : '+';
        int ae = exp10 < 0 ? -exp10 : exp10;
        if (ae >= 100)
            tail[tl++] = (char)('0' + ae / 100);
        tail[tl++] = (char)('0' + ae / 10 % 10);
        tail[tl++] = (char)('0' + ae % 10);
    }
    if (strip)
        extra = 0;
    emit_tail(o, sp, sign, 0, body, (size_t)bl, extra, tail, (size_t)tl);
}

int vsnprintf(char *s, size_t n, const char *fmt, va_list ap)
{
    struct out o = { s, n, 0 };
    while (*fmt) {
        if (*fmt != '%') {
            put(&o, *fmt++);
            continue;
        }
        fmt++;
        struct spec sp = { 0, 0, -1, 0 };
        for (;; fmt++) {
            int f = *fmt == '-' ? F_MINUS : *fmt == '+' ? F_PLUS : *fmt == ' ' ? F_SPACE : *fmt == '#' ? F_HASH
                  : *fmt == '0' ? F_ZERO : 0;
            if (!f)
                break;
            sp.flags |= f;
        }
        if (*fmt == '*') {
            sp.width = va_arg(ap, int);
            if (sp.width < 0) {
                sp.flags |= F_MINUS;
                sp.width = -sp.width;
            }
            fmt++;
        } else {
            while (*fmt >= '0' && *fmt <= '9')
                sp.width = sp.width * 10 + (*fmt++ - '0');
        }
        if (*fmt == '.') {
            fmt++;
            sp.prec = 0;
            if (*fmt == '*') {
                sp.prec = va_arg(ap, int);
                fmt++;
            } else {
                while (*fmt >= '0' && *fmt <= '9')
                    sp.prec = sp.prec * 10 + (*fmt++ - '0');
            }
        }
        int size = 0;   /* 0 int, 1 long, 2 long long, -1 short, -2 char */
        for (;; fmt++) {
            if (*fmt == 'l')
                size = size == 1 ? 2 : 1;
            else if (*fmt == 'h')
                size = size == -1 ? -2 : -1;
            else if (*fmt == 'z' || *fmt == 'j' || *fmt == 't')
                size = 2;
            else
                break;
        }
        if (sp.flags & F_MINUS)
            sp.flags &= ~F_ZERO;
        sp.conv = *fmt;
        if (*fmt)
            fmt++;
        switch (sp.conv) {
        case 'd':
        case 'i': {
            int64_t v = size == 2 ? va_arg(ap, long long) : size == 1 ? va_arg(ap, long) : va_arg(ap, int);
            if (size == -1)
                v = (short)v;
            else if (size == -2)
                v = (signed char)v;
            integer(&o, &sp, v < 0 ? 0 - (uint64_t)v : (uint64_t)v, v < 0);
            break;
        }
        case 'u':
        case 'o':
        case 'x':
        case 'X': {
            uint64_t v = size == 2 ? va_arg(ap, unsigned long long) : size == 1 ? va_arg(ap, unsigned long)
                       : va_arg(ap, unsigned int);
            if (size == -1)
                v = (unsigned short)v;
            else if (size == -2)
                v = (unsigned char)v;
            integer(&o, &sp, v, 0);
            break;
        }
        case 'p': {
            void *p = va_arg(ap, void *);
            if (!p) {
                sp.prec = -1;
                sp.flags &= ~F_ZERO;
                emit(&o, &sp, "", 0, "(nil)", 5);
            } else {
                sp.flags &= ~(F_PLUS | F_SPACE);
                integer(&o, &sp, (uintptr_t)p, 0);
            }
            break;
        }
        case 'c': {
            char ch = (char)va_arg(ap, int);
            sp.flags &= ~F_ZERO;
            emit(&o, &sp, "", 0, &ch, 1);
            break;
        }
        case 's': {
            const char *str = va_arg(ap, const char *);
            if (!str)
                str = sp.prec < 0 || sp.prec >= 6 ? "(null)" : "";
            size_t len = sp.prec >= 0 ? strnlen(str, (size_t)sp.prec) : strlen(str);
            sp.flags &= ~F_ZERO;
            emit(&o, &sp, "", 0, str, len);
            break;
        }
        case 'e':
        case 'E':
        case 'f':
        case 'F':
        case 'g':
        case 'G':
            floating(&o, &sp, va_arg(ap, double));
            break;
        case '%':
            put(&o, '%');
            break;
        default:   /* an unknown conversion is written as it stands */
            put(&o, '%');
            if (sp.conv)
                put(&o, sp.conv);
            break;
        }
    }
    if (n > 0)
        s[o.len < n ? o.len : n - 1] = 0;
    return o.len > INT32_MAX ? -1 : (int)o.len;
}

int snprintf(char *s, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vsnprintf(s, n, fmt, ap);
    va_end(ap);
    return r;
}
