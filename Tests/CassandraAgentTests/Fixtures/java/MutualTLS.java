import java.io.*;
import java.net.*;
import java.security.KeyStore;
import javax.net.ssl.*;

/**
 * A mutual-TLS handshake between a server and a client that both load the
 * keystore and truststore cassandra-agent wrote, the way Cassandra's JSSE does.
 * Usage: java MutualTLS.java STORETYPE KEYSTORE TRUSTSTORE PASSWORD
 * Prints "handshake ok <protocol> <peer subject>" or fails with the JSSE error.
 */
public class MutualTLS {
    static SSLContext context(String type, String keystore, String truststore, char[] password) throws Exception {
        KeyStore ks = KeyStore.getInstance(type);
        try (InputStream in = new FileInputStream(keystore)) { ks.load(in, password); }
        KeyStore ts = KeyStore.getInstance(type);
        try (InputStream in = new FileInputStream(truststore)) { ts.load(in, password); }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, password);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ts);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return context;
    }

    public static void main(String[] args) throws Exception {
        SSLContext context = context(args[0], args[1], args[2], args[3].toCharArray());
        try (SSLServerSocket server = (SSLServerSocket) context.getServerSocketFactory().createServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            server.setNeedClientAuth(true);
            Thread serverSide = new Thread(() -> {
                try (SSLSocket socket = (SSLSocket) server.accept()) {
                    socket.startHandshake();
                    socket.getOutputStream().write(42);
                    socket.getOutputStream().flush();
                } catch (Exception e) {
                    System.err.println("server: " + e);
                }
            });
            serverSide.start();
            try (SSLSocket client = (SSLSocket) context.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(), server.getLocalPort())) {
                client.startHandshake();
                if (client.getInputStream().read() != 42) throw new IllegalStateException("no data after the handshake");
                SSLSession session = client.getSession();
                System.out.println("handshake ok " + session.getProtocol() + " " + session.getPeerPrincipal().getName());
            }
            serverSide.join(10000);
        }
    }
}
