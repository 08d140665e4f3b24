"""The dashboard: status at a glance, the CAPTCHA hand-off, history charts, the outbox,
Prometheus metrics and an API, served by `creneau run` (or `creneau web` alone)."""
