package org.enclaveruntime.service;

/**
 * The control socket's protocol, run_dir/control.sock (mode 0600, root only): one request line, one reply
 * line, then the server closes the connection.
 * <pre>
 *   ping                 → ok
 *   stop &lt;grace_ms&gt;     → ok &lt;how the enclave ended&gt;   (sent after the enclave is torn down)
 *   anything else        → error &lt;reason&gt;
 * </pre>
 */
public final class ControlProtocol {
    private ControlProtocol() {
    }

    public static final String PING = "ping";
    public static final String STOP = "stop";
    public static final String OK = "ok";
    public static final String ERROR = "error";
    /** Longest request line the server reads; a peer sending more is cut off. */
    static final int MAX_REQUEST = 256;
    /** How long a peer has to send its request line before the server hangs up on it. */
    static final java.time.Duration READ_DEADLINE = java.time.Duration.ofSeconds(2);
    /** The longest grace a stop may ask for; more is taken as this. */
    public static final java.time.Duration MAX_GRACE = java.time.Duration.ofHours(1);
}
