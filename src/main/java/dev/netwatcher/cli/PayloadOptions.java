package dev.netwatcher.cli;

import dev.netwatcher.cli.Converters.MillisConverter;
import dev.netwatcher.cli.Converters.PortConverter;
import dev.netwatcher.probe.PayloadProbe;

import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;

/** The application protocols read from payloads: HTTP, DNS, MySQL, Redis, TLS, and their settings. */
final class PayloadOptions {
    @Option(names = {"-i", "--http"}, description = "HTTP/1.x exchanges: method, path, host, status and time to the first response byte.")
    boolean http;
    @Option(names = "--http-full-path", description = "With -i: show request paths with their query values "
            + "(by default /login?user=\u2026&token=\u2026: values often carry tokens, and root sees every user's requests).")
    boolean httpFullPath;
    @Option(names = "--dns", description = "DNS queries and answers (UDP and TCP port 53): name, type, response code, latency.")
    boolean dns;
    @Option(names = {"-M", "--mysql"}, description = "MySQL/MariaDB commands (query text, statement ids, other commands by "
            + "name) with the time to the first byte of the answer and its outcome (OK, ERR code and message, result set columns).")
    boolean mysql;
    @Option(names = "--mysql-port", paramLabel = "PORT", converter = PortConverter.class, defaultValue = "3306",
            description = "With -M: the server port (default: ${DEFAULT-VALUE}).")
    int mysqlPort = 3306; // the same as defaultValue: picocli leaves an unmatched group as initialised
    @Option(names = "--mysql-slow-ms", paramLabel = "MS", converter = MillisConverter.class,
            description = "With -M: only commands answered in MS milliseconds or more (the slow-query log's threshold).")
    double mysqlSlowMs;
    @Option(names = {"-R", "--redis"}, description = "Redis commands (name and first key) with their reply type and "
            + "latency; pipelined commands are paired in order.")
    boolean redis;
    @Option(names = "--redis-port", paramLabel = "PORT", converter = PortConverter.class, defaultValue = "6379",
            description = "With -R: the server port (default: ${DEFAULT-VALUE}).")
    int redisPort = 6379; // the same as defaultValue: picocli leaves an unmatched group as initialised
    @Option(names = "--tls", description = "TLS handshakes: server name (SNI), versions offered and chosen, ALPN, cipher, "
            + "and the time from ClientHello to ServerHello.")
    boolean tls;

    /** The PayloadProbe modes asked for (0: none). */
    int modes() {
        return (http ? PayloadProbe.HTTP : 0) | (dns ? PayloadProbe.DNS : 0) | (tls ? PayloadProbe.TLS : 0)
                | (mysql ? PayloadProbe.MYSQL : 0) | (redis ? PayloadProbe.REDIS : 0);
    }

    void validate(ParseResult pr) {
        if (httpFullPath && !http) throw new UsageException("--http-full-path belongs to -i: add -i");
        if (!mysql && (pr.hasMatchedOption("--mysql-port") || pr.hasMatchedOption("--mysql-slow-ms")))
            throw new UsageException("--mysql-port and --mysql-slow-ms belong to -M (--mysql): add -M");
        if (!redis && pr.hasMatchedOption("--redis-port")) throw new UsageException("--redis-port belongs to -R (--redis): add -R");
    }
}
