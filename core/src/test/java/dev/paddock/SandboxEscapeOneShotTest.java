package dev.paddock;

/** {@link SandboxEscapeTest} with one launcher process per action. */
@OneShot
class SandboxEscapeOneShotTest extends SandboxEscapeTest {}
