package org.enclaveruntime.module;

import org.enclaveruntime.errors.EnclaveException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** SGX's Enclave.config.xml: the elements we use, SGX's defaults, the ones we ignore, and every error. */
class EnclaveConfigTest {
    @TempDir
    Path dir;

    /** The shape of the SGX SDK's SampleEnclave config. */
    @Test
    void anSgxProjectsFileReadsAsIs() {
        EnclaveConfig c = parse("""
                <EnclaveConfiguration>
                  <ProdID>0</ProdID>
                  <ISVSVN>3</ISVSVN>
                  <StackMaxSize>0x40000</StackMaxSize>
                  <HeapMaxSize>0x100000</HeapMaxSize>
                  <TCSNum>10</TCSNum>
                  <TCSPolicy>1</TCSPolicy>
                  <!-- Recommend changing 'DisableDebug' to 1 to make the enclave undebuggable for enclave release -->
                  <DisableDebug>1</DisableDebug>
                  <MiscSelect>0</MiscSelect>
                  <MiscMask>0xFFFFFFFF</MiscMask>
                </EnclaveConfiguration>
                """);
        assertEquals(new EnclaveConfig(0, 3, 0x40000, 0x100000, 10, false), c);
    }

    @Test
    void missingElementsTakeSgxDefaults() {
        EnclaveConfig c = parse("<EnclaveConfiguration><ProdID>7</ProdID></EnclaveConfiguration>");
        assertEquals(7, c.prodId());
        assertEquals(0, c.isvSvn());
        assertEquals(0x40000, c.stackMaxSize());
        assertEquals(0x100000, c.heapMaxSize());
        assertEquals(1, c.tcsNum());
        assertTrue(c.debugAllowed(), "DisableDebug defaults to 0");
    }

    @Test
    void errorsNameTheElementAndTheValue() {
        refused("<EnclaveConfiguration><ISVSVN>three</ISVSVN></EnclaveConfiguration>", "<ISVSVN> is \"three\"");
        refused("<EnclaveConfiguration><ProdID>70000</ProdID></EnclaveConfiguration>", "<ProdID> is 70000, out of range");
        refused("<EnclaveConfiguration><StackMaxSize>0x40001</StackMaxSize></EnclaveConfiguration>",
                "<StackMaxSize> is 0x40001, not a multiple of 4 KiB");
        refused("<EnclaveConfiguration><StackMaxSize>0x1000</StackMaxSize></EnclaveConfiguration>",
                "<StackMaxSize> is 0x1000, out of range");
        refused("<EnclaveConfiguration><HeapMaxSize>-1</HeapMaxSize></EnclaveConfiguration>", "<HeapMaxSize> is \"-1\"");
        refused("<EnclaveConfiguration><TCSNum>0</TCSNum></EnclaveConfiguration>", "<TCSNum> is 0, out of range");
        refused("<EnclaveConfiguration><DisableDebug>2</DisableDebug></EnclaveConfiguration>", "<DisableDebug> is 2");
        refused("<EnclaveConfiguration><TCSNum>1</TCSNum><TCSNum>2</TCSNum></EnclaveConfiguration>",
                "<TCSNum> appears more than once");
        refused("<EnclaveConfiguration><HeapSize>1</HeapSize></EnclaveConfiguration>", "<HeapSize> is not");
        refused("<Enclave><ProdID>1</ProdID></Enclave>", "root element is <Enclave>");
        refused("<EnclaveConfiguration><ProdID>1</ProdID>\n</Enclave>", "line 2");
    }

    @Test
    void aDtdIsRefusedAndExternalEntitiesAreNeverRead() throws Exception {
        Path secret = Files.writeString(dir.resolve("secret.txt"), "TOP-SECRET-VALUE");
        String xml = "<?xml version=\"1.0\"?>\n<!DOCTYPE EnclaveConfiguration [<!ENTITY x SYSTEM \"" + secret.toUri()
                + "\">]>\n<EnclaveConfiguration><ProdID>&x;</ProdID></EnclaveConfiguration>";
        EnclaveException e = refused(xml, "DOCTYPE");
        assertFalse(e.getMessage().contains("TOP-SECRET"), e.getMessage());
    }

    @Test
    void anUnreadableFileIsAConfigError() {
        EnclaveException e = assertThrows(EnclaveException.class, () -> EnclaveConfig.read(dir.resolve("none.xml")));
        assertEquals(ModuleErrors.BAD_CONFIG, e.code());
        assertTrue(e.getMessage().contains("none.xml"), e.getMessage());
    }

    private static EnclaveConfig parse(String xml) {
        return EnclaveConfig.parse(xml.getBytes(StandardCharsets.UTF_8), "Enclave.config.xml");
    }

    private static EnclaveException refused(String xml, String words) {
        EnclaveException e = assertThrows(EnclaveException.class, () -> parse(xml));
        assertEquals(ModuleErrors.BAD_CONFIG, e.code(), e.getMessage());
        assertTrue(e.getMessage().contains(words), e.getMessage());
        assertTrue(e.getMessage().startsWith("Enclave.config.xml: "), e.getMessage());
        return e;
    }
}
