"""The configuration file as text, edited one `[[target]]` table at a time: a table added,
keys set or removed, a table removed. tomlkit finds each table and rewrites the keys of the one
edited; every byte outside that table is kept (comments, blank lines, key order, quotes, line
endings). Each new text is validated exactly as at start (`prepare_config`, on a copy written
beside the file) before it replaces the file, atomically: a mistake is one line, and nothing
is written.

Which lines are a table's: its header, its keys (and sub-tables), and the comments below its
last key up to the last blank line before whatever follows; comment lines right above the next
header, with no blank line between, belong to that next table (they describe it). Comment
lines right above a table's own header are removed with it."""

from __future__ import annotations

import os
import re
import stat
import tempfile
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import tomlkit
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import AoT, Item, Table, Whitespace

from creneau.config import ConfigError, too_deep
from creneau.startup import prepare_config

if TYPE_CHECKING:
    from tomlkit.toml_document import TOMLDocument

    from creneau.config import Config

BOM = "\ufeff"
# Marks a table's header in a rendering, to find where the table starts in the text.
_MARK = "\x00creneau-table\x00"
_END = "\x00creneau-table-end\x00"
_LINE = re.compile(r"[^\n]*\n|[^\n]+")  # lines with their ends; a last line without one


class EditRefused(ConfigError):
    """A file creneau cannot read, edit or write as asked: one line naming the file (the
    command line's words), and the same as a code and its values, which the dashboard words
    in the configured language (web/pages/texts.py, PROBLEMS)."""

    def __init__(self, line: str, code: str, /, **values: str) -> None:
        super().__init__([line])
        self.code = code
        self.values = values


@dataclass(frozen=True)
class ConfigText:
    """The file as read: its bytes (to notice a change made meanwhile) and its text."""

    path: Path
    original: bytes
    text: str  # without a byte order mark
    bom: bool = False

    @classmethod
    def read(cls, path: Path) -> ConfigText:
        """The file; what prevents reading it is one line, worded as `load_config` words it."""
        name = str(path)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise EditRefused(
                f"{name}: no such file (start from config.example.toml)", "no_file", file=name
            ) from None
        except OSError as failure:
            raise _cannot_read(name, failure) from None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as failure:
            line = str(data[: failure.start].count(b"\n") + 1)
            byte = f"{data[failure.start]:#04x}"
            raise EditRefused(
                f"{name}: not UTF-8 text (byte {byte} on line {line}): save the file as UTF-8",
                "not_utf8",
                file=name,
                byte=byte,
                line=line,
            ) from None
        bom = text.startswith(BOM)
        return cls(path, data, text.removeprefix(BOM), bom)

    def encoded(self, text: str) -> bytes:
        return ((BOM if self.bom else "") + text).encode("utf-8")

    @property
    def newline(self) -> str:
        return "\r\n" if "\r\n" in self.text else "\n"


@dataclass(frozen=True)
class TargetSpan:
    """Where one `[[target]]` table is in the text (offsets into it)."""

    name: str
    comments_start: int  # the comment lines right above its header (== start when none)
    start: int  # its header line (and blank lines tomlkit counts as its indent)
    keys_end: int  # after its last key or sub-table line
    end: int  # after its own trailing comments: what follows belongs to the next thing


# --- reading the tables ------------------------------------------------------------------------


def target_spans(text: str, name: str = "config") -> list[TargetSpan]:
    """Every `[[target]]` table, in the order of the file. `name` names the file in errors."""
    document = _parse(text, name)
    spans = []
    for body_index, table_index, table in _target_tables(document, name):
        start, length = _table_extent(text, body_index, table_index, name)
        spans.append(_span(text, start, start + length, _table_name(table)))
    return spans


def target_names(text: str, name: str = "config") -> list[str]:
    return [span.name for span in target_spans(text, name)]


def _parse(text: str, name: str) -> TOMLDocument:
    try:
        document = tomlkit.parse(text)
    except TOMLKitError as failure:
        said = one_line_of(failure)
        raise EditRefused(
            f"{name}: {said} (TOML syntax)", "toml_syntax", file=name, error=said
        ) from None
    except RecursionError:
        raise ConfigError([f"{name}: {too_deep(text)}"]) from None
    if document.as_string() != text:  # e.g. [[target]] tables split by another table
        raise EditRefused(
            f"{name}: creneau cannot edit this file without changing its layout (its "
            "[[target]] tables are split by another table?): edit it by hand",
            "layout_would_change",
            file=name,
        )
    return document


def one_line_of(failure: Exception) -> str:
    return " ".join(str(failure).split()) or type(failure).__name__


def _target_tables(document: TOMLDocument, name: str) -> Iterator[tuple[int, int, Table]]:
    for body_index, (key, item) in enumerate(document.body):
        if key is None or key.key != "target":
            continue
        if not isinstance(item, AoT):
            raise EditRefused(
                f"{name}: target is not written as [[target]] tables: creneau edits only "
                "[[target]] tables (edit this file by hand)",
                "not_target_tables",
                file=name,
            )
        for table_index, table in enumerate(item.body):
            yield body_index, table_index, table


def _table_name(table: Table) -> str:
    value = table.get("name")
    return str(value) if isinstance(value, str) else ""


def _table_extent(text: str, body_index: int, table_index: int, name: str) -> tuple[int, int]:
    """(start, length) of the table's rendering in `text`, found by rendering the document
    with a mark before the table's header and one after its last item; checked against it."""
    marked = tomlkit.parse(text)
    table = _aot_at(marked, body_index).body[table_index]
    table.trivia.indent = _MARK + table.trivia.indent
    table.value.body.append((None, Whitespace(_END)))
    rendered = marked.as_string()
    start, end = rendered.find(_MARK), rendered.find(_END) - len(_MARK)
    after = rendered[end + len(_MARK) + len(_END) :]
    if (
        not 0 <= start < end
        or rendered[:start] != text[:start]
        or rendered[start + len(_MARK) : end + len(_MARK)] != text[start:end]
        or not after.endswith(text[end:])
        or after[: len(after) - len(text[end:])].strip()
    ):
        raise EditRefused(
            f"{name}: creneau cannot tell where a [[target]] table ends here: edit it by hand",
            "table_end_unclear",
            file=name,
        )
    return start, end - start


def _aot_at(document: TOMLDocument, body_index: int) -> AoT:
    item = document.body[body_index][1]
    assert isinstance(item, AoT)  # as _target_tables found it in the same text
    return item


def _span(text: str, start: int, stop: int, table_name: str) -> TargetSpan:
    lines = _LINE.findall(text[start:stop])
    header = next((i for i, line in enumerate(lines) if line.lstrip().startswith("[[")), 0)
    tail = len(lines)
    while tail > header + 1 and _blank_or_comment(lines[tail - 1]):
        tail -= 1
    blanks = [i for i in range(tail, len(lines)) if _blank(lines[i])]
    own = blanks[-1] if blanks else tail  # comments then a blank line: still this table's
    keys_end = start + sum(map(len, lines[:tail]))
    end = start + sum(map(len, lines[:own]))
    comments_start = start
    if header == 0:
        above = _LINE.findall(text[:start])
        while above and above[-1].endswith("\n") and _comment(above[-1]):
            comments_start -= len(above.pop())
    return TargetSpan(table_name, comments_start, start, keys_end, end)


def _blank(line: str) -> bool:
    return not line.strip()


def _comment(line: str) -> bool:
    return line.lstrip().startswith("#")


def _blank_or_comment(line: str) -> bool:
    return _blank(line) or _comment(line)


def find_target(text: str, target: str, name: str = "config") -> TargetSpan:
    spans = target_spans(text, name)
    found = next((span for span in spans if span.name == target), None)
    if found is None:
        known = ", ".join(span.name for span in spans)
        raise EditRefused(
            f'{name}: no target named "{target}" (targets: {known or "none"})',
            "no_such_target",
            file=name,
            target=target,
            known=known,
        )
    return found


# --- editing -------------------------------------------------------------------------------


def value_item(raw: str) -> Item:
    """A value typed on the command line, read as TOML (numbers, true/false, [lists], dates,
    "quoted text") as written; anything else is text."""
    try:
        tomllib.loads(f"v = {raw}")
        parsed: Any = tomlkit.parse(f"v = {raw}\n")["v"]
    except (tomllib.TOMLDecodeError, TOMLKitError, RecursionError):
        return tomlkit.string(raw)
    item: Item = tomlkit.item(parsed) if not isinstance(parsed, Item) else parsed
    return item


def set_values(
    text: str, target: str, values: Mapping[str, Item | None], name: str = "config"
) -> str:
    """The text with the target's keys set (None: removed), in place for a key it has, after
    its last key for a new one; nothing else changes."""
    span = find_target(text, target, name)
    head = text[span.start : span.keys_end]
    closed = head if head.endswith("\n") else head + "\n"
    document = _parse(closed, name)
    table = _only_table(document)
    if table is None:  # parsed alone, the table is the document's only [[target]]
        raise EditRefused(
            f'{name}: creneau cannot edit target "{target}": edit it by hand',
            "cannot_edit_target",
            file=name,
            target=target,
        )
    for key, item in values.items():
        if item is None:
            if key in table:
                del table[key]
        else:
            table[key] = item
    edited = document.as_string()
    if edited == closed:
        return text
    if not head.endswith("\n"):
        edited = edited.removesuffix("\n")
    if "\r\n" in text:
        edited = re.sub(r"(?<!\r)\n", "\r\n", edited)
    return text[: span.start] + edited + text[span.keys_end :]


def _only_table(document: TOMLDocument) -> Table | None:
    keyed = [item for key, item in document.body if key is not None]
    if len(keyed) == 1 and isinstance(keyed[0], AoT) and len(keyed[0].body) == 1:
        return keyed[0].body[0]
    return None


def remove_target(text: str, target: str, name: str = "config") -> str:
    """The text without the target's table (and the comment lines right above it)."""
    span = find_target(text, target, name)
    before, after = text[: span.comments_start], text[span.end :]
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = _LINE.findall(after)
    if lines and _blank(lines[0]) and (not before or before.endswith(newline * 2)):
        after = after[len(lines[0]) :]  # the blank line before it stays, not two
    if not after.strip():
        before = before.rstrip("\r\n") + newline if before.strip() else ""
        after = ""
    return before + after


def render_target(fields: Mapping[str, Any], comments: Mapping[str, str] | None = None) -> str:
    """A `[[target]]` table of these fields, in this order; `comments` go after a value."""
    table = tomlkit.table()
    for key, value in fields.items():
        item = value if isinstance(value, Item) else tomlkit.item(value)
        if comments and key in comments:
            item.comment(comments[key])
            item.trivia.comment_ws = "  "
        table.add(key, item)
    document = tomlkit.document()
    targets = tomlkit.aot()
    targets.append(table)
    document.add("target", targets)
    return document.as_string()


def with_target(config: ConfigText, fields: Mapping[str, Any]) -> tuple[str, Config]:
    """The text with a table of these fields added, and the config it validates to (as at
    start; nothing written). Raises ConfigError."""
    text = add_target(config.text, render_target(fields), str(config.path))
    return text, validate(config, text)


def without_target(config: Config, name: str) -> Config:
    """The config less one target: a target checked before it is added is checked ad hoc
    (its check recorded under its page's public link, its alerts going nowhere)."""
    return config.model_copy(update={"target": [t for t in config.target if t.name != name]})


def add_target(text: str, table: str, name: str = "config") -> str:
    """The text with `table` (a rendered `[[target]]`) after the last target's own lines, or
    at the end of a file that has none, a blank line before it."""
    spans = target_spans(text, name)
    newline = "\r\n" if "\r\n" in text else "\n"
    table = table.replace("\r\n", "\n").replace("\n", newline)
    at = max(span.end for span in spans) if spans else len(text)
    before, after = text[:at], text[at:]
    if before and not before.endswith(newline):
        before += newline
    separator = newline if before and not before.endswith(newline * 2) else ""
    lines = _LINE.findall(after)
    closing = newline if lines and not _blank(lines[0]) else ""
    return before + separator + table + closing + after


# --- validating and writing ------------------------------------------------------------------


def validate(config: ConfigText, text: str) -> Config:
    """`prepare_config` on the new text, written beside the file (relative paths resolve the
    same); its mistakes name the file itself. Raises ConfigError."""
    path = config.path
    try:
        descriptor, temporary = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=".check.toml", dir=path.parent
        )
    except OSError as failure:
        reason = str(failure.strerror or failure)
        raise EditRefused(
            f"{path}: cannot write beside it to check it: {reason}",
            "cannot_write_beside",
            file=str(path),
            reason=reason,
        ) from None
    copy = Path(temporary)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(config.encoded(text))
        try:
            loaded = prepare_config(copy)
        except ConfigError as failure:
            raise ConfigError([_renamed(line, copy, path) for line in failure.lines]) from None
        loaded._warnings = [_renamed(line, copy, path) for line in loaded.warnings]
        return loaded
    finally:
        copy.unlink(missing_ok=True)


def _renamed(line: str, copy: Path, path: Path) -> str:
    prefix = f"{copy}:"
    return f"{path}:{line[len(prefix) :]}" if line.startswith(prefix) else line


def save(config: ConfigText, text: str) -> None:
    """Replace the file with `text`, atomically, keeping its permissions; refused when the
    file changed since it was read (someone else edited it meanwhile)."""
    path = config.path
    try:
        current = path.read_bytes()
    except OSError as failure:
        raise _cannot_read(str(path), failure) from None
    if current != config.original:
        raise EditRefused(
            f"{path}: the file changed while creneau was editing it: nothing written, try again",
            "changed_meanwhile",
            file=str(path),
        )
    real = path.resolve()
    temporary: Path | None = None
    try:
        descriptor, name = tempfile.mkstemp(prefix=f".{real.name}.", suffix=".new", dir=real.parent)
        temporary = Path(name)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(config.encoded(text))
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, stat.S_IMODE(real.stat().st_mode))
        os.replace(temporary, real)
    except OSError as failure:
        if temporary is not None:
            temporary.unlink(missing_ok=True)
        reason = str(failure.strerror or failure)
        raise EditRefused(
            f"{path}: cannot write: {reason}", "cannot_write", file=str(path), reason=reason
        ) from None


def _cannot_read(name: str, failure: OSError) -> EditRefused:
    reason = str(failure.strerror or failure)
    return EditRefused(f"{name}: cannot read: {reason}", "cannot_read", file=name, reason=reason)


@dataclass(frozen=True)
class Edited:
    """An edit made: the validated config, and whether the file changed at all."""

    config: Config
    changed: bool


def edit(path: Path, change: Callable[[str], str]) -> Edited:
    """Read the file, apply `change` to its text, validate the result as at start and, when
    it differs, write it. Raises ConfigError (one line each), the file untouched."""
    config = ConfigText.read(path)
    text = change(config.text)
    validated = validate(config, text)
    if text != config.text:
        save(config, text)
    return Edited(validated, text != config.text)
