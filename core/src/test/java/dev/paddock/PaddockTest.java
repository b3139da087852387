package dev.paddock;

import java.io.IOException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** Tests that share one {@link Paddock} per class, as applications do. */
abstract class PaddockTest {
    static Paddock paddock;

    @BeforeAll
    static void createPaddock() throws IOException {
        paddock = Paddock.create();
    }

    @AfterAll
    static void closePaddock() throws InterruptedException {
        paddock.close();
    }
}
