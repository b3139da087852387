package dev.paddock;

import java.time.Duration;

/**
 * Resources used by the action's whole process tree (getrusage of every
 * reaped descendant). maxRssKilobytes is the largest single process.
 */
public record ResourceUsage(
        Duration userTime,
        Duration systemTime,
        long maxRssKilobytes,
        long minorFaults,
        long majorFaults,
        long voluntaryContextSwitches,
        long involuntaryContextSwitches,
        long inBlocks,
        long outBlocks) {

    public static final ResourceUsage NONE = new ResourceUsage(Duration.ZERO, Duration.ZERO, 0, 0, 0, 0, 0, 0, 0);
}
