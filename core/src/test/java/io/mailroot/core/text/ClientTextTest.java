package io.mailroot.core.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ClientTextTest {

    @Test
    void logTextCannotStartANewLine() {
        String forged = "alice\r\n2026-12-02 INFO accepted from 10.0.0.1\u0000\u2028x";
        String shown = ClientText.forLog(forged);
        assertEquals("alice\\r\\n2026-12-02 INFO accepted from 10.0.0.1\\x00\\u2028x", shown);
        assertTrue(shown.chars().noneMatch(c -> c < 0x20));
    }

    @Test
    void plainTextIsLoggedAsItIs() {
        String s = "jörg@exämple.test";
        assertSame(s, ClientText.forLog(s));
        assertEquals("a\\\\b", ClientText.forLog("a\\b"));
    }

    @Test
    void replyTextIsShortVisibleAscii() {
        assertEquals("SIZE=1?", ClientText.forReply("SIZE=1\u0000"));
        String longText = "x".repeat(600);
        String shown = ClientText.forReply(longText);
        assertEquals(ClientText.MAX_IN_REPLY + 3, shown.length());
        assertTrue(shown.endsWith("..."));
        assertEquals("j?rg", ClientText.forReply("jörg"));
    }
}
