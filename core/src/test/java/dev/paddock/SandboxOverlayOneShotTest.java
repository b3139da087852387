package dev.paddock;

/** {@link SandboxOverlayTest} with one launcher process per action. */
@OneShot
class SandboxOverlayOneShotTest extends SandboxOverlayTest {}
