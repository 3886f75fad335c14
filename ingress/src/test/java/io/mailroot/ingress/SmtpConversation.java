package io.mailroot.ingress;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailroot.testkit.SmtpTestClient;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Plays a transcript from {@code src/test/resources/conversations}: {@code C:} lines are what the client sends,
 * {@code S:} lines the start of what the server must answer, {@code #} lines are comments. Consecutive
 * {@code C:} lines go out in one write, so every transcript also exercises PIPELINING.
 */
final class SmtpConversation {

    private SmtpConversation() {
    }

    /** Runs the transcript against 127.0.0.1:port and returns every reply heard, in order. */
    static List<String> play(String name, int port) throws IOException {
        List<String> lines;
        try (InputStream in = SmtpConversation.class.getResourceAsStream("/conversations/" + name)) {
            if (in == null) {
                throw new IOException("no transcript " + name);
            }
            lines = new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
        }
        List<String> replies = new ArrayList<>();
        try (SmtpTestClient client = new SmtpTestClient("127.0.0.1", port)) {
            boolean greeted = false;
            StringBuilder pending = new StringBuilder();
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i);
                String where = name + ":" + (i + 1);
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                if (line.startsWith("C:")) {
                    pending.append(line.length() > 3 ? line.substring(3) : "").append("\r\n");
                } else if (line.startsWith("S:")) {
                    if (pending.length() > 0) {
                        client.send(pending.toString());
                        pending.setLength(0);
                    }
                    String reply = greeted ? client.reply() : client.greeting();
                    greeted = true;
                    String expected = line.substring(3);
                    assertTrue(reply.startsWith(expected), where + ": expected \"" + expected + "\" but the server said \"" + reply + "\"");
                    replies.add(reply);
                } else {
                    throw new IllegalArgumentException(where + ": a line must start with C:, S: or #");
                }
            }
            if (pending.length() > 0) {
                client.send(pending.toString());
            }
        }
        return replies;
    }
}
