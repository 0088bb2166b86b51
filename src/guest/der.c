/* DER reading for the key parser (der.h). */
#include "der.h"
#include "mem.h"

int der_take(struct der *d, uint8_t tag, struct der *contents)
{
    if (d->len < 2 || d->p[0] != tag)
        return -1;
    size_t head = 2, len = d->p[1];
    if (len == 0x81) {
        if (d->len < 3 || d->p[2] < 0x80)   /* shorter forms must be used when they fit */
            return -1;
        head = 3;
        len = d->p[2];
    } else if (len == 0x82) {
        if (d->len < 4)
            return -1;
        len = (size_t)d->p[2] << 8 | d->p[3];
        if (len < 0x100)
            return -1;
        head = 4;
    } else if (len >= 0x80) {
        return -1;                          /* indefinite, or longer than any key */
    }
    if (len > d->len - head)
        return -1;
    contents->p = d->p + head;
    contents->len = len;
    d->p += head + len;
    d->len -= head + len;
    return 0;
}

int der_take_exact(struct der *d, uint8_t tag, const uint8_t *contents, size_t len)
{
    struct der got;
    if (der_take(d, tag, &got) != 0 || got.len != len || (len > 0 && memcmp(got.p, contents, len) != 0))
        return -1;
    return 0;
}

int der_unsigned(const struct der *integer, struct der *magnitude)
{
    const uint8_t *p = integer->p;
    size_t len = integer->len;
    if (len == 0 || (p[0] & 0x80))
        return -1;
    if (p[0] == 0) {
        if (len > 1 && !(p[1] & 0x80))
            return -1;
        p++;
        len--;
    }
    magnitude->p = p;
    magnitude->len = len;
    return 0;
}
