/* math.h of the trusted library (libde_trts): double functions, correctly rounded (sqrt, fabs, floor, ceil) or
 * within a few ulp (exp, log, pow). Needs SSE2 (docs/guest-abi.md, "SSE for module code"). */
#ifndef TLIBC_MATH_H
#define TLIBC_MATH_H

#ifdef __cplusplus
extern "C" {
#endif

#define HUGE_VAL (__builtin_huge_val())
#define INFINITY (__builtin_inff())
#define NAN      (__builtin_nanf(""))
#define M_E      2.7182818284590452354
#define M_LN2    0.69314718055994530942
#define M_PI     3.14159265358979323846
#define M_SQRT2  1.41421356237309504880

#define isnan(x)    __builtin_isnan(x)
#define isinf(x)    __builtin_isinf_sign(x)
#define isfinite(x) __builtin_isfinite(x)
#define signbit(x)  __builtin_signbit(x)

double sqrt(double x);
double fabs(double x);
double floor(double x);
double ceil(double x);
double exp(double x);
double log(double x);
double pow(double x, double y);

#ifdef __cplusplus
}
#endif

#endif
