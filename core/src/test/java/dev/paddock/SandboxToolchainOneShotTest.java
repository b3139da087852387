package dev.paddock;

/** {@link SandboxToolchainTest} with one launcher process per action. */
@OneShot
class SandboxToolchainOneShotTest extends SandboxToolchainTest {}
