package dev.netwatcher.cli;

import picocli.CommandLine;

import java.io.PrintWriter;

/** Entry point: parses options and runs netwatcher; exit 0 ok, 1 runtime failure, 2 usage error. */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        // While picocli parses the options, the other CPU makes the libbpf downcall handles (~40; the
        // JVM generates code for each) and reads the kernel's BTF (~6 MB, indexed once): every run
        // that loads a program needs both (bench/startup.sh).
        Thread.ofPlatform().daemon().name("netwatcher-warm-up").start(() -> {
            try {
                dev.netwatcher.bpf.BpfObject.prepare();
                dev.netwatcher.btf.Btf.kernel().hasTracepoint("kfree_skb");
            } catch (java.io.IOException | RuntimeException | LinkageError e) {
                // said by the run that needs them (Session.open)
            }
        });
        // started with SIGINT ignored (a script's background job): stop on it like on SIGTERM,
        // through the shutdown hooks that detach and print the summary (exit 130 as for Ctrl-C)
        if (dev.netwatcher.bpf.Signals.unignoreInterrupt()) {
            sun.misc.Signal.handle(new sun.misc.Signal("INT"), s -> System.exit(130));
        }
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        Netwatcher app = new Netwatcher();
        CommandLine cl = new CommandLine(app);
        cl.getHelpSectionMap().put(picocli.CommandLine.Model.UsageMessageSpec.SECTION_KEY_OPTION_LIST, HelpSections::optionSections);
        cl.setOut(out);
        cl.setErr(err);
        cl.setParameterExceptionHandler((ex, a) -> {
            err.println("netwatcher: " + oneLine(ex.getMessage()) + " (see netwatcher --help)");
            return 2;
        });
        cl.setExecutionExceptionHandler((ex, command, parseResult) -> {
            if (ex instanceof UsageException u) {
                err.println("netwatcher: " + u.getMessage() + " (see netwatcher --help)");
                return 2;
            }
            err.println("netwatcher: " + oneLine(ex.getMessage() != null ? ex.getMessage() : ex.toString()));
            if (app.output.debug) ex.printStackTrace(err);
            else err.println("netwatcher: run with --debug for details");
            return 1;
        });
        return cl.execute(args);
    }

    static String oneLine(String s) {
        if (s == null) return "";
        int nl = s.indexOf('\n');
        return (nl < 0 ? s : s.substring(0, nl)).trim();
    }
}
