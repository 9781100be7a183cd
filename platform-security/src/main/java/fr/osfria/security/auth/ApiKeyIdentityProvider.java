package fr.osfria.security.auth;

import fr.osfria.security.key.KeyEntry;
import fr.osfria.security.key.KeyRegistry;
import io.quarkus.security.AuthenticationFailedException;
import io.quarkus.security.identity.AuthenticationRequestContext;
import io.quarkus.security.identity.IdentityProvider;
import io.quarkus.security.identity.SecurityIdentity;
import io.quarkus.security.runtime.QuarkusPrincipal;
import io.quarkus.security.runtime.QuarkusSecurityIdentity;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;

/** Turns a presented key into an identity: the key's name as principal, its roles, and its entry as an attribute. */
@ApplicationScoped
public class ApiKeyIdentityProvider implements IdentityProvider<ApiKeyAuthenticationRequest> {

    /** Attribute under which the caller's {@link KeyEntry} is kept on the identity. */
    public static final String KEY_ATTRIBUTE = "osfria.key";

    private final KeyRegistry registry;

    public ApiKeyIdentityProvider(KeyRegistry registry) {
        this.registry = registry;
    }

    @Override
    public Class<ApiKeyAuthenticationRequest> getRequestType() {
        return ApiKeyAuthenticationRequest.class;
    }

    @Override
    public Uni<SecurityIdentity> authenticate(ApiKeyAuthenticationRequest request, AuthenticationRequestContext context) {
        return registry.find(request.key())
                .map(entry -> Uni.createFrom().<SecurityIdentity>item(QuarkusSecurityIdentity.builder()
                        .setPrincipal(new QuarkusPrincipal(entry.name()))
                        .addRoles(entry.roles())
                        .addAttribute(KEY_ATTRIBUTE, entry)
                        .build()))
                .orElseGet(() -> Uni.createFrom().failure(new AuthenticationFailedException("invalid or revoked API key")));
    }
}
