# The trusted library libde_trts.a (docs/sdk.md, "The trusted library"): freestanding, position-independent,
# linked into enclave modules. Included by src/sdk/Makefile.

TRTS_LIB      := $(OUT)/lib/libde_trts.a
TRTS_SRCS     := $(wildcard trts/*.c)
TRTS_OBJS     := $(patsubst trts/%.c,$(OBJ)/trts/%.o,$(TRTS_SRCS))
TRTS_HEADERS  := $(wildcard include/tlibc/*.h) include/sgx_tstdc.edl
TRTS_OUT_HEADERS := $(patsubst include/%,$(OUT)/include/%,$(TRTS_HEADERS))
TRTS_GCC_INCLUDE := $(shell $(CC) -print-file-name=include)

# Module code, the library's included (docs/sdk.md, "Building a module"): SSE2 but nothing newer
# (docs/guest-abi.md, "SSE for module code"), no stack protector (FS base 0), no CET notes, no unwind tables.
# The library's own symbols are hidden: a module's calls to them bind inside the module, and it exports none.
TRTS_MODULE_CFLAGS := -ffreestanding -nostdinc -isystem $(TRTS_GCC_INCLUDE) -fPIC -march=x86-64 -mno-sse3 -mno-avx \
                      -fno-stack-protector -fcf-protection=none -fno-asynchronous-unwind-tables -fno-unwind-tables
TRTS_CFLAGS := -std=gnu11 -O2 -Wall -Wextra -Werror -Wshadow $(TRTS_MODULE_CFLAGS) -Iinclude/tlibc -Iinclude \
               -fvisibility=hidden -fno-tree-loop-distribute-patterns

.PHONY: trts trts-check
trts: $(TRTS_LIB) $(TRTS_OUT_HEADERS)

$(OUT)/include/tlibc/%.h: include/tlibc/%.h
	$(Q)mkdir -p $(@D)
	$(Q)cp $< $@

$(OUT)/include/%.edl: include/%.edl
	$(Q)mkdir -p $(@D)
	$(Q)cp $< $@

$(OBJ)/trts/%.o: trts/%.c $(wildcard include/tlibc/*.h) $(wildcard include/*.h) trts/trts_runtime.h
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(TRTS_CFLAGS) -c $< -o $@

$(TRTS_LIB): $(TRTS_OBJS)
	$(Q)mkdir -p $(@D)
	$(Q)rm -f $@
	$(Q)ar rcs $@ $(TRTS_OBJS)

# Host check of the pure parts against the host's libc, libm and openssl (ASan, UBSan). The library's sources
# are built with their C names renamed t_*, so the host's stay the oracle; the runtime API is simulated.
TRTS_RENAMED := malloc calloc realloc free memchr strnlen strcmp strncmp strcpy strncpy strcat strncat strchr \
                strrchr strstr snprintf vsnprintf sqrt fabs floor ceil exp log pow abs labs llabs abort \
                sgx_is_within_enclave sgx_is_outside_enclave sgx_read_rand sgx_sha256_msg
TRTS_HOST_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -fsanitize=address,undefined -fno-sanitize-recover=all \
                    -fno-builtin -Iinclude
TRTS_CHECK := $(OBJ)/check/trts-check
TRTS_HOST_OBJS := $(patsubst trts/%.c,$(OBJ)/check/%.o,$(filter-out trts/trts.c,$(TRTS_SRCS))) $(OBJ)/check/trts.o

$(OBJ)/check/%.o: trts/%.c trts/trts_runtime.h $(wildcard include/*.h)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(TRTS_HOST_CFLAGS) -Iinclude/tlibc $(foreach f,$(TRTS_RENAMED),-D$(f)=t_$(f)) -D__errno_location=t_errno_location \
		-c $< -o $@

$(TRTS_CHECK): check/trts-check.c $(TRTS_HOST_OBJS)
	$(Q)$(CC) $(TRTS_HOST_CFLAGS) -o $@ check/trts-check.c $(TRTS_HOST_OBJS) -lm

trts-check: $(TRTS_CHECK)
	$(Q)$(TRTS_CHECK)
