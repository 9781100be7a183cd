package fr.osfria.events.model;

import jakarta.validation.constraints.NotBlank;

/**
 * Public {@code model.loaded} (first backend serving the model appeared) and {@code model.unloaded} (last one
 * went away). {@code backends} is how many healthy backends serve it after the change.
 */
public record ModelAvailability(
        @NotBlank String model,
        @NotBlank String backend,
        int backends) {
}
