package fr.osfria.router.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class VllmLoadTest {

    @Test
    void readsVllmGaugesSummedOverModelsAndIgnoresTheRest() {
        VllmLoad load = VllmLoad.parse("""
                # HELP vllm:num_requests_running Number of requests in model execution batches.
                # TYPE vllm:num_requests_running gauge
                vllm:num_requests_running{engine="0",model_name="llama"} 7.0
                vllm:num_requests_running{engine="1",model_name="llama"} 2.0
                vllm:num_requests_waiting{engine="0",model_name="llama"} 3.0 1732600000000
                vllm:kv_cache_usage_perc{engine="0",model_name="llama"} 0.42
                vllm:num_requests_waiting_by_reason{reason="capacity"} 100
                process_resident_memory_bytes 1.2e9
                vllm:num_requests_running{model_name="broken"} NaN
                """);
        assertEquals(new VllmLoad(9, 3, 0.42), load);
        assertEquals(VllmLoad.UNKNOWN, VllmLoad.parse("not metrics at all\n{}"));
    }
}
