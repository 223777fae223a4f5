package io.backplane.logging;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.time.ZoneOffset;

import org.junit.jupiter.api.Test;
import org.osgi.framework.Bundle;
import org.osgi.framework.ServiceReference;
import org.osgi.service.log.LogEntry;
import org.osgi.service.log.LogLevel;

class LogLineFormatTest {

    private final LogLineFormat format = new LogLineFormat(ZoneOffset.UTC);

    /** A log entry as the log service hands it over: plain data, no bundle (framework-less). */
    private record Entry(String getLoggerName, LogLevel getLogLevel, String getMessage, Throwable getException,
                         long getTime) implements LogEntry {
        @Override public Bundle getBundle() { return null; }
        @Override public ServiceReference<?> getServiceReference() { return null; }
        @Override @SuppressWarnings("deprecation") public int getLevel() { return getLogLevel.ordinal(); }
        @Override public long getSequence() { return 1; }
        @Override public String getThreadInfo() { return "main"; }
        @Override public StackTraceElement getLocation() { return null; }
    }

    @Test
    void oneLineWithTimeLevelSourceAndMessage() {
        String line = format.line(new Entry("io.backplane.control.ControlSocket", LogLevel.INFO,
                "control socket listening on /run/backplane/control.sock", null, 0L));
        assertThat(line).isEqualTo(
                "1970-01-01 00:00:00.000 INFO  framework ControlSocket: control socket listening on /run/backplane/control.sock");
    }

    @Test
    void multiLineMessagesAndCausesStayOnOneLine() {
        IOException cause = new IOException("Broken pipe");
        String line = format.line(new Entry("x.Vif", LogLevel.ERROR, "vif 3/0 disabled:\nbad ring",
                new IllegalStateException("ring overflow", cause), 1000L));
        assertThat(line).doesNotContain("\n")
                .endsWith("vif 3/0 disabled: bad ring (IllegalStateException: ring overflow <- IOException: Broken pipe)")
                .contains(" ERROR ");
        assertThat(format.stackTrace(new Entry("x", LogLevel.ERROR, "m", cause, 0L)))
                .startsWith("    java.io.IOException: Broken pipe\n        at ");
    }

    @Test
    void theJournalGetsThePriorityAndNoTime() {
        assertThat(format.journalLine(new Entry("x.Vif", LogLevel.WARN, "vif 3/0: ring full", null, 0L)))
                .isEqualTo("<4>WARN  framework Vif: vif 3/0: ring full");
        assertThat(format.journalLine(new Entry("x.Vif", LogLevel.ERROR, "m", null, 0L))).startsWith("<3>ERROR ");
        assertThat(format.journalLine(new Entry("x.Vif", LogLevel.INFO, "m", null, 0L))).startsWith("<6>INFO  ");
        assertThat(format.journalLine(new Entry("x.Vif", LogLevel.DEBUG, "m", null, 0L))).startsWith("<7>DEBUG ");
    }
}
