package io.mailroot.ndr;

import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.internet.MimeMessage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Properties;
import org.eclipse.angus.mail.dsn.DeliveryStatus;
import org.eclipse.angus.mail.dsn.MultipartReport;

/**
 * Reads a delivery report back with Jakarta Mail and angus dsn, for tests and tools that must check what a report
 * says (e.g. a Badmail viewer): message, its {@code multipart/report}, and the {@code message/delivery-status}.
 */
public record ReportReader(MimeMessage message, MultipartReport report, DeliveryStatus status) {

    public static ReportReader read(byte[] bytes) throws MessagingException, IOException {
        MimeMessage message = new MimeMessage(Session.getInstance(new Properties()), new ByteArrayInputStream(bytes));
        Object content = message.getContent();
        if (!(content instanceof MultipartReport report)) {
            throw new MessagingException("not a multipart/report but " + message.getContentType());
        }
        return new ReportReader(message, report, report.getDeliveryStatus());
    }

    public String messageField(String name) {
        return status.getMessageDSN().getHeader(name, ", ");
    }

    public int recipientCount() {
        return status.getRecipientDSNCount();
    }

    public String recipientField(int index, String name) {
        return status.getRecipientDSN(index).getHeader(name, ", ");
    }

    /** The third part's MIME type: text/rfc822-headers (RET=HDRS) or message/rfc822 (RET=FULL). */
    public String returnedType() throws MessagingException {
        return report.getCount() < 3 ? null : report.getBodyPart(2).getContentType();
    }

    /** The returned original: only its headers when the report carries text/rfc822-headers. */
    public MimeMessage returned() throws MessagingException {
        return report.getReturnedMessage();
    }

    public String text() throws MessagingException {
        return report.getText();
    }
}
