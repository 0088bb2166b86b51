package org.enclaveruntime.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.filter.ThresholdFilter;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.rolling.FixedWindowRollingPolicy;
import ch.qos.logback.core.rolling.RollingFileAppender;
import ch.qos.logback.core.rolling.SizeBasedTriggeringPolicy;
import ch.qos.logback.core.spi.ContextAwareBase;
import ch.qos.logback.core.util.FileSize;
import org.enclaveruntime.devices.CappedLogFile;
import org.slf4j.LoggerFactory;

import java.io.FileDescriptor;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Logging set up in code rather than logback.xml: parsing XML costs start-up time that short commands
 * such as `status` should not pay. Until {@link #configure} runs, only warnings reach stderr; stdout is
 * reserved for command output.
 */
public final class LogSetup extends ContextAwareBase implements Configurator {
    private static final String PATTERN = "%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level [%thread] %logger{24}: %msg%n";
    private static final String STDERR_PATTERN = "%level: %msg%n";
    /** The VMM's stderr (log_dir/vmm.stderr) is rolled to vmm.stderr.1 at this size. */
    static final long STDERR_CAP = 256L << 10;

    /** Called by logback through the service loader when the first logger is requested. */
    @Override
    public ExecutionStatus configure(LoggerContext context) {
        install(context, null, false);
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }

    /**
     * Sends warnings (or, verbose, everything) to stderr and info (or, verbose, debug) to
     * log_dir/enclavectl.log, rolled at 10 MiB with 5 old files kept. Debug stays off without -v: in the VMM
     * it is where the guest's REPORTs and NOTIFYs would go. A log_dir that cannot be created is reported on
     * stderr once and otherwise ignored: logging must never be the reason a command fails.
     */
    public static void configure(Path logDir, boolean verbose) {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        install(context, logDir, verbose);
    }

    private static void install(LoggerContext context, Path logDir, boolean verbose) {
        context.reset();
        Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.setLevel(verbose ? Level.DEBUG : Level.INFO);
        root.addAppender(stderr(context, verbose ? Level.DEBUG : Level.WARN));
        if (logDir != null) {
            try {
                Files.createDirectories(logDir);
                root.addAppender(file(context, logDir.resolve("enclavectl.log")));
            } catch (Exception e) {
                System.err.println("warning: cannot log to " + logDir + ": " + e.getMessage()
                        + " (set log_dir in [runtime] to a writable directory)");
            }
        }
        // Quiet the libraries: their debug output is noise for users and costs time.
        context.getLogger("jnr").setLevel(Level.INFO);
    }

    /**
     * Caps this process's stderr at {@link #STDERR_CAP} when it is the file {@code stderrFile} (the VMM that
     * `start` launched; a VMM in the foreground writes to a terminal or a journal, which are not ours to cap).
     * Java's own System.err and the log's stderr appender write through the cap; what the JVM writes to fd 2
     * natively lands in the same file and counts towards it.
     */
    public static void capStderr(Path stderrFile) {
        try {
            if (!Files.isRegularFile(stderrFile) || !Files.isSameFile(Path.of("/proc/self/fd/2"), stderrFile)) {
                return;
            }
        } catch (IOException e) {
            return;
        }
        CappedLogFile capped = CappedLogFile.inherited(FileDescriptor.err, stderrFile, STDERR_CAP);
        System.setErr(new PrintStream(capped, true, StandardCharsets.UTF_8));
    }

    private static ConsoleAppender<ILoggingEvent> stderr(LoggerContext context, Level threshold) {
        ConsoleAppender<ILoggingEvent> appender = new ConsoleAppender<>();
        appender.setContext(context);
        appender.setName("stderr");
        appender.setTarget("System.err");
        appender.setEncoder(encoder(context, threshold == Level.DEBUG ? PATTERN : STDERR_PATTERN));
        appender.addFilter(threshold(context, threshold));
        appender.start();
        return appender;
    }

    private static RollingFileAppender<ILoggingEvent> file(LoggerContext context, Path logFile) {
        RollingFileAppender<ILoggingEvent> appender = new RollingFileAppender<>();
        appender.setContext(context);
        appender.setName("file");
        appender.setFile(logFile.toString());
        FixedWindowRollingPolicy rolling = new FixedWindowRollingPolicy();
        rolling.setContext(context);
        rolling.setParent(appender);
        rolling.setFileNamePattern(logFile + ".%i");
        rolling.setMinIndex(1);
        rolling.setMaxIndex(5);
        rolling.start();
        SizeBasedTriggeringPolicy<ILoggingEvent> trigger = new SizeBasedTriggeringPolicy<>();
        trigger.setContext(context);
        trigger.setMaxFileSize(FileSize.valueOf("10MB"));
        trigger.start();
        appender.setRollingPolicy(rolling);
        appender.setTriggeringPolicy(trigger);
        appender.setEncoder(encoder(context, PATTERN));
        appender.start();
        return appender;
    }

    private static PatternLayoutEncoder encoder(LoggerContext context, String pattern) {
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern(pattern);
        encoder.start();
        return encoder;
    }

    private static ThresholdFilter threshold(LoggerContext context, Level level) {
        ThresholdFilter filter = new ThresholdFilter();
        filter.setContext(context);
        filter.setLevel(level.levelStr);
        filter.start();
        return filter;
    }
}
