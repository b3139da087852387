package dev.paddock;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInfo;

/**
 * Tests that share one {@link Paddock} per class, as applications do: in server mode, or in
 * one-shot mode for a subclass marked {@link OneShot} (each suite has one, so that both modes
 * pass the same tests).
 */
abstract class PaddockTest {
    static Paddock paddock;
    static SpawnMode mode;

    @BeforeAll
    static void createPaddock(TestInfo info) throws IOException {
        boolean oneShot = info.getTestClass().orElseThrow().isAnnotationPresent(OneShot.class);
        mode = oneShot ? SpawnMode.ONE_SHOT : SpawnMode.SERVER;
        paddock = Paddock.create(mode);
    }

    @AfterAll
    static void closePaddock() throws InterruptedException {
        SpawnMode used = paddock.spawnMode();
        paddock.close();
        assertEquals(mode, used, "the tests ran in another mode than asked for (the spawn server did not start?)");
    }
}
