/*
 * The enclave side of docs/module-format.md. The ELF rules are ModuleElf.Parser's, one to one and in its order,
 * so that both give the same verdict for the same bytes (src/guest/check/module-check.c feeds them the same
 * mutants); the structure rules are ModuleSignature.decode's, the order of checks SignedModule's.
 */
#include <stdarg.h>

#include "crypto.h"
#include "format.h"
#include "le.h"
#include "mem.h"
#include "module_elf.h"

#define PAGE 0x1000ull
#define ADDRESS_LIMIT (1ull << 32)
#define MAX_FILE_SIZE (1ull << 30)
#define EHDR_SIZE 64u
#define PHDR_SIZE 56u
#define DYN_SIZE 16u
#define RELA_SIZE 24u
#define SYM_SIZE 24u

#define PT_LOAD 1u
#define PT_DYNAMIC 2u
#define PT_INTERP 3u
#define PT_TLS 7u
#define FLAG_X 1u
#define FLAG_W 2u

#define R_X86_64_GLOB_DAT 6u
#define R_X86_64_JUMP_SLOT 7u
#define R_X86_64_RELATIVE 8u

#define DT_NULL 0ull
#define DT_NEEDED 1ull
#define DT_PLTRELSZ 2ull
#define DT_HASH 4ull
#define DT_STRTAB 5ull
#define DT_SYMTAB 6ull
#define DT_RELA 7ull
#define DT_RELASZ 8ull
#define DT_RELAENT 9ull
#define DT_STRSZ 10ull
#define DT_SYMENT 11ull
#define DT_REL 17ull
#define DT_RELSZ 18ull
#define DT_RELENT 19ull
#define DT_PLTREL 20ull
#define DT_TEXTREL 22ull
#define DT_JMPREL 23ull
#define DT_FLAGS 30ull
#define DT_RELRSZ 35ull
#define DT_RELR 36ull
#define DT_RELRENT 37ull
#define DT_GNU_HASH 0x6ffffef5ull
#define DF_TEXTREL 4ull

/* The tags that may appear at most once (rule D6); a dynamic_values slot each. */
static const uint64_t single_tags[] = {DT_PLTRELSZ, DT_STRTAB, DT_SYMTAB, DT_RELA, DT_RELASZ, DT_RELAENT,
                                       DT_STRSZ, DT_SYMENT, DT_PLTREL, DT_JMPREL, DT_FLAGS};
#define SINGLE_TAG_COUNT (sizeof(single_tags) / sizeof(single_tags[0]))

#define SIG_HEADER_SIZE 192u
#define SIG_TRAILER_SIZE 16u
#define SIG_MAX_PUBLIC_KEY 1024u
#define SIG_MIN_SIZE (SIG_HEADER_SIZE + 1u + 96u + SIG_TRAILER_SIZE)
#define SIG_MAX_SIZE (SIG_HEADER_SIZE + SIG_MAX_PUBLIC_KEY + 384u + SIG_TRAILER_SIZE)
#define CONFIG_MAX_SIZE 0x1FFFFFFFFFull
#define CONFIG_MIN_STACK 0x2000ull
static const uint8_t sig_magic[8] = {'E', 'N', 'C', 'L', 'V', 'M', 'O', 'D'};

/* [start, start + length) lies in [0, limit), compared without overflow (ModuleElf.inside). */
static int inside(uint64_t start, uint64_t length, uint64_t limit)
{
    return start <= limit && length <= limit - start;
}

static uint32_t refuse(struct module_error *err, uint32_t code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static uint32_t refuse(struct module_error *err, uint32_t code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        format_v(err->reason, sizeof(err->reason), fmt, ap);
        va_end(ap);
    }
    return code;
}

static const char *relocation_name(uint32_t type)
{
    switch (type) {
    case 0: return "R_X86_64_NONE";
    case 1: return "R_X86_64_64";
    case 2: return "R_X86_64_PC32";
    case 3: return "R_X86_64_GOT32";
    case 4: return "R_X86_64_PLT32";
    case 5: return "R_X86_64_COPY";
    case 6: return "R_X86_64_GLOB_DAT";
    case 7: return "R_X86_64_JUMP_SLOT";
    case 8: return "R_X86_64_RELATIVE";
    case 9: return "R_X86_64_GOTPCREL";
    case 10: return "R_X86_64_32";
    case 11: return "R_X86_64_32S";
    case 12: return "R_X86_64_16";
    case 13: return "R_X86_64_PC16";
    case 14: return "R_X86_64_8";
    case 15: return "R_X86_64_PC8";
    case 16: return "R_X86_64_DTPMOD64";
    case 17: return "R_X86_64_DTPOFF64";
    case 18: return "R_X86_64_TPOFF64";
    case 24: return "R_X86_64_PC64";
    case 25: return "R_X86_64_GOTOFF64";
    case 36: return "R_X86_64_TLSDESC";
    case 37: return "R_X86_64_IRELATIVE";
    default: return "type";
    }
}

static uint64_t segment_end(const struct module_segment *s)
{
    return s->vaddr + s->mem_size;
}

static uint64_t page_end(const struct module_segment *s)
{
    return (segment_end(s) + PAGE - 1) & ~(PAGE - 1);
}

/* ---- The ELF rules (ModuleElf.Parser) ---- */

struct dynamic_values {
    uint64_t value[SINGLE_TAG_COUNT];
    uint32_t present;                  /* bit i: single_tags[i] was seen */
};

struct parser {
    const uint8_t *b;
    uint64_t size;
    struct module_elf *elf;
    struct module_error *err;
    struct dynamic_values dyn;
};

static int dyn_slot(uint64_t tag)
{
    for (unsigned i = 0; i < SINGLE_TAG_COUNT; i++)
        if (single_tags[i] == tag)
            return (int)i;
    return -1;
}

static int dyn_has(const struct dynamic_values *d, uint64_t tag)
{
    int i = dyn_slot(tag);
    return i >= 0 && (d->present >> i & 1);
}

static uint64_t dyn_get(const struct dynamic_values *d, uint64_t tag)
{
    int i = dyn_slot(tag);
    return i >= 0 && (d->present >> i & 1) ? d->value[i] : 0;
}

static uint32_t load(struct parser *p, uint32_t index, uint64_t at)
{
    const uint8_t *h = p->b + at;
    uint32_t flags = le_get32(h + 4);
    uint64_t offset = le_get64(h + 8), vaddr = le_get64(h + 16), filesz = le_get64(h + 32), memsz = le_get64(h + 40);
    uint64_t align = le_get64(h + 48);
    if (filesz == 0 && memsz == 0)
        return 0;
    if (flags & ~7u)
        return refuse(p->err, 802, "has PT_LOAD segment %u with p_flags 0x%x: only R (4), W (2) and X (1) are allowed",
                      index, flags);
    if ((flags & (FLAG_W | FLAG_X)) == (FLAG_W | FLAG_X))
        return refuse(p->err, 802, "has PT_LOAD segment %u with p_flags 0x%x, writable and executable; module pages "
                      "are W^X", index, flags);
    if (filesz > memsz)
        return refuse(p->err, 802, "has PT_LOAD segment %u with p_filesz %lu larger than p_memsz %lu", index,
                      (unsigned long)filesz, (unsigned long)memsz);
    if (!inside(offset, filesz, p->size))
        return refuse(p->err, 802, "has PT_LOAD segment %u (p_offset %lu, p_filesz %lu) outside the file of %lu bytes",
                      index, (unsigned long)offset, (unsigned long)filesz, (unsigned long)p->size);
    if (!inside(vaddr, memsz, ADDRESS_LIMIT))
        return refuse(p->err, 802, "has PT_LOAD segment %u (p_vaddr 0x%lx, p_memsz 0x%lx) reaching beyond 4 GiB",
                      index, (unsigned long)vaddr, (unsigned long)memsz);
    if (align != 0 && (align & (align - 1)) != 0)
        return refuse(p->err, 802, "has PT_LOAD segment %u with p_align %lu, not a power of two", index,
                      (unsigned long)align);
    if (vaddr % PAGE != offset % PAGE)
        return refuse(p->err, 802, "has PT_LOAD segment %u misaligned: p_vaddr 0x%lx and p_offset 0x%lx differ "
                      "modulo 4096", index, (unsigned long)vaddr, (unsigned long)offset);
    /* At most 64 program headers (rule 3), so the table cannot overflow. */
    struct module_segment *s = &p->elf->segments[p->elf->segment_count++];
    s->vaddr = vaddr;
    s->mem_size = memsz;
    s->file_offset = offset;
    s->file_size = filesz;
    s->flags = flags;
    s->index = index;
    return 0;
}

/* The segment whose file bytes hold [address, address + length), or NULL. */
static const struct module_segment *file_backed(const struct module_elf *elf, uint64_t address, uint64_t length)
{
    for (uint32_t i = 0; i < elf->segment_count; i++) {
        const struct module_segment *s = &elf->segments[i];
        if (address >= s->vaddr && inside(address - s->vaddr, length, s->file_size))
            return s;
    }
    return NULL;
}

static uint64_t file_offset(const struct module_segment *s, uint64_t address)
{
    return s->file_offset + (address - s->vaddr);
}

static uint32_t outside_file(struct parser *p, const char *name, uint64_t address, uint64_t length)
{
    return refuse(p->err, 803, "has %s at [0x%lx, +0x%lx) outside the file contents of every PT_LOAD segment", name,
                  (unsigned long)address, (unsigned long)length);
}

static uint32_t dynamic(struct parser *p, const struct module_segment *s, uint64_t address, uint64_t length)
{
    const uint8_t *at = p->b + file_offset(s, address);
    uint64_t entries = length / DYN_SIZE;
    int ended = 0;
    for (uint64_t i = 0; i < entries; i++) {
        uint64_t tag = le_get64(at + i * DYN_SIZE);
        uint64_t value = le_get64(at + i * DYN_SIZE + 8);
        if (tag == DT_NULL) {
            ended = 1;
            break;
        }
        if (tag == DT_NEEDED)
            return refuse(p->err, 803, "needs another shared library (DT_NEEDED, dynamic entry %lu); a module "
                          "imports only from the runtime", (unsigned long)i);
        if (tag == DT_TEXTREL || (tag == DT_FLAGS && (value & DF_TEXTREL) != 0))
            return refuse(p->err, 804, "has text relocations (%s, dynamic entry %lu): code would have to be written to",
                          tag == DT_TEXTREL ? "DT_TEXTREL" : "DF_TEXTREL in DT_FLAGS", (unsigned long)i);
        if (tag == DT_REL || tag == DT_RELSZ || tag == DT_RELENT)
            return refuse(p->err, 803, "has REL relocations (tag %lu, dynamic entry %lu); x86-64 modules use RELA only",
                          (unsigned long)tag, (unsigned long)i);
        if (tag == DT_RELR || tag == DT_RELRSZ || tag == DT_RELRENT)
            return refuse(p->err, 803, "has packed relative relocations (DT_RELR, tag %lu, dynamic entry %lu), which "
                          "the loader does not apply", (unsigned long)tag, (unsigned long)i);
        int slot = dyn_slot(tag);
        if (slot >= 0) {
            if (p->dyn.present >> slot & 1)
                return refuse(p->err, 803, "has dynamic tag %lu twice (entry %lu)", (unsigned long)tag,
                              (unsigned long)i);
            p->dyn.present |= 1u << slot;
            p->dyn.value[slot] = value;
        }
        /* Ignored by the rules, kept for module_find_symbol: the first of each. */
        if (tag == DT_GNU_HASH && p->elf->gnu_hash == 0)
            p->elf->gnu_hash = value;
        if (tag == DT_HASH && p->elf->hash == 0)
            p->elf->hash = value;
    }
    if (!ended)
        return refuse(p->err, 803, "has a dynamic section without DT_NULL at its end");
    if (dyn_has(&p->dyn, DT_RELAENT) && dyn_get(&p->dyn, DT_RELAENT) != RELA_SIZE)
        return refuse(p->err, 803, "has DT_RELAENT %lu, expected 24 (Elf64_Rela)",
                      (unsigned long)dyn_get(&p->dyn, DT_RELAENT));
    if (dyn_has(&p->dyn, DT_SYMENT) && dyn_get(&p->dyn, DT_SYMENT) != SYM_SIZE)
        return refuse(p->err, 803, "has DT_SYMENT %lu, expected 24 (Elf64_Sym)",
                      (unsigned long)dyn_get(&p->dyn, DT_SYMENT));
    return 0;
}

/* Dynamic symbol index, checked against DT_SYMTAB, DT_STRTAB and DT_STRSZ (rule R3): its name and definedness. */
static uint32_t symbol(struct parser *p, uint64_t index, const char *where, const char **name, size_t *name_length,
                       int *undefined)
{
    if (index == 0)
        return refuse(p->err, 803, "has %s that needs a symbol but names symbol 0", where);
    if (!dyn_has(&p->dyn, DT_SYMTAB) || !dyn_has(&p->dyn, DT_STRTAB) || !dyn_has(&p->dyn, DT_STRSZ))
        return refuse(p->err, 803, "has symbol relocations but no DT_SYMTAB, DT_STRTAB and DT_STRSZ");
    uint64_t symtab = dyn_get(&p->dyn, DT_SYMTAB);
    const struct module_segment *ss = file_backed(p->elf, symtab, 0);
    if (!ss)
        return outside_file(p, "DT_SYMTAB", symtab, 0);
    uint64_t available = ss->file_size - (symtab - ss->vaddr);
    if (index >= available / SYM_SIZE)
        return refuse(p->err, 803, "has %s naming symbol %lu, beyond the segment that holds DT_SYMTAB", where,
                      (unsigned long)index);
    const uint8_t *sym = p->b + file_offset(ss, symtab) + index * SYM_SIZE;
    uint64_t name_offset = le_get32(sym);
    uint16_t shndx = le_get16(sym + 6);
    uint64_t value = le_get64(sym + 8);
    uint64_t strtab = dyn_get(&p->dyn, DT_STRTAB);
    uint64_t strsz = dyn_get(&p->dyn, DT_STRSZ);
    const struct module_segment *st = file_backed(p->elf, strtab, strsz);
    if (!st)
        return refuse(p->err, 803, "has DT_STRTAB (DT_STRSZ %lu) at [0x%lx, +0x%lx) outside the file contents of "
                      "every PT_LOAD segment", (unsigned long)strsz, (unsigned long)strtab, (unsigned long)strsz);
    if (name_offset >= strsz)
        return refuse(p->err, 803, "has symbol %lu whose name offset %lu is outside DT_STRTAB (%lu bytes)",
                      (unsigned long)index, (unsigned long)name_offset, (unsigned long)strsz);
    const uint8_t *start = p->b + file_offset(st, strtab);
    const uint8_t *end = start + strsz;
    const uint8_t *q = start + name_offset;
    const uint8_t *first = q;
    while (q < end && *q != 0)
        q++;
    if (q == end || q == first)
        return refuse(p->err, 803, "has symbol %lu with %s", (unsigned long)index,
                      q == first ? "an empty name" : "a name not terminated inside DT_STRTAB");
    *name = (const char *)first;
    *name_length = (size_t)(q - first);
    *undefined = shndx == 0;
    if (!*undefined && value >= p->elf->image_size)
        return refuse(p->err, 803, "has defined symbol %s at 0x%lx, outside the module's memory", *name,
                      (unsigned long)value);
    return 0;
}

static uint32_t relocations(struct parser *p, uint64_t table_tag, const char *table_tag_name, uint64_t size_tag,
                            const char *size_name, const char *table, uint64_t *table_address, uint64_t *table_size)
{
    uint64_t address = dyn_get(&p->dyn, table_tag);
    if (!dyn_has(&p->dyn, table_tag)) {
        if (dyn_has(&p->dyn, size_tag) && dyn_get(&p->dyn, size_tag) != 0)
            return refuse(p->err, 803, "has %s without %s", size_name, table_tag_name);
        return 0;
    }
    if (!dyn_has(&p->dyn, size_tag))
        return refuse(p->err, 803, "has %s without %s", table_tag_name, size_name);
    uint64_t length = dyn_get(&p->dyn, size_tag);
    if (length % RELA_SIZE != 0)
        return refuse(p->err, 803, "has %s %lu, not a multiple of 24 (Elf64_Rela)", size_name, (unsigned long)length);
    const struct module_segment *s = file_backed(p->elf, address, length);
    if (!s)
        return refuse(p->err, 803, "has %s (%s, %s) at [0x%lx, +0x%lx) outside the file contents of every PT_LOAD "
                      "segment", table, table_tag_name, size_name, (unsigned long)address, (unsigned long)length);
    *table_address = address;
    *table_size = length;
    const uint8_t *at = p->b + file_offset(s, address);
    uint64_t count = length / RELA_SIZE;
    for (uint64_t i = 0; i < count; i++) {
        const uint8_t *e = at + i * RELA_SIZE;
        uint64_t offset = le_get64(e), info = le_get64(e + 8), addend = le_get64(e + 16);
        uint32_t type = (uint32_t)info;
        uint64_t sym = info >> 32;
        char where[48];
        format(where, sizeof(where), "%s entry %lu", table, (unsigned long)i);
        if (type == R_X86_64_RELATIVE) {
            if (sym != 0)
                return refuse(p->err, 803, "has %s, R_X86_64_RELATIVE with symbol index %lu (must be 0)", where,
                              (unsigned long)sym);
        } else if (type == R_X86_64_GLOB_DAT || type == R_X86_64_JUMP_SLOT) {
            if (addend != 0)
                return refuse(p->err, 803, "has %s, %s (%u) with addend %ld (must be 0: the loader writes the "
                              "symbol's address)", where, relocation_name(type), type, (long)addend);
            const char *name;
            size_t name_length;
            int undefined;
            uint32_t code = symbol(p, sym, where, &name, &name_length, &undefined);
            if (code)
                return code;
        } else {
            /* Like safeSymbolName: the name if it can be read, else the index; the verdict is E805 either way. */
            const char *name = NULL;
            size_t name_length = 0;
            int undefined;
            struct module_error scratch;
            struct module_error *saved = p->err;
            p->err = &scratch;
            if (sym != 0 && symbol(p, sym, "the relocation", &name, &name_length, &undefined) != 0)
                name = NULL;
            p->err = saved;
            if (sym == 0)
                return refuse(p->err, 805, "has %s of type %s (%u) at 0x%lx; the loader applies only "
                              "R_X86_64_RELATIVE, R_X86_64_GLOB_DAT and R_X86_64_JUMP_SLOT", where,
                              relocation_name(type), type, (unsigned long)offset);
            if (name)
                return refuse(p->err, 805, "has %s of type %s (%u) against symbol %s at 0x%lx; the loader applies "
                              "only RELATIVE, GLOB_DAT and JUMP_SLOT", where, relocation_name(type), type, name,
                              (unsigned long)offset);
            return refuse(p->err, 805, "has %s of type %s (%u) against symbol %lu at 0x%lx; the loader applies only "
                          "RELATIVE, GLOB_DAT and JUMP_SLOT", where, relocation_name(type), type, (unsigned long)sym,
                          (unsigned long)offset);
        }
        const struct module_segment *target = NULL;
        for (uint32_t k = 0; k < p->elf->segment_count; k++) {
            const struct module_segment *t = &p->elf->segments[k];
            if (offset >= t->vaddr && inside(offset - t->vaddr, 8, t->mem_size)) {
                target = t;
                break;
            }
        }
        if (!target)
            return refuse(p->err, 804, "has %s (%s (%u)) writing at 0x%lx, outside every segment: relocations may "
                          "only write to writable data", where, relocation_name(type), type, (unsigned long)offset);
        if (!(target->flags & FLAG_W))
            return refuse(p->err, 804, "has %s (%s (%u)) writing at 0x%lx, in non-writable segment %u: relocations "
                          "may only write to writable data", where, relocation_name(type), type,
                          (unsigned long)offset, target->index);
        p->elf->relocation_count++;
    }
    return 0;
}

static uint32_t parse(struct parser *p)
{
    const uint8_t *b = p->b;
    struct module_elf *elf = p->elf;
    if (p->size < EHDR_SIZE)
        return refuse(p->err, 801, "is %lu bytes, shorter than an ELF64 header (64 bytes)", (unsigned long)p->size);
    if (le_get32(b) != 0x464C457Fu)
        return refuse(p->err, 801, "is not an ELF file (no \\x7fELF magic)");
    if (b[4] != 2)
        return refuse(p->err, 801, "is not ELF64 (EI_CLASS = %d, expected 2)", (int)(int8_t)b[4]);
    if (b[5] != 1)
        return refuse(p->err, 801, "is not little-endian (EI_DATA = %d, expected 1)", (int)(int8_t)b[5]);
    if (b[6] != 1)
        return refuse(p->err, 801, "is not the current ELF version (EI_VERSION = %d, expected 1)", (int)(int8_t)b[6]);
    uint16_t type = le_get16(b + 16);
    if (type != 3)
        return refuse(p->err, 801, "is not a shared object (e_type = %u, expected 3 = ET_DYN; link with gcc -fPIC "
                      "-shared)", type);
    uint16_t machine = le_get16(b + 18);
    if (machine != 62)
        return refuse(p->err, 801, "is not for x86-64 (e_machine = %u, expected 62 = EM_X86_64)", machine);
    uint64_t phoff = le_get64(b + 32);
    uint16_t phentsize = le_get16(b + 54);
    uint16_t phnum = le_get16(b + 56);
    if (phentsize != PHDR_SIZE)
        return refuse(p->err, 801, "has program headers of %u bytes (e_phentsize), expected 56", phentsize);
    if (phnum == 0 || phnum > MODULE_MAX_SEGMENTS)
        return refuse(p->err, 801, "has %u program headers (e_phnum), expected 1 to %u", phnum, MODULE_MAX_SEGMENTS);
    if (!inside(phoff, (uint64_t)phnum * PHDR_SIZE, p->size))
        return refuse(p->err, 801, "has its program headers (e_phoff %lu, %u entries of 56 bytes) outside the file of "
                      "%lu bytes", (unsigned long)phoff, phnum, (unsigned long)p->size);
    int have_dynamic = 0;
    uint64_t dyn_address = 0, dyn_size = 0;
    for (uint32_t i = 0; i < phnum; i++) {
        uint64_t at = phoff + (uint64_t)i * PHDR_SIZE;
        uint32_t ptype = le_get32(b + at);
        uint32_t code = 0;
        if (ptype == PT_LOAD) {
            code = load(p, i, at);
        } else if (ptype == PT_DYNAMIC) {
            if (have_dynamic)
                return refuse(p->err, 803, "has more than one PT_DYNAMIC (program header %u)", i);
            have_dynamic = 1;
            dyn_address = le_get64(b + at + 16);
            dyn_size = le_get64(b + at + 40);
        } else if (ptype == PT_INTERP) {
            return refuse(p->err, 801, "asks for a program interpreter (PT_INTERP, program header %u): a module is a "
                          "shared object, not an executable", i);
        } else if (ptype == PT_TLS) {
            return refuse(p->err, 802, "uses thread-local storage (PT_TLS, program header %u), which the loader does "
                          "not provide", i);
        }
        if (code)
            return code;
    }
    if (elf->segment_count == 0)
        return refuse(p->err, 802, "has no PT_LOAD segment with content: nothing to load");
    for (uint32_t i = 1; i < elf->segment_count; i++) {
        const struct module_segment *prev = &elf->segments[i - 1], *cur = &elf->segments[i];
        if ((cur->vaddr & ~(PAGE - 1)) < page_end(prev)) {
            const char *how = cur->vaddr < segment_end(prev) && prev->vaddr < segment_end(cur) ? "overlaps"
                              : cur->vaddr < prev->vaddr ? "comes before (PT_LOADs must be in ascending p_vaddr order)"
                              : "shares a 4 KiB page with";
            return refuse(p->err, 802, "has PT_LOAD segment %u [0x%lx, 0x%lx) that %s segment %u [0x%lx, 0x%lx)",
                          cur->index, (unsigned long)cur->vaddr, (unsigned long)segment_end(cur), how, prev->index,
                          (unsigned long)prev->vaddr, (unsigned long)segment_end(prev));
        }
    }
    elf->image_size = page_end(&elf->segments[elf->segment_count - 1]);
    if (!have_dynamic)
        return refuse(p->err, 803, "has no PT_DYNAMIC: link it with gcc -shared");
    const struct module_segment *dyn_segment = file_backed(elf, dyn_address, dyn_size);
    if (!dyn_segment)
        return outside_file(p, "PT_DYNAMIC", dyn_address, dyn_size);
    if (dyn_size % DYN_SIZE != 0)
        return refuse(p->err, 803, "has a PT_DYNAMIC of %lu bytes, not a multiple of 16 (one Elf64_Dyn)",
                      (unsigned long)dyn_size);
    elf->dynamic_vaddr = dyn_address;
    elf->dynamic_size = dyn_size;
    uint32_t code = dynamic(p, dyn_segment, dyn_address, dyn_size);
    if (code)
        return code;
    code = relocations(p, DT_RELA, "DT_RELA", DT_RELASZ, "DT_RELASZ", ".rela.dyn", &elf->rela, &elf->rela_size);
    if (code)
        return code;
    if (dyn_has(&p->dyn, DT_JMPREL)) {
        if (!dyn_has(&p->dyn, DT_PLTREL) || dyn_get(&p->dyn, DT_PLTREL) != DT_RELA)
            return refuse(p->err, 803, "has DT_JMPREL without DT_PLTREL = 7 (DT_RELA)");
        code = relocations(p, DT_JMPREL, "DT_JMPREL", DT_PLTRELSZ, "DT_PLTRELSZ", ".rela.plt", &elf->jmprel,
                           &elf->jmprel_size);
        if (code)
            return code;
    }
    if (dyn_has(&p->dyn, DT_SYMTAB) && dyn_has(&p->dyn, DT_STRTAB) && dyn_has(&p->dyn, DT_STRSZ)) {
        elf->symtab = dyn_get(&p->dyn, DT_SYMTAB);
        elf->strtab = dyn_get(&p->dyn, DT_STRTAB);
        elf->strtab_size = dyn_get(&p->dyn, DT_STRSZ);
    }
    return 0;
}

uint32_t module_elf_parse(const uint8_t *elf_bytes, size_t len, struct module_elf *elf, struct module_error *err)
{
    memset(elf, 0, sizeof(*elf));
    if (err) {
        err->code = 0;
        err->reason[0] = 0;
    }
    if ((uint64_t)len > MAX_FILE_SIZE)
        return refuse(err, 800, "is %lu bytes, more than a module may be", (unsigned long)len);
    struct parser p = {.b = elf_bytes, .size = len, .elf = elf, .err = err};
    uint32_t code = parse(&p);
    if (code) {
        /* A refused module leaves nothing half-described behind. */
        memset(elf, 0, sizeof(*elf));
    }
    return code;
}

/* ---- Measurement ---- */

void module_measure(const uint8_t *elf_bytes, const struct module_elf *elf, uint8_t out[48])
{
    struct sha384_ctx ctx;
    uint8_t head[32];
    sha384_init(&ctx);
    memcpy(head, "EMODMEAS", 8);
    le_put32(head + 8, 1);
    le_put32(head + 12, elf->segment_count);
    le_put64(head + 16, elf->dynamic_vaddr);
    le_put64(head + 24, elf->dynamic_size);
    sha384_update(&ctx, head, sizeof(head));
    for (uint32_t i = 0; i < elf->segment_count; i++) {
        const struct module_segment *s = &elf->segments[i];
        le_put64(head, s->vaddr);
        le_put64(head + 8, s->mem_size);
        le_put64(head + 16, s->file_size);
        le_put32(head + 24, s->flags);
        le_put32(head + 28, 0);
        sha384_update(&ctx, head, sizeof(head));
        sha384_update(&ctx, elf_bytes + s->file_offset, s->file_size);
    }
    sha384_final(&ctx, out);
}

/* ---- The signature structure (ModuleSignature.decode) and verification (SignedModule.check) ---- */

static uint32_t bad_structure(struct module_error *err, const char *field, uint64_t value, uint64_t expected)
{
    return refuse(err, 809, "has %s %lu in its signature structure, expected %lu", field, (unsigned long)value,
                  (unsigned long)expected);
}

static uint32_t decode(const uint8_t *file, size_t len, struct module_signature *sig, struct module_error *err)
{
    if (len < SIG_TRAILER_SIZE)
        return refuse(err, 809, "ends with the magic ENCLVMOD but is only %lu bytes long", (unsigned long)len);
    uint64_t total = le_get64(file + len - SIG_TRAILER_SIZE);
    if (total < SIG_MIN_SIZE || total > SIG_MAX_SIZE || total > len)
        return refuse(err, 809, "has a signature structure size of %lu in its trailer, outside %u to %lu",
                      (unsigned long)total, SIG_MIN_SIZE,
                      (unsigned long)(len < SIG_MAX_SIZE ? len : SIG_MAX_SIZE));
    uint64_t start = len - total;
    const uint8_t *b = file + start;
    if (memcmp(b, sig_magic, sizeof(sig_magic)) != 0)
        return refuse(err, 809, "has no ENCLVMOD magic at the start of its signature structure (offset %lu)",
                      (unsigned long)start);
    uint16_t version = le_get16(b + 8);
    if (version != 1)
        return refuse(err, 809, "has signature structure version %u; this enclave reads version 1", version);
    if (le_get16(b + 10) != SIG_HEADER_SIZE)
        return bad_structure(err, "header_size", le_get16(b + 10), SIG_HEADER_SIZE);
    if (le_get32(b + 12) != total)
        return bad_structure(err, "structure_size", le_get32(b + 12), total);
    if (le_get64(b + 16) != start)
        return bad_structure(err, "module_size", le_get64(b + 16), start);
    uint32_t key_type = le_get32(b + 24);
    uint32_t signature_size;
    if (key_type == KEY_TYPE_RSA3072)
        signature_size = 384;
    else if (key_type == KEY_TYPE_ECDSA_P384)
        signature_size = 96;
    else
        return refuse(err, 809, "has key_type %u; known: 1 (RSA-3072) and 2 (ECDSA P-384)", key_type);
    uint32_t key_length = le_get32(b + 28);
    if (key_length < 1 || key_length > SIG_MAX_PUBLIC_KEY)
        return refuse(err, 809, "has public_key_size %u, outside 1 to %u", key_length, SIG_MAX_PUBLIC_KEY);
    if (le_get32(b + 32) != signature_size)
        return bad_structure(err, "signature_size", le_get32(b + 32), signature_size);
    if (total != SIG_HEADER_SIZE + key_length + signature_size + SIG_TRAILER_SIZE)
        return bad_structure(err, "structure_size", total, SIG_HEADER_SIZE + key_length + signature_size +
                             SIG_TRAILER_SIZE);
    uint32_t attributes = le_get32(b + 36);
    if (attributes & ~MODULE_ATTRIBUTE_DEBUG)
        return refuse(err, 809, "has attributes 0x%x; only bit 0 (DEBUG) is defined", attributes);
    for (uint32_t i = 160; i < SIG_HEADER_SIZE; i++)
        if (b[i] != 0)
            return refuse(err, 809, "has a non-zero reserved byte at offset %u of its signature structure", i);
    uint64_t stack = le_get64(b + 48), heap = le_get64(b + 56);
    uint32_t tcs = le_get32(b + 44);
    /* EnclaveConfig's ranges, in its order (ProdID and ISVSVN are u16: always in range). */
    if (stack < CONFIG_MIN_STACK || stack > CONFIG_MAX_SIZE)
        return refuse(err, 809, "has signed limits out of range: StackMaxSize %lu is outside %lu..%lu",
                      (unsigned long)stack, (unsigned long)CONFIG_MIN_STACK, (unsigned long)CONFIG_MAX_SIZE);
    if (heap > CONFIG_MAX_SIZE)
        return refuse(err, 809, "has signed limits out of range: HeapMaxSize %lu is outside 0..%lu",
                      (unsigned long)heap, (unsigned long)CONFIG_MAX_SIZE);
    if (tcs < 1)
        return refuse(err, 809, "has signed limits out of range: TCSNum 0 is outside 1..4294967295");
    if (stack % PAGE != 0)
        return refuse(err, 809, "has signed limits out of range: StackMaxSize %lu is not a multiple of 4096",
                      (unsigned long)stack);
    if (heap % PAGE != 0)
        return refuse(err, 809, "has signed limits out of range: HeapMaxSize %lu is not a multiple of 4096",
                      (unsigned long)heap);
    sig->module_size = start;
    sig->key_type = key_type;
    sig->public_key_size = key_length;
    sig->signature_size = signature_size;
    sig->attributes = attributes;
    sig->prod_id = le_get16(b + 40);
    sig->isv_svn = le_get16(b + 42);
    sig->tcs_num = tcs;
    sig->stack_max_size = stack;
    sig->heap_max_size = heap;
    memcpy(sig->mrenclave, b + 64, 48);
    memcpy(sig->mrsigner, b + 112, 48);
    sig->public_key = b + SIG_HEADER_SIZE;
    sig->signature = b + SIG_HEADER_SIZE + key_length;
    return 0;
}

/* The first 16 bytes of a SHA-384 value in hex: enough to tell two apart in a 200-byte reason. */
static void hex_prefix(char out[33], const uint8_t v[48])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        out[2 * i] = digits[v[i] >> 4];
        out[2 * i + 1] = digits[v[i] & 15];
    }
    out[32] = 0;
}

static uint32_t verify(const uint8_t *file, size_t len, struct module_signature *sig, struct module_elf *elf,
                       struct module_error *err)
{
    if ((uint64_t)len > MAX_FILE_SIZE + SIG_MAX_SIZE)
        return refuse(err, 800, "is %lu bytes, more than a module may be", (unsigned long)len);
    if (len < sizeof(sig_magic) || memcmp(file + len - sizeof(sig_magic), sig_magic, sizeof(sig_magic)) != 0)
        return refuse(err, 810, "has no signature structure at its end");
    uint32_t code = decode(file, len, sig, err);
    if (code)
        return code;
    code = module_elf_parse(file, sig->module_size, elf, err);
    if (code)
        return code;
    if (elf->image_size > sig->heap_max_size)
        return refuse(err, 806, "needs 0x%lx bytes of memory (%lu), more than HeapMaxSize 0x%lx",
                      (unsigned long)elf->image_size, (unsigned long)elf->image_size,
                      (unsigned long)sig->heap_max_size);
    uint8_t digest[48];
    char have[33], want[33];
    module_measure(file, elf, digest);
    if (memcmp(digest, sig->mrenclave, 48) != 0) {
        hex_prefix(have, digest);
        hex_prefix(want, sig->mrenclave);
        return refuse(err, 811, "measures %s..., but its signature structure holds MRENCLAVE %s...", have, want);
    }
    sha384(sig->public_key, sig->public_key_size, digest);
    if (memcmp(digest, sig->mrsigner, 48) != 0) {
        hex_prefix(have, digest);
        hex_prefix(want, sig->mrsigner);
        return refuse(err, 812, "holds MRSIGNER %s..., but its public key hashes to %s...", want, have);
    }
    sha384(file + sig->module_size, SIG_HEADER_SIZE + sig->public_key_size, digest);
    int verdict = signature_verify(sig->key_type, sig->public_key, sig->public_key_size, digest, sig->signature,
                                   sig->signature_size);
    const char *label = sig->key_type == KEY_TYPE_RSA3072 ? "RSA-3072" : "ECDSA-P384";
    if (verdict == CRYPTO_BAD_KEY)
        return refuse(err, 809, "the stored public key is not a %s SubjectPublicKeyInfo", label);
    if (verdict != CRYPTO_OK) {
        hex_prefix(have, sig->mrsigner);
        return refuse(err, 812, "the %s signature does not verify with the public key stored with it (MRSIGNER "
                      "%s...)", label, have);
    }
    return 0;
}

uint32_t module_verify(const uint8_t *file, size_t len, struct module_signature *sig, struct module_elf *elf,
                       struct module_error *err)
{
    memset(sig, 0, sizeof(*sig));
    memset(elf, 0, sizeof(*elf));
    if (err) {
        err->code = 0;
        err->reason[0] = 0;
    }
    uint32_t code = verify(file, len, sig, elf, err);
    if (code) {
        memset(sig, 0, sizeof(*sig));
        memset(elf, 0, sizeof(*elf));
    }
    return code;
}

/* ---- Loading: the image, relocations, symbols ---- */

void module_build_image(const uint8_t *elf_bytes, const struct module_elf *elf, uint8_t *image)
{
    memset(image, 0, elf->image_size);
    for (uint32_t i = 0; i < elf->segment_count; i++) {
        const struct module_segment *s = &elf->segments[i];
        memcpy(image + s->vaddr, elf_bytes + s->file_offset, s->file_size);
    }
}

/*
 * Symbol index of the built image: its name (bounded by DT_STRSZ and the image) and Elf64_Sym, or 0 if any of it
 * lies outside. The image may differ from the parsed file where earlier relocations wrote, so nothing read here
 * is trusted from the parse.
 */
static int image_symbol(const struct module_elf *elf, const uint8_t *image, uint64_t index, const char **name,
                        const uint8_t **sym)
{
    if (elf->strtab_size == 0 || index >= ADDRESS_LIMIT)
        return 0;
    if (!inside(elf->symtab, (index + 1) * SYM_SIZE, elf->image_size)
        || !inside(elf->strtab, elf->strtab_size, elf->image_size))
        return 0;
    const uint8_t *s = image + elf->symtab + index * SYM_SIZE;
    uint64_t name_offset = le_get32(s);
    if (name_offset >= elf->strtab_size)
        return 0;
    const uint8_t *start = image + elf->strtab + name_offset, *end = image + elf->strtab + elf->strtab_size;
    const uint8_t *q = start;
    while (q < end && *q != 0)
        q++;
    if (q == end || q == start)
        return 0;
    *name = (const char *)start;
    *sym = s;
    return 1;
}

static uint32_t apply_table(const struct module_elf *elf, uint8_t *image, uint64_t base, uint64_t address,
                            uint64_t length, const char *table, module_import_fn import, void *ctx,
                            struct module_error *err)
{
    if (length == 0)
        return 0;
    if (!inside(address, length, elf->image_size))
        return refuse(err, 803, "has %s at [0x%lx, +0x%lx) outside its memory", table, (unsigned long)address,
                      (unsigned long)length);
    for (uint64_t i = 0; i < length / RELA_SIZE; i++) {
        /* Read the entry before anything is written: a relocation may write over the table itself. */
        const uint8_t *e = image + address + i * RELA_SIZE;
        uint64_t offset = le_get64(e), info = le_get64(e + 8), addend = le_get64(e + 16);
        uint32_t type = (uint32_t)info;
        uint64_t sym = info >> 32;
        /* R5 again, on the bytes as they are now: earlier relocations may have rewritten this entry. */
        const struct module_segment *target = NULL;
        for (uint32_t k = 0; k < elf->segment_count; k++) {
            const struct module_segment *t = &elf->segments[k];
            if (offset >= t->vaddr && inside(offset - t->vaddr, 8, t->mem_size))
                target = &elf->segments[k];
        }
        if (!target || !(target->flags & FLAG_W))
            return refuse(err, 804, "has %s entry %lu writing at 0x%lx, outside writable data once relocated", table,
                          (unsigned long)i, (unsigned long)offset);
        uint64_t value;
        if (type == R_X86_64_RELATIVE && sym == 0) {
            value = base + addend;
        } else if ((type == R_X86_64_GLOB_DAT || type == R_X86_64_JUMP_SLOT) && addend == 0) {
            const char *name;
            const uint8_t *s;
            if (!image_symbol(elf, image, sym, &name, &s) || sym == 0)
                return refuse(err, 803, "has %s entry %lu naming symbol %lu, which cannot be read once relocated",
                              table, (unsigned long)i, (unsigned long)sym);
            if (le_get16(s + 6) != 0) {
                uint64_t st_value = le_get64(s + 8);
                if (st_value >= elf->image_size)
                    return refuse(err, 803, "has defined symbol %s at 0x%lx, outside the module's memory", name,
                                  (unsigned long)st_value);
                value = base + st_value;
            } else if (import(name, &value, ctx) != 0) {
                return refuse(err, MODULE_E_MISSING_IMPORT, "imports %s (%s entry %lu), which the runtime's API "
                              "table does not provide", name, table, (unsigned long)i);
            }
        } else {
            return refuse(err, 805, "has %s entry %lu of type %s (%u) once relocated", table, (unsigned long)i,
                          relocation_name(type), type);
        }
        le_put64(image + offset, value);
    }
    return 0;
}

uint32_t module_relocate(const struct module_elf *elf, uint8_t *image, uint64_t base, module_import_fn import,
                         void *ctx, struct module_error *err)
{
    if (err) {
        err->code = 0;
        err->reason[0] = 0;
    }
    uint32_t code = apply_table(elf, image, base, elf->rela, elf->rela_size, ".rela.dyn", import, ctx, err);
    if (code)
        return code;
    return apply_table(elf, image, base, elf->jmprel, elf->jmprel_size, ".rela.plt", import, ctx, err);
}

/* Symbol index names `name`, is defined, and [st_value, + st_size) lies in the module's memory. */
static int symbol_matches(const struct module_elf *elf, const uint8_t *image, uint64_t index, const char *name,
                          uint64_t *vaddr, uint64_t *size)
{
    const char *have;
    const uint8_t *s;
    if (!image_symbol(elf, image, index, &have, &s))
        return 0;
    size_t n = strlen(name);
    /* image_symbol found a NUL before the table's end, so have[0..n] may be compared once have's length is >= n. */
    for (size_t i = 0; i < n; i++)
        if (have[i] != name[i])
            return 0;
    if (have[n] != 0 || le_get16(s + 6) == 0)
        return 0;
    uint64_t value = le_get64(s + 8), length = le_get64(s + 16);
    if (!inside(value, length, elf->image_size) || value == elf->image_size)
        return 0;
    *vaddr = value;
    *size = length;
    return 1;
}

/* A u32 of the image at address + 4 * index, if the image holds it. */
static int image_u32(const struct module_elf *elf, const uint8_t *image, uint64_t address, uint64_t index,
                     uint32_t *out)
{
    if (index >= ADDRESS_LIMIT || !inside(address, 4 * (index + 1), elf->image_size))
        return 0;
    *out = le_get32(image + address + 4 * index);
    return 1;
}

static int gnu_hash_lookup(const struct module_elf *elf, const uint8_t *image, const char *name, uint64_t *vaddr,
                           uint64_t *size)
{
    uint32_t nbuckets, symoffset, bloom_size;
    uint64_t table = elf->gnu_hash;
    if (!image_u32(elf, image, table, 0, &nbuckets) || !image_u32(elf, image, table, 1, &symoffset)
        || !image_u32(elf, image, table, 2, &bloom_size) || nbuckets == 0)
        return 0;
    uint32_t h = 5381;
    for (const unsigned char *c = (const unsigned char *)name; *c; c++)
        h = h * 33 + *c;
    /* Header (16 bytes), the bloom filter of bloom_size u64s (not consulted: the chain is the truth), buckets. */
    uint64_t buckets = table + 16 + 8 * (uint64_t)bloom_size;
    uint64_t chains = buckets + 4 * (uint64_t)nbuckets;
    uint32_t index;
    if (!image_u32(elf, image, buckets, h % nbuckets, &index) || index < symoffset)
        return 0;
    for (uint64_t i = index;; i++) {
        uint32_t chain_hash;
        if (!image_u32(elf, image, chains, i - symoffset, &chain_hash))
            return 0;
        if ((chain_hash | 1) == (h | 1) && symbol_matches(elf, image, i, name, vaddr, size))
            return 1;
        if (chain_hash & 1)
            return 0;
    }
}

static int sysv_hash_lookup(const struct module_elf *elf, const uint8_t *image, const char *name, uint64_t *vaddr,
                            uint64_t *size)
{
    uint32_t nbucket, nchain;
    uint64_t table = elf->hash;
    if (!image_u32(elf, image, table, 0, &nbucket) || !image_u32(elf, image, table, 1, &nchain) || nbucket == 0)
        return 0;
    uint32_t h = 0;
    for (const unsigned char *c = (const unsigned char *)name; *c; c++) {
        h = (h << 4) + *c;
        uint32_t g = h & 0xf0000000u;
        if (g)
            h ^= g >> 24;
        h &= ~g;
    }
    uint32_t index;
    if (!image_u32(elf, image, table, 2 + h % nbucket, &index))
        return 0;
    /* A chain visits each of nchain symbols at most once; more steps means a cycle. */
    for (uint32_t steps = 0; index != 0 && index < nchain && steps < nchain; steps++) {
        if (symbol_matches(elf, image, index, name, vaddr, size))
            return 1;
        if (!image_u32(elf, image, table, 2 + (uint64_t)nbucket + index, &index))
            return 0;
    }
    return 0;
}

int module_find_symbol(const struct module_elf *elf, const uint8_t *image, const char *name, uint64_t *vaddr,
                       uint64_t *size)
{
    int found = elf->gnu_hash != 0 ? gnu_hash_lookup(elf, image, name, vaddr, size)
                                    : elf->hash != 0 && sysv_hash_lookup(elf, image, name, vaddr, size);
    return found ? 0 : -1;
}
