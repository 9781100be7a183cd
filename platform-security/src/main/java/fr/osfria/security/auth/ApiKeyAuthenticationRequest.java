package fr.osfria.security.auth;

import io.quarkus.security.identity.request.BaseAuthenticationRequest;

/** A presented API key, waiting for {@link ApiKeyIdentityProvider} to verify it. */
public class ApiKeyAuthenticationRequest extends BaseAuthenticationRequest {

    private final String key;

    public ApiKeyAuthenticationRequest(String key) {
        this.key = key;
    }

    public String key() {
        return key;
    }
}
