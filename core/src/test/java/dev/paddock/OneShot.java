package dev.paddock;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/** A {@link PaddockTest} class so marked runs its tests in {@link SpawnMode#ONE_SHOT} mode. */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
@interface OneShot {}
