/*
 * The enclave side of docs/module-format.md: the signature structure, the module ELF rules, the measurement
 * and signature check ("Verifying a signed module" 1-5), relocation and symbol lookup. Pure code over
 * buffers (no device, no allocation), so src/guest/check runs it on the host against ModuleElf's verdicts.
 */
#ifndef ENCLAVE_MODULE_ELF_H
#define ENCLAVE_MODULE_ELF_H

#include <stddef.h>
#include <stdint.h>

#define MODULE_MAX_SEGMENTS 64u

/* A refusal: code is the number of the E-code module-format.md names (801 for E801, ...), reason says what. */
struct module_error {
    uint32_t code;
    char reason[200];
};

/* E-codes beyond module-format.md's, for what only the loader checks (docs/module-runtime.md). */
#define MODULE_E_MISSING_IMPORT 814u   /* an import the runtime API table does not provide */
#define MODULE_E_DEBUG_IN_PRODUCTION 815u
#define MODULE_E_NO_ECALLS 816u        /* no (valid) enclave_ecalls table */

struct module_segment {
    uint64_t vaddr, mem_size, file_offset, file_size;
    uint32_t flags;                    /* PF_R 4 | PF_W 2 | PF_X 1 */
    uint32_t index;                    /* its program header's index, as reasons name it */
};

struct module_elf {
    uint32_t segment_count;            /* kept PT_LOADs, in address order */
    struct module_segment segments[MODULE_MAX_SEGMENTS];
    uint64_t dynamic_vaddr, dynamic_size;
    uint64_t image_size;               /* end of the last segment, rounded up to 4096 */
    /* What the dynamic section named (module addresses; 0 when absent). */
    uint64_t rela, rela_size, jmprel, jmprel_size, symtab, strtab, strtab_size, gnu_hash, hash;
    uint32_t relocation_count;
};

struct module_signature {
    uint64_t module_size;              /* the ELF is file[0, module_size) */
    uint32_t key_type, public_key_size, signature_size, attributes;
    uint16_t prod_id, isv_svn;
    uint32_t tcs_num;
    uint64_t stack_max_size, heap_max_size;
    uint8_t mrenclave[48], mrsigner[48];
    const uint8_t *public_key;         /* inside the file buffer */
    const uint8_t *signature;
};

#define MODULE_ATTRIBUTE_DEBUG 1u

/*
 * Steps 1-5 of "Verifying a signed module", in that order, over file[0, len): fills sig and elf and returns 0,
 * or returns the E-code number and fills err. The file buffer must be the enclave's own copy.
 */
uint32_t module_verify(const uint8_t *file, size_t len, struct module_signature *sig, struct module_elf *elf,
                       struct module_error *err);

/* The ELF rules alone over elf_bytes[0, len) (what ModuleElf.parse checks): 0 or the E-code number. */
uint32_t module_elf_parse(const uint8_t *elf_bytes, size_t len, struct module_elf *elf, struct module_error *err);

/* The measurement (MRENCLAVE) of a parsed module. */
void module_measure(const uint8_t *elf_bytes, const struct module_elf *elf, uint8_t out[48]);

/* Copies each segment's file bytes to image + vaddr and zeroes everything else of image[0, image_size). */
void module_build_image(const uint8_t *elf_bytes, const struct module_elf *elf, uint8_t *image);

/* Resolves an import by name: 0 and *address, or nonzero if the runtime does not provide it. */
typedef int (*module_import_fn)(const char *name, uint64_t *address, void *ctx);

/*
 * Applies every relocation to the built image as if it were at base (RELATIVE: base + addend; GLOB_DAT and
 * JUMP_SLOT: base + st_value if defined, the import's address if not). Reads tables and symbols from the
 * image. 0, or MODULE_E_MISSING_IMPORT naming the symbol.
 */
uint32_t module_relocate(const struct module_elf *elf, uint8_t *image, uint64_t base, module_import_fn import,
                         void *ctx, struct module_error *err);

/* A defined dynamic symbol's module address and size by name (DT_GNU_HASH, else DT_HASH): 0 if found. */
int module_find_symbol(const struct module_elf *elf, const uint8_t *image, const char *name, uint64_t *vaddr,
                       uint64_t *size);

#endif
