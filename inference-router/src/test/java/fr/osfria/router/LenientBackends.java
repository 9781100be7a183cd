package fr.osfria.router;

/** {@link SimulatedBackends} with lenient time-outs, for the attack tests (see there). */
public class LenientBackends extends SimulatedBackends {

    public LenientBackends() {
        super(true);
    }
}
