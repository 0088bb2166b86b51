/*
 * Host build of module_elf.c for ModuleLoaderParityTest: reads requests from stdin, answers on stdout, so that
 * the Java side can give the C loader the very bytes it gives ModuleElf and SignedModule and compare verdicts.
 * Built with ASan/UBSan: a read outside a module's bytes is a crash, not a verdict. Every integer is
 * little-endian. Requests (one op byte, then):
 *   'O' u32 n, n bytes            the original module that 'M' mutates (no answer)
 *   'M' u32 length, u16 k, k x (u32 offset, u8 value)
 *                                 module_elf_parse over the original with those bytes set, cut to length;
 *                                 a module that parses is also built, relocated and searched, for the sanitizers
 *   'P' u32 n, n bytes            module_elf_parse
 *   'V' u32 n, n bytes            module_verify
 *   'R' u32 n, n bytes, u64 base, u32 count, count x (u16 length, name, u64 address)
 *                                 parse, build the image, relocate at base against those imports
 *   'S' u32 n, n bytes, u16 length, name
 *                                 parse, build the image, module_find_symbol
 * Answers: u32 code, u8 length, reason; then for 'R' with code 0, u64 image_size and the image; for 'S' with
 * code 0, u32 found (0 yes), u64 vaddr, u64 size.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../module_elf.h"

static void die(const char *what)
{
    fprintf(stderr, "module-check: %s\n", what);
    exit(2);
}

static void read_exact(void *buf, size_t n)
{
    if (n && fread(buf, 1, n, stdin) != n)
        die("truncated request");
}

static uint64_t read_le(unsigned bytes)
{
    uint8_t b[8];
    uint64_t v = 0;
    read_exact(b, bytes);
    for (unsigned i = 0; i < bytes; i++)
        v |= (uint64_t)b[i] << (8 * i);
    return v;
}

static void write_le(uint64_t v, unsigned bytes)
{
    for (unsigned i = 0; i < bytes; i++)
        putchar((int)(v >> (8 * i) & 0xff));
}

/* Exactly n bytes on the heap, so that ASan sees any read past the end. */
static uint8_t *read_bytes(size_t n)
{
    uint8_t *b = malloc(n ? n : 1);
    if (!b)
        die("out of memory");
    read_exact(b, n);
    return b;
}

static char *read_name(void)
{
    size_t n = (size_t)read_le(2);
    char *s = malloc(n + 1);
    if (!s)
        die("out of memory");
    read_exact(s, n);
    s[n] = 0;
    return s;
}

static void answer(uint32_t code, const struct module_error *err)
{
    size_t n = code ? strlen(err->reason) : 0;
    if (n > 255)
        n = 255;
    write_le(code, 4);
    putchar((int)n);
    fwrite(err->reason, 1, n, stdout);
}

struct imports {
    uint32_t count;
    char **names;
    uint64_t *addresses;
};

static int resolve(const char *name, uint64_t *address, void *ctx)
{
    const struct imports *t = ctx;
    for (uint32_t i = 0; i < t->count; i++) {
        if (strcmp(t->names[i], name) == 0) {
            *address = t->addresses[i];
            return 0;
        }
    }
    return -1;
}

static int resolve_any(const char *name, uint64_t *address, void *ctx)
{
    (void)ctx;
    *address = 0x7e0000000000ull + strlen(name);
    return 0;
}

static uint8_t *build(const uint8_t *file, const struct module_elf *elf)
{
    uint8_t *image = malloc(elf->image_size);
    if (!image)
        die("out of memory for an image");
    module_build_image(file, elf, image);
    return image;
}

/*
 * What the loader does after a parse, run on every mutant that parses: only the sanitizers judge it. Mutants
 * whose memory is large (p_memsz up to 4 GiB parses; HeapMaxSize would refuse it) are not built: zeroing
 * gigabytes a million times tests nothing more.
 */
static void exercise(const uint8_t *file, const struct module_elf *elf)
{
    struct module_error err;
    /* Kept while mutants keep the same size (most do): exactly image_size bytes, so ASan still sees overruns. */
    static uint8_t *image;
    static uint64_t image_size;
    if (elf->image_size > (1u << 20))
        return;
    if (elf->image_size != image_size) {
        free(image);
        image = malloc(elf->image_size);
        image_size = elf->image_size;
        if (!image)
            die("out of memory for an image");
    }
    uint64_t vaddr, size;
    module_build_image(file, elf, image);
    module_find_symbol(elf, image, "ecall_answer", &vaddr, &size);
    module_find_symbol(elf, image, "no_such_symbol", &vaddr, &size);
    module_relocate(elf, image, 0x40000000, resolve_any, NULL, &err);
    module_find_symbol(elf, image, "ecall_greet", &vaddr, &size);
}

int main(void)
{
    static struct module_elf elf;
    static struct module_signature sig;
    struct module_error err;
    uint8_t *original = NULL, *work = NULL;
    size_t original_length = 0;
    int op;
    while ((op = getchar()) != EOF) {
        if (op == 'O') {
            free(original);
            free(work);
            original_length = (size_t)read_le(4);
            original = read_bytes(original_length);
            work = malloc(original_length ? original_length : 1);
            if (!work)
                die("out of memory");
            memcpy(work, original, original_length);
        } else if (op == 'M') {
            if (!original)
                die("'M' before 'O'");
            size_t length = (size_t)read_le(4);
            uint32_t k = (uint32_t)read_le(2);
            uint32_t *touched = malloc(sizeof(uint32_t) * (k ? k : 1));
            for (uint32_t i = 0; i < k; i++) {
                touched[i] = (uint32_t)read_le(4);
                uint8_t value = (uint8_t)read_le(1);
                if (touched[i] >= original_length)
                    die("mutation outside the original");
                work[touched[i]] = value;
            }
            if (length > original_length)
                die("mutant longer than the original");
            /* A shorter mutant gets a buffer of its own length, so reads past it are caught. */
            uint8_t *bytes = work;
            if (length < original_length) {
                bytes = malloc(length ? length : 1);
                memcpy(bytes, work, length);
            }
            uint32_t code = module_elf_parse(bytes, length, &elf, &err);
            if (code == 0)
                exercise(bytes, &elf);
            answer(code, &err);
            if (bytes != work)
                free(bytes);
            for (uint32_t i = 0; i < k; i++)
                work[touched[i]] = original[touched[i]];
            free(touched);
        } else if (op == 'P' || op == 'V' || op == 'R' || op == 'S') {
            size_t n = (size_t)read_le(4);
            uint8_t *file = read_bytes(n);
            if (op == 'P') {
                uint32_t code = module_elf_parse(file, n, &elf, &err);
                if (code == 0)
                    exercise(file, &elf);
                answer(code, &err);
            } else if (op == 'V') {
                answer(module_verify(file, n, &sig, &elf, &err), &err);
            } else if (op == 'R') {
                uint64_t base = read_le(8);
                struct imports t = {.count = (uint32_t)read_le(4)};
                t.names = calloc(t.count + 1, sizeof(char *));
                t.addresses = calloc(t.count + 1, sizeof(uint64_t));
                for (uint32_t i = 0; i < t.count; i++) {
                    t.names[i] = read_name();
                    t.addresses[i] = read_le(8);
                }
                uint32_t code = module_elf_parse(file, n, &elf, &err);
                uint8_t *image = NULL;
                if (code == 0) {
                    image = build(file, &elf);
                    code = module_relocate(&elf, image, base, resolve, &t, &err);
                }
                answer(code, &err);
                if (code == 0) {
                    write_le(elf.image_size, 8);
                    fwrite(image, 1, elf.image_size, stdout);
                }
                free(image);
                for (uint32_t i = 0; i < t.count; i++)
                    free(t.names[i]);
                free(t.names);
                free(t.addresses);
            } else {
                char *name = read_name();
                uint32_t code = module_elf_parse(file, n, &elf, &err);
                answer(code, &err);
                if (code == 0) {
                    uint64_t vaddr = 0, size = 0;
                    uint8_t *image = build(file, &elf);
                    int found = module_find_symbol(&elf, image, name, &vaddr, &size);
                    write_le(found == 0 ? 0 : 1, 4);
                    write_le(vaddr, 8);
                    write_le(size, 8);
                    free(image);
                }
                free(name);
            }
            free(file);
        } else {
            die("unknown request");
        }
    }
    free(original);
    free(work);
    return fflush(stdout) == 0 ? 0 : 1;
}
