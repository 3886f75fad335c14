package io.mailroot.core.folder;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a Badmail reason ({@code .bdr}) tells of the envelope, for resubmitting: the ndr-service writes
 * {@code Sender: <address>} and, under {@code Recipients:}, one {@code   <address> action=...} line per recipient.
 * The message bytes ({@code .bad}) carry no envelope of their own; a reason that names none (a record whose envelope
 * could not be read) gives nothing, and the operator names the recipients.
 *
 * @param sender the reverse path ("" for the null sender), or null when the reason does not say
 * @param recipients the recipients the reason lists, in order
 */
public record BadmailEnvelope(String sender, List<String> recipients) {

    private static final Pattern SENDER = Pattern.compile("^Sender: <([^<>\\r\\n]*)>\\s*$", Pattern.MULTILINE);
    private static final Pattern RECIPIENT = Pattern.compile("^  <([^<>\\s]+)>");

    public BadmailEnvelope {
        recipients = List.copyOf(recipients);
    }

    public static BadmailEnvelope parse(String reason) {
        Matcher s = SENDER.matcher(reason);
        String sender = s.find() ? s.group(1) : null;
        List<String> recipients = new ArrayList<>();
        boolean inList = false;
        for (String line : reason.split("\\r?\\n")) {
            if (line.equals("Recipients:")) {
                inList = true;
                continue;
            }
            if (inList) {
                Matcher r = RECIPIENT.matcher(line);
                if (!r.find()) {
                    break;
                }
                recipients.add(r.group(1));
            }
        }
        return new BadmailEnvelope(sender, recipients);
    }
}
