package org.enclaveruntime.devices.virtio;

import org.enclaveruntime.memory.GuestMemory;
import org.enclaveruntime.memory.MemoryBacking;

/**
 * What one chain costs the device: publish (the test's driver side), pop with every check, pushUsed, for
 * chains of 2 and of 16 descriptors. A benchmark, not a test (docs/performance.md):
 * {@code java -cp target/enclavectl.jar:target/test-classes org.enclaveruntime.devices.virtio.VirtqueueBench}.
 */
public final class VirtqueueBench {
    private VirtqueueBench() {
    }

    public static void main(String[] args) throws Exception {
        int chains = args.length > 0 ? Integer.parseInt(args[0]) : 10_000_000;
        try (GuestMemory memory = GuestMemory.create(4L << 20, MemoryBacking.ORDINARY)) {
            for (int length : new int[] {2, 16}) {
                TestRings rings = new TestRings(memory, 256, 0x10_0000, 0x11_0000, 0x12_0000);
                for (int i = 0; i < length; i++) {
                    int flags = (i < length - 1 ? Virtqueue.VIRTQ_DESC_F_NEXT : 0)
                            | (i >= length / 2 ? Virtqueue.VIRTQ_DESC_F_WRITE : 0);
                    rings.desc(i, 0x20_0000 + 4096L * i, 4096, flags, i + 1);
                }
                Virtqueue queue = rings.queue(0);
                DescriptorChain chain = new DescriptorChain(256);
                for (int round = 0; round < 3; round++) {
                    long start = System.nanoTime();
                    long bytes = 0;
                    for (int n = 0; n < chains; n++) {
                        rings.publish(0);
                        queue.pop(chain);
                        bytes += chain.readableLength();
                        queue.pushUsed(chain.head(), 0);
                    }
                    double ns = (System.nanoTime() - start) / (double) chains;
                    System.out.printf("%2d descriptors per chain, round %d: %.0f ns per chain (%.1f M chains/s)%s%n",
                            length, round, ns, 1e3 / ns, bytes == 0 ? " ?" : "");
                }
            }
        }
    }
}
