package dev.netwatcher.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** The mark the launcher makes an AOT cache by (scripts/env.sh nw_cache_opts): only after a run busy enough. */
class AotTrainingTest {
    @Test
    void aRunMarksItselfOnlyWithEnoughRecordsAndWhenAsked(@TempDir Path tmp) throws Exception {
        Path mark = tmp.resolve("netwatcher-1-2.aottrained");
        String before = System.getProperty("netwatcher.aot.trained");
        try {
            AotTraining.ended(1_000_000); // not recording: no property, no file
            assertFalse(Files.exists(mark));
            System.setProperty("netwatcher.aot.trained", mark.toString());
            AotTraining.ended(AotTraining.RECORDS - 1);
            assertFalse(Files.exists(mark), "a quiet run teaches the JIT nothing");
            AotTraining.ended(AotTraining.RECORDS);
            assertEquals(AotTraining.RECORDS + " records\n", Files.readString(mark));
            System.setProperty("netwatcher.aot.trained", tmp.resolve("no/such/dir/x").toString());
            AotTraining.ended(AotTraining.RECORDS); // a mark that cannot be written is no failure of the run
        } finally {
            if (before == null) System.clearProperty("netwatcher.aot.trained");
            else System.setProperty("netwatcher.aot.trained", before);
        }
    }
}
