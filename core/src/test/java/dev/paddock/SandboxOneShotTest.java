package dev.paddock;

/** {@link SandboxTest} with one launcher process per action. */
@OneShot
class SandboxOneShotTest extends SandboxTest {}
