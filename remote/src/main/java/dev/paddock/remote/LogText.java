package dev.paddock.remote;

/** Client-supplied text made safe for a log line: no line breaks or terminal escapes of its own. */
final class LogText {
    private LogText() {}

    /** Control characters (C0, DEL, C1) as \n, \r, \t or \xNN; backslashes doubled; the rest as is. */
    static String escape(String s) {
        StringBuilder out = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean control = c < 0x20 || (c >= 0x7f && c <= 0x9f);
            if (!control && c != '\\') {
                if (out != null) out.append(c);
                continue;
            }
            if (out == null) out = new StringBuilder(s.length() + 16).append(s, 0, i);
            switch (c) {
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> out.append(String.format("\\x%02x", (int) c));
            }
        }
        return out == null ? s : out.toString();
    }
}
