package org.enclaveruntime.module;

import org.enclaveruntime.errors.ErrorCode;
import org.enclaveruntime.errors.ExitStatus;

import java.util.List;

/** E8xx: enclave modules (docs/module-format.md): their ELF, Enclave.config.xml, keys and signature. */
public final class ModuleErrors {
    private ModuleErrors() {
    }

    public static final ErrorCode UNREADABLE = new ErrorCode("E800", ExitStatus.IMAGE, "module cannot be read",
            "Check that the module path is right and readable (ls -l PATH).",
            "The module file named in the message does not exist, is not a regular file, is larger than a "
                    + "module may be (1 GiB), or the operating system refused to read it (the message has its reason).");

    public static final ErrorCode NOT_A_MODULE = new ErrorCode("E801", ExitStatus.IMAGE,
            "not an ELF64 x86-64 shared object",
            "Build the module with gcc -fPIC -shared -nostdlib -ffreestanding for x86-64 (docs/module-format.md).",
            "A module is a position-independent ELF64, little-endian, x86-64 shared object (e_type ET_DYN) "
                    + "whose program headers lie inside the file. The message names the header field at fault.");

    public static final ErrorCode BAD_SEGMENTS = new ErrorCode("E802", ExitStatus.IMAGE,
            "module segments cannot be loaded safely",
            "Link code and data into separate segments on separate pages (the default of GNU ld with "
                    + "-z max-page-size=0x1000) and rebuild the module.",
            "Every PT_LOAD segment must have only R/W/X flags and not both W and X, lie inside the file, have "
                    + "p_filesz <= p_memsz, be congruent to its file offset modulo 4096, come in ascending address "
                    + "order and share no 4 KiB page with another segment; the module must end below 4 GiB. "
                    + "The message names the segment and the rule.");

    public static final ErrorCode BAD_DYNAMIC = new ErrorCode("E803", ExitStatus.IMAGE,
            "module dynamic section is invalid",
            "Rebuild the module with gcc -fPIC -shared -nostdlib; do not link it against other libraries.",
            "The module needs one PT_DYNAMIC inside a loaded segment, ending with DT_NULL, whose relocation, "
                    + "symbol and string tables lie inside loaded segments with the standard entry sizes, and whose "
                    + "GLOB_DAT and JUMP_SLOT relocations name a symbol and carry no addend. A module "
                    + "imports only from the runtime, so DT_NEEDED is refused, and x86-64 uses RELA, so DT_REL "
                    + "and DT_RELR are refused.");

    public static final ErrorCode TEXT_RELOCATION = new ErrorCode("E804", ExitStatus.IMAGE,
            "module has text relocations",
            "Compile every object of the module with -fPIC.",
            "The module asks for relocations in pages that are not writable (DT_TEXTREL, DF_TEXTREL, or a "
                    + "relocation whose target lies outside every writable segment). The loader maps code W^X "
                    + "and never writes into code or read-only data.");

    public static final ErrorCode UNSUPPORTED_RELOCATION = new ErrorCode("E805", ExitStatus.IMAGE,
            "module has a relocation the loader does not apply",
            "Compile with -fPIC and without TLS; refer to imported data and functions only through code "
                    + "(not from initialised pointers), so that gcc emits GLOB_DAT and JUMP_SLOT.",
            "The loader applies only R_X86_64_RELATIVE (8), R_X86_64_GLOB_DAT (6) and R_X86_64_JUMP_SLOT (7). "
                    + "The message names the relocation's index, type and symbol.");

    public static final ErrorCode TOO_LARGE = new ErrorCode("E806", ExitStatus.IMAGE,
            "module is too large for its HeapMaxSize",
            "Raise HeapMaxSize in Enclave.config.xml to at least the size the message gives, or make the module smaller.",
            "The module's memory (from address 0 to the end of its highest segment, rounded up to 4 KiB) comes "
                    + "out of the heap the configuration declares, so it must not exceed HeapMaxSize.");

    public static final ErrorCode BAD_CONFIG = new ErrorCode("E807", ExitStatus.CONFIG,
            "Enclave.config.xml is invalid",
            "Fix the element named in the message (docs/module-format.md lists each element, its range and default).",
            "The module configuration is SGX's Enclave.config.xml: an EnclaveConfiguration root holding ProdID, "
                    + "ISVSVN, StackMaxSize, HeapMaxSize, TCSNum and DisableDebug (other SGX elements are "
                    + "accepted and ignored). DTDs and external entities are refused. A value that is not a "
                    + "number, is out of range, or repeats an element is an error naming the element and value.");

    public static final ErrorCode BAD_KEY = new ErrorCode("E808", ExitStatus.IMAGE, "module signing key is unusable",
            "Use an RSA-3072 key (openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -pkeyopt "
                    + "rsa_keygen_pubexp:3) or an EC P-384 key (openssl genpkey -algorithm EC -pkeyopt "
                    + "ec_paramgen_curve:P-384), unencrypted PEM.",
            "The key file cannot be read as PEM, is encrypted, is neither RSA with a 3072-bit modulus nor EC on "
                    + "P-384, or (for EC) does not carry its public key.");

    public static final ErrorCode BAD_SIGNATURE_BLOCK = new ErrorCode("E809", ExitStatus.IMAGE,
            "module signature structure is invalid",
            "Sign the unsigned module again with `enclavectl module sign`.",
            "The signature structure at the end of the module does not follow docs/module-format.md: a wrong "
                    + "magic, version, length, key type, reserved field or limit. The message names the field.");

    public static final ErrorCode NOT_SIGNED = new ErrorCode("E810", ExitStatus.IMAGE, "module is not signed",
            "Sign it: `enclavectl module sign --key KEY.pem --config Enclave.config.xml MODULE --out SIGNED`.",
            "The module has no signature structure at its end; only signed modules can be verified or loaded.");

    public static final ErrorCode MEASUREMENT_MISMATCH = new ErrorCode("E811", ExitStatus.IMAGE,
            "module measurement does not match",
            "Do not load this module. Get it from its signer again, or sign the unsigned build output again.",
            "The measurement recomputed from the module's loaded segments differs from the one that was "
                    + "signed: the code or data that would be loaded was changed after signing.");

    public static final ErrorCode BAD_SIGNATURE = new ErrorCode("E812", ExitStatus.IMAGE,
            "module signature does not verify",
            "Do not load this module. Sign it again, or get it from its signer again.",
            "The signature does not verify with the public key stored next to it, or the stored signer identity "
                    + "is not the SHA-384 of that key: the signature structure was changed after signing.");

    public static final ErrorCode WRONG_SIGNER = new ErrorCode("E813", ExitStatus.IMAGE,
            "module is signed by another key",
            "Pass the public key (--key) or certificate (--cert) of the module's signer, or sign the module with that key.",
            "The module's signature is valid, but its signer is not the key or certificate given, or the "
                    + "certificate is not valid now.");

    public static final List<ErrorCode> ALL = List.of(UNREADABLE, NOT_A_MODULE, BAD_SEGMENTS, BAD_DYNAMIC,
            TEXT_RELOCATION, UNSUPPORTED_RELOCATION, TOO_LARGE, BAD_CONFIG, BAD_KEY, BAD_SIGNATURE_BLOCK,
            NOT_SIGNED, MEASUREMENT_MISMATCH, BAD_SIGNATURE, WRONG_SIGNER);
}
