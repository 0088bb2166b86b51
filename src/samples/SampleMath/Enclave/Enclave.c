/* SampleMath's trusted code: the distance between two points, computed inside the enclave. */
#include <math.h>

#include "Enclave_t.h"

double ecall_distance(const int a[2], const int b[2])
{
    double dx = (double)a[0] - (double)b[0];
    double dy = (double)a[1] - (double)b[1];
    return sqrt(dx * dx + dy * dy);
}
