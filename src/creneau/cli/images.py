"""Images drawn in the terminal, for the terminals that can: iTerm2 and WezTerm (the iTerm2
inline image protocol) and kitty (its graphics protocol)."""

from __future__ import annotations

import base64
import os
import sys

KITTY_CHUNK = 4096  # kitty takes a base64 payload in chunks of at most this many bytes


def show_inline(image: bytes) -> bool:
    """Draw the image in terminals that can (iTerm2, WezTerm, kitty); False elsewhere."""
    if not sys.stdout.isatty():
        return False
    data = base64.b64encode(image).decode("ascii")
    if (
        os.environ.get("TERM_PROGRAM") in ("iTerm.app", "WezTerm")
        or os.environ.get("LC_TERMINAL") == "iTerm2"
    ):
        sys.stdout.write(f"\033]1337;File=inline=1;size={len(image)}:{data}\a\n")
        return True
    if "kitty" in os.environ.get("TERM", ""):
        chunks = [data[i : i + KITTY_CHUNK] for i in range(0, len(data), KITTY_CHUNK)]
        for index, chunk in enumerate(chunks):
            more = 1 if index < len(chunks) - 1 else 0
            head = "a=T,f=100," if index == 0 else ""
            sys.stdout.write(f"\033_G{head}m={more};{chunk}\033\\")
        sys.stdout.write("\n")
        return True
    return False
