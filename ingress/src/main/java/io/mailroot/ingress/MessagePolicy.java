package io.mailroot.ingress;

import java.util.Optional;

/** One rule consulted at the end of DATA, before the message is queued. */
@FunctionalInterface
public interface MessagePolicy {

    /**
     * @param message the whole message as it would be queued, our Received header included
     * @return the reply refusing the message, or empty to accept it
     */
    Optional<SmtpReply> check(Client client, byte[] message);
}
