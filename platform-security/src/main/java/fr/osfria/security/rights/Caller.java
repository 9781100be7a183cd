package fr.osfria.security.rights;

import fr.osfria.security.auth.ApiKeyIdentityProvider;
import fr.osfria.security.key.KeyEntry;
import io.quarkus.security.UnauthorizedException;
import io.quarkus.security.identity.SecurityIdentity;
import jakarta.enterprise.context.RequestScoped;

/** The key behind the current request, and what it may do. */
@RequestScoped
public class Caller {

    private final SecurityIdentity identity;

    public Caller(SecurityIdentity identity) {
        this.identity = identity;
    }

    public KeyEntry key() {
        KeyEntry key = identity.getAttribute(ApiKeyIdentityProvider.KEY_ATTRIBUTE);
        if (key == null) {
            throw new UnauthorizedException();
        }
        return key;
    }

    public String name() {
        return key().name();
    }

    public boolean admin() {
        return key().admin();
    }

    public boolean canRead(String collection, String department, boolean confidential) {
        return Rights.canRead(key(), collection, department, confidential);
    }

    public boolean canWrite(String collection, String department, boolean confidential) {
        return Rights.canWrite(key(), collection, department, confidential);
    }

    public boolean canReadCollection(String collection) {
        return Rights.canReadCollection(key(), collection);
    }
}
