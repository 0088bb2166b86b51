package org.enclaveruntime.vsock;

import org.enclaveruntime.devices.GuestLog;
import org.enclaveruntime.devices.virtio.VirtioMmio;
import org.enclaveruntime.linux.LibC;
import org.enclaveruntime.linux.Native;
import org.enclaveruntime.memory.GuestMemory;
import org.enclaveruntime.memory.MemoryBacking;
import org.enclaveruntime.vsock.TestGuestDriver.Packet;

import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The device and bridge alone, without KVM: {@link TestGuestDriver} plays the guest on a Java thread (it copies
 * every payload into a byte array, so these are lower bounds of the device). One stream each way through a
 * bridged connection. Not a test; run by hand:
 * java -cp target/enclavectl.jar:target/test-classes org.enclaveruntime.vsock.VsockDeviceBench [MiB]
 */
public final class VsockDeviceBench {
    private static final int PORT = 5000;

    public static void main(String[] args) throws Exception {
        long mib = args.length > 0 ? Long.parseLong(args[0]) : 512;
        Path dir = Files.createTempDirectory("vsockbench");
        Path socket = dir.resolve("v.sock");
        int notifyFd = LibC.INSTANCE.eventfd(0, Native.EFD_NONBLOCK | Native.EFD_CLOEXEC);
        try (GuestMemory memory = GuestMemory.create(TestGuestDriver.MEMORY_SIZE, new MemoryBacking.Ordinary());
             GuestLog log = new GuestLog();
             VsockDevice device = new VsockDevice(memory, TestGuestDriver.CID, VsockSettings.of(socket, null),
                     notifyFd, () -> { }, () -> { }, log)) {
            VirtioMmio mmio = new VirtioMmio("virtio-vsock", device, memory, log);
            device.start();
            TestGuestDriver guest = new TestGuestDriver(memory, notifyFd);
            guest.setUp(mmio);
            guest.postRxBuffers();
            deviceCpu();
            for (int round = 0; round < 3; round++) {
                hostToGuest(socket, guest, mib);
                guestToHost(socket, guest, mib);
            }
            System.out.printf("notifications %d (guest kicks %d)%n", device.notifications(), guest.notifies());
        } finally {
            LibC.INSTANCE.close(notifyFd);
            Files.deleteIfExists(socket);
            Files.deleteIfExists(dir);
        }
    }

    private static long lastCpu;

    /** CPU time the "vsock" thread used since the last call: where the time goes, device or test guest. */
    private static long deviceCpu() {
        var threads = java.lang.management.ManagementFactory.getThreadMXBean();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().equals("vsock")) {
                long cpu = threads.getThreadCpuTime(t.getId());
                long used = cpu - lastCpu;
                lastCpu = cpu;
                return used;
            }
        }
        return 0;
    }

    private static SocketChannel connect(Path socket, TestGuestDriver guest, long[] hostPort) throws Exception {
        SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(socket));
        c.write(StandardCharsets.US_ASCII.encode("CONNECT " + PORT + "\n"));
        Packet request = guest.expect(Duration.ofSeconds(10));
        hostPort[0] = request.srcPort();
        guest.send(PORT, request.srcPort(), VsockHeader.OP_RESPONSE, 0, 0, new byte[0]);
        ByteBuffer line = ByteBuffer.allocate(32);
        while (line.position() == 0 || line.get(line.position() - 1) != '\n') {
            c.read(line);
        }
        return c;
    }

    private static void hostToGuest(Path socket, TestGuestDriver guest, long mib) throws Exception {
        long[] port = new long[1];
        SocketChannel c = connect(socket, guest, port);
        long total = mib << 20;
        Thread writer = new Thread(() -> {
            ByteBuffer chunk = ByteBuffer.allocateDirect(1 << 20);
            try {
                for (long sent = 0; sent < total; sent += chunk.capacity()) {
                    chunk.clear();
                    while (chunk.hasRemaining()) {
                        c.write(chunk);
                    }
                }
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        long t0 = System.nanoTime();
        writer.start();
        long got = 0;
        long told = 0;
        while (got < total) {
            Packet p = guest.expect(Duration.ofSeconds(10));
            got += p.payload().length;
            if (got - told >= TestGuestDriver.GUEST_BUF_ALLOC / 2) {
                guest.send(PORT, port[0], VsockHeader.OP_CREDIT_UPDATE, 0, (int) got, new byte[0]);
                told = got;
            }
        }
        long ns = System.nanoTime() - t0;
        writer.join();
        System.out.printf("host -> guest  %6.2f GB/s (%d MiB), vsock thread busy %3.0f%%%n", total / (double) ns, mib,
                deviceCpu() * 100.0 / ns);
        close(c, guest, port[0], (int) got);
    }

    private static void guestToHost(Path socket, TestGuestDriver guest, long mib) throws Exception {
        long[] port = new long[1];
        SocketChannel c = connect(socket, guest, port);
        long total = mib << 20;
        long[] received = new long[1];
        Thread reader = new Thread(() -> {
            ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
            try {
                while (received[0] < total) {
                    buf.clear();
                    int n = c.read(buf);
                    if (n < 0) {
                        return;
                    }
                    received[0] += n;
                }
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        byte[] payload = new byte[64 * 1024 - VsockHeader.SIZE];
        long t0 = System.nanoTime();
        reader.start();
        long sent = 0;
        int fwd = 0;
        while (sent < total) {
            Packet p;
            while ((p = guest.poll(Duration.ZERO)) != null) {
                fwd = p.fwdCnt();
            }
            int n = (int) Math.min(payload.length, total - sent);
            if (VsockSettings.BUF_ALLOC - (sent - (fwd & 0xffffffffL)) >= n || sent < 0) {
                guest.send(PORT, port[0], VsockHeader.OP_RW, 0, 0, n == payload.length ? payload : new byte[n]);
                sent += n;
            } else {
                Thread.onSpinWait();
            }
        }
        reader.join();
        long ns = System.nanoTime() - t0;
        System.out.printf("guest -> host  %6.2f GB/s (%d MiB), vsock thread busy %3.0f%%%n", total / (double) ns, mib,
                deviceCpu() * 100.0 / ns);
        close(c, guest, port[0], 0);
    }

    private static void close(SocketChannel c, TestGuestDriver guest, long hostPort, int fwd) throws Exception {
        guest.send(PORT, hostPort, VsockHeader.OP_SHUTDOWN, VsockHeader.SHUTDOWN_BOTH, fwd, new byte[0]);
        c.close();
        Packet p;
        while ((p = guest.poll(Duration.ofMillis(200))) != null) {
            if (p.op() == VsockHeader.OP_SHUTDOWN || p.op() == VsockHeader.OP_RST) {
                break;
            }
        }
    }
}
