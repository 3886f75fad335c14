package io.mailroot.core.control;

import java.time.Instant;

/**
 * An operator's action on queued mail, as the compacted {@code control} topic carries it (key: {@link #key()},
 * so a newer action on the same target replaces the older one: a release after a hold leaves only the release).
 * Every node reads the whole topic and applies what concerns the records it holds; applying an action twice has
 * the effect of applying it once.
 *
 * @param id unique per request (a UUID); the trail names it, and a node remembers which it applied
 * @param verb what to do
 * @param messageId the message it applies to, or null when it applies to a domain
 * @param domain the recipient domain (or next hop key) it applies to, or null when it applies to one message
 * @param withReport for DELETE: whether the sender gets a failure report (postsuper -d does not; IIS's
 *     "delete all messages" did not either)
 * @param requestedAt when the operator asked; records that reached the queue after it are not touched by
 *     RETRY_NOW, DELETE or EXPIRE
 * @param operator who asked (a user name, or the Unix user running the command)
 */
public record ControlAction(
        String id,
        Verb verb,
        String messageId,
        String domain,
        boolean withReport,
        Instant requestedAt,
        String operator) {

    public enum Verb { RETRY_NOW, HOLD, RELEASE, DELETE, EXPIRE }

    public ControlAction {
        if ((messageId == null) == (domain == null)) {
            throw new IllegalArgumentException("a control action names one message or one domain, not "
                    + (messageId == null ? "neither" : "both"));
        }
    }

    /**
     * The compaction key: hold and release of one target share a key (the newer wins); every other action is kept
     * by its own target and verb, so a delete is not erased by a later retry-now.
     */
    public String key() {
        String target = messageId != null ? "id:" + messageId : "domain:" + domain;
        String slot = verb == Verb.HOLD || verb == Verb.RELEASE ? "hold" : verb.name().toLowerCase(java.util.Locale.ROOT);
        return target + "/" + slot;
    }
}
