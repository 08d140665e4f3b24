"""`creneau evidence … --tsa URL` and `creneau evidence verify DIR` against a local RFC 3161
authority (OpenSSL's `ts -reply` behind an HTTP handler on 127.0.0.1, tests/harness/tsa.py):
the token is stored with its chain, OpenSSL alone verifies it, any changed byte of any file is
caught, and every way the authority can fail is one line that leaves the folder as it was."""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result

from creneau import __version__
from creneau.alerts.outbox import Routing
from creneau.check.record import record
from creneau.cli import cli
from creneau.evidence import EvidenceError
from creneau.evidence.openssl import parse_reply_text, parse_time
from creneau.evidence.timestamp import CHAIN, STAMP, TSR, read_token, request_timestamp
from creneau.fetch.client import PoliteClient
from creneau.page import Page
from creneau.results import CheckResult, GuichetResult, Status
from creneau.store import Store
from creneau.store import pages as archive
from harness.tsa import LocalTSA, local_tsa, make_authority

PARIS = ZoneInfo("Europe/Paris")
URL = "https://pref.example/booking/create/989"
PAGE = Page(URL, 200, b"<html><p>Il n'existe plus de plage horaire libre</p></html>")


# .ci/run installs Debian's openssl when it is missing.
pytestmark = pytest.mark.skipif(
    shutil.which("openssl") is None, reason="the local authority needs the openssl command"
)


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalTSA]:
    with local_tsa(tmp_path_factory.mktemp("tsa")) as serving:
        yield serving


@pytest.fixture(autouse=True)
def granting(authority: LocalTSA) -> Iterator[None]:
    authority.answer = "granted"
    yield
    authority.answer = "granted"


@pytest.fixture(scope="module")
def stranger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Another root: a trust store that does not know the local authority's."""
    folder = tmp_path_factory.mktemp("stranger")
    make_authority(folder)
    return folder / "root.pem"


@dataclass(frozen=True)
class Setup:
    config_path: Path
    since: str


@pytest.fixture
def setup(tmp_path: Path) -> Setup:
    path = tmp_path / "config.toml"
    data = tmp_path / "data"
    path.write_text(f"""
[creneau]
contact = "asso@example.org"
database = "sqlite:///{tmp_path / "c.db"}"
data_dir = "{data}"
keep_pages = true
[[target]]
name = "nanterre"
system = "ezbooking"
url = "{URL}"
""")
    store = Store(f"sqlite:///{tmp_path / 'c.db'}")
    store.upgrade()
    at = datetime.now(UTC) - timedelta(hours=2)
    archive.keep_by_hash(data / "pages", PAGE)
    result = CheckResult(
        "nanterre",
        "ezbooking",
        URL,
        Status.NONE,
        at,
        http_status=200,
        guichets=(GuichetResult("14007", "Guichet 2", Status.NONE, ()),),
        page_sha256=PAGE.sha256,
        page=PAGE,
    )
    record(store, result, Routing(PARIS))
    store.close()
    since = (at.astimezone(PARIS) - timedelta(days=1)).date().isoformat()
    return Setup(path, since)


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(arg) for arg in args])


def export(setup: Setup, out: Path, *args: str | Path) -> Result:
    return run(
        "evidence", "nanterre", "--since", setup.since, "--out", out,
        "--config", setup.config_path, *args,
    )  # fmt: skip


@pytest.fixture
def stamped(setup: Setup, authority: LocalTSA, tmp_path: Path) -> Path:
    out = tmp_path / "export"
    done = export(setup, out, "--tsa", authority.url, "--tsa-ca", authority.root)
    assert done.exit_code == 0, done.output
    return out


def openssl_verifies(folder: Path, root: Path) -> bool:
    return (
        subprocess.run(
            ["openssl", "ts", "-verify", "-data", "MANIFEST.sha256", "-in", TSR,
             "-CAfile", root, "-untrusted", CHAIN],
            cwd=folder, capture_output=True, check=False,
        ).returncode
        == 0
    )  # fmt: skip


def files_of(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def exported(folder: Path) -> list[str]:
    """The files the export wrote: MANIFEST.sha256 and those it lists."""
    lines = (folder / "MANIFEST.sha256").read_text().splitlines()
    return sorted(["MANIFEST.sha256", *(line.split("  ", 1)[1] for line in lines)])


# --- stamping, then verifying ----------------------------------------------------------------


def test_export_with_tsa_stores_the_token_and_verify_proves_it(
    stamped: Path, authority: LocalTSA, tmp_path: Path
) -> None:
    assert f"pages/{PAGE.sha256}.html" in exported(stamped)
    assert files_of(stamped) == sorted([*exported(stamped), TSR, CHAIN, STAMP])
    token = read_token(stamped)
    manifest = (stamped / "MANIFEST.sha256").read_bytes()
    assert (token.status, token.hash_algorithm) == ("Granted.", "sha256")
    assert token.imprint == hashlib.sha256(manifest).hexdigest()
    assert token.tsa == "DirName:/O=creneau tests/CN=Local Test TSA"
    assert token.time is not None
    # what the authority received: a query, from an honest client
    kind, headers = authority.queries[-1]
    assert kind == "application/timestamp-query"
    assert headers["User-Agent"].startswith(f"creneau/{__version__} ")
    # TIMESTAMP.sha256 holds the two files' hashes, as sha256sum writes them
    lines = [
        f"{hashlib.sha256((stamped / name).read_bytes()).hexdigest()}  {name}\n"
        for name in (TSR, CHAIN)
    ]
    assert (stamped / STAMP).read_text() == "".join(lines)

    done = run("evidence", "verify", stamped, "--ca", authority.root, "--language", "en",
               "--config", tmp_path / "none.toml")  # fmt: skip
    assert done.exit_code == 0, done.output
    utc = token.time.strftime("%Y-%m-%d %H:%M:%S")
    paris = token.time.astimezone(PARIS).strftime("%d/%m/%Y %H:%M:%S")
    record = (stamped / "RECORD.sha256").read_bytes()
    expected = [
        f"Verified: {stamped}",
        f"  MANIFEST.sha256: {len(exported(stamped)) - 1} files, each with its SHA-256 "
        f"(SHA-256 of MANIFEST.sha256: {hashlib.sha256(manifest).hexdigest()})",
        f"  RECORD.sha256: {len(record.splitlines())} files, the record the dossier presents "
        f"(SHA-256: {hashlib.sha256(record).hexdigest()})",
        f"  Time-stamp: {utc} UTC ({paris}, Paris time), by "
        f"DirName:/O=creneau tests/CN=Local Test TSA, serial {token.serial}, "
        f"policy {token.policy}",
        f"  Verified on the root certificate given with --ca {authority.root} "
        "(O = creneau tests, CN = Local Test Root)",
        "Everything is proved.",
    ]
    assert done.output.splitlines() == expected


def test_the_export_says_when_and_by_whom(
    setup: Setup, authority: LocalTSA, tmp_path: Path
) -> None:
    done = export(setup, tmp_path / "export", "--tsa", authority.url, "--tsa-ca", authority.root)
    assert done.exit_code == 0, done.output
    token = read_token(tmp_path / "export")
    assert token.time is not None
    stated = token.time.strftime("%Y-%m-%d %H:%M:%S")
    assert f"Time-stamped {stated} UTC (" in done.output
    assert "by DirName:/O=creneau tests/CN=Local Test TSA" in done.output


def test_openssl_and_sha256sum_alone_verify_the_untouched_folder(
    stamped: Path, authority: LocalTSA
) -> None:
    assert openssl_verifies(stamped, authority.root)
    for sums in ("MANIFEST.sha256", STAMP):
        checked = subprocess.run(
            ["sha256sum", "--strict", "-c", sums], cwd=stamped, capture_output=True, check=False
        )
        assert checked.returncode == 0, checked.stdout


def test_verify_falls_back_on_the_system_store_then_on_the_stored_root(
    stamped: Path, authority: LocalTSA, stranger: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(authority.root))
    done = run("evidence", "verify", stamped, "--language", "en")
    assert done.exit_code == 0, done.output
    assert f"  Verified on the system's trust store {authority.root} (" in done.output

    monkeypatch.setenv("SSL_CERT_FILE", str(stranger))
    done = run("evidence", "verify", stamped, "--language", "en")
    assert done.exit_code == 0, done.output
    fingerprint = subprocess.run(
        ["openssl", "x509", "-noout", "-fingerprint", "-sha256", "-in", authority.root],
        capture_output=True, text=True, check=True,
    ).stdout.strip().split("=", 1)[1]  # fmt: skip
    assert (
        "  Verified on the root certificate stored in the folder: this proves integrity only "
        "if you trust that root. Compare its fingerprint with the one the authority publishes: "
        f"O = creneau tests, CN = Local Test Root, SHA-256 {fingerprint}"
    ) in done.output.splitlines()

    # given a root that is not the authority's, the token is refused: no fallback
    done = run("evidence", "verify", stamped, "--ca", stranger, "--language", "en")
    assert done.exit_code == 1
    assert f"  {TSR}: the token does not verify (" in done.output


def test_a_token_with_an_intermediate_verifies_on_the_system_store(
    setup: Setup, stranger: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As with a public authority: the token carries the TSA's certificate and the
    intermediate; the root is in the system's trust store, among others."""
    with local_tsa(tmp_path / "tsa", intermediate=True) as chained:
        store = tmp_path / "ca-certificates.crt"
        store.write_bytes(stranger.read_bytes() + chained.root.read_bytes())
        monkeypatch.setenv("SSL_CERT_FILE", str(store))
        out = tmp_path / "export"
        done = export(setup, out, "--tsa", chained.url)
        assert done.exit_code == 0, done.output
    subjects = subprocess.run(
        ["openssl", "crl2pkcs7", "-nocrl", "-certfile", out / CHAIN],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    listed = subprocess.run(
        ["openssl", "pkcs7", "-print_certs", "-noout"], input=subjects.decode(),
        capture_output=True, check=True, text=True,
    ).stdout  # fmt: skip
    assert [line for line in listed.splitlines() if line.startswith("subject=")] == [
        "subject=O = creneau tests, CN = Local Test TSA",
        "subject=O = creneau tests, CN = Local Test Intermediate",
        "subject=O = creneau tests, CN = Local Test Root",
    ]
    done = run("evidence", "verify", out, "--language", "en")
    assert done.exit_code == 0, done.output
    assert f"  Verified on the system's trust store {store} (" in done.output
    assert openssl_verifies(out, chained.root)


# --- any change is caught --------------------------------------------------------------------


def test_one_changed_byte_in_any_file_fails_verify_and_openssl(
    stamped: Path, authority: LocalTSA, tmp_path: Path
) -> None:
    names = files_of(stamped)
    assert len(names) >= 8
    assert {"MANIFEST.sha256", TSR, CHAIN, STAMP, f"pages/{PAGE.sha256}.html"} <= set(names)
    for name in names:
        copy = tmp_path / f"changed-{name.replace('/', '_')}"
        shutil.copytree(stamped, copy)
        content = bytearray((copy / name).read_bytes())
        middle = len(content) // 2
        content[middle] ^= 0x01
        (copy / name).write_bytes(bytes(content))
        done = run("evidence", "verify", copy, "--ca", authority.root, "--language", "en")
        assert done.exit_code == 1, (name, done.output)
        assert "FAILED: " in done.output
        assert f"  {name}: " in done.output, (name, done.output)
        if name == "MANIFEST.sha256":
            assert not openssl_verifies(copy, authority.root)
    # A byte of what the authority signed (the manifest's hash, inside the token): OpenSSL
    # alone sees it too. (A byte of the certificates the token carries is not signed:
    # TIMESTAMP.sha256 is what shows that change, as above.)
    copy = tmp_path / "changed-signed-part"
    shutil.copytree(stamped, copy)
    token = bytearray((copy / TSR).read_bytes())
    at = bytes(token).index(hashlib.sha256((copy / "MANIFEST.sha256").read_bytes()).digest())
    token[at] ^= 0x01
    (copy / TSR).write_bytes(bytes(token))
    assert not openssl_verifies(copy, authority.root)
    done = run("evidence", "verify", copy, "--ca", authority.root, "--language", "en")
    assert done.exit_code == 1
    assert f"  {TSR}: its SHA-256 differs from TIMESTAMP.sha256's" in done.output.splitlines()
    assert "  MANIFEST.sha256: not the file the token time-stamps" in done.output.splitlines()


def test_an_extra_or_a_missing_file_fails(stamped: Path, authority: LocalTSA) -> None:
    (stamped / "pages" / "extra.html").write_bytes(b"<p>added later</p>")
    done = run("evidence", "verify", stamped, "--ca", authority.root, "--language", "en")
    assert done.exit_code == 1
    assert "  pages/extra.html: not listed in MANIFEST.sha256" in done.output.splitlines()

    (stamped / "pages" / "extra.html").unlink()
    (stamped / "checks.csv").unlink()
    done = run("evidence", "verify", stamped, "--ca", authority.root, "--language", "fr")
    assert done.exit_code == 1
    said = done.output.splitlines()[-2:]
    assert said == ["ÉCHEC : 1 problème(s)", "  checks.csv: fichier absent"]

    (stamped / CHAIN).unlink()
    done = run("evidence", "verify", stamped, "--ca", authority.root, "--language", "en")
    assert done.exit_code == 1
    assert f"  {CHAIN}: missing" in done.output.splitlines()


# --- the authority's failures ----------------------------------------------------------------


FAILURES = [
    ("error-500", "answered HTTP 500"),
    ("rejection", "refused the request (Rejected. Message digest algorithm is not supported.)"),
    ("other-imprint", "its token stamps another file (sha256 "),
    ("wrong-type", "answered text/plain, not application/timestamp-reply"),
]


@pytest.mark.parametrize(("answer", "said"), FAILURES)
def test_an_authority_that_fails_is_one_line_and_no_export_is_written(
    setup: Setup, authority: LocalTSA, tmp_path: Path, answer: str, said: str
) -> None:
    authority.answer = answer
    out = tmp_path / "export"
    done = export(setup, out, "--tsa", authority.url, "--tsa-ca", authority.root)
    assert done.exit_code == 1, done.output
    last = done.stderr.splitlines()
    assert len(last) == 1
    assert last[0].startswith(f"Error: time-stamping authority {authority.url}: {said}")
    assert last[0].endswith("(no export written)")
    # neither the export nor its staging folder is left
    assert sorted(path.name for path in tmp_path.iterdir()) == ["c.db", "config.toml", "data"]


def test_a_root_nobody_trusts_is_refused_and_names_tsa_ca(
    setup: Setup, authority: LocalTSA, stranger: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("SSL_CERT_FILE", str(stranger))
    out = tmp_path / "export"
    done = export(setup, out, "--tsa", authority.url)
    assert done.exit_code == 1
    assert f"its token does not verify against {stranger} (" in done.stderr
    assert "pass --tsa-ca with the authority's root certificate" in done.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("ftp://127.0.0.1/tsr", "ftp"),
        ("http://user:pw@127.0.0.1/tsr", "user"),
        ("http://127.0.0.1\\@example.org/tsr", "backslash"),
    ],
)
def test_a_link_the_client_refuses_is_one_line_before_any_export(
    setup: Setup, tmp_path: Path, url: str, said: str
) -> None:
    out = tmp_path / "export"
    done = export(setup, out, "--tsa", url)
    assert done.exit_code == 2
    assert len(done.stderr.splitlines()) == 1
    assert done.stderr.startswith("Error: --tsa ")
    assert said in done.stderr.lower()
    assert "pw@" not in done.stderr  # a password in the link is never shown
    assert not out.exists()


def test_tsa_ca_alone_or_missing_is_one_line_before_any_export(
    setup: Setup, authority: LocalTSA, tmp_path: Path
) -> None:
    out = tmp_path / "export"
    done = export(setup, out, "--tsa-ca", authority.root)
    assert (done.exit_code, done.stderr) == (
        2, "Error: --tsa-ca needs --tsa (the authority's URL)\n",
    )  # fmt: skip
    done = export(setup, out, "--tsa", authority.url, "--tsa-ca", tmp_path / "none.pem")
    assert (done.exit_code, done.stderr) == (
        2,
        f"Error: --tsa-ca {tmp_path / 'none.pem'}: no such file\n",
    )
    assert not out.exists()


def test_request_timestamp_refuses_a_guarded_loopback_authority(
    authority: LocalTSA, tmp_path: Path
) -> None:
    """The dashboard's guard (no private address) holds for an authority too."""
    from creneau.fetch.guard import Guard

    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "MANIFEST.sha256").write_text(f"{'0' * 64}  x\n")
    with pytest.raises(EvidenceError, match="loopback"):
        asyncio.run(request_timestamp(folder, authority.url, PoliteClient(None), guard=Guard()))
    assert files_of(folder) == ["MANIFEST.sha256"]


def test_without_openssl_the_message_says_how_to_install_it(
    setup: Setup, stamped: Path, authority: LocalTSA, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    out = tmp_path / "export2"
    done = export(setup, out, "--tsa", authority.url)
    assert done.exit_code == 2
    assert done.stderr == (
        "Error: the openssl command is not installed: time-stamps need it "
        "(Debian, Ubuntu: sudo apt-get install openssl)\n"
    )
    assert not out.exists()
    done = run("evidence", "verify", stamped, "--language", "en")
    assert done.exit_code == 2
    assert "sudo apt-get install openssl" in done.stderr


# --- reading what OpenSSL prints -------------------------------------------------------------

REPLY_TEXT = """\
Status info:
Status: Granted.
Status description: unspecified
Failure info: unspecified

TST info:
Version: 1
Policy OID: 1.2.3.4.1
Hash Algorithm: sha256
Message data:
    0000 - 61 fb 19 72 cf 2f 40 b0-fc dc 98 e6 d6 2c 19 62   a..r./@......,.b
    0010 - e9 d9 d0 16 53 88 21 80-30 06 9f 32 c9 68 fa 3b   ....S.!.0..2.h.;
Serial number: 0x02
Time stamp: Dec  8 01:12:35.25 2026 GMT
Accuracy: 0x01 seconds, unspecified millis, unspecified micros
Ordering: no
Nonce: 0x8AA895C391D13800
TSA: DirName:/CN=Test TSA
Extensions:
"""


def test_the_reply_text_is_read_field_by_field() -> None:
    token = parse_reply_text(REPLY_TEXT)
    assert token.status == "Granted."
    assert token.status_text == "unspecified"
    assert token.hash_algorithm == "sha256"
    assert token.imprint == "61fb1972cf2f40b0fcdc98e6d62c1962e9d9d0165388218030069f32c968fa3b"
    assert token.serial == "0x02"
    assert token.time == datetime(2026, 12, 8, 1, 12, 35, 250000, tzinfo=UTC)
    assert token.nonce == "0x8AA895C391D13800"
    assert token.tsa == "DirName:/CN=Test TSA"
    assert token.policy == "1.2.3.4.1"
    assert token.granted
    rejected = parse_reply_text(
        "Status info:\nStatus: Rejected.\nStatus description: unspecified\n"
        "Failure info: unrecognized or unsupported algorithm identifier\n\nTST info:\n"
        "Not included.\n"
    )
    assert (rejected.status, rejected.imprint, rejected.time) == ("Rejected.", "", None)
    assert not rejected.granted
    assert parse_time("Feb 29 23:59:59 2028 GMT") == datetime(2028, 2, 29, 23, 59, 59, tzinfo=UTC)
    assert parse_time("Foo 29 23:59:59 2028 GMT") is None


def test_openssl_complaints_are_one_short_line() -> None:
    from creneau.evidence.openssl import Ran

    said = (
        "Using configuration from /usr/lib/ssl/openssl.cnf\n"
        "40D7E981D77F0000:error:17800064:time stamp routines:ts_verify_cert:certificate "
        "verify error:../crypto/ts/ts_rsp_verify.c:188:Verify error:unable to get local "
        "issuer certificate\n"
    )
    assert Ran(1, b"", said).why == (
        "certificate verify error: Verify error:unable to get local issuer certificate"
    )
    assert Ran(1, b"", "Using configuration from x\n").why == "openssl exited with status 1"
    assert Ran(2, b"", "bad option -x\n").why == "bad option -x"


def with_authority(setup: Setup, authority: LocalTSA) -> None:
    """The config names the authority ([creneau] tsa, tsa_ca)."""
    text = setup.config_path.read_text()
    setting = f'tsa = "{authority.url}"\ntsa_ca = "{authority.root}"\n'
    setup.config_path.write_text(
        text.replace("keep_pages = true\n", f"keep_pages = true\n{setting}")
    )


def test_the_configs_authority_stamps_every_export_unless_no_tsa(
    setup: Setup, authority: LocalTSA, tmp_path: Path
) -> None:
    with_authority(setup, authority)
    stamped, plain = tmp_path / "stamped", tmp_path / "plain"
    assert export(setup, stamped).exit_code == 0
    assert (stamped / TSR).is_file()
    assert run("evidence", "verify", stamped, "--ca", authority.root).exit_code == 0
    assert export(setup, plain, "--no-tsa").exit_code == 0
    assert not (plain / TSR).exists()


def test_the_dashboards_zip_is_stamped_by_the_configs_authority(
    setup: Setup, authority: LocalTSA, tmp_path: Path
) -> None:
    import io
    import zipfile

    from starlette.testclient import TestClient

    from creneau.startup import prepare_config
    from creneau.store import DatabaseThread
    from creneau.web.app import create_app
    from creneau.web.context import WebContext
    from creneau.web.security import Signer, load_or_create_secret

    with_authority(setup, authority)
    config = prepare_config(setup.config_path)
    store, db = Store(config.creneau.database), DatabaseThread()
    signer = Signer(load_or_create_secret(config.creneau.data_dir))
    context = WebContext(config, store, db, signer, None)
    try:
        with TestClient(create_app(context), base_url="http://127.0.0.1") as client:
            answer = client.get(f"/targets/nanterre/evidence.zip?since={setup.since}")
            assert answer.status_code == 200
            with zipfile.ZipFile(io.BytesIO(answer.content)) as zipped:
                zipped.extractall(tmp_path / "unzipped")
            [folder] = (tmp_path / "unzipped").iterdir()
            assert run("evidence", "verify", folder, "--ca", authority.root).exit_code == 0
            authority.answer = "error-500"
            refused = client.get(f"/targets/nanterre/evidence.zip?since={setup.since}")
            assert refused.status_code == 502
            assert "time-stamping authority" in refused.text
    finally:
        db.close()
        store.close()
