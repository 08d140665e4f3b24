"""`creneau captcha NAME`: a person solves a site's image CAPTCHA so that creneau can go on
watching. This module is the terminal side only (the image saved and drawn, the code typed);
the use case itself is creneau.usecases.captcha.solve_captcha."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from creneau import sources
from creneau.cli.check import print_result
from creneau.cli.context import open_store, out, read_config
from creneau.cli.images import show_inline
from creneau.cli.options import CONFIG_OPTION
from creneau.redact import redact

if TYPE_CHECKING:
    from creneau.runtime import Runtime
    from creneau.targets import TargetBase
    from creneau.usecases.captcha import CaptchaDialog, CaptchaOutcome, Finished


@click.command()
@click.argument("name")
@CONFIG_OPTION
@click.option(
    "--image",
    "image_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to save the CAPTCHA image (default: in the data directory).",
)
def captcha(name: str, config_path: Path, image_path: Path | None) -> None:
    """Solve a site's CAPTCHA yourself so creneau can go on watching. creneau shows you the
    image and sends what you type; it never reads or solves a CAPTCHA itself."""
    from creneau.runtime import Runtime

    config = read_config(config_path)
    target = next((t for t in config.targets if t.name == name), None)
    if target is None:
        raise click.UsageError(f"no target named {name} in {config_path}")
    source = sources.captcha_handler(target.system)
    if source is None:
        raise click.UsageError(f"{name}: the {target.system} system never asks for a CAPTCHA")
    image_path = image_path or config.creneau.data_dir.expanduser() / "captcha" / f"{name}.png"
    runtime = Runtime(config, open_store(config.creneau.database))
    runtime.seed_from_store(floors=False)
    sys.exit(asyncio.run(solve_in_terminal(runtime, target, source, image_path)))


async def solve_in_terminal(
    runtime: Runtime, target: TargetBase, source: sources.HandsCaptchaToAPerson, image_path: Path
) -> int:
    """The use case with the person at this terminal; the exit status."""
    from creneau.usecases.captcha import solve_captcha

    outcome = await solve_captcha(runtime, target, source, terminal_dialog(runtime, image_path))
    if outcome.solved:
        out.print(
            "The daemon goes on checking with this session until the site ends it; "
            "you will be alerted then."
        )
        return 0
    say_why_not(target, outcome, runtime)
    return 1


def terminal_dialog(runtime: Runtime, image_path: Path) -> CaptchaDialog:
    """The image saved to `image_path` (and drawn, where the terminal can), the code typed."""
    from creneau.usecases.captcha import CaptchaDialog

    async def show_image(image: bytes) -> None:
        await asyncio.to_thread(_save_image, image_path, image)
        if not show_inline(image):
            out.print(f"Open the image and read the code: {image_path}", markup=False)

    async def ask_code() -> str:
        code: str = await asyncio.to_thread(
            click.prompt, "Code shown in the image (empty to stop)", default="", show_default=False
        )
        return code

    def code_refused() -> None:
        out.print("The site did not accept that code; here is a new image.")

    def checked(finished: Finished) -> None:
        assert finished.checked is not None
        print_result(finished.checked, finished.new_slots, runtime.zone, runtime.language)

    return CaptchaDialog(show_image, ask_code, code_refused, checked)


def say_why_not(target: TargetBase, outcome: CaptchaOutcome, runtime: Runtime) -> None:
    """Why there is no image to show, or no site; for a challenge only a browser passes,
    what to do."""
    if not outcome.problem:
        return  # the person stopped, or every code was refused: they know
    from creneau.details import render

    problem = render(outcome.problem, runtime.language, runtime.zone)
    click.echo(f"{target.name}: {problem}", err=True)
    if outcome.browser_only:
        click.echo(
            f"creneau cannot show you this check; open {redact(target.url)} in a browser. creneau "
            "keeps watching and will ask again when the site shows its image CAPTCHA.",
            err=True,
        )


def _save_image(path: Path, image: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(image)
