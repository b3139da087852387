package dev.paddock.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A throwaway certificate authority with a server certificate for 127.0.0.1 and localhost and a
 * client certificate, made with the openssl command (keys in PKCS#8 PEM, as gRPC and Bazel read
 * them), for tests of TLS and mutual TLS.
 *
 * @param ca         the CA certificate: clients trust it, and a server taking client certificates too
 * @param serverCert the server's certificate, signed by the CA
 * @param serverKey  its private key
 * @param clientCert a client's certificate, signed by the CA
 * @param clientKey  its private key
 */
public record TestCertificates(Path ca, Path serverCert, Path serverKey, Path clientCert, Path clientKey) {
    /** Makes the files in dir; skips the calling test when openssl is not installed. */
    public static TestCertificates create(Path dir) throws IOException, InterruptedException {
        HostTools.require("openssl", "openssl");
        TestCertificates c = new TestCertificates(dir.resolve("ca.pem"), dir.resolve("server.pem"),
                dir.resolve("server.key"), dir.resolve("client.pem"), dir.resolve("client.key"));
        Path caKey = dir.resolve("ca.key");
        openssl(dir, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=paddock test CA",
                "-keyout", caKey.toString(), "-out", c.ca.toString());
        c.sign(dir, caKey, "server", c.serverKey, c.serverCert, "subjectAltName=IP:127.0.0.1,DNS:localhost");
        c.sign(dir, caKey, "client", c.clientKey, c.clientCert, "extendedKeyUsage=clientAuth");
        return c;
    }

    private void sign(Path dir, Path caKey, String name, Path key, Path cert, String extension)
            throws IOException, InterruptedException {
        Path request = dir.resolve(name + ".csr");
        Path extensions = java.nio.file.Files.writeString(dir.resolve(name + ".ext"), extension + "\n");
        openssl(dir, "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=paddock test " + name,
                "-keyout", key.toString(), "-out", request.toString());
        openssl(dir, "x509", "-req", "-in", request.toString(), "-CA", ca.toString(), "-CAkey", caKey.toString(),
                "-CAcreateserial", "-days", "2", "-extfile", extensions.toString(), "-out", cert.toString());
    }

    private static void openssl(Path dir, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) throw new IOException(String.join(" ", command) + " failed:\n" + output);
    }
}
