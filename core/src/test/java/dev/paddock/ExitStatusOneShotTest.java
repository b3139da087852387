package dev.paddock;

/** {@link ExitStatusTest} with one launcher process per action. */
@OneShot
class ExitStatusOneShotTest extends ExitStatusTest {}
