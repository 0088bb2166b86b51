/* Types the round-trip EDL takes from a header, as SGX projects do with `include`. */
#ifndef ROUNDTRIP_TYPES_H
#define ROUNDTRIP_TYPES_H
#include <stdint.h>
struct blob {
    uint32_t tag;
    uint8_t bytes[12];
};
typedef struct blob *blob_ptr;
typedef const struct blob *cblob_ptr;
#endif
