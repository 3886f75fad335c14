package io.mailroot.deliverer.local;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.mailroot.core.folder.AtomicFiles;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DropFileTest {

    private static final byte[] MESSAGE = ("Received: from x\r\nX-Receiver-Note: not an envelope line\r\n"
            + "Subject: \u00e9t\u00e9\r\n\r\nX-Receiver: in the body\r\n.\r\n").getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path dir;

    private static byte[] concat(byte[] a, byte[] b) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(a);
        out.writeBytes(b);
        return out.toByteArray();
    }

    @Test
    void envelopeBlockIsIisStyle() {
        assertEquals("X-Sender: alice@a.test\r\nX-Receiver: bob@local.test\r\nX-Receiver: carol@local.test\r\n",
                new String(DropFile.envelopeBlock("alice@a.test", List.of("bob@local.test", "carol@local.test")),
                        StandardCharsets.UTF_8));
        assertEquals("X-Sender: <>\r\nX-Receiver: bob@local.test\r\n",
                new String(DropFile.envelopeBlock("", List.of("bob@local.test")), StandardCharsets.UTF_8));
    }

    @Test
    void parseRoundTripsAFileOnDisk() throws IOException {
        Path file = dir.resolve(DropFile.fileName("ABC.123"));
        AtomicFiles.write(file, DropFile.envelopeBlock("alice@a.test", List.of("bob@local.test", "j\u00f6rg@local.test")), MESSAGE);

        DropFile parsed = DropFile.parse(file);

        assertEquals("ABC.123", parsed.id());
        assertEquals("alice@a.test", parsed.sender());
        assertEquals(List.of("bob@local.test", "j\u00f6rg@local.test"), parsed.recipients());
        assertArrayEquals(MESSAGE, parsed.message());
        assertEquals(List.of("bob@local.test", "j\u00f6rg@local.test"),
                parsed.envelope().recipients().stream().map(r -> r.address()).toList());
    }

    @Test
    void nullSenderRoundTrips() {
        DropFile parsed = DropFile.parse("X", concat(DropFile.envelopeBlock("", List.of("b@local.test")), MESSAGE));

        assertEquals("", parsed.sender());
        assertEquals(true, parsed.envelope().nullSender());
        assertArrayEquals(MESSAGE, parsed.message());
    }

    @Test
    void handWrittenFilesWithBareLineFeedsAndAngleBracketsAreRead() {
        byte[] content = "x-sender: <a@b.test>\nx-receiver: <c@local.test>\nSubject: s\n\nbody\n"
                .getBytes(StandardCharsets.US_ASCII);

        DropFile parsed = DropFile.parse("X", content);

        assertEquals("a@b.test", parsed.sender());
        assertEquals(List.of("c@local.test"), parsed.recipients());
        assertEquals("Subject: s\n\nbody\n", new String(parsed.message(), StandardCharsets.US_ASCII));
    }

    @Test
    void aFileWithoutEnvelopeBlockIsRefused() throws IOException {
        Path file = dir.resolve("plain.eml");
        Files.write(file, MESSAGE);

        assertThrows(IOException.class, () -> DropFile.parse(file));
    }

    @Test
    void fileNamesAreSafe() {
        assertEquals("LX1.AB09.eml", DropFile.fileName("LX1.AB09"));
        assertEquals("_.._etc_passwd.eml", DropFile.fileName("/../etc/passwd"));
        assertEquals("_hidden.eml", DropFile.fileName(".hidden"));
    }

    @Test
    void anAddressCannotSmuggleALineBreakIntoTheBlock() {
        DropFile parsed = DropFile.parse("X", concat(
                DropFile.envelopeBlock("a@b.test\r\nX-Receiver: evil@x.test", List.of("c@local.test")), MESSAGE));

        assertEquals(List.of("c@local.test"), parsed.recipients());
    }
}
