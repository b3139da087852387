package dev.paddock.remote;

import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A gRPC server's unix socket, with the mode asked for from the moment anyone can connect: the
 * socket is bound in a private directory beside its path, given its mode there, and only then
 * renamed into place (a socket's mode cannot be chosen at bind time, and the process umask is
 * not Java's to set).
 */
final class UnixSocketListener implements AutoCloseable {
    /**
     * grpc asks every channel for SO_KEEPALIVE, which a unix socket does not have, and netty warns
     * about it for each connection, on both ends. Held here so that the level sticks.
     */
    private static final Logger NETTY_BOOTSTRAP = Logger.getLogger("io.grpc.netty.shaded.io.netty.bootstrap");

    /** sun_path holds 108 bytes with the terminating NUL. */
    static final int MAX_PATH_BYTES = 107;

    private final Path socket;
    private final Set<PosixFilePermission> mode;
    private final Path staging;
    private final EventLoopGroup eventLoops;

    private UnixSocketListener(Path socket, Set<PosixFilePermission> mode, Path staging) {
        this.socket = socket;
        this.mode = mode;
        this.staging = staging;
        NETTY_BOOTSTRAP.setLevel(Level.SEVERE);
        this.eventLoops = new EpollEventLoopGroup(1);
    }

    /**
     * Prepares to listen at socket. A socket file left by a server that died is replaced;
     * anything else at that path is refused.
     */
    static UnixSocketListener at(Path socket, Set<PosixFilePermission> mode) throws IOException {
        Path s = socket.toAbsolutePath();
        if (Files.exists(s, LinkOption.NOFOLLOW_LINKS) && !isSocket(s))
            throw new IOException("cannot listen on " + s + ": it exists and is not a socket");
        Path parent = s.getParent();
        if (!Files.isDirectory(parent))
            throw new IOException("cannot listen on " + s + ": its directory " + parent + " does not exist");
        Path staging = Files.createTempDirectory(parent, ".ps",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        int longest = Math.max(bytes(s), bytes(staging.resolve("s")));
        if (longest > MAX_PATH_BYTES) {
            Files.delete(staging);
            throw new IOException("cannot listen on " + s + ": a unix socket's path holds at most " + MAX_PATH_BYTES
                    + " bytes, and this one (or the private directory beside it where it is made) needs " + longest
                    + "; choose a shorter path");
        }
        return new UnixSocketListener(s, Set.copyOf(mode), staging);
    }

    /** A server builder bound to the staging path, on one epoll event loop. */
    NettyServerBuilder serverBuilder() {
        return NettyServerBuilder.forAddress(new DomainSocketAddress(staging.resolve("s").toString()))
                .channelType(EpollServerDomainSocketChannel.class)
                .bossEventLoopGroup(eventLoops).workerEventLoopGroup(eventLoops);
    }

    /** Once the server listens: the socket gets its mode and moves to its path. */
    void publish() throws IOException {
        Path bound = staging.resolve("s");
        Files.setPosixFilePermissions(bound, mode);
        Files.move(bound, socket, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        Files.delete(staging);
    }

    Path path() {
        return socket;
    }

    /** After the server stopped: the socket file goes, and the event loop with it. */
    @Override
    public void close() throws InterruptedException {
        try {
            Files.deleteIfExists(staging.resolve("s"));
            Files.deleteIfExists(staging);
            Files.deleteIfExists(socket);
        } catch (IOException e) {
            // a socket file only lingers; the next start replaces it
        }
        eventLoops.shutdownGracefully(0, 5, TimeUnit.SECONDS).await(10, TimeUnit.SECONDS);
    }

    private static int bytes(Path p) {
        return p.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
    }

    private static boolean isSocket(Path p) throws IOException {
        int fileMode = (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        return (fileMode & 0170000) == 0140000;
    }
}
