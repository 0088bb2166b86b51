package org.enclaveruntime.image;

import org.enclaveruntime.errors.EnclaveException;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Adds or replaces the SIGNATURE section. The signature covers the header and table of the unsigned image,
 * which is the same whether the image was signed before or not, so re-signing replaces, never nests.
 */
public final class ImageSigner {
    private final PrivateKey key;
    private final List<X509Certificate> chain;

    /** @param chain the signing certificate first, then the certificates that issued it (optional) */
    public ImageSigner(PrivateKey key, List<X509Certificate> chain) {
        if (chain.isEmpty()) {
            throw new EnclaveException(ImageErrors.BAD_KEY, "no signing certificate given");
        }
        if (chain.size() > 8) {
            throw new EnclaveException(ImageErrors.BAD_KEY, "the certificate chain has " + chain.size()
                    + " certificates; at most 8 fit in a signature section");
        }
        if (!ImageSignature.isP384(chain.get(0).getPublicKey())) {
            throw new EnclaveException(ImageErrors.BAD_KEY, "the certificate "
                    + chain.get(0).getSubjectX500Principal().getName() + " does not hold an EC P-384 key");
        }
        this.key = key;
        this.chain = List.copyOf(chain);
    }

    /** The signed image's bytes. */
    public byte[] sign(EnclaveImage image) {
        Signed s = signed(image);
        return ImageWriter.toBytes(s.header(), s.contents());
    }

    /** Signs the image file in place, atomically, and returns it as read back. */
    public EnclaveImage signInPlace(Path imageFile) {
        return signTo(imageFile, imageFile);
    }

    /** Writes {@code imageFile} signed to {@code target} (atomically; it may be the same file). */
    public EnclaveImage signTo(Path imageFile, Path target) {
        EnclaveImage image = EnclaveImage.open(imageFile);
        Signed s = signed(image);
        ImageWriter.writeAtomically(target, s.header(), s.contents());
        return EnclaveImage.open(target);
    }

    private record Signed(ImageHeader header, Map<SectionType, ByteBuffer> contents) {
    }

    private Signed signed(EnclaveImage image) {
        ImageHeader unsigned = image.header().unsigned();
        byte[] message = unsigned.encode();
        ImageSignature signature = ImageSignature.create(message, key, chain);
        try {
            ImageSignature.decodeAndCheck(ByteBuffer.wrap(signature.encode()), message, "new signature");
        } catch (EnclaveException e) {
            throw new EnclaveException(ImageErrors.BAD_KEY, "the private key does not belong to the certificate "
                    + signature.signerSubject(), e);
        }
        byte[] section = signature.encode();
        Map<SectionType, ByteBuffer> contents = new EnumMap<>(SectionType.class);
        List<ImageHeader.Planned> planned = new ArrayList<>();
        for (ImageSection s : unsigned.sections()) {
            contents.put(s.type(), image.content(s.type()).orElseThrow());
            planned.add(new ImageHeader.Planned(s.type(), s.size(), s.sha384()));
        }
        contents.put(SectionType.SIGNATURE, ByteBuffer.wrap(section));
        planned.add(new ImageHeader.Planned(SectionType.SIGNATURE, section.length, Sha384.digest(section)));
        return new Signed(ImageHeader.place(unsigned.vcpuCount(), unsigned.memoryMib(), planned), contents);
    }
}
