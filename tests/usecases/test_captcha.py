"""The CAPTCHA hand-off in one sitting (`solve_captcha`), driven through callables as a
terminal would, against the simulated RDV Préfecture; and what a site may answer instead of an
image, typed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest

from conftest import english
from creneau import sources
from creneau.captcha_errors import UnsolvableCaptcha
from creneau.config import Config
from creneau.fetch.client import Session
from creneau.results import Status
from creneau.runtime import Runtime
from creneau.simulator.server import SimulatorServer
from creneau.sources import HandsCaptchaToAPerson
from creneau.sources.rdvpref.simulator import RdvPrefecture, default_demarches
from creneau.store import Store
from creneau.targets import TargetBase
from creneau.usecases.captcha import (
    NOT_AN_IMAGE,
    CaptchaDialog,
    Finished,
    image_from_site,
    solve_captcha,
)


def config_for(store: Store, tmp_path: Path, target: dict[str, object]) -> Config:
    return Config.model_validate(
        {
            "creneau": {
                "database": store.url,
                "contact": "tests@example.org",
                "data_dir": str(tmp_path / "data"),
            },
            "target": [{"every": "60s", "jitter": "0s", **target}],
            "hosts": {"127.0.0.1": {"per_minute": 6000, "burst": 60}},
        }
    )


@pytest.fixture
def rdvpref_site() -> Iterator[tuple[RdvPrefecture, SimulatorServer]]:
    site = RdvPrefecture(default_demarches())
    with SimulatorServer(sites=[site]) as server:
        yield site, server


class Person:
    """What the use case asked and showed, and the codes this person types."""

    def __init__(self, site: RdvPrefecture, codes: list[str | None]) -> None:
        self.site = site
        self.codes = codes  # None: the code in the image
        self.images: list[bytes] = []
        self.refused = 0
        self.checks: list[Finished] = []

    async def show_image(self, image: bytes) -> None:
        self.images.append(image)

    async def ask_code(self) -> str:
        code = self.codes.pop(0)
        return self.site.last_captcha_code or "" if code is None else code

    def code_refused(self) -> None:
        self.refused += 1

    def checked(self, finished: Finished) -> None:
        self.checks.append(finished)

    def dialog(self) -> CaptchaDialog:
        return CaptchaDialog(self.show_image, self.ask_code, self.code_refused, self.checked)


@dataclass(frozen=True)
class Allier:
    runtime: Runtime
    target: TargetBase
    source: HandsCaptchaToAPerson


def allier(store: Store, tmp_path: Path, server: SimulatorServer) -> Allier:
    """As `creneau captcha allier` assembles it: the hosts seeded, not the floors."""
    url = f"{server.url}/rdvpref/reservation/demarche/4418/"
    config = config_for(store, tmp_path, {"name": "allier", "system": "rdvpref", "url": url})
    runtime = Runtime(config, store)
    runtime.seed_from_store(floors=False)
    source = sources.captcha_handler("rdvpref")
    assert source is not None
    return Allier(runtime, config.targets[0], source)


async def test_the_code_a_person_reads_opens_a_session_the_daemon_keeps(
    store: Store, tmp_path: Path, rdvpref_site: tuple[RdvPrefecture, SimulatorServer]
) -> None:
    site, server = rdvpref_site
    site.release("4418", 2)
    watched = allier(store, tmp_path, server)
    person = Person(site, [None])
    outcome = await solve_captcha(watched.runtime, watched.target, watched.source, person.dialog())
    assert outcome.solved
    assert person.images[0].startswith(b"\x89PNG")
    assert [f.checked.status for f in person.checks if f.checked] == [Status.AVAILABLE]
    assert store.site_session("allier") is not None


async def test_a_refused_code_shows_a_new_image_until_the_person_stops(
    store: Store, tmp_path: Path, rdvpref_site: tuple[RdvPrefecture, SimulatorServer]
) -> None:
    site, server = rdvpref_site
    watched = allier(store, tmp_path, server)
    person = Person(site, ["WRONG1", ""])
    outcome = await solve_captcha(watched.runtime, watched.target, watched.source, person.dialog())
    assert (outcome.solved, english(outcome.problem), person.refused) == (False, "", 1)
    assert len(person.images) == 2
    assert person.checks == []
    assert store.site_session("allier") is None


async def test_a_challenge_only_a_browser_passes_is_named_and_nobody_is_asked(
    store: Store, tmp_path: Path, rdvpref_site: tuple[RdvPrefecture, SimulatorServer]
) -> None:
    site, server = rdvpref_site
    site.set_behaviour("4418", "turnstile")
    watched = allier(store, tmp_path, server)
    person = Person(site, [])
    outcome = await solve_captcha(watched.runtime, watched.target, watched.source, person.dialog())
    assert not outcome.solved
    assert outcome.browser_only
    assert "Cloudflare Turnstile" in english(outcome.problem)
    assert person.images == []


class Shows:
    """A source whose site answers with `image`, or says it has no image for a person
    (UnsolvableCaptcha: its `detail`, its `challenge`)."""

    def __init__(self, image: bytes = b"", challenge: str | None = None) -> None:
        self.image = image
        self.challenge = challenge

    async def start_captcha(self, target: Any, session: Any) -> Any:
        if self.challenge is not None:
            raise UnsolvableCaptcha("the site asks for a reCAPTCHA", self.challenge)
        return self


@pytest.mark.parametrize(
    ("source", "detail", "browser_only"),
    [
        (Shows(b"<svg onload='alert(1)'/>"), NOT_AN_IMAGE, False),
        (Shows(challenge="recaptcha"), "the site asks for a reCAPTCHA", True),
    ],
)
async def test_what_no_person_could_read_is_an_unsolvable_captcha(
    source: Shows, detail: object, browser_only: bool
) -> None:
    """Raster images only reach a person (an SVG could carry script); a source's refusal is
    typed once, with what the site asks for instead."""
    url = "https://prefecture.example/booking/create/1234"  # never reached
    target = sources.get("ezbooking").Target.model_validate(
        {"name": "far", "system": "ezbooking", "url": url, "every": "60s"}
    )
    handler = cast(HandsCaptchaToAPerson, source)
    with pytest.raises(UnsolvableCaptcha) as refused:
        await image_from_site(target, handler, cast(Session, None))
    assert (refused.value.detail, refused.value.browser_only) == (detail, browser_only)
