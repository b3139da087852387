package dev.paddock.internal;

import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The launcher's status records, defined once for the Java side: each record type and the fields
 * it carries. docs/launcher.md ("Record fields") lists the same table; a test checks that table
 * and the records the launcher really writes against this one, so the three cannot drift apart.
 */
public enum StatusRecord {
    SPAWNED("spawned", Set.of(Field.PID, Field.PGID, Field.SID, Field.LAUNCHER_PID), Set.of()),
    EXITED("exited",
            Set.of(Field.EXIT_CODE, Field.STATUS, Field.SIGNAL, Field.TIMED_OUT, Field.CANCELLED_BY,
                    Field.OWNER_LOST, Field.KILLED_AFTER_GRACE, Field.WALL_US, Field.RUSAGE),
            Set.of(Field.SIGNAL_NUMBER, Field.CORE_DUMPED)),
    SETUP_FAILED("setup-failed",
            Set.of(Field.STEP, Field.PATH, Field.SYSCALL, Field.ERRNO, Field.ERRNO_CODE, Field.MESSAGE, Field.CAUSE,
                    Field.REMEDY, Field.EXIT_CODE),
            Set.of(Field.WALL_US)),
    EXEC_FAILED("exec-failed",
            Set.of(Field.STEP, Field.PATH, Field.SYSCALL, Field.ERRNO, Field.ERRNO_CODE, Field.MESSAGE,
                    Field.SEARCH_PATH, Field.CAUSE, Field.REMEDY, Field.EXIT_CODE, Field.WALL_US),
            Set.of()),
    OVERLAY("overlay", Set.of(Field.PATH, Field.IMPL), Set.of(Field.EFFECT)),
    DEGRADED("degraded",
            Set.of(Field.STEP, Field.PATH, Field.FROM, Field.TO, Field.SYSCALL, Field.ERRNO, Field.ERRNO_CODE,
                    Field.MESSAGE, Field.EFFECT),
            Set.of());

    /** A field's name in the JSON record. */
    public enum Field {
        TYPE("type"), REQUEST("request"),
        PID("pid"), PGID("pgid"), SID("sid"), LAUNCHER_PID("launcher_pid"),
        EXIT_CODE("exit_code"), STATUS("status"), SIGNAL("signal"), SIGNAL_NUMBER("signal_number"),
        CORE_DUMPED("core_dumped"), TIMED_OUT("timed_out"), CANCELLED_BY("cancelled_by"), OWNER_LOST("owner_lost"),
        KILLED_AFTER_GRACE("killed_after_grace"), WALL_US("wall_us"), RUSAGE("rusage"),
        STEP("step"), PATH("path"), SYSCALL("syscall"), ERRNO("errno"), ERRNO_CODE("errno_code"),
        MESSAGE("message"), SEARCH_PATH("search_path"), CAUSE("cause"), REMEDY("remedy"),
        IMPL("impl"), EFFECT("effect"), FROM("from"), TO("to");

        private final String key;

        Field(String key) {
            this.key = key;
        }

        public String key() {
            return key;
        }

        /** The field's value in a parsed record, or null. */
        public Object in(Map<String, Object> record) {
            return record.get(key);
        }
    }

    /** The fields of {@code exited}'s {@code rusage} object, all numbers. */
    public enum Usage {
        USER_US, SYS_US, MAX_RSS_KB, MINOR_FAULTS, MAJOR_FAULTS, VOLUNTARY_SWITCHES, INVOLUNTARY_SWITCHES,
        IN_BLOCKS, OUT_BLOCKS;

        public String key() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    private static final Map<String, StatusRecord> BY_TYPE =
            Arrays.stream(values()).collect(Collectors.toUnmodifiableMap(StatusRecord::type, Function.identity()));

    private final String type;
    private final Set<Field> always;
    private final Set<Field> sometimes;

    StatusRecord(String type, Set<Field> always, Set<Field> sometimes) {
        this.type = type;
        this.always = always;
        this.sometimes = sometimes;
    }

    /** The value of the record's {@code type} field. */
    public String type() {
        return type;
    }

    /** The fields every record of this type carries (besides {@code type}; values may be null). */
    public Set<Field> always() {
        return always;
    }

    /** Fields only some records of this type carry; {@code request} may be on any record. */
    public Set<Field> sometimes() {
        return sometimes;
    }

    /** The record type of a parsed record. */
    public static Optional<StatusRecord> of(Map<String, Object> record) {
        return Field.TYPE.in(record) instanceof String t ? Optional.ofNullable(BY_TYPE.get(t)) : Optional.empty();
    }
}
