package fr.osfria.security.network;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.security.network.TargetPolicy.Refusal;
import fr.osfria.security.network.TargetPolicy.Target;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The network policy of URLs the platform connects to, against the address forms an attacker tries, with a DNS
 * server the test scripts (names under {@code .test}); literal addresses are parsed by the JVM as in production.
 */
class TargetPolicyTest {

    private static final TargetPolicy.Wording WORDING = new TargetPolicy.Wording("be reached", "none", "the.setting");

    private final Map<String, String[]> dns = new ConcurrentHashMap<>();
    private final AtomicInteger lookups = new AtomicInteger();
    private final HostResolver resolver = host -> {
        lookups.incrementAndGet();
        String[] answers = dns.get(host);
        if (answers == null) {
            if (host.endsWith(".test")) {
                throw new UnknownHostException(host);
            }
            return InetAddress.getAllByName(host); // literals only: no lookup leaves the machine
        }
        InetAddress[] out = new InetAddress[answers.length];
        for (int i = 0; i < answers.length; i++) {
            out[i] = InetAddress.getByAddress(host, InetAddress.getByName(answers[i]).getAddress());
        }
        return out;
    };

    /** The services' defaults (osfria.webhook.lookups.*, osfria.ingest.fetch.lookups.*). */
    private static final TargetPolicy.Lookups LOOKUPS = new TargetPolicy.Lookups(2, 32, Duration.ofSeconds(15),
            Duration.ofSeconds(30));

    private Target check(List<String> allowed, String url) {
        try (TargetPolicy policy = new TargetPolicy(allowed, WORDING, resolver, LOOKUPS)) {
            return policy.check(url, "someone").await().atMost(Duration.ofSeconds(10));
        }
    }

    private Refusal refusal(String url) {
        return check(List.of(), url).kind();
    }

    @Test
    void loopbackLinkLocalWildcardAndMetadataAreRefusedInEveryForm() {
        for (String url : List.of("http://127.0.0.1/", "http://127.1.2.3:8080/", "http://[::1]/",
                "http://[0:0:0:0:0:0:0:1]/", "http://[::ffff:127.0.0.1]/", "http://0.0.0.0/", "http://[::]/",
                "http://169.254.1.1/", "http://[fe80::1]/", "http://224.0.0.1/")) {
            assertEquals(Refusal.LOCAL_ADDRESS, refusal(url), url);
        }
        for (String url : List.of("http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/",
                "http://100.100.100.200/", "http://metadata.google.internal/")) {
            assertEquals(Refusal.METADATA, refusal(url), url);
        }
    }

    @Test
    void aListedNameResolvingToAnIpv6FormThatEmbedsAnIpv4AddressIsRefused() {
        dns.put("compatible.test", new String[] {"::7f00:1"}); // IPv4-compatible 127.0.0.1
        dns.put("compatible-meta.test", new String[] {"::a9fe:a9fe"}); // 169.254.169.254
        dns.put("nat64.test", new String[] {"64:ff9b::7f00:1"});
        dns.put("nat64-meta.test", new String[] {"64:ff9b::a9fe:a9fe"});
        for (String host : List.of("compatible.test", "compatible-meta.test", "nat64.test", "nat64-meta.test")) {
            assertEquals(Refusal.LOCAL_ADDRESS, refusal("http://" + host + "/"), host);
        }
        for (String url : List.of("http://[::7f00:1]/", "http://[64:ff9b::7f00:1]/", "http://[64:ff9b::a00:1]/")) {
            assertEquals(Refusal.LOCAL_ADDRESS, refusal(url), url);
        }
        dns.put("v6.test", new String[] {"2001:db8::1"});
        assertTrue(check(List.of(), "http://v6.test/").allowed(), "an ordinary IPv6 address still is");
    }

    @Test
    void aNameIsJudgedByEveryAddressItResolvesTo() {
        dns.put("rebind.test", new String[] {"10.0.0.8", "127.0.0.1"});
        dns.put("meta.test", new String[] {"169.254.169.254"});
        dns.put("mapped.test", new String[] {"::ffff:127.0.0.1"});
        dns.put("files.test", new String[] {"10.0.0.9"});
        assertEquals(Refusal.LOCAL_ADDRESS, refusal("http://rebind.test/"));
        assertEquals(Refusal.METADATA, refusal("http://meta.test/"));
        assertEquals(Refusal.LOCAL_ADDRESS, refusal("http://mapped.test/"));
        assertEquals(Refusal.UNRESOLVED, refusal("http://nowhere.test/"));
        Target files = check(List.of(), "https://FILES.test:8443/a/b?c=d#frag");
        assertTrue(files.allowed(), "private networks are allowed");
        assertEquals("files.test", files.host());
        assertEquals("10.0.0.9", files.address().getHostAddress(), "the address to connect to is the checked one");
        assertEquals(8443, files.port());
        assertTrue(files.tls());
        assertEquals("/a/b?c=d", files.pathAndQuery());
    }

    @Test
    void theShapeIsCheckedBeforeAnyLookup() {
        assertEquals(Refusal.SCHEME, refusal("file:///etc/passwd"));
        assertEquals(Refusal.SCHEME, refusal("ftp://files.test/"));
        assertEquals(Refusal.SCHEME, refusal("gopher://files.test/"));
        assertEquals(Refusal.CREDENTIALS, refusal("http://files.test@127.0.0.1/"));
        assertEquals(Refusal.CREDENTIALS, refusal("http://user:pw@files.test/"));
        assertEquals(Refusal.NOT_A_URL, refusal("http://files.test/a b"));
        assertEquals(Refusal.NO_HOST, refusal("http:///a"));
        assertEquals(0, lookups.get(), "nothing was looked up");
    }

    @Test
    void anOperatorMayAllowALocalHostByNameOrAddressOnly() {
        dns.put("files.test", new String[] {"127.0.0.1"});
        dns.put("other.test", new String[] {"127.0.0.1"});
        assertTrue(check(List.of("files.test"), "http://files.test:8080/").allowed());
        assertEquals(Refusal.LOCAL_ADDRESS, check(List.of("files.test"), "http://other.test/").kind());
        assertEquals(Refusal.LOCAL_ADDRESS, check(List.of("files.test"), "http://127.0.0.1/").kind());
        assertTrue(check(List.of("127.0.0.1"), "http://other.test/").allowed(), "an allowed address, by any name");
        Target refused = check(List.of(), "http://files.test/");
        assertFalse(refused.allowed());
        assertTrue(refused.refusal().contains("the.setting"), refused.refusal());
    }
}
