package io.backplane.logging;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.function.Consumer;

import ch.qos.logback.core.ContextBase;
import ch.qos.logback.core.encoder.EncoderBase;
import ch.qos.logback.core.rolling.FixedWindowRollingPolicy;
import ch.qos.logback.core.rolling.RollingFileAppender;
import ch.qos.logback.core.rolling.SizeBasedTriggeringPolicy;
import ch.qos.logback.core.status.Status;
import ch.qos.logback.core.util.Duration;
import ch.qos.logback.core.util.FileSize;

/**
 * The operator log file, rotated by size by logback's rolling appender: once {@code file}
 * reaches {@code maxSize} it becomes {@code file.1}, {@code file.1} becomes {@code file.2} and so
 * on, and the oldest beyond {@code rolledFiles} is deleted, so the log never takes more than
 * about {@code (rolledFiles + 1) * maxSize}. Texts are written as given (lines with their
 * newlines), each in one write.
 */
final class RotatingLogFile implements AutoCloseable {

    private final ContextBase context = new ContextBase();
    private final RollingFileAppender<String> appender = new RollingFileAppender<>();
    private final Path file;

    /**
     * @param maxSize     logback's size syntax: {@code 10MB}, {@code 512KB}, a number of bytes
     * @param problems    hears what the appender could not do (open, write, rename), in one line each
     * @throws IllegalArgumentException for a size or count it cannot use, or a file it cannot open
     */
    RotatingLogFile(Path file, String maxSize, int rolledFiles, Consumer<String> problems) {
        if (rolledFiles < 1 || rolledFiles > MAX_ROLLED_FILES) {
            throw new IllegalArgumentException("file.count must be from 1 to " + MAX_ROLLED_FILES + ", not " + rolledFiles);
        }
        FileSize size;
        try {
            size = FileSize.valueOf(maxSize.trim());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("file.max.size '" + maxSize + "' is not a size such as 10MB, 512KB or 1048576");
        }
        this.file = file;
        context.setName("backplane-logging");
        context.getStatusManager().add(status -> {
            if (status.getLevel() >= Status.WARN) {
                problems.accept(status.getMessage() + (status.getThrowable() == null ? "" : ": " + status.getThrowable()));
            }
        });
        appender.setContext(context);
        appender.setName("operator-log");
        appender.setFile(file.toString());
        appender.setAppend(true);

        FixedWindowRollingPolicy rolling = new FixedWindowRollingPolicy();
        rolling.setContext(context);
        rolling.setParent(appender);
        rolling.setFileNamePattern(file + ".%i");
        rolling.setMinIndex(1);
        rolling.setMaxIndex(rolledFiles);
        rolling.start();

        SizeBasedTriggeringPolicy<String> trigger = new SizeBasedTriggeringPolicy<>();
        trigger.setContext(context);
        trigger.setMaxFileSize(size);
        // logback checks the size at most once a minute by default; an entry is rare enough to check each time.
        trigger.setCheckIncrement(Duration.buildByMilliseconds(0));
        trigger.start();

        appender.setRollingPolicy(rolling);
        appender.setTriggeringPolicy(trigger);
        appender.setEncoder(new TextEncoder());
        appender.start();
        if (!appender.isStarted()) {
            throw new IllegalArgumentException("cannot open " + file + " for the operator log");
        }
    }

    /** What FixedWindowRollingPolicy allows (its MAX_WINDOW_SIZE). */
    static final int MAX_ROLLED_FILES = 20;

    Path file() {
        return file;
    }

    void write(String text) {
        appender.doAppend(text);
    }

    @Override
    public void close() {
        appender.stop();
        context.stop();
    }

    /** Text in, its UTF-8 bytes out: the lines are formatted before they get here. */
    private static final class TextEncoder extends EncoderBase<String> {
        @Override
        public byte[] headerBytes() {
            return null;
        }

        @Override
        public byte[] encode(String text) {
            return text.getBytes(StandardCharsets.UTF_8);
        }

        @Override
        public byte[] footerBytes() {
            return null;
        }
    }
}
