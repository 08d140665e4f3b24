"""`creneau evidence verify DIR`: everything an export claims, checked again from its files
alone, as a judge's technician would with `sha256sum -c` and `openssl ts -verify`.

- MANIFEST.sha256, strictly: each line "<64 lowercase hex>  <relative path>\\n", sorted,
  no duplicate, no absolute path, no "..". It lists exactly the folder's files but itself and
  the time-stamp files, and every hash matches.
- RECORD.sha256 (the record the dossier presents), when present: the same form; each file
  it lists is one the manifest lists, with the same hash.
- With MANIFEST.sha256.tsr: TIMESTAMP.sha256 is exactly the SHA-256 lines of the token and
  tsa-chain.pem; the token is granted over MANIFEST.sha256's SHA-256; and `openssl ts
  -verify` accepts it, anchored on `--ca FILE`, else on the system trust store, else on the
  root stored in the folder (which proves integrity only to who trusts that root: its
  subject and fingerprint are shown, to compare with what the authority publishes)."""

from __future__ import annotations

import hashlib
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from creneau.evidence.files import MANIFEST
from creneau.evidence.openssl import (
    Certificate,
    Ran,
    Token,
    certificates,
    fingerprint,
    read_reply,
    require_openssl,
    system_roots,
    verify_token,
)
from creneau.evidence.period import EvidenceError
from creneau.evidence.timestamp import CHAIN, STAMP, STAMP_FILES, TSR, stamp_lines

RECORD = "RECORD.sha256"
_LINE = re.compile(r"([0-9a-f]{64})  ([^\n\r]+)\n")


@dataclass(frozen=True)
class Failure:
    """What did not hold: a file of the folder ("" for the folder) and why, as a code of
    `verify_texts.FAILURES` and its values."""

    file: str
    code: str
    values: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Anchor:
    """What the token was verified against: "given" (--ca), "system" (the trust store) or
    "folder" (the root stored in the export: integrity only for who trusts it)."""

    kind: str
    path: Path | None
    subject: str
    fingerprint: str


@dataclass(frozen=True)
class Verification:
    folder: Path
    files: int = 0  # files the manifest lists, each found with its hash
    manifest_sha256: str = ""
    record_files: int | None = None  # files RECORD.sha256 lists, when it is there
    record_sha256: str = ""
    token: Token | None = None
    anchor: Anchor | None = None
    failures: tuple[Failure, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not self.failures


def verify_export(folder: Path, ca_file: Path | None = None) -> Verification:
    """Check the export in `folder`; EvidenceError only when there is no such folder or the
    --ca file cannot be read (a usage error): everything else is a Failure."""
    if not folder.is_dir():
        raise EvidenceError(f"{folder}: no such folder")
    if ca_file is not None and not ca_file.is_file():
        raise EvidenceError(f"--ca {ca_file}: no such file")
    failures: list[Failure] = []
    manifest_path = folder / MANIFEST
    if manifest_path.is_symlink() or not manifest_path.is_file():
        why = "link" if manifest_path.is_symlink() else "missing"
        return Verification(folder, failures=(Failure(MANIFEST, why),))
    raw = manifest_path.read_bytes()
    listed = _read_sums(MANIFEST, raw, failures)
    hashes = _hashes(folder)
    expected = {name for name in hashes if name not in (MANIFEST, *STAMP_FILES)}
    failures.extend(_compare(listed, hashes, expected))
    record = _check_record(folder, listed, hashes, failures)
    token, anchor = _check_stamp(folder, raw, ca_file, failures)
    proved = sum(1 for name, digest in listed.items() if hashes.get(name) == digest)
    return Verification(
        folder,
        files=proved,
        manifest_sha256=hashlib.sha256(raw).hexdigest(),
        record_files=None if record is None else len(record[0]),
        record_sha256="" if record is None else record[1],
        token=token,
        anchor=anchor,
        failures=tuple(failures),
    )


def _hashes(folder: Path) -> dict[str, str]:
    """Every file under `folder` (relative POSIX path → SHA-256); a symbolic link is
    recorded as such ("link"), never followed out of the folder."""
    found: dict[str, str] = {}
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        if path.is_symlink():
            found[name] = "link"
        elif path.is_file():
            with path.open("rb") as file:
                found[name] = hashlib.file_digest(file, "sha256").hexdigest()
    return found


def _read_sums(name: str, raw: bytes, failures: list[Failure]) -> dict[str, str]:
    """A sha256sum file read strictly; each line that breaks the form is a Failure."""
    listed: dict[str, str] = {}
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        failures.append(Failure(name, "not_utf8"))
        return listed
    previous = ""
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        found = _LINE.fullmatch(line)
        path = found.group(2) if found else ""
        if found is None or not _safe_path(path):
            failures.append(Failure(name, "bad_line", (("line", str(number)),)))
        elif path <= previous:
            failures.append(Failure(name, "unsorted", (("line", str(number)),)))
        else:
            listed[path], previous = found.group(1), path
    if not text:
        failures.append(Failure(name, "empty"))
    return listed


def _safe_path(path: str) -> bool:
    parts = PurePosixPath(path).parts
    return (
        not path.startswith("/")
        and "\\" not in path
        and path == PurePosixPath(path).as_posix()
        and all(part not in (".", "..") for part in parts)
    )


def _compare(
    listed: dict[str, str], hashes: dict[str, str], expected: Iterable[str]
) -> list[Failure]:
    wanted = set(expected)
    failures = [Failure(name, "not_listed") for name in sorted(wanted - listed.keys())]
    for name, digest in listed.items():
        if name not in hashes:
            failures.append(Failure(name, "missing"))
        elif hashes[name] == "link":
            failures.append(Failure(name, "link"))
        elif name not in wanted:
            failures.append(Failure(name, "listed_wrongly"))
        elif hashes[name] != digest:
            failures.append(Failure(name, "changed"))
    return failures


def _check_record(
    folder: Path, listed: dict[str, str], hashes: dict[str, str], failures: list[Failure]
) -> tuple[dict[str, str], str] | None:
    path = folder / RECORD
    if not path.is_file():
        return None
    raw = path.read_bytes()
    record = _read_sums(RECORD, raw, failures)
    for name, digest in record.items():
        if name in (MANIFEST, RECORD, *STAMP_FILES) or name not in listed:
            failures.append(Failure(name, "record_not_in_manifest"))
        elif name not in hashes:
            continue  # missing: said once, for the manifest
        elif hashes[name] != digest:
            failures.append(Failure(name, "record_changed"))
    return record, hashlib.sha256(raw).hexdigest()


def _check_stamp(
    folder: Path, manifest: bytes, ca_file: Path | None, failures: list[Failure]
) -> tuple[Token | None, Anchor | None]:
    present = [name for name in STAMP_FILES if (folder / name).exists()]
    if not present:
        return None, None
    missing = [Failure(name, "missing") for name in STAMP_FILES if name not in present]
    if missing:
        failures.extend(missing)
        return None, None
    require_openssl()
    _check_stamp_sums(folder, failures)
    try:
        token = read_reply(folder / TSR)
    except EvidenceError as failure:
        failures.append(Failure(TSR, "unreadable", (("why", str(failure)),)))
        return None, None
    if not token.granted:
        failures.append(Failure(TSR, "not_granted", (("status", token.status),)))
    digest = hashlib.sha256(manifest).hexdigest()
    if token.hash_algorithm != "sha256" or token.imprint != digest:
        failures.append(Failure(MANIFEST, "not_stamped"))
    anchor = _anchor(folder, ca_file, failures)
    return token, anchor


def _check_stamp_sums(folder: Path, failures: list[Failure]) -> None:
    """TIMESTAMP.sha256 is exactly the lines of the token's and the chain's SHA-256: a file
    whose hash differs is named; any other difference names TIMESTAMP.sha256."""
    raw = (folder / STAMP).read_bytes()
    found: list[Failure] = []
    sums = _read_sums(STAMP, raw, found)
    for name in (TSR, CHAIN):
        digest = hashlib.sha256((folder / name).read_bytes()).hexdigest()
        if name in sums and sums[name] != digest:
            found.append(Failure(name, "stamp_changed"))
    if not found and raw != stamp_lines(folder):
        found.append(Failure(STAMP, "stamp_mismatch"))
    failures.extend(found)


def _anchor(folder: Path, ca_file: Path | None, failures: list[Failure]) -> Anchor | None:
    """The token verified by OpenSSL: on --ca, else the system store, else the folder's
    root; the first that accepts it."""
    try:
        roots = [cert for cert in certificates((folder / CHAIN).read_bytes()) if cert.self_signed]
    except EvidenceError as failure:
        failures.append(Failure(CHAIN, "unreadable", (("why", str(failure)),)))
        return None
    if ca_file is not None:
        tries: list[tuple[str, Path | None]] = [("given", ca_file)]
    else:
        tries = [("system", path) for path in (system_roots(),) if path is not None]
        tries.append(("folder", None))
    why = "no root certificate"
    for kind, path in tries:
        ran = _verify_on(folder, path, roots)
        if ran is not None and ran.ok:
            root = roots[0] if roots else None
            subject, printed = (root.subject, fingerprint(root.pem)) if root else ("", "")
            return Anchor(kind, path, subject, printed)
        why = ran.why if ran is not None else why
    failures.append(Failure(TSR, "does_not_verify", (("why", why),)))
    return None


def _verify_on(folder: Path, roots_file: Path | None, stored: list[Certificate]) -> Ran | None:
    """`openssl ts -verify` of the folder's token on `roots_file`, or (None) on the roots
    stored in the folder; None when there are none."""
    manifest, reply, chain = folder / MANIFEST, folder / TSR, folder / CHAIN
    if roots_file is not None:
        return verify_token(manifest, reply, roots_file, chain)
    if not stored:
        return None
    with tempfile.TemporaryDirectory(prefix="creneau-verify-") as work:
        path = Path(work) / "roots.pem"
        path.write_bytes(b"".join(cert.pem for cert in stored))
        return verify_token(manifest, reply, path, chain)
