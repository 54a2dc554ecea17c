package dev.netwatcher.cli;

/** A bad combination or value of options: reported in one line with exit code 2. */
final class UsageException extends RuntimeException {
    UsageException(String message) {
        super(message);
    }
}
