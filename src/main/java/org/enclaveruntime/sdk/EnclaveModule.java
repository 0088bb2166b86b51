package org.enclaveruntime.sdk;

import org.enclaveruntime.config.ConfigLoader;
import org.enclaveruntime.config.ConfigOverrides;
import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.errors.IoReason;
import org.enclaveruntime.module.ModuleErrors;
import org.enclaveruntime.module.SignedModule;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A signed module loaded into the running enclave, and the host's way to call it: the Java counterpart of an
 * SGX enclave id with sgx_create_enclave, ECALLs and sgx_destroy_enclave (docs/sdk.md). The module lives while
 * this object is open: it holds the connection that loaded it, and the enclave unloads (and scrubs) the module
 * when that connection closes.
 *
 * <p>Thread-safe. Each calling thread gets its own call connection (the role of an SGX TCS), opened at its first
 * call; calls on different threads run in parallel in the enclave up to the module's TCSNum, further ones wait
 * there. OCALLs the module makes run their handler on the calling thread.
 *
 * <p>Failures are {@link EnclaveCallException}s carrying an sgx_status_t value ({@link EnclaveStatus}). When the
 * enclave ends (crash, stop), the calls in flight get ENCLAVE_CRASHED and every later one ENCLAVE_LOST.
 */
public final class EnclaveModule implements AutoCloseable {
    /** The enclave's module service (vsock port). */
    public static final int PORT = 7000;
    /** The most bytes one ECALL may send or take back (the payload limit less the out_capacity field). */
    public static final int MAX_CALL_BYTES = MessageType.LIMIT - 4;
    /** The largest signed module file one LOAD carries. */
    public static final int MAX_MODULE_BYTES = MessageType.LOAD_LIMIT;

    private static final Logger LOG = LoggerFactory.getLogger(EnclaveModule.class);

    /**
     * @param stallTimeout  the most time the enclave may go without sending (or taking) a byte of a message under
     *                      way, and the bound for the bridge's answer, ATTACHED and UNLOADED
     * @param loadTimeout   the most time the enclave may take to answer a LOAD (it hashes and verifies the module)
     * @param callTimeout   the most time an ECALL (or the wait between its OCALLs) may take; {@link Duration#ZERO}
     *                      for no bound, the default: trusted code may rightly run long, and an enclave that ends
     *                      closes the connection, which ends the wait anyway
     * @param checkLocally  check the file on the host first (docs/module-format.md "Verifying a signed module"),
     *                      for an early error naming the rule; the enclave checks it again in any case
     */
    public record Options(Duration stallTimeout, Duration loadTimeout, Duration callTimeout, boolean checkLocally) {
        public static final Options DEFAULT = new Options(Duration.ofSeconds(10), Duration.ofSeconds(60),
                Duration.ZERO, true);

        public Options {
            Objects.requireNonNull(stallTimeout, "stallTimeout");
            Objects.requireNonNull(loadTimeout, "loadTimeout");
            Objects.requireNonNull(callTimeout, "callTimeout");
            if (stallTimeout.isNegative() || stallTimeout.isZero() || loadTimeout.isNegative() || loadTimeout.isZero()
                    || callTimeout.isNegative()) {
                throw new IllegalArgumentException("timeouts must be positive (callTimeout may be zero: no bound)");
            }
        }

        public Options withStallTimeout(Duration d) {
            return new Options(d, loadTimeout, callTimeout, checkLocally);
        }

        public Options withLoadTimeout(Duration d) {
            return new Options(stallTimeout, d, callTimeout, checkLocally);
        }

        public Options withCallTimeout(Duration d) {
            return new Options(stallTimeout, loadTimeout, d, checkLocally);
        }

        public Options withCheckLocally(boolean check) {
            return new Options(stallTimeout, loadTimeout, callTimeout, check);
        }

        Duration callWait() {
            return callTimeout.isZero() ? null : callTimeout;
        }
    }

    private enum State { OPEN, LOST, CLOSED }

    private final String origin;
    private final Path socket;
    private final Options options;
    private final FrameChannel moduleChannel;
    private final LoadedModule loaded;
    private final Map<Thread, CallConnection> connections = new ConcurrentHashMap<>();
    private final Map<Integer, OcallHandler> handlers = new ConcurrentHashMap<>();
    private volatile State state = State.OPEN;
    private volatile String lostBecause;

    private EnclaveModule(String origin, Path socket, Options options, FrameChannel moduleChannel, LoadedModule loaded) {
        this.origin = origin;
        this.socket = socket;
        this.options = options;
        this.moduleChannel = moduleChannel;
        this.loaded = loaded;
    }

    /**
     * Loads {@code signedModule} into the enclave that the configuration names: `[vsock] socket` of the file in
     * $ENCLAVE_CONF, else /etc/enclave.conf, else the default /run/enclave/vsock.sock, as enclavectl finds it.
     *
     * @throws EnclaveCallException the module is refused (on the host or by the enclave) or the enclave cannot
     *                              be reached
     * @throws EnclaveException     the configuration file is invalid (E2xx, naming the line at fault)
     */
    public static EnclaveModule load(Path signedModule) {
        return load(signedModule, configuredSocket(), Options.DEFAULT);
    }

    /** Loads {@code signedModule} into the enclave whose vsock bridge listens at {@code socket}. */
    public static EnclaveModule load(Path signedModule, Path socket) {
        return load(signedModule, socket, Options.DEFAULT);
    }

    public static EnclaveModule load(Path signedModule, Path socket, Options options) {
        byte[] bytes = readModule(signedModule, options.checkLocally());
        return load(bytes, signedModule.toString(), socket, options);
    }

    /** The enclave's socket as enclavectl finds it ($ENCLAVE_CONF, /etc/enclave.conf, the default). */
    public static Path configuredSocket() {
        return ConfigLoader.load(null, System.getenv(), ConfigOverrides.NONE).config().vsockSocket();
    }

    /** Sends {@code bytes} as they are (no host check) and waits for the loader's answer. */
    static EnclaveModule load(byte[] bytes, String origin, Path socket, Options options) {
        if (bytes.length > MAX_MODULE_BYTES) {
            throw new EnclaveCallException(EnclaveStatus.OUT_OF_EPC, origin + " is " + bytes.length + " bytes; a "
                    + "module loaded into the enclave may have at most " + MAX_MODULE_BYTES);
        }
        FrameChannel ch = FrameChannel.connect(socket, PORT, options.stallTimeout());
        try {
            ch.send(MessageType.LOAD, 0, ByteBuffer.wrap(bytes));
            FrameHeader h = ch.receive(options.loadTimeout(), "the answer to LOAD");
            return switch (h.type()) {
                case LOADED -> {
                    byte[] payload = ch.readPayload(h.length(), "LOADED");
                    if (h.arg() != EnclaveStatus.SUCCESS.code()) {
                        throw new EnclaveCallException(h.arg(), origin + ": the enclave refused the module with "
                                + EnclaveStatus.describe(h.arg()) + ": " + text(payload), null);
                    }
                    yield new EnclaveModule(origin, socket, options, ch, LoadedModule.decode(payload));
                }
                case ERROR -> throw errorMessage(ch, h, "LOAD of " + origin);
                default -> throw WireException.protocol(h + " in answer to LOAD");
            };
        } catch (WireException e) {
            ch.close();
            throw switch (e.kind) {
                case CLOSED -> new EnclaveCallException(EnclaveStatus.ENCLAVE_CRASHED, origin + ": " + e.getMessage()
                        + " (did the enclave end? `enclavectl status`)", e);
                case TIMEOUT -> new EnclaveCallException(EnclaveStatus.SERVICE_TIMEOUT, origin + ": " + e.getMessage(), e);
                case PROTOCOL, CLOSED_HERE -> new EnclaveCallException(EnclaveStatus.UNEXPECTED, origin + ": "
                        + e.getMessage(), e);
            };
        } catch (RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    private static byte[] readModule(Path file, boolean check) {
        byte[] bytes;
        try {
            if (!Files.isRegularFile(file)) {
                throw new EnclaveCallException(EnclaveStatus.ENCLAVE_FILE_ACCESS, file + " is not a regular file"
                        + (Files.exists(file) ? "" : " (it does not exist)"));
            }
            long size = Files.size(file);
            if (size > MAX_MODULE_BYTES) {
                throw new EnclaveCallException(EnclaveStatus.OUT_OF_EPC, file + " is " + size + " bytes; a module "
                        + "loaded into the enclave may have at most " + MAX_MODULE_BYTES);
            }
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new EnclaveCallException(EnclaveStatus.ENCLAVE_FILE_ACCESS, file + ": " + IoReason.of(e), e);
        }
        if (check) {
            try {
                SignedModule.parse(bytes, file.toString()).requireSigned();
            } catch (EnclaveException e) {
                throw new EnclaveCallException(statusOf(e), e.code().id() + ": " + e.getMessage()
                        + " (`enclavectl explain " + e.code().id() + "`)", e);
            }
        }
        return bytes;
    }

    /** The status the enclave's loader gives for what the host's check found (src/guest/modsvc.c load_status). */
    static EnclaveStatus statusOf(EnclaveException e) {
        var c = e.code();
        if (c == ModuleErrors.UNREADABLE) {
            return EnclaveStatus.ENCLAVE_FILE_ACCESS;
        } else if (c == ModuleErrors.TOO_LARGE) {
            return EnclaveStatus.INVALID_METADATA;
        } else if (c == ModuleErrors.MEASUREMENT_MISMATCH || c == ModuleErrors.BAD_SIGNATURE
                || c == ModuleErrors.WRONG_SIGNER || c == ModuleErrors.BAD_SIGNATURE_BLOCK
                || c == ModuleErrors.NOT_SIGNED) {
            return EnclaveStatus.INVALID_SIGNATURE;
        } else if (c == ModuleErrors.BAD_CONFIG || c == ModuleErrors.NOT_A_MODULE || c == ModuleErrors.BAD_SEGMENTS || c == ModuleErrors.BAD_DYNAMIC
                || c == ModuleErrors.TEXT_RELOCATION || c == ModuleErrors.UNSUPPORTED_RELOCATION) {
            return EnclaveStatus.INVALID_ENCLAVE;
        }
        return EnclaveStatus.UNEXPECTED;
    }

    /** The loader's report: module id, TCSNum, MRENCLAVE, MRSIGNER, ... as the enclave computed them. */
    public LoadedModule loaded() {
        return loaded;
    }

    /** Where the module came from (its path), for messages. */
    public String origin() {
        return origin;
    }

    /**
     * Registers the handler of OCALL {@code index} (replacing any before). An OCALL without a handler fails in
     * the module with INVALID_FUNCTION.
     */
    public void onOcall(int index, OcallHandler handler) {
        if (index < 0) {
            throw new IllegalArgumentException("OCALL index " + index + " is negative");
        }
        handlers.put(index, Objects.requireNonNull(handler, "handler"));
    }

    /**
     * Calls ECALL {@code index} with {@code in} and returns its out bytes (at most {@code outCapacity}).
     *
     * @throws EnclaveCallException the ECALL returned a status other than SUCCESS (its value in
     *                              {@link EnclaveCallException#code()}), or the call could not be made
     */
    public byte[] call(int index, byte[] in, int outCapacity) {
        Objects.requireNonNull(in, "in");
        ByteBuffer out = connection(index, in.length, outCapacity).ecall(index, ByteBuffer.wrap(in), outCapacity, null);
        return out.array();
    }

    /**
     * Calls ECALL {@code index} with {@code in}'s remaining bytes (its position moves to its limit) and puts the
     * out bytes into {@code out} at its position (at most {@code out.remaining()}; the position moves past them).
     * Direct buffers go to and from the socket without a copy.
     *
     * @return the number of out bytes
     */
    public int call(int index, ByteBuffer in, ByteBuffer out) {
        int before = out.position();
        connection(index, in.remaining(), out.remaining()).ecall(index, in, out.remaining(), out);
        return out.position() - before;
    }

    private CallConnection connection(int index, int inBytes, int outCapacity) {
        if (index < 0) {
            throw new EnclaveCallException(EnclaveStatus.INVALID_PARAMETER, "ECALL index " + index + " is negative");
        }
        if (inBytes > MAX_CALL_BYTES || outCapacity < 0 || outCapacity > MAX_CALL_BYTES) {
            throw new EnclaveCallException(EnclaveStatus.INVALID_PARAMETER, "ECALL " + index + " with " + inBytes
                    + " bytes in and room for " + outCapacity + " out; each may be 0 to " + MAX_CALL_BYTES);
        }
        requireUsable();
        Thread me = Thread.currentThread();
        CallConnection c = connections.get(me);
        if (c != null && c.inOcall) {
            throw new EnclaveCallException(EnclaveStatus.ECALL_NOT_ALLOWED, "ECALL " + index + " of " + origin
                    + " from inside an OCALL handler of the same module on the same thread: nested ECALLs are not "
                    + "supported (make the call from another thread, or after the OCALL returns)");
        }
        if (c == null) {
            c = attach();
            connections.put(me, c);
            if (state != State.OPEN) {
                // close() ran between the check above and the put: it may not have seen this connection.
                drop(me, c);
                requireUsable();
            }
            forgetEndedThreads();
        }
        return c;
    }

    private void requireUsable() {
        switch (state) {
            case CLOSED -> throw new EnclaveCallException(EnclaveStatus.INVALID_ENCLAVE_ID, origin + " is closed "
                    + "(the enclave unloaded it); load it again");
            case LOST -> throw new EnclaveCallException(EnclaveStatus.ENCLAVE_LOST, origin + ": the enclave was lost: "
                    + lostBecause + "; close this module and load it again once the enclave runs");
            case OPEN -> {
            }
        }
    }

    /** Connections of threads that ended are closed at the next new connection, not kept until close(). */
    private void forgetEndedThreads() {
        connections.forEach((t, c) -> {
            if (!t.isAlive()) {
                drop(t, c);
            }
        });
    }

    private void drop(Thread t, CallConnection c) {
        connections.remove(t, c);
        c.channel.close();
    }

    private CallConnection attach() {
        // Module ids start again from 1 in a restarted enclave: a stale id must not reach another application's
        // module, so a new call connection first makes sure the connection that loaded this one still lives.
        boolean moduleGone;
        synchronized (moduleChannel) {
            moduleGone = state == State.OPEN && moduleChannel.endedByPeer();
        }
        if (moduleGone) {
            markLost("the enclave closed the connection that loaded the module");
            requireUsable();
        }
        FrameChannel ch = FrameChannel.connect(socket, PORT, options.stallTimeout());
        try {
            ch.send(MessageType.ATTACH, loaded.moduleId());
            FrameHeader h = ch.receive(options.stallTimeout(), "the answer to ATTACH");
            switch (h.type()) {
                case ATTACHED -> {
                    if (h.length() != 0) {
                        throw WireException.protocol("an ATTACHED message with a payload of " + h.length() + " bytes");
                    }
                    if (h.arg() != EnclaveStatus.SUCCESS.code()) {
                        throw new EnclaveCallException(h.arg(), origin + ": the enclave refused a call connection with "
                                + EnclaveStatus.describe(h.arg()), null);
                    }
                    return new CallConnection(ch);
                }
                case ERROR -> throw errorMessage(ch, h, "ATTACH to " + origin);
                default -> throw WireException.protocol(h + " in answer to ATTACH");
            }
        } catch (WireException e) {
            ch.close();
            if (e.kind == WireException.Kind.CLOSED && state == State.OPEN) {
                synchronized (moduleChannel) {
                    if (!moduleChannel.endedByPeer()) {
                        // The enclave lives but closed this connection at once: it serves 64 connections at most.
                        throw new EnclaveCallException(EnclaveStatus.SERVICE_UNAVAILABLE, origin + ": the enclave "
                                + "closed a new call connection at once while the module stays loaded: it serves at "
                                + "most 64 connections to port " + PORT + "; use fewer threads or try again", e);
                    }
                }
            }
            throw callFailure(e, "attaching a call connection", false);
        } catch (RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /** An ERROR message's status and reason; the enclave closes the connection after it. */
    private static EnclaveCallException errorMessage(FrameChannel ch, FrameHeader h, String during)
            throws WireException {
        String reason = text(ch.readPayload(h.length(), "ERROR"));
        return new EnclaveCallException(h.arg(), "the enclave ended the connection during " + during + " with "
                + EnclaveStatus.describe(h.arg()) + (reason.isEmpty() ? "" : ": " + reason), null);
    }

    private static String text(byte[] utf8) {
        return new String(utf8, StandardCharsets.UTF_8);
    }

    /**
     * The status of a broken connection: ours (closed here), the enclave's end (the first call to see it gets
     * ENCLAVE_CRASHED if its request had gone out, every later one ENCLAVE_LOST), a timeout or a protocol breach.
     */
    private EnclaveCallException callFailure(WireException e, String during, boolean inFlight) {
        return switch (e.kind) {
            case CLOSED_HERE -> new EnclaveCallException(EnclaveStatus.INVALID_ENCLAVE_ID, origin + " was closed "
                    + "while " + during, e);
            case CLOSED -> {
                if (state == State.CLOSED) {
                    yield new EnclaveCallException(EnclaveStatus.INVALID_ENCLAVE_ID, origin + " was closed while "
                            + during, e);
                }
                markLost(e.getMessage());
                yield inFlight
                        ? new EnclaveCallException(EnclaveStatus.ENCLAVE_CRASHED, origin + ": " + e.getMessage()
                        + " while " + during + ": the enclave ended (`enclavectl status` says why); later calls get "
                        + "ENCLAVE_LOST", e)
                        : new EnclaveCallException(EnclaveStatus.ENCLAVE_LOST, origin + ": " + e.getMessage()
                        + " while " + during + ": the enclave ended (`enclavectl status` says why)", e);
            }
            case TIMEOUT -> new EnclaveCallException(EnclaveStatus.SERVICE_TIMEOUT, origin + ": " + e.getMessage()
                    + " (" + during + "); this thread's call connection is closed, the module stays loaded", e);
            case PROTOCOL -> new EnclaveCallException(EnclaveStatus.UNEXPECTED, origin + ": " + e.getMessage()
                    + " while " + during + "; this thread's call connection is closed", e);
        };
    }

    private synchronized void markLost(String why) {
        if (state == State.OPEN) {
            lostBecause = why;
            state = State.LOST;
        }
    }

    /**
     * Unloads the module: closes every call connection (a call in flight on another thread fails with
     * INVALID_ENCLAVE_ID), sends UNLOAD and waits for UNLOADED (at most the stall timeout: the enclave unloads
     * once no call runs in the module), and closes the module connection, after which the enclave scrubs the
     * module's memory in any case. Closing twice does nothing.
     */
    @Override
    public void close() {
        State was;
        synchronized (this) {
            was = state;
            if (was == State.CLOSED) {
                return;
            }
            state = State.CLOSED;
        }
        connections.forEach(this::drop);
        try {
            if (was == State.OPEN) {
                synchronized (moduleChannel) { // attach()'s liveness check must not read UNLOADED's bytes
                    moduleChannel.send(MessageType.UNLOAD, loaded.moduleId());
                    FrameHeader h = moduleChannel.receive(options.stallTimeout(), "the answer to UNLOAD");
                    byte[] payload = moduleChannel.readPayload(h.length(), h.type().toString());
                    if (h.type() != MessageType.UNLOADED || h.arg() != EnclaveStatus.SUCCESS.code()) {
                        LOG.debug("{}: UNLOAD answered with {} {} {}", origin, h.type(),
                                EnclaveStatus.describe(h.arg()), text(payload));
                    }
                }
            }
        } catch (WireException e) {
            LOG.debug("{}: no UNLOADED ({}); the enclave unloads the module when its connection closes", origin,
                    e.getMessage());
        } finally {
            moduleChannel.close();
        }
    }

    /** One thread's call connection; only its thread uses it, {@link #close} may close it from another. */
    private final class CallConnection {
        final FrameChannel channel;
        /** Set while an OCALL handler runs on this connection's thread: an ECALL now would be nested. */
        volatile boolean inOcall;
        private final ByteBuffer outCapacityField = ByteBuffer.allocateDirect(4).order(java.nio.ByteOrder.LITTLE_ENDIAN);

        CallConnection(FrameChannel channel) {
            this.channel = channel;
        }

        /** Out bytes into {@code out} (its position advances), or a new heap buffer when {@code out} is null. */
        ByteBuffer ecall(int index, ByteBuffer in, int outCapacity, ByteBuffer out) {
            Thread me = Thread.currentThread();
            boolean sent = false;
            try {
                outCapacityField.clear().putInt(0, outCapacity);
                channel.send(MessageType.ECALL, index, outCapacityField, in);
                sent = true;
                while (true) {
                    FrameHeader h = channel.receive(options.callWait(), "the answer to ECALL " + index);
                    switch (h.type()) {
                        case ECALL_RETURN -> {
                            return ecallReturn(index, h, outCapacity, out);
                        }
                        case OCALL -> ocall(h);
                        case ERROR -> {
                            EnclaveCallException refused = errorMessage(channel, h, "ECALL " + index + " of " + origin);
                            drop(me, this);
                            throw refused;
                        }
                        default -> throw WireException.protocol(h + " during ECALL " + index);
                    }
                }
            } catch (WireException e) {
                drop(me, this);
                throw callFailure(e, "ECALL " + index + " ran", sent);
            } catch (EnclaveCallException e) {
                // The module's own status, ECALL_RETURN read whole, or an ERROR (connection already dropped).
                throw e;
            } catch (RuntimeException | Error e) {
                // Out of step with the enclave (a handler's Error, a bug): this connection cannot be used again.
                drop(me, this);
                throw e;
            }
        }

        private ByteBuffer ecallReturn(int index, FrameHeader h, int outCapacity, ByteBuffer out) throws WireException {
            if (h.length() > outCapacity) {
                throw WireException.protocol("ECALL_RETURN with " + h.length() + " out bytes for ECALL " + index
                        + ", more than its out capacity " + outCapacity);
            }
            if (h.arg() != EnclaveStatus.SUCCESS.code()) {
                channel.readPayload(h.length(), "ECALL_RETURN");
                throw new EnclaveCallException(h.arg(), "ECALL " + index + " of " + origin + " returned "
                        + EnclaveStatus.describe(h.arg()), null);
            }
            if (out == null) {
                ByteBuffer result = ByteBuffer.allocate(h.length());
                channel.readPayload(result, "ECALL_RETURN");
                return result;
            }
            ByteBuffer window = out.duplicate();
            window.limit(window.position() + h.length());
            channel.readPayload(window, "ECALL_RETURN");
            out.position(window.position());
            return out;
        }

        /** Runs the handler of an OCALL message (its header read) and sends OCALL_RETURN. */
        private void ocall(FrameHeader h) throws WireException {
            int index = h.arg();
            if (h.length() < 4) {
                throw WireException.protocol("an OCALL message of " + h.length() + " bytes, without its out_capacity");
            }
            ByteBuffer field = ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            channel.readPayload(field, "OCALL");
            long capacity = Integer.toUnsignedLong(field.getInt(0));
            int outCapacity = (int) Math.min(capacity, MAX_CALL_BYTES);
            byte[] in = channel.readPayload(h.length() - 4, "OCALL " + Integer.toUnsignedString(index));
            int status = EnclaveStatus.SUCCESS.code();
            byte[] answer = new byte[0];
            OcallHandler handler = index >= 0 ? handlers.get(index) : null;
            if (handler == null) {
                status = EnclaveStatus.INVALID_FUNCTION.code();
                LOG.warn("{}: OCALL {} has no handler (EnclaveModule.onOcall); answered INVALID_FUNCTION", origin,
                        Integer.toUnsignedString(index));
            } else {
                inOcall = true;
                try {
                    byte[] result = handler.handle(in, outCapacity);
                    if (result == null) {
                        result = new byte[0];
                    }
                    if (result.length > outCapacity) {
                        status = EnclaveStatus.INVALID_PARAMETER.code();
                        LOG.warn("{}: the handler of OCALL {} answered {} bytes, more than the module's {}; answered "
                                + "INVALID_PARAMETER", origin, index, result.length, outCapacity);
                    } else {
                        answer = result;
                    }
                } catch (EnclaveCallException e) {
                    status = e.code();
                } catch (Exception e) {
                    status = EnclaveStatus.UNEXPECTED.code();
                    LOG.warn("{}: the handler of OCALL {} failed; answered UNEXPECTED", origin, index, e);
                } finally {
                    inOcall = false;
                }
            }
            channel.send(MessageType.OCALL_RETURN, status, ByteBuffer.wrap(answer));
        }
    }
}
