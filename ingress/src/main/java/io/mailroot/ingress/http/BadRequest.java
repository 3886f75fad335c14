package io.mailroot.ingress.http;

/**
 * A request refused before anything was queued, with the HTTP status to answer and, for a body that is wrong,
 * the JSON path of the field at fault ({@code to[1]}, {@code attachments[0].contentBase64}).
 */
final class BadRequest extends Exception {

    private final int status;
    private final String field;

    BadRequest(int status, String message, String field) {
        super(message, null, false, false);
        this.status = status;
        this.field = field;
    }

    static BadRequest field(String field, String message) {
        return new BadRequest(400, message, field);
    }

    int status() {
        return status;
    }

    /** The field at fault, or null when the request as a whole is. */
    String field() {
        return field;
    }
}
