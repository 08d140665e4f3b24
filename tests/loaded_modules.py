"""Tests only: `python tests/loaded_modules.py run --config …` runs `creneau` as its entry point
does and, on SIGUSR1, writes the names of the modules loaded so far (one a line, sorted) to the
file named by $CRENEAU_TEST_MODULES, at once (written aside, then renamed): what a daemon
keeps imported, asked while it runs."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from types import FrameType

MODULES_FILE = "CRENEAU_TEST_MODULES"


def write_loaded_modules(signum: int, frame: FrameType | None) -> None:
    """The loaded modules' names to $CRENEAU_TEST_MODULES, which appears complete."""
    target = Path(os.environ[MODULES_FILE])
    aside = target.with_name(target.name + ".partial")
    aside.write_text("\n".join(sorted(sys.modules)) + "\n")
    aside.replace(target)


def main() -> None:
    signal.signal(signal.SIGUSR1, write_loaded_modules)
    from creneau.entry import main as creneau_main

    creneau_main()


if __name__ == "__main__":
    main()
