/*
 * math.h: sqrt (sqrtsd), fabs, floor, ceil exactly; exp, log and pow within a few ulp. pow carries log(x) and
 * y*log(x) in double-double (a value as hi + lo), so large results keep their precision. Errors set errno as C
 * says (EDOM for a NaN from a non-NaN argument, ERANGE for overflow and for log(0)).
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>

static uint64_t bits_of(double x)
{
    uint64_t u;
    __builtin_memcpy(&u, &x, 8);
    return u;
}

static double from_bits(uint64_t u)
{
    double x;
    __builtin_memcpy(&x, &u, 8);
    return x;
}

double sqrt(double x)
{
    double r;
    __asm__("sqrtsd %1, %0" : "=x"(r) : "x"(x));
    if (x < 0)
        errno = EDOM;
    return r;
}

double fabs(double x)
{
    return from_bits(bits_of(x) & ~(1ull << 63));
}

/* x without its fraction, toward zero; x itself when it has none (|x| >= 2^52, inf, NaN). */
static double trunc_(double x)
{
    uint64_t u = bits_of(x);
    int e = (int)(u >> 52 & 0x7ff) - 1023;
    if (e >= 52)
        return x;
    if (e < 0)
        return from_bits(u & (1ull << 63));
    return from_bits(u & ~((1ull << (52 - e)) - 1));
}

double floor(double x)
{
    double t = trunc_(x);
    return t > x ? t - 1.0 : t;
}

double ceil(double x)
{
    double t = trunc_(x);
    if (t < x)
        t += 1.0;
    return t == 0 ? from_bits(bits_of(x) & (1ull << 63)) : t;
}

/* 2^k as a double, for -1022 <= k <= 1023. */
static double pow2(int k)
{
    return from_bits((uint64_t)(k + 1023) << 52);
}

/* x * 2^k for any k, with one rounding at most (subnormal results). */
static double scale(double x, int k)
{
    while (k > 1023) {
        x *= pow2(1023);
        k -= 1023;
        if (x > 1.7e308 || x < -1.7e308)
            return x * 2.0;
    }
    if (k < -1022) {
        /* in two steps, the last one rounding once into the subnormals */
        x *= pow2(-1022 + 53);
        k += 1022 - 53;
        if (k < -1022) {
            x *= pow2(-1022);
            k += 1022;
            if (k < -1022)
                return x * 0.0;
        }
    }
    return x * pow2(k);
}

/* ln 2 in two parts: hi has its low 20 bits zero, so k * hi is exact for |k| < 2^20. */
static const double LN2_HI = 0x1.62e42fefa0000p-1, LN2_LO = 0x1.cf79abc9e3b3ap-40;
static const double INV_LN2 = 0x1.71547652b82fep0;

/* e^r for |r| <= 0.35 (and a little beyond), Taylor to degree 14: its tail is below 2^-60. */
static double exp_small(double r)
{
    double s = 1.0 / 87178291200.0;   /* 1/14! */
    static const double inv_fact[14] = {
        1.0, 1.0, 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040, 1.0 / 40320, 1.0 / 362880,
        1.0 / 3628800, 1.0 / 39916800, 1.0 / 479001600, 1.0 / 6227020800.0,
    };
    for (int i = 13; i >= 1; i--)
        s = s * r + inv_fact[i];
    /* 1 + r*s, with the 1 added last: r*s is the small part */
    return 1.0 + r * s;
}

/* e^(hi + lo), |lo| tiny beside hi. */
static double exp_dd(double hi, double lo)
{
    if (hi != hi)
        return hi;
    if (hi > 709.8) {
        errno = ERANGE;
        return HUGE_VAL;
    }
    if (hi < -745.2) {
        errno = ERANGE;
        return 0.0;
    }
    double kd = floor(hi * INV_LN2 + 0.5);
    int k = (int)kd;
    double r = (hi - kd * LN2_HI) - kd * LN2_LO + lo;
    return scale(exp_small(r), k);
}

double exp(double x)
{
    if (x == -HUGE_VAL)
        return 0.0;
    if (x == HUGE_VAL)
        return x;
    return exp_dd(x, 0.0);
}

/* Dekker's exact product: a * b = p + e. */
static void two_prod(double a, double b, double *p, double *e)
{
    const double split = 134217729.0;   /* 2^27 + 1 */
    double t = split * a, ah = t - (t - a), al = a - ah;
    t = split * b;
    double bh = t - (t - b), bl = b - bh;
    *p = a * b;
    *e = ((ah * bh - *p) + ah * bl + al * bh) + al * bl;
}

/* Knuth's exact sum: a + b = s + e. */
static void two_sum(double a, double b, double *s, double *e)
{
    *s = a + b;
    double v = *s - a;
    *e = (a - (*s - v)) + (b - v);
}

/* log(x) = hi + lo for finite x > 0. */
static void log_dd(double x, double *hi, double *lo)
{
    uint64_t u = bits_of(x);
    int k = 0;
    if (u >> 52 == 0) {   /* subnormal: scale into the normals first */
        x *= 0x1p54;
        u = bits_of(x);
        k = -54;
    }
    k += (int)(u >> 52) - 1023;
    double m = from_bits((u & ((1ull << 52) - 1)) | (1023ull << 52));   /* [1, 2) */
    if (m > M_SQRT2) {
        m *= 0.5;
        k++;
    }
    /* log m = 2 atanh(s), s = (m-1)/(m+1), |s| <= 0.1716: s + s^3/3 + ... */
    double f = m - 1.0, d, d_lo;   /* f exact (Sterbenz); m + 1 may round: d + d_lo is exact */
    two_sum(m, 1.0, &d, &d_lo);
    double s = f / d;
    double p, pe;
    two_prod(s, d, &p, &pe);
    double s_lo = (((f - p) - pe) - s * d_lo) / d;   /* f/(d + d_lo) - s, to double precision */
    double z = s * s, t = 0.0;
    for (int n = 23; n >= 3; n -= 2)
        t = t * z + 1.0 / n;
    t *= z;   /* s^2/3 + s^4/5 + ... */
    double lm_hi = 2.0 * s, lm_lo = 2.0 * s_lo + 2.0 * s * t;
    double kh = k * LN2_HI, kl = k * LN2_LO;   /* kh exact */
    double a, ae;
    two_sum(kh, lm_hi, &a, &ae);
    double rest = ae + lm_lo + kl;
    two_sum(a, rest, hi, lo);
}

double log(double x)
{
    if (x != x)
        return x;
    if (x < 0) {
        errno = EDOM;
        return __builtin_nan("");
    }
    if (x == 0) {
        errno = ERANGE;
        return -HUGE_VAL;
    }
    if (x == HUGE_VAL)
        return x;
    double hi, lo;
    log_dd(x, &hi, &lo);
    return hi + lo;
}

/* 1 if y is an odd integer, 2 if an even one, 0 if no integer. */
static int integer_kind(double y)
{
    if (trunc_(y) != y)
        return 0;
    if (fabs(y) >= 0x1p53)
        return 2;
    return ((int64_t)y & 1) ? 1 : 2;
}

double pow(double x, double y)
{
    if (y == 0 || x == 1.0)
        return 1.0;
    if (x != x || y != y)
        return x + y;
    int yk = integer_kind(y);
    if (fabs(y) == HUGE_VAL) {
        double ax = fabs(x);
        if (ax == 1.0)
            return 1.0;
        return (ax < 1.0) == (y < 0) ? HUGE_VAL : 0.0;
    }
    if (x == 0) {
        int neg = signbit(x) && yk == 1;
        if (y < 0) {
            errno = ERANGE;
            return neg ? -HUGE_VAL : HUGE_VAL;
        }
        return neg ? -0.0 : 0.0;
    }
    if (fabs(x) == HUGE_VAL) {
        int neg = x < 0 && yk == 1;
        double r = y < 0 ? 0.0 : HUGE_VAL;
        return neg ? -r : r;
    }
    int negative = 0;
    if (x < 0) {
        if (yk == 0) {
            errno = EDOM;
            return __builtin_nan("");
        }
        negative = yk == 1;
        x = -x;
        if (x == 1.0)
            return negative ? -1.0 : 1.0;
    }
    double lh, ll, ph, pl;
    log_dd(x, &lh, &ll);
    if (fabs(y) > 0x1p900) {   /* |y log x| is far out of range (x != 1), and Dekker's split would overflow */
        if ((y > 0) != (lh > 0))
            return negative ? -0.0 : 0.0;
        errno = ERANGE;
        return negative ? -HUGE_VAL : HUGE_VAL;
    }
    two_prod(y, lh, &ph, &pl);
    pl += y * ll;
    double s, e;
    two_sum(ph, pl, &s, &e);
    double r = exp_dd(s, e);
    return negative ? -r : r;
}
