package dev.paddock.remote;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * A test of paddock serve with its cache in a fresh directory: each test (or a
 * {@code @BeforeEach}) starts the server it needs into {@link #remote}, which is closed after it.
 */
abstract class ServerTest {
    @TempDir
    Path cache;
    RemoteFixture remote;

    @AfterEach
    void closeServer() throws InterruptedException {
        if (remote != null) remote.close();
    }
}
