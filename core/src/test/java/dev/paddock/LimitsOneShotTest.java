package dev.paddock;

/** {@link LimitsTest} with one launcher process per action. */
@OneShot
class LimitsOneShotTest extends LimitsTest {}
