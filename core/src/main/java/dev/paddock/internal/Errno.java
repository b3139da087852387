package dev.paddock.internal;

import java.util.Map;

/** Names and messages of the errno values paddock reports from Java. */
public final class Errno {
    private Errno() {}

    private record Entry(String name, String message) {}

    private static final Map<Integer, Entry> ENTRIES = Map.ofEntries(
            Map.entry(1, new Entry("EPERM", "Operation not permitted")),
            Map.entry(2, new Entry("ENOENT", "No such file or directory")),
            Map.entry(3, new Entry("ESRCH", "No such process")),
            Map.entry(4, new Entry("EINTR", "Interrupted system call")),
            Map.entry(5, new Entry("EIO", "Input/output error")),
            Map.entry(7, new Entry("E2BIG", "Argument list too long")),
            Map.entry(8, new Entry("ENOEXEC", "Exec format error")),
            Map.entry(9, new Entry("EBADF", "Bad file descriptor")),
            Map.entry(10, new Entry("ECHILD", "No child processes")),
            Map.entry(11, new Entry("EAGAIN", "Resource temporarily unavailable")),
            Map.entry(12, new Entry("ENOMEM", "Cannot allocate memory")),
            Map.entry(13, new Entry("EACCES", "Permission denied")),
            Map.entry(17, new Entry("EEXIST", "File exists")),
            Map.entry(20, new Entry("ENOTDIR", "Not a directory")),
            Map.entry(21, new Entry("EISDIR", "Is a directory")),
            Map.entry(22, new Entry("EINVAL", "Invalid argument")),
            Map.entry(23, new Entry("ENFILE", "Too many open files in system")),
            Map.entry(24, new Entry("EMFILE", "Too many open files")),
            Map.entry(26, new Entry("ETXTBSY", "Text file busy")),
            Map.entry(28, new Entry("ENOSPC", "No space left on device")),
            Map.entry(30, new Entry("EROFS", "Read-only file system")),
            Map.entry(36, new Entry("ENAMETOOLONG", "File name too long")),
            Map.entry(38, new Entry("ENOSYS", "Function not implemented")),
            Map.entry(40, new Entry("ELOOP", "Too many levels of symbolic links")));

    public static String name(int errno) {
        Entry e = ENTRIES.get(errno);
        return e == null ? "E" + errno : e.name();
    }

    public static String message(int errno) {
        Entry e = ENTRIES.get(errno);
        return e == null ? "error " + errno : e.message();
    }
}
