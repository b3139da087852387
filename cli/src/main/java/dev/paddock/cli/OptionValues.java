package dev.paddock.cli;

import dev.paddock.internal.Quantities;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import picocli.CommandLine;

/** Option values the commands share, each refused with a message that says what is expected. */
final class OptionValues {
    private OptionValues() {}

    static InetSocketAddress address(CommandLine.Model.CommandSpec spec, String hostPort, String option) {
        int colon = hostPort.lastIndexOf(':');
        if (colon <= 0 || colon == hostPort.length() - 1)
            throw new CommandLine.ParameterException(spec.commandLine(),
                    option + " '" + hostPort + "' must be HOST:PORT, such as 127.0.0.1:8980 (0.0.0.0 for every interface)");
        String host = hostPort.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
        try {
            int port = Integer.parseInt(hostPort.substring(colon + 1));
            if (port < 0 || port > 65535) throw new NumberFormatException();
            return new InetSocketAddress(host, port);
        } catch (NumberFormatException e) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    option + " '" + hostPort + "': the port must be a number from 0 to 65535");
        }
    }

    /** An octal mode for --socket-mode, such as 0660. */
    static Set<PosixFilePermission> socketMode(CommandLine.Model.CommandSpec spec, String octal) {
        int bits;
        try {
            bits = Integer.parseInt(octal, 8);
            if (bits < 0 || bits > 0777) throw new NumberFormatException();
        } catch (NumberFormatException e) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--socket-mode '" + octal + "' must be octal permissions from 0000 to 0777, such as 0660");
        }
        Set<PosixFilePermission> set = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] order = {PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE,
                PosixFilePermission.OTHERS_READ, PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE,
                PosixFilePermission.GROUP_READ, PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE,
                PosixFilePermission.OWNER_READ};
        for (int i = 0; i < order.length; i++) if ((bits & (1 << i)) != 0) set.add(order[i]);
        return set;
    }

    /** The socket of a "unix:PATH" (or unix:///PATH, as bb_worker writes it) address; empty for HOST:PORT. */
    static Optional<Path> unixSocket(CommandLine.Model.CommandSpec spec, String address, String option) {
        if (!address.startsWith("unix:")) return Optional.empty();
        String path = address.substring("unix:".length());
        if (path.startsWith("//")) path = path.substring(2);
        if (path.isEmpty()) throw new CommandLine.ParameterException(spec.commandLine(),
                option + " unix: needs a socket path, such as unix:/run/paddock/socket");
        return Optional.of(Path.of(path));
    }

    static <E extends Enum<E>> E enumOption(CommandLine.Model.CommandSpec spec, Class<E> type, String value,
            String option) {
        try {
            return Enum.valueOf(type, value.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), option + " '" + value + "' is not one of "
                    + java.util.Arrays.stream(type.getEnumConstants()).map(c -> c.name().toLowerCase(Locale.ROOT)).toList());
        }
    }

    /** A positive size: bytes, or a number with K, M, G or T (binary units; a trailing B or iB is fine). */
    static long size(CommandLine.Model.CommandSpec spec, String s, String option) {
        try {
            return Quantities.size(s);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), option + " " + e.getMessage());
        }
    }
}
