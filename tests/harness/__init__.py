"""Test harness: simulated sites without sockets, and virtual time. Benchmarks use it too."""
