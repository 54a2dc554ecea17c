package dev.netwatcher.it;

import dev.netwatcher.lab.Lab;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Kernel tests run as root, each with a fresh two-namespace lab that is deleted afterwards, also on failure. */
abstract class LabTest {
    Lab lab;
    /** A folder of the test's own (log folders, outputs), removed by JUnit after the test, also when it fails. */
    @org.junit.jupiter.api.io.TempDir
    java.nio.file.Path tmp;

    @BeforeAll
    static void needsRoot() {
        assertEquals("root", System.getProperty("user.name"), "kernel tests need root (CI runs them as root)");
    }

    @BeforeEach
    void lab() {
        lab = Lab.create();
    }

    @AfterEach
    void cleanup() {
        lab.close();
    }
}
