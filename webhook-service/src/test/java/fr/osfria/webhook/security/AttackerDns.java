package fr.osfria.webhook.security;

import io.quarkus.test.junit.QuarkusTestProfile;
import java.util.Map;
import java.util.Set;

/**
 * Production's target policy (loopback refused; only the name {@code receiver.test} is listed by the operator),
 * with the attacker's DNS server ({@link ScriptedResolver}) answering the lookups. No answer is reused: the
 * attacker's changing answers are met at every check, not after the 30 s a production answer is kept.
 */
public class AttackerDns implements QuarkusTestProfile {

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of("osfria.webhook.allowed-hosts", "receiver.test", "osfria.webhook.lookups.remembered", "0s");
    }

    @Override
    public Set<Class<?>> getEnabledAlternatives() {
        return Set.of(ScriptedResolver.class);
    }
}
