package dev.paddock.remote;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import build.bazel.remote.execution.v2.DigestFunction;
import build.bazel.remote.execution.v2.GetCapabilitiesRequest;
import build.bazel.remote.execution.v2.ServerCapabilities;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(120)
class CapabilitiesTest extends ServerTest {

    @Test
    void advertisesSha256ExecutionCacheUpdatesAndApiVersions() throws Exception {
        remote = RemoteFixture.start(cache);
        ServerCapabilities caps = remote.capabilities().getCapabilities(GetCapabilitiesRequest.getDefaultInstance());

        assertTrue(caps.hasCacheCapabilities());
        assertEquals(List.of(DigestFunction.Value.SHA256), caps.getCacheCapabilities().getDigestFunctionsList());
        assertFalse(caps.getCacheCapabilities().getActionCacheUpdateCapabilities().getUpdateEnabled(),
                "clients may not write the action cache unless the server is told they may");
        assertTrue(caps.getCacheCapabilities().getMaxBatchTotalSizeBytes() > 0);
        assertEquals(Capabilities.MAX_BATCH_BYTES, caps.getCacheCapabilities().getMaxBatchTotalSizeBytes());

        assertTrue(caps.hasExecutionCapabilities());
        assertEquals(DigestFunction.Value.SHA256, caps.getExecutionCapabilities().getDigestFunction());
        assertTrue(caps.getExecutionCapabilities().getDigestFunctionsList().contains(DigestFunction.Value.SHA256));
        assertTrue(caps.getExecutionCapabilities().getExecEnabled());

        assertEquals(2, caps.getLowApiVersion().getMajor());
        assertEquals(0, caps.getLowApiVersion().getMinor());
        assertEquals(0, caps.getLowApiVersion().getPatch());
        assertEquals(2, caps.getHighApiVersion().getMajor());
        assertEquals(3, caps.getHighApiVersion().getMinor());
    }

    @Test
    void advertisesCacheUpdatesWhenClientsMayWrite() throws Exception {
        remote = RemoteFixture.startTakingClientResults(cache);
        assertTrue(remote.capabilities().getCapabilities(GetCapabilitiesRequest.getDefaultInstance())
                .getCacheCapabilities().getActionCacheUpdateCapabilities().getUpdateEnabled());
    }

    @Test
    void anInstanceNameGetsTheSameAnswer() throws Exception {
        remote = RemoteFixture.start(cache);
        assertEquals(remote.capabilities().getCapabilities(GetCapabilitiesRequest.getDefaultInstance()),
                remote.capabilities().getCapabilities(GetCapabilitiesRequest.newBuilder().setInstanceName("main").build()));
    }
}
