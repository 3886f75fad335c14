package io.mailroot.deliverer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** What the scripted server received, less what it added itself. */
public final class TestServerData {

    private TestServerData() {
    }

    /** The test server (SubEthaSMTP) puts its own Received header on top; what follows is what we sent. */
    public static byte[] withoutTracing(byte[] data) {
        String s = new String(data, StandardCharsets.ISO_8859_1);
        if (!s.startsWith("Received:")) {
            return data;
        }
        int i = s.indexOf("\r\n");
        while (i >= 0 && i + 2 < s.length() && (s.charAt(i + 2) == ' ' || s.charAt(i + 2) == '\t')) {
            i = s.indexOf("\r\n", i + 2);
        }
        return Arrays.copyOfRange(data, i + 2, data.length);
    }
}
