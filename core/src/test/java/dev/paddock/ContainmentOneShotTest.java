package dev.paddock;

/** {@link ContainmentTest} with one launcher process per action. */
@OneShot
class ContainmentOneShotTest extends ContainmentTest {}
