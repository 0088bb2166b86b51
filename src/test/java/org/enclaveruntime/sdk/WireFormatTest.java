package org.enclaveruntime.sdk;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The message header and status table against docs/module-runtime.md sections 3 and 4, byte by byte. */
class WireFormatTest {
    private static ByteBuffer header(int magic, int type, int reserved, long length, int arg) {
        return ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putInt(magic).putShort((short) type)
                .putShort((short) reserved).putInt((int) length).putInt(arg).flip();
    }

    @Test
    void aHeaderIsEncodedAsTheTableSays() {
        ByteBuffer b = ByteBuffer.allocate(16);
        new FrameHeader(MessageType.ECALL, 0x1234, 0xabcdef01).encode(b);
        assertEquals(16, b.position());
        byte[] expected = {'E', 'N', 'C', 'M', 5, 0, 0, 0, 0x34, 0x12, 0, 0, 0x01, (byte) 0xef, (byte) 0xcd, (byte) 0xab};
        assertEquals(java.util.Arrays.toString(expected), java.util.Arrays.toString(b.array()));
    }

    @Test
    void everyTypeTheEnclaveSendsDecodes() throws WireException {
        Set<Integer> seen = new HashSet<>();
        for (MessageType t : MessageType.values()) {
            assertTrue(seen.add(t.code), "type codes are unique");
            if (t.fromEnclave) {
                FrameHeader h = FrameHeader.decode(header(FrameHeader.MAGIC, t.code, 0, 16 << 20, -1));
                assertEquals(new FrameHeader(t, 16 << 20, -1), h);
            }
        }
        assertEquals(Set.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11), seen);
    }

    private static String refused(ByteBuffer b) {
        return assertThrows(WireException.class, () -> FrameHeader.decode(b)).getMessage();
    }

    @Test
    void whatTheEnclaveMayNotSendIsRefusedWithWhatWasWrong() {
        assertTrue(refused(header(0x4D434E46, 6, 0, 0, 0)).contains("magic 0x4d434e46"));
        assertTrue(refused(header(FrameHeader.MAGIC, 0, 0, 0, 0)).contains("unknown type 0"));
        assertTrue(refused(header(FrameHeader.MAGIC, 12, 0, 0, 0)).contains("unknown type 12"));
        assertTrue(refused(header(FrameHeader.MAGIC, 0xffff, 0, 0, 0)).contains("unknown type 65535"));
        assertTrue(refused(header(FrameHeader.MAGIC, 1, 0, 0, 0)).contains("LOAD"));
        assertTrue(refused(header(FrameHeader.MAGIC, 5, 0, 0, 0)).contains("only the host sends"));
        assertTrue(refused(header(FrameHeader.MAGIC, 6, 1, 0, 0)).contains("reserved field is 1"));
        assertTrue(refused(header(FrameHeader.MAGIC, 6, 0, (16 << 20) + 1, 0)).contains("16777217 bytes"));
        assertTrue(refused(header(FrameHeader.MAGIC, 2, 0, 0xffffffffL, 0)).contains("4294967295 bytes"));
    }

    @Test
    void statusesHaveSgxNumbersAndNames() {
        // sgx_error.h (Intel SGX SDK for Linux), value by value for the ones the protocol uses.
        assertEquals(0x0000, EnclaveStatus.SUCCESS.code());
        assertEquals(0x0001, EnclaveStatus.UNEXPECTED.code());
        assertEquals(0x0002, EnclaveStatus.INVALID_PARAMETER.code());
        assertEquals(0x0003, EnclaveStatus.OUT_OF_MEMORY.code());
        assertEquals(0x0004, EnclaveStatus.ENCLAVE_LOST.code());
        assertEquals(0x0005, EnclaveStatus.INVALID_STATE.code());
        assertEquals(0x1001, EnclaveStatus.INVALID_FUNCTION.code());
        assertEquals(0x1003, EnclaveStatus.OUT_OF_TCS.code());
        assertEquals(0x1006, EnclaveStatus.ENCLAVE_CRASHED.code());
        assertEquals(0x1007, EnclaveStatus.ECALL_NOT_ALLOWED.code());
        assertEquals(0x1008, EnclaveStatus.OCALL_NOT_ALLOWED.code());
        assertEquals(0x2000, EnclaveStatus.UNDEFINED_SYMBOL.code());
        assertEquals(0x2001, EnclaveStatus.INVALID_ENCLAVE.code());
        assertEquals(0x2002, EnclaveStatus.INVALID_ENCLAVE_ID.code());
        assertEquals(0x2003, EnclaveStatus.INVALID_SIGNATURE.code());
        assertEquals(0x2004, EnclaveStatus.NDEBUG_ENCLAVE.code());
        assertEquals(0x2005, EnclaveStatus.OUT_OF_EPC.code());
        assertEquals(0x2006, EnclaveStatus.NO_DEVICE.code());
        assertEquals(0x2009, EnclaveStatus.INVALID_METADATA.code());
        assertEquals(0x4001, EnclaveStatus.SERVICE_UNAVAILABLE.code());
        assertEquals(0x4002, EnclaveStatus.SERVICE_TIMEOUT.code());
        assertEquals("SGX_SUCCESS", EnclaveStatus.SUCCESS.sgxName());
        assertEquals("SGX_ERROR_INVALID_SIGNATURE", EnclaveStatus.INVALID_SIGNATURE.sgxName());
        assertEquals("0x2003", EnclaveStatus.INVALID_SIGNATURE.hex());
    }

    /** docs/module-runtime.md section 4 lists exactly the statuses EnclaveStatus knows, with the same values. */
    @Test
    void theContractsStatusTableIsTheEnum() throws Exception {
        String doc = java.nio.file.Files.readString(java.nio.file.Path.of(
                System.getProperty("enclave.project.dir", "."), "docs", "module-runtime.md"));
        java.util.Map<String, Integer> documented = new java.util.TreeMap<>();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?m)^\\| 0x([0-9a-f]{4}) \\| ([A-Z_]+) \\|")
                .matcher(doc);
        while (m.find()) {
            documented.put(m.group(2), Integer.parseInt(m.group(1), 16));
        }
        java.util.Map<String, Integer> known = new java.util.TreeMap<>();
        for (EnclaveStatus s : EnclaveStatus.values()) {
            known.put(s.name(), s.code());
        }
        assertEquals(known, documented);
    }

    @Test
    void statusesParseAsUsersWriteThem() {
        for (EnclaveStatus s : EnclaveStatus.values()) {
            assertEquals(s, EnclaveStatus.parse(s.hex()).orElseThrow());
            assertEquals(s, EnclaveStatus.parse(s.sgxName().toLowerCase()).orElseThrow());
            assertEquals(s, EnclaveStatus.parse(s.name()).orElseThrow());
            assertEquals(s, EnclaveStatus.of(s.code()).orElseThrow());
        }
        assertEquals(EnclaveStatus.INVALID_SIGNATURE, EnclaveStatus.parse(" 0X2003 ").orElseThrow());
        assertTrue(EnclaveStatus.parse("0x2008").isEmpty());
        assertTrue(EnclaveStatus.parse("0x").isEmpty());
        assertTrue(EnclaveStatus.parse("0xzz").isEmpty());
        assertTrue(EnclaveStatus.parse("E801").isEmpty());
        assertEquals("0x002a", EnclaveStatus.describe(0x2a));
        assertEquals("ENCLAVE_LOST (0x0004)", EnclaveStatus.describe(4));
    }
}
