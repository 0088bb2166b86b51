package org.enclaveruntime.devices;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;

/**
 * An 8250-compatible UART (COM1 at 0x3F8, eight registers). The guest only transmits: every byte written
 * to THR goes to the sink, and THR is always empty, so polling LSR never waits. There is no receive path
 * and no interrupt (the guest's IDT has only exception gates). Divisor latch, LCR, MCR, IER and the
 * scratch register keep what the guest writes, so a driver that probes the UART finds one.
 */
public final class Serial8250 implements BusDevice, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Serial8250.class);

    public static final int COM1 = 0x3F8;
    public static final int REGISTERS = 8;

    private static final int RBR_THR_DLL = 0, IER_DLM = 1, IIR_FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7;
    private static final int LCR_DLAB = 0x80;
    private static final int LSR_THRE = 0x20, LSR_TEMT = 0x40;
    private static final int IIR_NO_INTERRUPT = 0x01;
    private static final int MCR_LOOP = 0x10;
    private static final int MSR_CTS_DSR_DCD = 0xB0;

    private final OutputStream sink;
    private final GuestLog log;
    private int ier;
    private int lcr = 0x03;
    private int mcr;
    private int scratch;
    private int divisor = 1;
    private boolean sinkFailed;

    /**
     * @param sink where transmitted bytes go; null discards them (the console is off without debug)
     * @param log  where a failing sink is reported
     */
    public Serial8250(OutputStream sink, GuestLog log) {
        this.sink = sink;
        this.log = log;
    }

    @Override
    public synchronized long read(int vcpu, long offset, int size) {
        switch ((int) offset) {
            case RBR_THR_DLL:
                return (lcr & LCR_DLAB) != 0 ? divisor & 0xff : 0;
            case IER_DLM:
                return (lcr & LCR_DLAB) != 0 ? (divisor >> 8) & 0xff : ier;
            case IIR_FCR:
                return IIR_NO_INTERRUPT;
            case LCR:
                return lcr;
            case MCR:
                return mcr;
            case LSR:
                return LSR_THRE | LSR_TEMT;
            case MSR:
                return (mcr & MCR_LOOP) != 0 ? 0 : MSR_CTS_DSR_DCD;
            case SCR:
                return scratch;
            default:
                return 0xff;
        }
    }

    @Override
    public synchronized void write(int vcpu, long offset, int size, long value) {
        int v = (int) (value & 0xff);
        switch ((int) offset) {
            case RBR_THR_DLL:
                if ((lcr & LCR_DLAB) != 0) {
                    divisor = (divisor & 0xff00) | v;
                } else {
                    transmit(v);
                }
                break;
            case IER_DLM:
                if ((lcr & LCR_DLAB) != 0) {
                    divisor = (divisor & 0xff) | (v << 8);
                } else {
                    ier = v & 0x0f;
                }
                break;
            case LCR:
                lcr = v;
                break;
            case MCR:
                mcr = v & 0x1f;
                break;
            case SCR:
                scratch = v;
                break;
            default:
                // FCR, LSR and MSR writes change nothing in a UART without FIFOs or a line to model.
                break;
        }
    }

    private void transmit(int b) {
        if (sink == null || sinkFailed) {
            return;
        }
        try {
            sink.write(b);
            if (b == '\n') {
                sink.flush();
            }
        } catch (IOException e) {
            sinkFailed = true;
            log.consoleFailed(e.toString());
        }
    }

    @Override
    public synchronized void close() {
        if (sink != null) {
            try {
                sink.close();
            } catch (IOException e) {
                LOG.warn("closing the console log failed: {}", e.toString());
            }
        }
    }
}
