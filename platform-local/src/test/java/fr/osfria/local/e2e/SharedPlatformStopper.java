package fr.osfria.local.e2e;

import org.junit.platform.launcher.LauncherSession;
import org.junit.platform.launcher.LauncherSessionListener;

/**
 * Stops the {@link SharedPlatform} when the test run ends (registered in
 * {@code META-INF/services/org.junit.platform.launcher.LauncherSessionListener}): within the run, before failsafe's
 * JVM exits, rather than in a shutdown hook that failsafe may cut short after its exit time-out.
 */
public final class SharedPlatformStopper implements LauncherSessionListener {

    @Override
    public void launcherSessionClosed(LauncherSession session) {
        SharedPlatform.stop();
    }
}
