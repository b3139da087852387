/**
 * paddock: contained, optionally sandboxed process execution. The API is {@code dev.paddock};
 * the internal package is open only to paddock's own service and command-line modules.
 */
module dev.paddock {
    exports dev.paddock;
    exports dev.paddock.internal to dev.paddock.remote, dev.paddock.cli;
}
