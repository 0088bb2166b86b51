package org.enclaveruntime.image;

import org.enclaveruntime.errors.ErrorCode;
import org.enclaveruntime.errors.ExitStatus;

import java.util.List;

/** E5xx: the enclave image (docs/image-format.md), its measurements and its signature. */
public final class ImageErrors {
    private ImageErrors() {
    }

    public static final ErrorCode UNREADABLE = new ErrorCode("E500", ExitStatus.IMAGE, "image cannot be read",
            "Check that the image path is right and readable (ls -l PATH); rebuild it with `enclavectl image build`.",
            "The image file named in the message does not exist, is not a regular file, or the operating "
                    + "system refused to read it (the message has its reason).");

    public static final ErrorCode BAD_HEADER = new ErrorCode("E501", ExitStatus.IMAGE, "not a valid image header",
            "Make sure the file is an enclave image made by `enclavectl image build`; rebuild it if it is damaged.",
            "The first 64 bytes of an image are its header (docs/image-format.md). The file is too short, "
                    + "does not start with the magic \"ENCLVIMG\", or a header field has a value this version "
                    + "does not allow (header or entry size, section count, reserved bits, vCPU count, memory).");

    public static final ErrorCode UNSUPPORTED_VERSION = new ErrorCode("E502", ExitStatus.IMAGE,
            "unsupported image format version",
            "Rebuild the image with this version of enclavectl, or upgrade enclavectl to one that reads it.",
            "The image was written in a format version this enclavectl does not know. Versions are never "
                    + "read on a best-effort basis: a reader that does not know a version refuses it.");

    public static final ErrorCode CRC_MISMATCH = new ErrorCode("E503", ExitStatus.IMAGE,
            "image header or section table is damaged",
            "The file was damaged (truncated copy, disk or transfer error): copy or rebuild it again.",
            "The CRC-32C over the header and the section table does not match the one stored in the header. "
                    + "The CRC catches accidental damage early; the SHA-384 hashes and the signature catch the rest.");

    public static final ErrorCode BAD_LAYOUT = new ErrorCode("E504", ExitStatus.IMAGE, "sections are laid out wrongly",
            "The file is truncated, extended or was edited: copy or rebuild it with `enclavectl image build`.",
            "Every section must lie inside the file, start at the 4 KiB-aligned end of the one before, not "
                    + "overlap another, and be followed only by zero padding; the file must end exactly where "
                    + "the last section ends. The message names the section and the offsets at fault.");

    public static final ErrorCode UNKNOWN_SECTION = new ErrorCode("E505", ExitStatus.IMAGE, "unknown section type or flags",
            "Use an enclavectl that knows this section type, or rebuild the image with this one.",
            "The section table names a section type or section flags this version does not know. Unknown "
                    + "sections are refused, never skipped: what the enclave boots must be fully understood.");

    public static final ErrorCode SECTION_SET = new ErrorCode("E506", ExitStatus.IMAGE, "wrong set of sections",
            "Rebuild the image with `enclavectl image build`.",
            "Sections must appear once each, in type order (RUNTIME, KERNEL, CMDLINE, INITRD, METADATA, "
                    + "SIGNATURE). An image needs RUNTIME and METADATA; CMDLINE and INITRD need KERNEL.");

    public static final ErrorCode HASH_MISMATCH = new ErrorCode("E507", ExitStatus.IMAGE, "section content is damaged",
            "Do not boot this image. Copy it again from a trusted source or rebuild it.",
            "The SHA-384 of a section's bytes differs from the one in the section table: the content was "
                    + "changed or damaged after the image was built.");

    public static final ErrorCode BAD_RUNTIME = new ErrorCode("E508", ExitStatus.IMAGE, "runtime is not a usable ELF",
            "Pass the enclave runtime built by `mvn` (target/guest/runtime.elf): a static ELF64 x86-64 "
                    + "executable linked at 1 MiB.",
            "The runtime must be an ELF64, little-endian, x86-64, ET_EXEC file with at least one PT_LOAD "
                    + "segment, every segment inside the file, identity-linked (p_vaddr = p_paddr), starting on a "
                    + "4 KiB page at or above 1 MiB, not overlapping another, with only R/W/X flags, and an entry "
                    + "point inside an executable segment. `image verify` and the boot check the same rules, "
                    + "listed in docs/image-format.md (\"The runtime ELF\"); the message names the one broken.");

    public static final ErrorCode BAD_CONTENT = new ErrorCode("E509", ExitStatus.IMAGE, "section content is invalid",
            "Rebuild the image with `enclavectl image build`.",
            "A section has the right hash but content that does not follow docs/image-format.md: metadata "
                    + "that is not the documented JSON, a command line with characters outside printable ASCII, "
                    + "or a signature section with a wrong structure or certificate encoding.");

    public static final ErrorCode DOES_NOT_FIT = new ErrorCode("E510", ExitStatus.IMAGE, "image does not fit the enclave memory",
            "Give the enclave more memory (memory in [enclave] of the configuration), at least what the message says.",
            "The runtime is loaded at 1 MiB and needs its segments, then 64 KiB of stack per vCPU at the top "
                    + "of the enclave's memory. The configured memory is less than that.");

    public static final ErrorCode NOT_SIGNED = new ErrorCode("E511", ExitStatus.IMAGE, "image is not signed",
            "Sign it: `enclavectl image sign --key KEY.pem --cert CERT.pem IMAGE`.",
            "A trusted certificate was given (--cert, or trusted_cert with require_signed = true), but the "
                    + "image has no SIGNATURE section.");

    public static final ErrorCode BAD_SIGNATURE = new ErrorCode("E512", ExitStatus.IMAGE, "signature does not verify",
            "Do not boot this image. Sign it again, or get the image from its signer again.",
            "The ECDSA P-384 signature in the SIGNATURE section does not verify with the certificate stored "
                    + "next to it, over the header and section table of the unsigned image: the image or the "
                    + "signature was changed after signing.");

    public static final ErrorCode UNTRUSTED_SIGNER = new ErrorCode("E513", ExitStatus.IMAGE, "signer is not trusted",
            "Pass the CA certificate that issued the signing certificate (--cert / trusted_cert), or sign with a "
                    + "certificate issued by it.",
            "The image is signed, but its signing certificate is neither the given trusted certificate nor "
                    + "issued by it (directly or through the chain stored in the image), or is not valid now.");

    public static final ErrorCode BAD_KEY = new ErrorCode("E514", ExitStatus.IMAGE, "signing key or certificate is unusable",
            "Use an EC P-384 key in PEM (openssl ecparam -name secp384r1 -genkey, or PKCS#8) and the PEM "
                    + "X.509 certificate of that key.",
            "The key or certificate file cannot be read as PEM, is not EC P-384, or the key does not belong "
                    + "to the certificate.");

    public static final ErrorCode BAD_BUILD_INPUT = new ErrorCode("E515", ExitStatus.IMAGE, "image build input is invalid",
            "Fix the option or file named in the message and build again.",
            "An input to `enclavectl image build` cannot be used: a file is missing, empty or too large, a "
                    + "value is out of range, or INITRD/CMDLINE were given without a kernel.");

    public static final List<ErrorCode> ALL = List.of(UNREADABLE, BAD_HEADER, UNSUPPORTED_VERSION, CRC_MISMATCH,
            BAD_LAYOUT, UNKNOWN_SECTION, SECTION_SET, HASH_MISMATCH, BAD_RUNTIME, BAD_CONTENT, DOES_NOT_FIT,
            NOT_SIGNED, BAD_SIGNATURE, UNTRUSTED_SIGNER, BAD_KEY, BAD_BUILD_INPUT);
}
