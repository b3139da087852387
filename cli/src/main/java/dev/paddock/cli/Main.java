package dev.paddock.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code paddock} command. */
@Command(
        name = "paddock",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = {
            "Contained process execution for build tools and CI.",
            "",
            "Every action runs in its own session and process group, sees only fds 0-2,",
            "and its whole process tree dies when it exits, times out, or when paddock dies.",
        },
        subcommands = {RunCommand.class, ServeCommand.class, RunnerCommand.class, DoctorCommand.class, BenchCommand.class, CommandLine.HelpCommand.class},
        footer = {"", "Run 'paddock help COMMAND' for a command's options."})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is needed: run, serve, doctor or bench");
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    static int execute(String... args) {
        CommandLine cli = new CommandLine(new Main());
        cli.setParameterExceptionHandler((ex, a) -> {
            CommandLine failed = ex.getCommandLine();
            failed.getErr().println("paddock: " + ex.getMessage());
            failed.getErr().println("Run '" + failed.getCommandSpec().qualifiedName() + " --help' for usage.");
            // `paddock run` follows GNU timeout/env: 125 means paddock itself failed.
            return failed.getCommand() instanceof RunCommand ? RunCommand.EXIT_PADDOCK_FAILED : 2;
        });
        cli.setExecutionExceptionHandler((ex, failed, parsed) -> {
            failed.getErr().println("paddock: " + (ex.getMessage() == null ? ex.toString() : ex.getMessage()));
            return failed.getCommand() instanceof RunCommand ? RunCommand.EXIT_PADDOCK_FAILED : 1;
        });
        return cli.execute(args);
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"paddock " + (v == null ? "development build" : v)};
        }
    }
}
