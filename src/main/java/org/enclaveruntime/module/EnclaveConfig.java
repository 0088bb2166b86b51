package org.enclaveruntime.module;

import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.errors.IoReason;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.xml.sax.SAXException;
import org.xml.sax.SAXParseException;

import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

/**
 * What a module's signer declares about it, read from SGX's Enclave.config.xml so that existing projects keep
 * theirs (docs/module-format.md, "Enclave.config.xml"). Defaults and ranges are those of the SGX SDK's signing
 * tool; sizes must also be whole 4 KiB pages, as there.
 *
 * @param debugAllowed DisableDebug = 0: a debug module, which a production enclave refuses to load
 */
public record EnclaveConfig(int prodId, int isvSvn, long stackMaxSize, long heapMaxSize, long tcsNum,
                            boolean debugAllowed) {
    public static final long PAGE = 0x1000;
    /** SGX's largest StackMaxSize and HeapMaxSize. */
    public static final long MAX_SIZE = 0x1F_FFFF_FFFFL;
    public static final long MIN_STACK = 0x2000;
    public static final long MAX_TCS = 0xFFFF_FFFFL;
    /** SGX's defaults: ProdID 0, ISVSVN 0, StackMaxSize 0x40000, HeapMaxSize 0x100000, TCSNum 1, DisableDebug 0. */
    public static final EnclaveConfig DEFAULTS = new EnclaveConfig(0, 0, 0x40000, 0x100000, 1, true);

    public EnclaveConfig {
        check("ProdID", prodId, 0, 0xFFFF);
        check("ISVSVN", isvSvn, 0, 0xFFFF);
        check("StackMaxSize", stackMaxSize, MIN_STACK, MAX_SIZE);
        check("HeapMaxSize", heapMaxSize, 0, MAX_SIZE);
        check("TCSNum", tcsNum, 1, MAX_TCS);
        requirePages("StackMaxSize", stackMaxSize);
        requirePages("HeapMaxSize", heapMaxSize);
    }

    /** SGX elements that mean nothing here; accepted so that an SGX project's file reads unchanged. */
    private static final Set<String> IGNORED = Set.of("TCSMaxNum", "TCSMinPool", "TCSPolicy", "StackMinSize",
            "HeapMinSize", "HeapInitSize", "HeapExecutable", "ReservedMemMaxSize", "ReservedMemMinSize",
            "ReservedMemInitSize", "ReservedMemExecutable", "MiscSelect", "MiscMask", "EnableKSS", "ISVEXTPRODID_H",
            "ISVEXTPRODID_L", "ISVFAMILYID_H", "ISVFAMILYID_L", "UserRegionSize", "ReleaseType", "IntelSigned",
            "ProvisionKey", "LaunchKey", "HW", "EnableAEXNotify", "RSRVMemMaxSize", "RSRVMemMinSize",
            "RSRVMemInitSize", "RSRVMemExecutable");

    public static EnclaveConfig read(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new EnclaveException(ModuleErrors.BAD_CONFIG, file + ": cannot read: " + IoReason.of(e));
        }
        return parse(bytes, file.toString());
    }

    /** @param what names the file in error messages */
    public static EnclaveConfig parse(byte[] xml, String what) {
        Element root = document(xml, what).getDocumentElement();
        if (!root.getTagName().equals("EnclaveConfiguration")) {
            throw bad(what, "the root element is <" + root.getTagName() + ">, expected <EnclaveConfiguration>");
        }
        int prodId = DEFAULTS.prodId;
        int isvSvn = DEFAULTS.isvSvn;
        long stack = DEFAULTS.stackMaxSize;
        long heap = DEFAULTS.heapMaxSize;
        long tcs = DEFAULTS.tcsNum;
        boolean debug = DEFAULTS.debugAllowed;
        Set<String> seen = new HashSet<>();
        for (Node n = root.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n.getNodeType() == Node.TEXT_NODE && n.getTextContent().isBlank()
                    || n.getNodeType() == Node.COMMENT_NODE) {
                continue;
            }
            if (!(n instanceof Element e)) {
                throw bad(what, "<EnclaveConfiguration> holds text \"" + shorten(n.getTextContent())
                        + "\" outside any element");
            }
            String name = e.getTagName();
            if (!seen.add(name)) {
                throw bad(what, "<" + name + "> appears more than once");
            }
            if (IGNORED.contains(name)) {
                continue;
            }
            switch (name) {
                case "ProdID" -> prodId = (int) number(what, e, 0, 0xFFFF);
                case "ISVSVN" -> isvSvn = (int) number(what, e, 0, 0xFFFF);
                case "StackMaxSize" -> stack = pages(what, e, MIN_STACK);
                case "HeapMaxSize" -> heap = pages(what, e, 0);
                case "TCSNum" -> tcs = number(what, e, 1, MAX_TCS);
                case "DisableDebug" -> debug = number(what, e, 0, 1) == 0;
                default -> throw bad(what, "<" + name + "> is not an Enclave.config.xml element (known: ProdID, "
                        + "ISVSVN, StackMaxSize, HeapMaxSize, TCSNum, DisableDebug and SGX's other elements)");
            }
        }
        return new EnclaveConfig(prodId, isvSvn, stack, heap, tcs, debug);
    }

    /** Element text as SGX's tool reads it: decimal, or hexadecimal after 0x; surrounding blanks allowed. */
    private static long number(String what, Element e, long min, long max) {
        if (e.getFirstChild() != null && e.getElementsByTagName("*").getLength() > 0) {
            throw bad(what, "<" + e.getTagName() + "> holds elements; it takes a number");
        }
        String text = e.getTextContent().strip();
        long value;
        try {
            boolean hex = text.startsWith("0x") || text.startsWith("0X");
            String digits = hex ? text.substring(2) : text;
            if (digits.isEmpty() || !digits.chars().allMatch(c -> hex ? Character.digit(c, 16) >= 0 : c >= '0' && c <= '9')) {
                throw new NumberFormatException();
            }
            value = Long.parseUnsignedLong(digits, hex ? 16 : 10);
        } catch (NumberFormatException ex) {
            throw bad(what, "<" + e.getTagName() + "> is \"" + shorten(text)
                    + "\", not a number (decimal, or hexadecimal with 0x)");
        }
        if (Long.compareUnsigned(value, min) < 0 || Long.compareUnsigned(value, max) > 0) {
            throw bad(what, "<" + e.getTagName() + "> is " + text + ", out of range " + show(min) + " to " + show(max));
        }
        return value;
    }

    private static long pages(String what, Element e, long min) {
        long value = number(what, e, min, MAX_SIZE);
        if (value % PAGE != 0) {
            throw bad(what, "<" + e.getTagName() + "> is " + e.getTextContent().strip()
                    + ", not a multiple of 4 KiB (0x1000)");
        }
        return value;
    }

    private static Document document(byte[] xml, String what) {
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            // No DTD, no entity, nothing fetched: the file is data, never a way to read other files.
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            f.setFeature("http://xml.org/sax/features/external-general-entities", false);
            f.setFeature("http://xml.org/sax/features/external-parameter-entities", false);
            f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
            f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            f.setAttribute(XMLConstants.ACCESS_EXTERNAL_DTD, "");
            f.setAttribute(XMLConstants.ACCESS_EXTERNAL_SCHEMA, "");
            f.setXIncludeAware(false);
            f.setExpandEntityReferences(false);
            f.setNamespaceAware(false);
            DocumentBuilder builder = f.newDocumentBuilder();
            builder.setErrorHandler(null);
            return builder.parse(new ByteArrayInputStream(xml));
        } catch (SAXParseException e) {
            String reason = e.getMessage();
            if (reason != null && reason.contains("DOCTYPE")) {
                reason = "a DOCTYPE (DTD) is not allowed in Enclave.config.xml";
            }
            throw bad(what, "line " + e.getLineNumber() + ", column " + e.getColumnNumber() + ": " + reason);
        } catch (SAXException e) {
            throw bad(what, "not well-formed XML: " + e.getMessage());
        } catch (IOException | ParserConfigurationException e) {
            throw EnclaveException.unexpected(e);
        }
    }

    private static void check(String element, long value, long min, long max) {
        if (Long.compareUnsigned(value, min) < 0 || Long.compareUnsigned(value, max) > 0) {
            throw new IllegalArgumentException(element + " " + value + " is outside " + min + ".." + max);
        }
    }

    private static void requirePages(String element, long value) {
        if (value % PAGE != 0) {
            throw new IllegalArgumentException(element + " " + value + " is not a multiple of 4096");
        }
    }

    private static String show(long v) {
        return v < 0x10000 ? Long.toString(v) : "0x" + Long.toHexString(v);
    }

    private static String shorten(String s) {
        String t = s.strip();
        return t.length() > 40 ? t.substring(0, 40) + "..." : t;
    }

    private static EnclaveException bad(String what, String problem) {
        return new EnclaveException(ModuleErrors.BAD_CONFIG, what + ": " + problem);
    }
}
