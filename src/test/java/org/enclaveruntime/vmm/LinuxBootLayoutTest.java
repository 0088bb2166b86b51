package org.enclaveruntime.vmm;

import org.enclaveruntime.errors.EnclaveException;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Linux loader's layout from a synthetic bzImage whose setup header the test writes field by field. */
class LinuxBootLayoutTest {
    private static final int SETUP_SECTS = 3;
    private static final int KERNEL_BYTES = 64 * 1024;
    private static final long RAM = 512L << 20;

    private static byte[] bzImage(Consumer<ByteBuffer> patch) {
        byte[] file = new byte[(SETUP_SECTS + 1) * 512 + KERNEL_BYTES];
        ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        b.put(0x1F1, (byte) SETUP_SECTS);
        b.putInt(0x1F4, KERNEL_BYTES / 16);
        b.putShort(0x1FE, (short) 0xAA55);
        b.put(0x200, (byte) 0xEB).put(0x201, (byte) 0x66); // jmp over the header, to 0x268
        b.putInt(0x202, 0x53726448);
        b.putShort(0x206, (short) 0x20F);
        b.put(0x211, (byte) 0x01);
        b.putInt(0x22C, 0x7fffffff);
        b.putInt(0x230, 0x200000);
        b.put(0x234, (byte) 1);
        b.putShort(0x236, (short) 0x3);
        b.putInt(0x238, 2048);
        b.putLong(0x258, 0x1000000);
        b.putInt(0x260, 0x800000);
        patch.accept(b);
        return file;
    }

    private static byte[] good() {
        return bzImage(b -> { });
    }

    @Test
    void placesKernelInitrdCommandLineAndZeroPage() {
        LinuxBootLayout l = LinuxBootLayout.plan(good(), 3 * 4096 + 5, "console=ttyS0 quiet", RAM);
        assertEquals(List.of(new LinuxBootLayout.KernelSegment(0x1000000, (SETUP_SECTS + 1) * 512, KERNEL_BYTES,
                KERNEL_BYTES)), l.kernel(), "relocatable: preferred address, 2 MiB aligned, after the setup sectors");
        assertEquals(0x1000200, l.entry(), "64-bit entry at +0x200");
        assertEquals(0, l.initrdGpa() % 4096);
        assertTrue(l.initrdGpa() + 3 * 4096 + 5 <= RAM);
        assertTrue(l.initrdGpa() >= 0x1000000 + 0x800000, "initrd above the kernel's init_size");
        assertArrayEquals("console=ttyS0 quiet\0".getBytes(), l.cmdline());

        ByteBuffer z = ByteBuffer.wrap(l.zeroPage()).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(0x53726448, z.getInt(0x202), "setup header copied");
        assertEquals(0x20F, z.getShort(0x206));
        assertEquals((byte) 0xFF, z.get(0x210), "type_of_loader");
        assertEquals(LinuxBootLayout.CMDLINE_GPA, z.getInt(0x228));
        assertEquals((int) l.initrdGpa(), z.getInt(0x218));
        assertEquals(3 * 4096 + 5, z.getInt(0x21C));
        assertEquals(0x1000000, z.getInt(0x214), "code32_start");
        assertEquals(3, z.get(0x1E8), "e820 entries");
        assertEquals(RAM - 0x100000, z.getLong(0x2D0 + 2 * 20 + 8));
        assertEquals(1, z.getInt(0x2D0 + 2 * 20 + 16));
    }

    @Test
    void e820LeavesOutTheLegacyAndMmioHoles() {
        long ram = 6L << 30;
        assertEquals(List.of(
                new LinuxBootLayout.E820(0, 0x9FC00, 1),
                new LinuxBootLayout.E820(0x9FC00, 0x100000 - 0x9FC00, 2),
                new LinuxBootLayout.E820(0x100000, LinuxBootLayout.MMIO_HOLE_START - 0x100000, 1),
                new LinuxBootLayout.E820(1L << 32, ram - LinuxBootLayout.MMIO_HOLE_START, 1)),
                LinuxBootLayout.e820(ram));
        LinuxBootLayout big = LinuxBootLayout.plan(good(), 4096, "", ram);
        assertTrue(big.initrdGpa() < LinuxBootLayout.MMIO_HOLE_START, "initrd below the hole and initrd_addr_max");
    }

    @Test
    void nonRelocatableKernelGoesToItsPreferredAddress() {
        LinuxBootLayout l = LinuxBootLayout.plan(bzImage(b -> b.put(0x234, (byte) 0).putLong(0x258, 0x100000)),
                0, "", RAM);
        assertEquals(0x100000, l.kernel().get(0).gpa());
        assertEquals(0, l.initrdGpa());
    }

    private static void refused(byte[] image, long initrd, String cmdline, long ram, String expected) {
        EnclaveException e = assertThrows(EnclaveException.class,
                () -> LinuxBootLayout.plan(image, initrd, cmdline, ram));
        assertEquals(VmmErrors.INVALID_LINUX_IMAGE, e.code());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @Test
    void refusesWhatCannotBoot() {
        refused(new byte[100], 0, "", RAM, "too short");
        refused(bzImage(b -> b.putShort(0x1FE, (short) 0)), 0, "", RAM, "boot_flag");
        refused(bzImage(b -> b.putInt(0x202, 0)), 0, "", RAM, "HdrS");
        refused(bzImage(b -> b.putShort(0x206, (short) 0x205)), 0, "", RAM, "2.05");
        refused(bzImage(b -> b.put(0x211, (byte) 0)), 0, "", RAM, "LOADED_HIGH");
        refused(bzImage(b -> b.putShort(0x236, (short) 0)), 0, "", RAM, "XLF_KERNEL_64");
        refused(bzImage(b -> b.put(0x1F1, (byte) 200)), 0, "", RAM, "setup_sects");
        refused(bzImage(b -> b.putInt(0x1F4, KERNEL_BYTES)), 0, "", RAM, "syssize");
        refused(bzImage(b -> b.putInt(0x230, 3)), 0, "", RAM, "kernel_alignment");
        refused(good(), 0, "x".repeat(2049), RAM, "command line");
        refused(good(), RAM, "", RAM, "initrd");
        refused(good(), 0, "", 16L << 20, "guest RAM");
    }

    @Test
    void vmlinuxSegmentsGoToTheirPhysicalAddresses() {
        byte[] code = new byte[4096];
        byte[] elf = TestGuests.elf(code, 0x1000000, 0x1000000);
        ByteBuffer.wrap(elf).order(ByteOrder.LITTLE_ENDIAN).putLong(64 + 16, 0xffffffff81000000L); // p_vaddr
        LinuxBootLayout l = LinuxBootLayout.planVmlinux(elf, 8192, "root=/dev/vda", RAM);
        assertEquals(List.of(new LinuxBootLayout.KernelSegment(0x1000000, 120, 4096, 4096 + 64)), l.kernel());
        assertEquals(0x1000000, l.entry());
        ByteBuffer z = ByteBuffer.wrap(l.zeroPage()).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals((short) 0xAA55, z.getShort(0x1FE));
        assertEquals(0x53726448, z.getInt(0x202));
        assertEquals(LinuxBootLayout.CMDLINE_GPA, z.getInt(0x228));
        assertTrue(l.initrdGpa() > 0x1000000 + 4096);
        EnclaveException e = assertThrows(EnclaveException.class,
                () -> LinuxBootLayout.planVmlinux(TestGuests.elf(code, 0x1000, 0x1000), 0, "", RAM));
        assertTrue(e.getMessage().contains("between 1 MiB"), e.getMessage());
        assertThrows(EnclaveException.class, () -> LinuxBootLayout.planVmlinux(new byte[10], 0, "", RAM));
    }
}
