package io.mailroot.ingress;

import java.util.Optional;

/**
 * IIS's "maximum hop count": a message that has passed more relays than this is looping. Counts the Received
 * headers of the message as it would be queued, ours included.
 */
public record HopCountPolicy(int maxHops) implements MessagePolicy {

    @Override
    public Optional<SmtpReply> check(Client client, byte[] message) {
        return ReceivedHeader.count(message) > maxHops
                ? Optional.of(SmtpReply.of(554, "5.4.6 Too many hops"))
                : Optional.empty();
    }
}
