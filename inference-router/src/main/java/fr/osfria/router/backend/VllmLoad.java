package fr.osfria.router.backend;

/**
 * vLLM's own load figures from its {@code /metrics}, summed over the models it serves. A server that does not
 * export them reports zeros, and the router's own in-flight count stands alone.
 */
public record VllmLoad(int running, int waiting, double kvCacheUsage) {

    public static final VllmLoad UNKNOWN = new VllmLoad(0, 0, 0);

    /** Reads the Prometheus text format; only the three vLLM series matter, everything else is skipped. */
    public static VllmLoad parse(String metrics) {
        double running = 0;
        double waiting = 0;
        double kv = 0;
        for (String line : metrics.split("\n")) {
            if (line.isEmpty() || line.charAt(0) == '#' || !line.startsWith("vllm:")) {
                continue;
            }
            String name = line.substring(0, endOfName(line));
            double value = value(line);
            switch (name) {
                case "vllm:num_requests_running" -> running += value;
                case "vllm:num_requests_waiting" -> waiting += value;
                // renamed in vLLM v1; both names are read
                case "vllm:gpu_cache_usage_perc", "vllm:kv_cache_usage_perc" -> kv = Math.max(kv, value);
                default -> {
                }
            }
        }
        return new VllmLoad((int) running, (int) waiting, kv);
    }

    private static int endOfName(String line) {
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c == '{' || c == ' ') {
                return i;
            }
        }
        return line.length();
    }

    private static double value(String line) {
        int brace = line.lastIndexOf('}');
        String rest = line.substring(brace >= 0 ? brace + 1 : endOfName(line)).trim();
        int space = rest.indexOf(' '); // an optional timestamp follows the value
        try {
            double v = Double.parseDouble(space > 0 ? rest.substring(0, space) : rest);
            return Double.isFinite(v) ? v : 0;
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
