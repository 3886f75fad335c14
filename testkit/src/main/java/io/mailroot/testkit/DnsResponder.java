package io.mailroot.testkit;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.MXRecord;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.PTRRecord;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;

/**
 * A small authoritative DNS server on a loopback UDP port, answering over the wire from records the test sets.
 * Unknown names get NXDOMAIN; names marked with {@link #servfail} get SERVFAIL.
 */
public final class DnsResponder implements AutoCloseable {

    private final DatagramSocket socket;
    private final List<Record> records = new CopyOnWriteArrayList<>();
    private final Set<Name> servfail = ConcurrentHashMap.newKeySet();
    private final Thread thread;
    private volatile boolean running = true;
    private volatile boolean refuseAll;

    public DnsResponder() throws IOException {
        socket = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
        thread = new Thread(this::serve, "dns-responder-" + socket.getLocalPort());
        thread.setDaemon(true);
        thread.start();
    }

    /** {@code 127.0.0.1:port}, the form of {@code dns.servers}. */
    public String address() {
        return "127.0.0.1:" + socket.getLocalPort();
    }

    public DnsResponder mx(String domain, int preference, String host) {
        records.add(new MXRecord(name(domain), DClass.IN, 60, preference, name(host)));
        return this;
    }

    public DnsResponder a(String host, String address) {
        try {
            InetAddress ip = InetAddress.getByName(address);
            records.add(ip.getAddress().length == 4
                    ? new ARecord(name(host), DClass.IN, 60, ip)
                    : new AAAARecord(name(host), DClass.IN, 60, ip));
        } catch (IOException e) {
            throw new IllegalArgumentException(address, e);
        }
        return this;
    }

    public DnsResponder ptr(String reverseName, String host) {
        records.add(new PTRRecord(name(reverseName), DClass.IN, 60, name(host)));
        return this;
    }

    public DnsResponder servfail(String domain) {
        servfail.add(name(domain));
        return this;
    }

    /** From now on every query gets REFUSED, as from a resolver that serves other clients only. */
    public DnsResponder refuseAll() {
        refuseAll = true;
        return this;
    }

    public void clear() {
        records.clear();
        servfail.clear();
    }

    private static Name name(String s) {
        try {
            return Name.fromString(s.endsWith(".") ? s : s + ".");
        } catch (TextParseException e) {
            throw new IllegalArgumentException(s, e);
        }
    }

    private void serve() {
        byte[] buf = new byte[4096];
        while (running) {
            DatagramPacket in = new DatagramPacket(buf, buf.length);
            try {
                socket.receive(in);
                Message query = new Message(java.util.Arrays.copyOf(in.getData(), in.getLength()));
                byte[] answer = answer(query).toWire(512);
                socket.send(new DatagramPacket(answer, answer.length, in.getSocketAddress()));
            } catch (IOException e) {
                if (!running) {
                    return;
                }
            }
        }
    }

    private Message answer(Message query) {
        Message response = new Message(query.getHeader().getID());
        response.getHeader().setFlag(Flags.QR);
        response.getHeader().setFlag(Flags.AA);
        if (query.getHeader().getFlag(Flags.RD)) {
            response.getHeader().setFlag(Flags.RD);
        }
        response.getHeader().setFlag(Flags.RA);
        Record question = query.getQuestion();
        if (question == null) {
            response.getHeader().setRcode(Rcode.FORMERR);
            return response;
        }
        response.addRecord(question, Section.QUESTION);
        Name qname = question.getName();
        if (refuseAll) {
            response.getHeader().setRcode(Rcode.REFUSED);
            return response;
        }
        if (servfail.contains(qname)) {
            response.getHeader().setRcode(Rcode.SERVFAIL);
            return response;
        }
        boolean nameExists = false;
        for (Record r : records) {
            if (r.getName().equals(qname)) {
                nameExists = true;
                if (r.getType() == question.getType() || question.getType() == Type.ANY) {
                    response.addRecord(r, Section.ANSWER);
                }
            }
        }
        if (!nameExists) {
            response.getHeader().setRcode(Rcode.NXDOMAIN);
        }
        return response;
    }

    @Override
    public void close() {
        running = false;
        socket.close();
    }

    /** For tests that want to see what was configured. */
    public Map<String, Integer> size() {
        return Map.of("records", records.size());
    }
}
