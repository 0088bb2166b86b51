/*
 * The test module (docs/module-format.md): a freestanding PIC shared object that exercises each relocation the
 * loader applies. The pointer table needs R_X86_64_RELATIVE, reading enclave_api_version through the GOT needs
 * R_X86_64_GLOB_DAT, calling enclave_api_print through the PLT needs R_X86_64_JUMP_SLOT. ecall_answer's constant
 * is a byte pattern tests look for in the code to flip.
 */
extern int enclave_api_version;
extern long enclave_api_print(const char *text, unsigned long length);

static const char *const greetings[] = {"hello", "module"};

long ecall_answer(void)
{
    return 0x5eed1234;
}

long ecall_greet(int which)
{
    const char *g = greetings[which & 1];
    unsigned long n = 0;
    while (g[n] != 0) {
        n++;
    }
    return enclave_api_print(g, n) + enclave_api_version;
}
