package dev.paddock.remote;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

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
    static final int MOST_WAITING = 4096;

    private final Path parent;
    private final Consumer<String> log;
    /** The deleting thread's work, in order: deletions, and the wake-ups of those waiting for them. */
    private final BlockingQueue<Runnable> work = new LinkedBlockingQueue<>();
    private final AtomicLong names = new AtomicLong();
    private final AtomicInteger waiting = new AtomicInteger();
    private final Thread deleter;
    private volatile Path directory;
    private volatile boolean closing;

    /**
     * @param parent the directory to keep the trash in: on the file system of what will be removed
     * @param log    where failures to delete are told; must not block
     */
    Trash(Path parent, Consumer<String> log) throws IOException {
        this.parent = parent;
        this.log = log;
        try (DirectoryStream<Path> leftovers = Files.newDirectoryStream(parent, PREFIX + "*")) {
            for (Path p : leftovers) deleteLater(p);
        }
        this.directory = Files.createTempDirectory(parent, PREFIX);
        this.deleter = Thread.ofPlatform().daemon().name("paddock-trash").start(this::deleteInTurn);
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
                deleteLater(target);
                return;
            } catch (NoSuchFileException e) {
                if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) return;
                remake(trashDirectory);
            } catch (AtomicMoveNotSupportedException e) {
                break;
            }
        }
        delete(path);
    }

    private void deleteLater(Path tree) {
        waiting.incrementAndGet();
        work.add(() -> {
            deleteLogged(tree);
            waiting.decrementAndGet();
        });
    }

    /** Makes the trash directory again, unless another caller did since it went. */
    private synchronized void remake(Path gone) throws IOException {
        if (directory.equals(gone)) directory = Files.createTempDirectory(parent, PREFIX);
    }

    /** Waits until everything removed so far has been deleted (for tests). */
    void awaitDeleted() throws InterruptedException {
        CountDownLatch done = new CountDownLatch(1);
        work.add(done::countDown);
        done.await();
    }

    /** Deletes what is queued, then the trash directory, and stops; an interrupt ends the wait. */
    @Override
    public void close() {
        work.add(() -> {
            deleteLogged(directory);
            closing = true;
        });
        try {
            deleter.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void deleteInTurn() {
        while (!closing) {
            try {
                work.take().run();
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private void deleteLogged(Path tree) {
        try {
            delete(tree);
        } catch (IOException e) {
            log.accept("runner: could not delete " + tree + ": " + e);
        }
    }

    /** Deletes tree; one that someone else deletes meanwhile (bb_worker cleaning up) is no error. */
    private static void delete(Path tree) throws IOException {
        try {
            FileTrees.deleteRecursively(tree);
        } catch (NoSuchFileException e) {
            // gone already
        }
    }
}
