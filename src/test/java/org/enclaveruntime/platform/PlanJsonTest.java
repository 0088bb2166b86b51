package org.enclaveruntime.platform;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The plan as --output json shows it, and a grant as the state file stores it. */
class PlanJsonTest {
    private static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);

    @TempDir
    Path dir;

    @Test
    void planRendersAsJsonAndText() throws Exception {
        Path root = FakeSysfs.sixteenNuma(dir).root();
        PartitionPlan plan = PartitionPlanner.plan(new PartitionRequest(CpuRequest.count(4), 1L << 30, 512L << 20,
                false, HugepagePolicy.SIZE_2M), TopologyReader.read(root), MemoryReader.read(root));
        JsonNode j = JSON.readTree(JSON.writeValueAsString(plan));
        assertTrue(j.get("fallback").isNull());
        assertEquals("[4,5,12,13]", j.get("cpu_ids").toString());
        assertEquals("2M", j.get("page_size").asText());
        assertEquals(1, j.get("numa_node").asInt());
        assertEquals(504, j.get("hugepages").get(0).get("to_add").asInt());
        assertEquals(plan.primaryCpus().cpus().size(), j.get("primary_cpus").size());
        String text = plan.describe();
        assertTrue(text.contains("cpu_ids        4-5,12-13 (4 CPUs)"), text);
        assertTrue(text.contains("512 x 2M on node 1: pool has 8, 8 free, 504 to add"), text);
    }

    @Test
    void autoPlanShowsItsFallback() throws Exception {
        Path root = FakeSysfs.twoCores(dir).root();
        PartitionPlan plan = PartitionPlanner.plan(new PartitionRequest(CpuRequest.count(1), 2L << 30, 512L << 20,
                false, HugepagePolicy.AUTO), TopologyReader.read(root), MemoryReader.read(root));
        JsonNode j = JSON.readTree(JSON.writeValueAsString(plan));
        assertEquals("1G", j.get("page_size").asText());
        assertEquals("2M", j.get("fallback").get("page_size").asText());
        assertEquals(1024, j.get("fallback").get("hugepages").get(0).get("to_add").asInt());
    }

    @Test
    void grantAndCpuListSurviveTheStateFile() throws Exception {
        HugepageGrant grant = new HugepageGrant(PageSize.SIZE_2M.bytes(), 1, 504, "c6a06662-525e-4a19-b7ec-7e5a0992de34");
        assertEquals(grant, JSON.readValue(JSON.writeValueAsString(grant), HugepageGrant.class));
        CpuList cpus = CpuList.parse("1,4-7");
        assertEquals(cpus, JSON.readValue(JSON.writeValueAsString(cpus), CpuList.class));
    }
}
