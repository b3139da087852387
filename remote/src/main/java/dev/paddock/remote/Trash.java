package dev.paddock.remote;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Removes directory trees off the caller's path: {@link #remove} renames a tree into a private
 * directory in the same file system, which takes microseconds, and a thread of the trash's own
 * deletes it there. On ext4 mounted with {@code discard}, as cloud disks often are, every
 * {@code rmdir} waits for the device (65 to 120 µs on an idle machine, half a millisecond under
 * load, against under 10 µs for the rename): the runner removes the mount points it made in an
 * input root before it answers, and bb_worker waits for that answer.
 *
 * <p>The private directory is {@code .paddock-trash-*} in the directory given (bb_worker's build
 * directory). One left by an earlier runner is emptied and removed at start. When someone else
 * removes it meanwhile (bb_worker cleans its build directory when idle), it is made again. Such a
 * disk deletes directories one at a time, however many threads ask: when trees come faster than
 * it deletes them, at most {@value #MOST_WAITING} wait, and {@link #remove} deletes in place past
 * that, so that the trash cannot fill the disk.
 */
final class Trash implements AutoCloseable {
    private static final String PREFIX = ".paddock-trash-";
    /** Tells the deleting thread to stop. */
    private static final Path END = Path.of("");
    static final int MOST_WAITING = 4096;

    private final Path parent;
    private final Consumer<String> log;
    private final BlockingQueue<Object> queue = new LinkedBlockingQueue<>();
    private final AtomicLong names = new AtomicLong();
    private final AtomicInteger waiting = new AtomicInteger();
    private final Thread deleter;
    private volatile Path directory;

    /**
     * @param parent the directory to keep the trash in: on the file system of what will be removed
     * @param log    where failures to delete are told; must not block
     */
    Trash(Path parent, Consumer<String> log) throws IOException {
        this.parent = parent;
        this.log = log;
        try (DirectoryStream<Path> leftovers = Files.newDirectoryStream(parent, PREFIX + "*")) {
            for (Path p : leftovers) enqueue(p);
        }
        this.directory = Files.createTempDirectory(parent, PREFIX);
        this.deleter = Thread.ofPlatform().daemon().name("paddock-trash").start(this::deleteQueued);
    }

    /**
     * Moves path (a directory tree or a link, not followed) out of its directory at once, to be
     * deleted later. Deletes it here instead when it cannot be moved into the trash (it is on
     * another file system), or when {@value #MOST_WAITING} trees wait already. Nothing happens if
     * path does not exist.
     */
    void remove(Path path) throws IOException {
        for (int attempt = 0; attempt < 2 && waiting.get() < MOST_WAITING; attempt++) {
            Path trashDirectory = directory;
            try {
                Path target = trashDirectory.resolve(Long.toString(names.incrementAndGet()));
                Files.move(path, target, StandardCopyOption.ATOMIC_MOVE);
                enqueue(target);
                return;
            } catch (NoSuchFileException e) {
                if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) return;
                remake(trashDirectory);
            } catch (AtomicMoveNotSupportedException e) {
                break;
            }
        }
        deleteTree(path);
    }

    private void enqueue(Path tree) {
        waiting.incrementAndGet();
        queue.add(tree);
    }

    /** Makes the trash directory again, unless another caller did since it went. */
    private synchronized void remake(Path gone) throws IOException {
        if (directory.equals(gone)) directory = Files.createTempDirectory(parent, PREFIX);
    }

    /** Waits until everything removed so far has been deleted (for tests). */
    void awaitDeleted() throws InterruptedException {
        CountDownLatch done = new CountDownLatch(1);
        queue.add(done);
        done.await();
    }

    /** Deletes what is queued, then the trash directory, and stops; an interrupt ends the wait. */
    @Override
    public void close() {
        queue.add(END);
        try {
            deleter.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void deleteQueued() {
        for (;;) {
            Object next;
            try {
                next = queue.take();
            } catch (InterruptedException e) {
                return;
            }
            if (next instanceof CountDownLatch done) {
                done.countDown();
                continue;
            }
            Path path = (Path) next;
            if (path == END) path = directory;
            try {
                deleteTree(path);
            } catch (IOException e) {
                log.accept("runner: could not delete " + path + ": " + e);
            }
            if (next == END) return;
            waiting.decrementAndGet();
        }
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (NoSuchFileException e) {
            // gone already
        } catch (UncheckedIOException e) {
            if (!(e.getCause() instanceof NoSuchFileException)) throw e.getCause();
        }
    }
}
