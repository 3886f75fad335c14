package io.mailroot.core.message;

/** A message as it travels between roles: the envelope and the raw bytes, untouched. */
public record MailRecord(Envelope envelope, byte[] message) {
}
