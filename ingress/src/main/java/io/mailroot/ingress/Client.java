package io.mailroot.ingress;

import java.net.Inet6Address;
import java.net.InetAddress;

/**
 * Who is on the other end of an SMTP session, as far as policies need to know.
 *
 * @param name the forward-confirmed reverse-DNS name when the virtual server looks it up (reverseDnsLookup) and
 *     DNS confirmed one, else null
 * @param helo what the client said in HELO/EHLO; null if it said nothing
 * @param authIdentity who the client authenticated as; null for an anonymous session
 */
public record Client(InetAddress address, String name, String helo, String authIdentity) {

    public boolean authenticated() {
        return authIdentity != null;
    }

    /** The address as written in envelopes, e.g. {@code 192.0.2.1} or {@code 2001:db8::1}. */
    public String ip() {
        return address.getHostAddress();
    }

    /** The address as an RFC 5321 address literal, as Received headers carry it. */
    public String addressLiteral() {
        return addressLiteral(address);
    }

    /** {@code address} as an RFC 5321 address literal, e.g. {@code [192.0.2.1]} or {@code [IPv6:2001:db8::1]}. */
    public static String addressLiteral(InetAddress address) {
        String ip = address.getHostAddress();
        return address instanceof Inet6Address ? "[IPv6:" + ip + "]" : "[" + ip + "]";
    }
}
