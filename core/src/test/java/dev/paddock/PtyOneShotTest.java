package dev.paddock;

/** {@link PtyTest} with one launcher process per action. */
@OneShot
class PtyOneShotTest extends PtyTest {}
