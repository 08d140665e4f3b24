"""A big page's parse, in a process of its own: the daemon waits for it without holding its
event loop, and keeps none of the memory it took. (In a thread, a daemon that had read a page
of 100,000 slot elements stayed half as big again for good: memory freed but kept by the
allocator; issue 24.) The child is `python -c` with this module's `main`: it reads the
parent's `sys.path`, then the parse function, the page and the arguments, pickled on its
standard input, and writes the result or the exception, pickled, on its standard output."""

from __future__ import annotations

import asyncio
import pickle
import sys
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from creneau.page import Page

T = TypeVar("T")
PARSE_TIMEOUT = 120.0  # seconds: a parse of a page under the body cap takes one or two
CHILD = (
    "import pickle, sys; sys.path[:] = pickle.load(sys.stdin.buffer); "
    "from creneau.sources.isolated import main; main()"
)
# One big page at a time per event loop: two at once would double the machine's peak.
_turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


class ParseFailed(RuntimeError):
    """The child ended without a result (killed, out of memory, too long)."""


async def parse_in_child(parse: Callable[..., T], page: Page, *args: Any) -> T:
    """`parse(page, *args)` in a child process. `parse` must be a module's function."""
    loop = asyncio.get_running_loop()
    turn = _turns.setdefault(loop, asyncio.Semaphore(1))
    payload = pickle.dumps(sys.path) + pickle.dumps((parse, page, args))
    async with turn:
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            CHILD,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        try:
            async with asyncio.timeout(PARSE_TIMEOUT):
                answer, _ = await child.communicate(payload)
        except TimeoutError:
            child.kill()
            await child.wait()
            raise ParseFailed(f"the page's parse took more than {PARSE_TIMEOUT:g}s") from None
    if child.returncode != 0 or not answer:
        raise ParseFailed(f"the page's parse ended without a result (exit {child.returncode})")
    done, value = pickle.loads(answer)
    if done:
        return value  # type: ignore[no-any-return]
    raise value


def main() -> None:
    parse, page, args = pickle.load(sys.stdin.buffer)
    try:
        answer: tuple[bool, Any] = (True, parse(page, *args))
    except Exception as failure:  # handed to the parent, which decides
        answer = (False, failure)
    try:
        data = pickle.dumps(answer)
    except Exception as failure:  # what does not pickle is handed over in words
        said = answer[1] if not answer[0] else failure
        data = pickle.dumps((False, ParseFailed(f"{type(said).__name__}: {said}")))
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()
