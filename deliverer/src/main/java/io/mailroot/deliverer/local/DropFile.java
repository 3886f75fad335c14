package io.mailroot.deliverer.local;

import io.mailroot.core.folder.FileNames;
import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.Recipient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A message in the Drop folder, as IIS wrote them: an envelope block of {@code X-Sender:} and one
 * {@code X-Receiver:} line per recipient, then the message bytes exactly as received. A mail store or script that
 * read IIS's Drop folder reads this one the same way.
 *
 * @param id the queue id the file is named after
 * @param sender the reverse path; the empty string is the null sender (written {@code X-Sender: <>})
 */
public record DropFile(String id, String sender, List<String> recipients, byte[] message) {

    public static final String EXTENSION = ".eml";

    private static final String SENDER = "X-Sender:";
    private static final String RECEIVER = "X-Receiver:";

    public DropFile {
        recipients = List.copyOf(recipients);
    }

    /** The file name for a queue id; anything that is not safe in a file name becomes {@code _}. */
    public static String fileName(String id) {
        return FileNames.safe(id) + EXTENSION;
    }

    /** The envelope block that precedes the message in the file. */
    public static byte[] envelopeBlock(String sender, List<String> recipients) {
        StringBuilder b = new StringBuilder(64 + 48 * recipients.size());
        b.append(SENDER).append(' ').append(sender.isEmpty() ? "<>" : oneLine(sender)).append("\r\n");
        for (String r : recipients) {
            b.append(RECEIVER).append(' ').append(oneLine(r)).append("\r\n");
        }
        return b.toString().getBytes(StandardCharsets.UTF_8);
    }

    public static byte[] envelopeBlock(Envelope envelope) {
        return envelopeBlock(envelope.sender(), envelope.recipients().stream().map(Recipient::address).toList());
    }

    /** The envelope as the router handed it over, rebuilt from the file (DSN parameters are not kept in Drop). */
    public Envelope envelope() {
        return Envelope.received(id, sender, recipients.stream().map(Recipient::of).toList(), null);
    }

    public static DropFile parse(Path file) throws IOException {
        String name = file.getFileName().toString();
        String id = name.endsWith(EXTENSION) ? name.substring(0, name.length() - EXTENSION.length()) : name;
        try {
            return parse(id, Files.readAllBytes(file));
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Reads the envelope block: one {@code X-Sender} line, then the {@code X-Receiver} lines; the message starts at
     * the first line that is neither. Lines may end in CRLF or, in a file edited by hand, a bare LF.
     */
    public static DropFile parse(String id, byte[] content) {
        String sender = null;
        List<String> recipients = new ArrayList<>();
        int pos = 0;
        while (pos < content.length) {
            int lf = indexOf(content, (byte) '\n', pos);
            if (lf < 0) {
                break;
            }
            int end = lf > pos && content[lf - 1] == '\r' ? lf - 1 : lf;
            String line = new String(content, pos, end - pos, StandardCharsets.UTF_8);
            if (sender == null && startsWithIgnoreCase(line, SENDER)) {
                sender = address(line.substring(SENDER.length()));
            } else if (sender != null && startsWithIgnoreCase(line, RECEIVER)) {
                recipients.add(address(line.substring(RECEIVER.length())));
            } else {
                break;
            }
            pos = lf + 1;
        }
        if (sender == null) {
            throw new IllegalArgumentException("no X-Sender line at the start: not a Drop file");
        }
        return new DropFile(id, sender, recipients, Arrays.copyOfRange(content, pos, content.length));
    }

    private static String address(String value) {
        String v = value.trim();
        if (v.startsWith("<") && v.endsWith(">")) {
            v = v.substring(1, v.length() - 1).trim();
        }
        return v;
    }

    /** An address never holds a line break; if one ever did, it must not start a header line of its own. */
    private static String oneLine(String s) {
        return s.indexOf('\r') < 0 && s.indexOf('\n') < 0 ? s : s.replaceAll("[\r\n]", "");
    }

    private static boolean startsWithIgnoreCase(String line, String prefix) {
        return line.regionMatches(true, 0, prefix, 0, prefix.length());
    }

    private static int indexOf(byte[] a, byte b, int from) {
        for (int i = from; i < a.length; i++) {
            if (a[i] == b) {
                return i;
            }
        }
        return -1;
    }

    @Override
    public String toString() {
        return "DropFile[" + id + " from <" + sender + "> to " + recipients + ", " + message.length + " bytes]";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DropFile d && id.equals(d.id) && sender.equals(d.sender) && recipients.equals(d.recipients)
                && Arrays.equals(message, d.message);
    }

    @Override
    public int hashCode() {
        return (id.hashCode() * 31 + sender.hashCode()) * 31 + Arrays.hashCode(message);
    }
}
