package org.enclaveruntime.testing;

import jnr.unixsocket.UnixDatagramChannel;
import jnr.unixsocket.UnixSocketAddress;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;

/**
 * The systemd side of sd_notify for tests: a Unix datagram socket bound at a path or, for a name "@name",
 * in the abstract namespace, that collects every datagram. Bound through jnr-unixsocket, a different
 * implementation from the one under test (the VMM's own libc calls).
 */
public final class NotifyReceiver implements AutoCloseable {
    private final String name;
    private final UnixDatagramChannel channel;
    private final BlockingQueue<String> arrived = new LinkedBlockingQueue<>();
    private final List<String> seen = new ArrayList<>();
    private final Thread reader;

    public NotifyReceiver(String name) throws IOException {
        this.name = name;
        channel = UnixDatagramChannel.open();
        channel.bind(new UnixSocketAddress(name.startsWith("@") ? "\0" + name.substring(1) : name));
        reader = new Thread(this::readAll, "notify-receiver");
        reader.setDaemon(true);
        reader.start();
    }

    /** What to set $NOTIFY_SOCKET to. */
    public String socketName() {
        return name;
    }

    private void readAll() {
        ByteBuffer buffer = ByteBuffer.allocate(4096);
        try {
            while (channel.isOpen()) {
                buffer.clear();
                channel.receive(buffer);
                buffer.flip();
                arrived.add(StandardCharsets.UTF_8.decode(buffer).toString());
            }
        } catch (IOException closed) {
            // the test is done
        }
    }

    /**
     * Waits for a datagram that matches, and returns it; fails with every datagram seen so far after the
     * timeout. Datagrams before the match stay in {@link #seen()}.
     */
    public String await(Predicate<String> wanted, long timeoutSeconds) throws InterruptedException {
        return await(wanted, timeoutSeconds, () -> false);
    }

    /** As {@link #await(Predicate, long)}, but gives up early, returning null, once {@code senderGone} holds. */
    public String await(Predicate<String> wanted, long timeoutSeconds, BooleanSupplier senderGone)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        while (true) {
            long left = deadline - System.nanoTime();
            String message = left > 0 ? arrived.poll(Math.min(left, TimeUnit.MILLISECONDS.toNanos(200)),
                    TimeUnit.NANOSECONDS) : null;
            if (message == null && left > 0) {
                if (senderGone.getAsBoolean() && arrived.isEmpty()) {
                    return null;
                }
                continue;
            }
            if (message == null) {
                throw new AssertionError("no matching notification within " + timeoutSeconds + " s; got " + seen());
            }
            synchronized (seen) {
                seen.add(message);
            }
            if (wanted.test(message)) {
                return message;
            }
        }
    }

    /** Every datagram taken so far, in order. */
    public List<String> seen() {
        synchronized (seen) {
            return List.copyOf(seen);
        }
    }

    /** Takes what has arrived without waiting, and returns everything seen. */
    public List<String> drain() {
        List<String> rest = new ArrayList<>();
        arrived.drainTo(rest);
        synchronized (seen) {
            seen.addAll(rest);
        }
        return seen();
    }

    @Override
    public void close() throws IOException {
        channel.close();
        reader.interrupt();
        if (!name.startsWith("@")) {
            Files.deleteIfExists(Path.of(name));
        }
    }
}
