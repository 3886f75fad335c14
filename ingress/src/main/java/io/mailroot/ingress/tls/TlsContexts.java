package io.mailroot.ingress.tls;

import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.folder.AtomicFiles;
import io.mailroot.core.folder.PrivateFiles;
import java.io.IOException;
import java.net.Socket;
import java.io.Reader;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The server's TLS identity: the operator's PEM certificate chain and key, or a self-signed certificate made on
 * first start and kept under dataDir so clients that pinned it keep working. BouncyCastle reads and writes PEM,
 * which the JDK cannot.
 */
public final class TlsContexts {

    /** The only protocols offered: older ones are broken. */
    public static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

    private TlsContexts() {
    }

    /**
     * The virtual server's TLS identity: the operator's PEM files when configured, else the self-signed certificate
     * kept in {@code selfSignedDir} (made on first start).
     */
    public static SSLContext forServer(MailrootConfig.Tls tls, Path selfSignedDir, String hostName)
            throws IOException, GeneralSecurityException {
        return tls.certificate() != null
                ? fromPem(tls.certificate(), tls.privateKey())
                : selfSigned(selfSignedDir, hostName);
    }

    /**
     * The server side of TLS over an accepted connection (after STARTTLS, or at once on an implicit-TLS port),
     * limited to {@link #PROTOCOLS}. The handshake runs on the first read or write, or {@code startHandshake()}.
     */
    public static SSLSocket serverSocket(SSLContext context, Socket plain) throws IOException {
        // The peer's address as the "host": SubEthaSMTP's default used getHostName(), a reverse lookup per handshake.
        SSLSocket s = (SSLSocket) context.getSocketFactory()
                .createSocket(plain, plain.getInetAddress().getHostAddress(), plain.getPort(), true);
        s.setUseClientMode(false);
        s.setEnabledProtocols(PROTOCOLS);
        return s;
    }

    public static SSLContext fromPem(Path certificateChain, Path privateKey) throws IOException, GeneralSecurityException {
        List<X509Certificate> chain = new ArrayList<>();
        JcaX509CertificateConverter certs = new JcaX509CertificateConverter();
        try (Reader r = Files.newBufferedReader(certificateChain, StandardCharsets.US_ASCII); PEMParser p = new PEMParser(r)) {
            for (Object o = p.readObject(); o != null; o = p.readObject()) {
                if (o instanceof X509CertificateHolder h) {
                    chain.add(certs.getCertificate(h));
                }
            }
        }
        if (chain.isEmpty()) {
            throw new GeneralSecurityException(certificateChain + " holds no PEM certificate");
        }
        PrivateKey key;
        try (Reader r = Files.newBufferedReader(privateKey, StandardCharsets.US_ASCII); PEMParser p = new PEMParser(r)) {
            Object o = p.readObject();
            JcaPEMKeyConverter conv = new JcaPEMKeyConverter();
            if (o instanceof PEMKeyPair kp) {
                // An "EC PRIVATE KEY" may lack its public half, which getKeyPair would need.
                key = conv.getPrivateKey(kp.getPrivateKeyInfo());
            } else if (o instanceof PrivateKeyInfo info) {
                key = conv.getPrivateKey(info);
            } else {
                throw new GeneralSecurityException(privateKey + " holds no unencrypted PEM private key");
            }
        }
        return context(key, chain.toArray(new X509Certificate[0]));
    }

    /** Loads {@code dir/selfsigned.crt} and {@code .key}, making them first if missing. */
    public static SSLContext selfSigned(Path dir, String hostName) throws IOException, GeneralSecurityException {
        Path crt = dir.resolve("selfsigned.crt");
        Path key = dir.resolve("selfsigned.key");
        if (!Files.exists(crt) || !Files.exists(key)) {
            writeSelfSigned(crt, key, hostName);
        }
        return fromPem(crt, key);
    }

    static void writeSelfSigned(Path crt, Path keyFile, String hostName) throws IOException, GeneralSecurityException {
        KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
        gen.initialize(256);
        KeyPair pair = gen.generateKeyPair();
        X500Name subject = new X500Name("CN=" + hostName);
        Instant now = Instant.now();
        var builder = new JcaX509v3CertificateBuilder(subject, new BigInteger(64, new SecureRandom()),
                Date.from(now.minus(Duration.ofDays(1))), Date.from(now.plus(Duration.ofDays(3650))), subject, pair.getPublic());
        builder.addExtension(Extension.subjectAlternativeName, false,
                new GeneralNames(new GeneralName(GeneralName.dNSName, hostName)));
        X509Certificate cert;
        try {
            cert = new JcaX509CertificateConverter().getCertificate(
                    builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate())));
        } catch (org.bouncycastle.operator.OperatorCreationException e) {
            throw new GeneralSecurityException(e);
        }
        PrivateFiles.createFolders(crt.getParent());
        // PKCS#8 ("PRIVATE KEY"), which every TLS tool reads.
        String pkcs8 = "-----BEGIN PRIVATE KEY-----\n"
                + java.util.Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(pair.getPrivate().getEncoded())
                + "\n-----END PRIVATE KEY-----\n";
        // Owner-only from the moment it exists (AtomicFiles), not after a window of default permissions.
        AtomicFiles.write(keyFile, pkcs8.getBytes(StandardCharsets.US_ASCII));
        java.io.StringWriter pem = new java.io.StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(pem)) {
            w.writeObject(cert);
        }
        AtomicFiles.write(crt, pem.toString().getBytes(StandardCharsets.US_ASCII));
    }

    private static SSLContext context(PrivateKey key, X509Certificate[] chain) throws GeneralSecurityException, IOException {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        char[] pw = new char[0];
        ks.setKeyEntry("server", key, pw, chain);
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, pw);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), null, new SecureRandom());
        return ctx;
    }
}
