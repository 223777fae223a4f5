package io.backplane.toolstack.config;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * A config file's bytes as text. Configs are UTF-8; a file that is not (a Latin-1 editor, a
 * binary dropped by mistake) is refused at the first bad byte with its line, rather than read
 * with replacement characters that would end up as names or paths in XenStore.
 */
public final class ConfigText {
    private ConfigText() {
    }

    public static String decode(String source, byte[] bytes) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        CoderResult r = decoder.decode(in, out, true);
        if (!r.isError()) {
            r = decoder.flush(out);
        }
        if (r.isError()) {
            int at = in.position();
            int line = 1;
            int lineStart = 0;
            for (int i = 0; i < at; i++) {
                if (bytes[i] == '\n') {
                    line++;
                    lineStart = i + 1;
                }
            }
            throw new ConfigException(source, line, String.format("not valid UTF-8: byte 0x%02x at column %d",
                    bytes[at] & 0xff, at - lineStart + 1));
        }
        return out.flip().toString();
    }
}
