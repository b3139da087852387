package dev.paddock.remote;

import static dev.paddock.remote.RemoteFixture.assertStatus;
import static dev.paddock.remote.RemoteFixture.shell;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import build.bazel.remote.execution.v2.CapabilitiesGrpc;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.ExecuteRequest;
import build.bazel.remote.execution.v2.GetActionResultRequest;
import build.bazel.remote.execution.v2.GetCapabilitiesRequest;
import build.bazel.remote.execution.v2.ServerCapabilities;
import dev.paddock.testing.TestCertificates;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NegotiationType;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What it takes to expose the server: a unix socket only its user can connect to, TLS and mutual
 * TLS, no plaintext on a non-loopback address unless asked, and instance names that keep action
 * caches apart.
 */
@Timeout(120)
class ExposureTest {
    @TempDir
    Path dir;

    private RemoteServer.Builder server() {
        return RemoteServer.newBuilder().cacheDir(dir.resolve("cache")).workers(1);
    }

    private static ServerCapabilities capabilities(ManagedChannel channel) {
        try {
            return CapabilitiesGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
                    .getCapabilities(GetCapabilitiesRequest.getDefaultInstance());
        } finally {
            channel.shutdownNow();
        }
    }

    @Test
    void aUnixSocketIsTheServingUsersOnlyAndServes() throws Exception {
        Path socket = dir.resolve("reapi.sock");
        Files.writeString(socket, "not a socket");
        try (RemoteServer s = server().listenUnix(socket).build()) {
            IOException e = assertThrows(IOException.class, s::start);
            assertTrue(e.getMessage().contains("exists and is not a socket"), e.getMessage());
        }
        Files.delete(socket);

        EpollEventLoopGroup loop = new EpollEventLoopGroup(1);
        try (RemoteServer s = server().listenUnix(socket).build()) {
            s.start();
            assertEquals("rw-------", PosixFilePermissions.toString(
                    Files.getPosixFilePermissions(socket, LinkOption.NOFOLLOW_LINKS)));
            assertEquals("unix:" + socket, s.address());
            ManagedChannel channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                    .eventLoopGroup(loop).channelType(EpollDomainSocketChannel.class).usePlaintext().build();
            assertTrue(capabilities(channel).hasExecutionCapabilities());
        } finally {
            loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(10, TimeUnit.SECONDS);
        }
        assertFalse(Files.exists(socket, LinkOption.NOFOLLOW_LINKS), "the socket is removed when the server stops");

        try (var left = Files.list(dir)) {
            assertEquals(1, left.count(), "only the cache directory is left beside the socket");
        }
        Path deep = Files.createDirectories(dir.resolve("d".repeat(60)).resolve("e".repeat(40)));
        try (RemoteServer s = server().listenUnix(deep.resolve("reapi.sock")).build()) {
            IOException e = assertThrows(IOException.class, s::start);
            assertTrue(e.getMessage().contains("a unix socket's path holds at most 107 bytes"), e.getMessage());
        }
        try (var left = Files.list(deep)) {
            assertEquals(0, left.count(), "nothing is left beside a socket that could not be made");
        }
    }

    @Test
    void plaintextIsRefusedOnANonLoopbackAddressUnlessAsked() throws Exception {
        InetSocketAddress everywhere = new InetSocketAddress("0.0.0.0", 0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> server().listen(everywhere).build());
        assertTrue(e.getMessage().contains("without TLS") && e.getMessage().contains("--insecure"), e.getMessage());
        try (RemoteServer s = server().listen(everywhere).insecure(true).build()) {
            assertTrue(s.start() > 0);
        }
    }

    @Test
    void tlsServesOnlyClientsThatSpeakIt() throws Exception {
        TestCertificates certs = TestCertificates.create(Files.createDirectory(dir.resolve("certs")));
        try (RemoteServer s = server().listen(new InetSocketAddress("0.0.0.0", 0))
                .tls(certs.serverCert(), certs.serverKey()).build()) {
            int port = s.start();
            ManagedChannel tls = NettyChannelBuilder.forAddress("127.0.0.1", port)
                    .sslContext(GrpcSslContexts.forClient().trustManager(certs.ca().toFile()).build()).build();
            assertTrue(capabilities(tls).hasCacheCapabilities());
            ManagedChannel plain = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
            assertStatus(Status.Code.UNAVAILABLE, () -> capabilities(plain));
        }
    }

    @Test
    void mutualTlsAdmitsOnlyClientsWithACertificateTheCaSigned() throws Exception {
        TestCertificates certs = TestCertificates.create(Files.createDirectory(dir.resolve("certs")));
        try (RemoteServer s = server().listen(new InetSocketAddress("127.0.0.1", 0))
                .tls(certs.serverCert(), certs.serverKey()).tlsClientCa(certs.ca()).build()) {
            int port = s.start();
            SslContextBuilder withCertificate = GrpcSslContexts.forClient().trustManager(certs.ca().toFile())
                    .keyManager(certs.clientCert().toFile(), certs.clientKey().toFile());
            ManagedChannel admitted = NettyChannelBuilder.forAddress("127.0.0.1", port)
                    .negotiationType(NegotiationType.TLS).sslContext(withCertificate.build()).build();
            assertTrue(capabilities(admitted).hasCacheCapabilities());
            ManagedChannel anonymous = NettyChannelBuilder.forAddress("127.0.0.1", port)
                    .sslContext(GrpcSslContexts.forClient().trustManager(certs.ca().toFile()).build()).build();
            assertStatus(Status.Code.UNAVAILABLE, () -> capabilities(anonymous));
        }
    }

    @Test
    void clientCertificatesWithoutTlsAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> server().tlsClientCa(dir.resolve("ca.pem")).build());
        assertTrue(e.getMessage().contains("--tls-cert"), e.getMessage());
    }

    /** A result is cached for the instance that executed the action; blobs stay shared. */
    @Test
    void instanceNamesKeepActionCachesApart() throws Exception {
        try (RemoteFixture remote = RemoteFixture.start(dir.resolve("cache"))) {
            Digest action = remote.uploadAction(shell("printf built > out", "out"), new InputTree());
            remote.execute(ExecuteRequest.newBuilder().setInstanceName("team-a").setActionDigest(action).build());
            var cache = remote.actionCache();
            assertEquals(0, cache.getActionResult(GetActionResultRequest.newBuilder().setInstanceName("team-a")
                    .setActionDigest(action).build()).getExitCode());
            for (String other : new String[] {"team-b", "", "team-a/"})
                assertStatus(Status.Code.NOT_FOUND, () -> cache.getActionResult(GetActionResultRequest.newBuilder()
                        .setInstanceName(other).setActionDigest(action).build()));
            var again = remote.execute(ExecuteRequest.newBuilder().setInstanceName("team-b").setActionDigest(action)
                    .build());
            assertFalse(again.response().getCachedResult(), "another instance runs the action itself");
            assertEquals("built", remote.text(again.result().getOutputFiles(0).getDigest()));
        }
    }
}
