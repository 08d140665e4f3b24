"""A URL key is made with this installation's secret, or not at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from creneau import url_keys


def test_a_url_key_asked_before_the_secret_is_loaded_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A key made up for the process would match no outbox row: its alerts would wait
    forever. Every command loads the secret first (cli/context.py, the demo)."""
    monkeypatch.setattr(url_keys, "_secret", None)
    with pytest.raises(url_keys.NoSecretLoaded):
        url_keys.url_key("ntfy://ntfy.sh/topic")
    url_keys.load_or_create(tmp_path)
    assert len(url_keys.url_key("ntfy://ntfy.sh/topic")) == 16
