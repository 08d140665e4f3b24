"""`creneau evidence verify DIR` without a time-stamp: MANIFEST.sha256 read strictly, every
file of the folder accounted for, RECORD.sha256 held to the manifest; each failure one
line naming its file. (With a time-stamp: test_timestamp.py.)"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from creneau.cli import cli
from creneau.evidence import EvidenceError
from creneau.evidence.verify import Failure, verify_export
from creneau.evidence.verify_texts import failure_line, report_lines

FILES = {
    "summary.html": b"<p>r\xc3\xa9sum\xc3\xa9</p>\n",
    "checks.csv": b"at,status\n",
    "pages/aaaa.html": b"<html>page</html>",
}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sums(files: dict[str, bytes]) -> bytes:
    return "".join(f"{sha(data)}  {name}\n" for name, data in sorted(files.items())).encode()


def folder_with(tmp_path: Path, files: dict[str, bytes], manifest: bytes | None = None) -> Path:
    folder = tmp_path / "export"
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    (folder / "MANIFEST.sha256").write_bytes(sums(files) if manifest is None else manifest)
    return folder


def verify(folder: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["evidence", "verify", str(folder), "--language", "en", *args])


def failures(folder: Path) -> list[Failure]:
    return list(verify_export(folder).failures)


def test_an_untouched_unstamped_export_is_proved(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, FILES)
    done = verify(folder)
    assert done.exit_code == 0, done.output
    assert done.output.splitlines() == [
        f"Verified: {folder}",
        "  MANIFEST.sha256: 3 files, each with its SHA-256 "
        f"(SHA-256 of MANIFEST.sha256: {sha(sums(FILES))})",
        "  No trusted time-stamp (exported without --tsa).",
        "Everything is proved.",
    ]


@pytest.mark.parametrize(
    ("manifest", "expected"),
    [
        # upper-case hexadecimal: not what sha256sum writes
        (lambda m: m.upper(), [("bad_line", "1"), ("bad_line", "2"), ("bad_line", "3")]),
        # one space, a CRLF, a missing final newline
        (lambda m: m.replace(b"  summary", b" summary"), [("bad_line", "3")]),
        (lambda m: m.replace(b"\n", b"\r\n", 1), [("bad_line", "1")]),
        (lambda m: m[:-1], [("bad_line", "3")]),
        # out of order, twice the same line
        (lambda m: b"".join(sorted(m.splitlines(keepends=True), reverse=True)), None),
        (lambda m: m + m.splitlines(keepends=True)[-1], [("unsorted", "4")]),
    ],
)
def test_the_manifest_is_read_strictly(
    tmp_path: Path, manifest: object, expected: list[tuple[str, str]] | None
) -> None:
    assert callable(manifest)
    folder = folder_with(tmp_path, FILES, manifest(sums(FILES)))
    found = [(f.file, f.code, dict(f.values).get("line")) for f in failures(folder)]
    assert all(file in ("MANIFEST.sha256", *FILES) for file, _, _ in found)
    assert found, "a malformed manifest must fail"
    if expected is not None:
        in_manifest = [(code, line) for file, code, line in found if file == "MANIFEST.sha256"]
        assert in_manifest == expected
    assert verify(folder).exit_code == 1


@pytest.mark.parametrize("path", ["../outside.txt", "/etc/passwd", "pages/../checks.csv", "./x"])
def test_a_path_leaving_the_folder_or_written_twice_ways_is_refused(
    tmp_path: Path, path: str
) -> None:
    (tmp_path / "outside.txt").write_bytes(b"secret")
    manifest = sums(FILES) + f"{sha(b'secret')}  {path}\n".encode()
    lines = sorted(manifest.splitlines(keepends=True))
    folder = folder_with(tmp_path, FILES, b"".join(lines))
    number = next(n for n, line in enumerate(lines, 1) if line.endswith(f"  {path}\n".encode()))
    assert failures(folder) == [Failure("MANIFEST.sha256", "bad_line", (("line", str(number)),))]


def test_every_file_must_be_listed_and_match(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, FILES)
    (folder / "pages" / "bbbb.html").write_bytes(b"slipped in")
    (folder / "checks.csv").write_bytes(b"at,status\nforged\n")
    (folder / "summary.html").unlink()
    assert failures(folder) == [
        Failure("pages/bbbb.html", "not_listed"),
        Failure("checks.csv", "changed"),
        Failure("summary.html", "missing"),
    ]
    done = verify(folder)
    assert done.exit_code == 1
    assert done.output.splitlines()[-4:] == [
        "FAILED: 3 problem(s)",
        "  pages/bbbb.html: not listed in MANIFEST.sha256",
        "  checks.csv: its SHA-256 differs from MANIFEST.sha256's",
        "  summary.html: missing",
    ]


def test_a_symbolic_link_is_never_followed(tmp_path: Path) -> None:
    (tmp_path / "elsewhere.html").write_bytes(FILES["pages/aaaa.html"])
    folder = folder_with(tmp_path, FILES)
    (folder / "pages" / "aaaa.html").unlink()
    (folder / "pages" / "aaaa.html").symlink_to(tmp_path / "elsewhere.html")
    assert failures(folder) == [Failure("pages/aaaa.html", "link")]
    (tmp_path / "elsewhere.sha256").write_bytes((folder / "MANIFEST.sha256").read_bytes())
    (folder / "MANIFEST.sha256").unlink()
    (folder / "MANIFEST.sha256").symlink_to(tmp_path / "elsewhere.sha256")
    assert failures(folder) == [Failure("MANIFEST.sha256", "link")]
    (folder / "MANIFEST.sha256").unlink()
    assert failures(folder) == [Failure("MANIFEST.sha256", "missing")]


def test_the_record_must_agree_with_the_manifest(tmp_path: Path) -> None:
    presented = {name: data for name, data in FILES.items() if name != "checks.csv"}
    record = sums(presented)
    folder = folder_with(tmp_path, {**FILES, "RECORD.sha256": record})
    done = verify(folder)
    assert done.exit_code == 0, done.output
    assert (
        f"  RECORD.sha256: 2 files, the record the dossier presents (SHA-256: {sha(record)})"
        in done.output.splitlines()
    )
    forged = record.replace(sha(FILES["summary.html"]).encode(), b"0" * 64)
    forged += f"{sha(b'x')}  zzz.txt\n".encode()
    folder = folder_with(tmp_path / "2", {**FILES, "RECORD.sha256": forged})
    assert failures(folder) == [
        Failure("summary.html", "record_changed"),
        Failure("zzz.txt", "record_not_in_manifest"),
    ]


def test_a_manifest_that_lists_a_time_stamp_file_fails(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, {**FILES, "TIMESTAMP.sha256": b""})
    assert failures(folder) == [
        Failure("TIMESTAMP.sha256", "listed_wrongly"),
        Failure("MANIFEST.sha256.tsr", "missing"),
        Failure("tsa-chain.pem", "missing"),
    ]


def test_usage_errors_are_one_line_exit_2(tmp_path: Path) -> None:
    done = verify(tmp_path / "nowhere")
    assert done.exit_code == 2
    assert done.stderr == f"Error: {tmp_path / 'nowhere'}: no such folder\n"
    folder = folder_with(tmp_path, FILES)
    done = verify(folder, "--ca", str(tmp_path / "root.pem"))
    assert done.exit_code == 2
    assert done.stderr == f"Error: --ca {tmp_path / 'root.pem'}: no such file\n"
    with pytest.raises(EvidenceError):
        verify_export(tmp_path / "nowhere")


def test_a_file_name_is_escaped_for_the_terminal(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, FILES)
    (folder / "pages" / "evil\x1b[31m.html").write_bytes(b"x")
    done = verify(folder)
    assert done.exit_code == 1
    assert "\x1b" not in done.output
    assert "  pages/evil\u241b[31m.html: not listed in MANIFEST.sha256" in done.output


def test_failures_and_proofs_read_in_french_too(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, FILES)
    (folder / "checks.csv").write_bytes(b"changed")
    done = verify_export(folder)
    assert failure_line(done.failures[0], "fr") == (
        "checks.csv: son SHA-256 diffère de celui de MANIFEST.sha256"
    )
    assert report_lines(done, "fr")[0] == f"Vérifié : {folder}"
    assert report_lines(done, "fr")[-2] == "ÉCHEC : 1 problème(s)"
