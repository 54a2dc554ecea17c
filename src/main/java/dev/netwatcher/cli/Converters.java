package dev.netwatcher.cli;

import dev.netwatcher.probe.Cidr;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** picocli converters of netwatcher's option values: each bad value is one line that says what was expected (exit 2). */
final class Converters {
    private Converters() {}

    /** --metrics [HOST:]PORT; host null means every address. */
    record Endpoint(String host, int port) {}

    static final class EndpointConverter implements ITypeConverter<Endpoint> {
        @Override
        public Endpoint convert(String value) {
            String v = value.trim();
            String host = null, port = v;
            int colon = v.lastIndexOf(':');
            if (colon >= 0) {
                host = v.substring(0, colon);
                port = v.substring(colon + 1);
                if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
                if (host.isEmpty()) throw new TypeConversionException("'" + value + "' has an empty host: use PORT or HOST:PORT");
                if (host.indexOf(':') >= 0 && !v.startsWith("[")) {
                    throw new TypeConversionException("'" + value + "': write an IPv6 host in brackets, e.g. [::1]:9464");
                }
            }
            int p;
            try {
                p = Integer.parseInt(port);
            } catch (NumberFormatException e) {
                throw new TypeConversionException("'" + value + "' is not [HOST:]PORT (port 0-65535)");
            }
            // 0: a free port the kernel picks, shown in the "attached" line (scripts and tests that run several at once)
            if (p < 0 || p > 65535) throw new TypeConversionException("port " + p + " is out of range 0-65535 (0: any free port)");
            return new Endpoint(host, p);
        }
    }

    /** value as an int, or a conversion error saying what it should have been. */
    static int integer(String value, String what) {
        try {
            return Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new TypeConversionException("'" + value + "' is not " + what);
        }
    }

    static final class RingConverter implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            int kb = integer(value, "a size in KiB");
            if (kb < 4 || kb > 1 << 20 || Integer.bitCount(kb) != 1) {
                throw new TypeConversionException("ring buffer size must be a power of 2 from 4 to 1048576 KiB, got " + value);
            }
            return kb;
        }
    }

    static final class PortConverter implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            int p = integer(value, "a port number (1-65535)");
            if (p < 1 || p > 65535) throw new TypeConversionException("port " + p + " is out of range 1-65535");
            return p;
        }
    }

    static final class CidrConverter implements ITypeConverter<Cidr> {
        @Override
        public Cidr convert(String value) {
            try {
                return Cidr.parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    /** value as a finite number above 0; otherwise notANumber or notPositive, followed by the value. */
    static double positive(String value, String notANumber, String notPositive) {
        double d;
        try {
            d = Double.parseDouble(value.trim());
        } catch (NumberFormatException e) {
            throw new TypeConversionException("'" + value + "' is not " + notANumber);
        }
        if (!(d > 0) || Double.isInfinite(d)) throw new TypeConversionException(notPositive + ", got " + value);
        return d;
    }

    /** Units a duration may carry, in nanoseconds: "500ms", "5s", "2m", "1h"; longest suffix first. */
    private static final String[] UNITS = {"ns", "us", "\u00b5s", "ms", "s", "m", "h"};
    private static final double[] UNIT_NS = {1, 1e3, 1e3, 1e6, 1e9, 60e9, 3600e9};

    /**
     * A duration in units of unitNs: a plain number is in that unit (seconds for --duration, ms for
     * --mysql-slow-ms), a number with a unit (500ms, 5s, 2m, 1h, 250us, 10ns) is converted.
     */
    static double duration(String value, double unitNs, String plainUnit) {
        String v = value.trim();
        double scale = 1;
        for (int i = 0; i < UNITS.length; i++) {
            if (v.endsWith(UNITS[i]) && v.length() > UNITS[i].length()) {
                String num = v.substring(0, v.length() - UNITS[i].length()).trim();
                if (!num.isEmpty() && (Character.isDigit(num.charAt(num.length() - 1)) || num.endsWith("."))) {
                    v = num;
                    scale = UNIT_NS[i] / unitNs;
                    break;
                }
            }
        }
        double d;
        try {
            if (v.chars().anyMatch(Character::isLetter)) throw new NumberFormatException(); // 1e3, Infinity, NaN
            d = Double.parseDouble(v) * scale;
        } catch (NumberFormatException e) {
            throw new TypeConversionException("'" + value + "' is not a duration: a number of " + plainUnit
                    + ", or a number with a unit (500ms, 5s, 2m, 1h)");
        }
        if (!(d > 0) || Double.isInfinite(d)) throw new TypeConversionException("a duration must be more than 0, got " + value);
        return d;
    }

    /** A duration in seconds (--duration, --interval, --conn-every, --totals-every). */
    static final class DurationConverter implements ITypeConverter<Double> {
        @Override
        public Double convert(String value) {
            return duration(value, 1e9, "seconds");
        }
    }

    /** A duration in milliseconds (options named -ms). */
    static final class MillisConverter implements ITypeConverter<Double> {
        @Override
        public Double convert(String value) {
            return duration(value, 1e6, "milliseconds");
        }
    }

    /** A duration in microseconds (options named -us). */
    static final class MicrosConverter implements ITypeConverter<Double> {
        @Override
        public Double convert(String value) {
            return duration(value, 1e3, "microseconds");
        }
    }

    static final class SampleConverter implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            try {
                int n = Integer.parseInt(value.trim());
                if (n >= 1 && n <= 1_000_000) return n;
            } catch (NumberFormatException e) {
                // said below
            }
            throw new TypeConversionException("must be a whole number from 1 to 1000000, got '" + value + "'");
        }
    }

    /** --top: how many rows, 1 and up. */
    static final class PositiveIntConverter implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            try {
                int n = Integer.parseInt(value.trim());
                if (n >= 1) return n;
            } catch (NumberFormatException e) {
                // said below
            }
            throw new TypeConversionException("must be a whole number from 1, got '" + value + "'");
        }
    }

    static final class PositiveConverter implements ITypeConverter<Double> {
        @Override
        public Double convert(String value) {
            return positive(value, "a number", "must be more than 0");
        }
    }

    static final class NetnsConverter implements ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            try {
                long v = Long.parseLong(value.trim());
                if (v > 0 && v <= 0xffffffffL) return v;
            } catch (NumberFormatException e) {
                // fall through
            }
            throw new TypeConversionException("'" + value + "' is not a namespace inode number");
        }
    }

    /** --pid: a running process. */
    static final class PidConverter implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            int pid;
            try {
                pid = Integer.parseInt(value.trim());
            } catch (NumberFormatException e) {
                throw new TypeConversionException("'" + value + "' is not a process id");
            }
            if (pid <= 0) throw new TypeConversionException("'" + value + "' is not a process id");
            if (!java.nio.file.Files.isDirectory(java.nio.file.Path.of("/proc", Integer.toString(pid))))
                throw new TypeConversionException("no process " + pid + " is running");
            return pid;
        }
    }

    /** --comm: a task name as the kernel keeps it (TASK_COMM_LEN 16, with its terminating NUL). */
    static final class CommConverter implements ITypeConverter<String> {
        @Override
        public String convert(String value) {
            if (value.isEmpty()) throw new TypeConversionException("a task name cannot be empty");
            if (value.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > 15)
                throw new TypeConversionException("'" + value + "' is longer than a task name can be (15 bytes: the kernel "
                        + "keeps the first 15, as /proc/PID/comm shows)");
            return value;
        }
    }

    /** --cgroup: a cgroup v2 directory, absolute or relative to the cgroup2 mount; its id. */
    static final class CgroupConverter implements ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            long id = dev.netwatcher.kernel.CgroupPaths.system().idOf(value);
            if (id <= 0) throw new TypeConversionException("'" + value + "' is not a cgroup (a directory of the cgroup v2 "
                    + "hierarchy, e.g. /system.slice/ssh.service, as in /proc/PID/cgroup)");
            return id;
        }
    }
}
