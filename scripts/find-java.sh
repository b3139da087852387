# Sourced by ./paddock and ./test: finds a JDK 25 or newer.
# JAVA_HOME first, then the JDKs under /usr/lib/jvm.
find_java25() {
    local candidate
    for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/*; do
        [ -n "$candidate" ] && [ -x "$candidate/bin/java" ] && [ -x "$candidate/bin/javac" ] || continue
        if "$candidate/bin/java" -version 2>&1 | head -n 1 | grep -qE 'version "(2[5-9]|[3-9][0-9])'; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}
