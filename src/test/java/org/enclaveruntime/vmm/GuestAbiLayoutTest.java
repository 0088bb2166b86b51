package org.enclaveruntime.vmm;

import org.enclaveruntime.devices.HypercallPorts;
import org.enclaveruntime.devices.Serial8250;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static java.util.Map.entry;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every constant, field offset and struct size of src/guest/abi.h against the VMM's side of
 * docs/guest-abi.md: src/test/c/guest_abi_layout.c prints them from the header as gcc compiles it, this test
 * checks that it prints everything the header declares and that each equals its Java counterpart.
 */
class GuestAbiLayoutTest {
    private static final int BOOT_INFO_SIZE = GuestLayout.BOOT_INFO_MODULE_ARENA_SIZE_OFFSET + 8;

    /** The Java value of each name guest_abi_layout.c prints. */
    private static final Map<String, Long> JAVA = Map.ofEntries(
            entry("ABI_GDT_GPA", GuestLayout.GDT_GPA),
            entry("ABI_IDT_GPA", GuestLayout.IDT_GPA),
            entry("ABI_FAULT_STUB_GPA", GuestLayout.FAULT_STUB_GPA),
            entry("ABI_BOOT_INFO_GPA", GuestLayout.BOOT_INFO_GPA),
            entry("ABI_CONTROL_GPA", GuestLayout.CONTROL_GPA),
            entry("ABI_PAGE_TABLES_GPA", GuestLayout.PAGE_TABLES_GPA),
            entry("ABI_PAGE_TABLES_END", GuestLayout.PAGE_TABLES_END),
            entry("ABI_TSS_GPA", GuestLayout.TSS_GPA),
            entry("ABI_TSS_STRIDE", (long) GuestLayout.TSS_STRIDE),
            entry("ABI_IO_BITMAP_GPA", GuestLayout.IO_BITMAP_GPA),
            entry("ABI_FAULT_STACKS_GPA", GuestLayout.FAULT_STACKS_GPA),
            entry("ABI_FAULT_STACK_SIZE", (long) GuestLayout.FAULT_STACK_SIZE),
            entry("ABI_IMAGE_GPA", GuestLayout.IMAGE_GPA),
            entry("ABI_FLUSH_STACKS_GPA", GuestLayout.FLUSH_STACKS_GPA),
            entry("ABI_FLUSH_STACK_SIZE", (long) GuestLayout.FLUSH_STACK_SIZE),
            entry("ABI_FLUSH_VECTOR", (long) FaultStub.FLUSH_VECTOR),
            entry("PORT_MODMEM", (long) ModuleMemory.PORT),
            entry("MODMEM_OP_MAP", (long) ModuleMemory.OP_MAP),
            entry("MODMEM_OP_UNMAP", (long) ModuleMemory.OP_UNMAP),
            entry("MODMEM_R", (long) ModuleMemory.R),
            entry("MODMEM_W", (long) ModuleMemory.W),
            entry("MODMEM_X", (long) ModuleMemory.X),
            entry("MODMEM_E_OP", (long) ModuleMemory.E_OP),
            entry("MODMEM_E_RANGE", (long) ModuleMemory.E_RANGE),
            entry("MODMEM_E_SOURCE", (long) ModuleMemory.E_SOURCE),
            entry("MODMEM_E_STATE", (long) ModuleMemory.E_STATE),
            entry("MODMEM_E_REQUEST", (long) ModuleMemory.E_REQUEST),
            entry("MODMEM_LABEL_SIZE", (long) ModuleMemory.LABEL_BYTES),
            entry("boot_info.module_arena_gpa", (long) GuestLayout.BOOT_INFO_MODULE_ARENA_GPA_OFFSET),
            entry("boot_info.module_arena_size", (long) GuestLayout.BOOT_INFO_MODULE_ARENA_SIZE_OFFSET),
            entry("modmem_request.op", (long) ModuleMemory.OFFSET_OP),
            entry("modmem_request.rights", (long) ModuleMemory.OFFSET_RIGHTS),
            entry("modmem_request.dst", (long) ModuleMemory.OFFSET_DST),
            entry("modmem_request.length", (long) ModuleMemory.OFFSET_LENGTH),
            entry("modmem_request.src", (long) ModuleMemory.OFFSET_SRC),
            entry("modmem_request.tag", (long) ModuleMemory.OFFSET_TAG),
            entry("modmem_request.status", (long) ModuleMemory.OFFSET_STATUS),
            entry("modmem_request.label", (long) ModuleMemory.OFFSET_LABEL),
            entry("sizeof.modmem_request", (long) ModuleMemory.REQUEST_BYTES),
            entry("ABI_STACK_SLOT_SIZE", GuestLayout.STACK_SIZE),
            entry("ABI_STACK_GUARD_SIZE", GuestLayout.STACK_GUARD_SIZE),
            entry("ABI_SELECTOR_CODE0", (long) GuestLayout.SELECTOR_CODE0),
            entry("ABI_SELECTOR_DATA0", (long) GuestLayout.SELECTOR_DATA0),
            entry("ABI_SELECTOR_CODE3", (long) GuestLayout.SELECTOR_CODE3),
            entry("ABI_SELECTOR_DATA3", (long) GuestLayout.SELECTOR_DATA3),
            entry("ABI_SELECTOR_TSS", (long) GuestLayout.SELECTOR_TSS),
            entry("ABI_BOOT_INFO_MAGIC", (long) GuestLayout.BOOT_INFO_MAGIC),
            entry("ABI_BOOT_INFO_VERSION", (long) GuestLayout.BOOT_INFO_VERSION),
            entry("ABI_BOOT_FLAG_DEBUG", (long) GuestLayout.BOOT_FLAG_DEBUG),
            entry("ABI_BOOT_FLAG_SSE", (long) GuestLayout.BOOT_FLAG_SSE),
            entry("ABI_MAX_DEVICES", (long) GuestLayout.BOOT_INFO_MAX_DEVICES),
            entry("ABI_DEVICE_VSOCK", (long) GuestLayout.DEVICE_TYPE_VSOCK),
            entry("ABI_DEVICE_WINDOW_SIZE", GuestLayout.DEVICE_WINDOW_SIZE),
            entry("ABI_DEVICE_SLOT_SIZE", (long) GuestLayout.DEVICE_SLOT_SIZE),
            entry("ABI_UNCLAIMED_PAGE_OFFSET", (long) GuestLayout.UNCLAIMED_PAGE_OFFSET),
            entry("PORT_COM1", (long) Serial8250.COM1),
            entry("PORT_STATUS", (long) HypercallPorts.BASE + HypercallPorts.STATUS),
            entry("PORT_SHUTDOWN", (long) HypercallPorts.BASE + HypercallPorts.SHUTDOWN),
            entry("PORT_PANIC", (long) HypercallPorts.BASE + HypercallPorts.PANIC),
            entry("PORT_WAIT", (long) HypercallPorts.BASE + HypercallPorts.WAIT),
            entry("PORT_NOTIFY", (long) HypercallPorts.BASE + HypercallPorts.NOTIFY),
            entry("PORT_REPORT", (long) HypercallPorts.BASE + HypercallPorts.REPORT),
            entry("PORT_FAULT", (long) HypercallPorts.BASE + HypercallPorts.FAULT),
            entry("STATUS_READY", (long) HypercallPorts.STATUS_READY),
            entry("PANIC_MESSAGE_MAX", (long) HypercallPorts.PANIC_MESSAGE_MAX),
            entry("abi_device.type", (long) GuestLayout.BOOT_INFO_DEVICE_TYPE_OFFSET),
            entry("abi_device.reserved", 4L),
            entry("abi_device.mmio_gpa", (long) GuestLayout.BOOT_INFO_DEVICE_MMIO_GPA_OFFSET),
            entry("sizeof.abi_device", (long) GuestLayout.BOOT_INFO_DEVICE_SIZE),
            entry("boot_info.magic", (long) GuestLayout.BOOT_INFO_MAGIC_OFFSET),
            entry("boot_info.version", (long) GuestLayout.BOOT_INFO_VERSION_OFFSET),
            entry("boot_info.vcpu_count", (long) GuestLayout.BOOT_INFO_VCPU_COUNT_OFFSET),
            entry("boot_info.flags", (long) GuestLayout.BOOT_INFO_FLAGS_OFFSET),
            entry("boot_info.ram_size", (long) GuestLayout.BOOT_INFO_RAM_SIZE_OFFSET),
            entry("boot_info.image_end", (long) GuestLayout.BOOT_INFO_IMAGE_END_OFFSET),
            entry("boot_info.stack_size", (long) GuestLayout.BOOT_INFO_STACK_SIZE_OFFSET),
            entry("boot_info.cid", (long) GuestLayout.BOOT_INFO_CID_OFFSET),
            entry("boot_info.device_count", (long) GuestLayout.BOOT_INFO_DEVICE_COUNT_OFFSET),
            entry("boot_info.devices", (long) GuestLayout.BOOT_INFO_DEVICES_OFFSET),
            entry("sizeof.boot_info", (long) BOOT_INFO_SIZE),
            entry("control_page.shutdown_requested", (long) GuestLayout.CONTROL_SHUTDOWN_REQUESTED),
            entry("control_page.online_vcpus", (long) GuestLayout.CONTROL_ONLINE_VCPUS),
            entry("sizeof.control_page", 8L));

    private static final Pattern DEFINE = Pattern.compile("^#define[ \\t]+(\\w+)[ \\t]+\\S", Pattern.MULTILINE);
    private static final Pattern STRUCT = Pattern.compile("^struct (\\w+) \\{(.*?)^\\};", Pattern.MULTILINE
            | Pattern.DOTALL);
    private static final Pattern FIELD = Pattern.compile("^\\s*[\\w ]+?\\s(\\w+)(\\[[^\\]]*\\])?;", Pattern.MULTILINE);

    @Test
    void everyDeclarationOfAbiHMatchesTheVmm() throws Exception {
        Path project = Path.of(System.getProperty("enclave.project.dir", "."));
        Map<String, Long> c = compileAndRun(project);
        TreeSet<String> declared = declaredIn(Files.readString(project.resolve("src/guest/abi.h")));
        assertTrue(declared.size() > 50, "found only " + declared.size() + " declarations in abi.h: " + declared);
        for (String name : declared) {
            assertTrue(c.containsKey(name), "abi.h declares " + name + ", which guest_abi_layout.c does not print");
        }
        for (Map.Entry<String, Long> e : c.entrySet()) {
            assertTrue(JAVA.containsKey(e.getKey()), e.getKey() + " has no Java counterpart in this test");
            assertEquals(e.getValue(), JAVA.get(e.getKey()), e.getKey() + ": abi.h vs the VMM");
        }
        assertEquals(new TreeSet<>(JAVA.keySet()), new TreeSet<>(c.keySet()), "names printed vs names compared");
    }

    /** Macros (but the include guard), struct fields as struct.field and struct sizes as sizeof.struct. */
    static TreeSet<String> declaredIn(String header) {
        TreeSet<String> names = new TreeSet<>();
        Matcher d = DEFINE.matcher(header);
        while (d.find()) {
            names.add(d.group(1));
        }
        Matcher s = STRUCT.matcher(header);
        while (s.find()) {
            names.add("sizeof." + s.group(1));
            Matcher f = FIELD.matcher(s.group(2));
            while (f.find()) {
                names.add(s.group(1) + "." + f.group(1));
            }
        }
        return names;
    }

    private static Map<String, Long> compileAndRun(Path project) throws IOException, InterruptedException {
        Path build = Path.of(System.getProperty("enclave.build.dir", "target"));
        Files.createDirectories(build);
        Path exe = build.resolve("guest_abi_layout");
        run(new ProcessBuilder("gcc", "-std=gnu11", "-Wall", "-Wextra", "-Werror", "-I",
                project.resolve("src/guest").toString(), "-o", exe.toString(),
                project.resolve("src/test/c/guest_abi_layout.c").toString()));
        Map<String, Long> values = new TreeMap<>();
        for (String line : run(new ProcessBuilder(exe.toString())).split("\n")) {
            String[] parts = line.trim().split(" ");
            if (parts.length == 2) {
                assertEquals(null, values.put(parts[0], Long.parseUnsignedLong(parts[1])), "printed twice: " + parts[0]);
            }
        }
        return values;
    }

    private static String run(ProcessBuilder pb) throws IOException, InterruptedException {
        Process p = pb.redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "timed out: " + pb.command());
        assertEquals(0, p.exitValue(), pb.command() + " failed:\n" + out);
        return out;
    }
}
