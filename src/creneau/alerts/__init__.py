"""alerts: what a check found → events in the outbox → messages → delivery."""
