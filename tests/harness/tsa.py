"""A local RFC 3161 time-stamping authority on 127.0.0.1, for the tests of `--tsa` and
`creneau evidence verify`: a root CA and a TSA certificate (`extendedKeyUsage =
critical,timeStamping`) made with OpenSSL in a folder, and an HTTP handler that answers each
query with `openssl ts -reply -config …`, as a public authority does (RESEARCH.md "Evidence a
judge accepts"). `answer` switches what it does: "granted" (the default), "rejection" (a
section accepting only SHA-512, so OpenSSL rejects our SHA-256 query), "other-imprint" (a
token over other data), "error-500", "wrong-type" (a good token served as text/plain)."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

SUBJECT_ROOT = "/O=creneau tests/CN=Local Test Root"
SUBJECT_TSA = "/O=creneau tests/CN=Local Test TSA"
SUBJECT_INTERMEDIATE = "/O=creneau tests/CN=Local Test Intermediate"

CONFIG = """\
[ tsa ]
default_tsa = granted

[ granted ]
serial = {dir}/serial
signer_cert = {dir}/tsa.pem
certs = {dir}/{carried}
signer_key = {dir}/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256

[ rejection ]
serial = {dir}/serial
signer_cert = {dir}/tsa.pem
signer_key = {dir}/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha512
"""

TSA_EXTENSIONS = """\
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = critical,timeStamping
"""


def openssl(*args: str | Path, cwd: Path | None = None) -> bytes:
    done = subprocess.run(
        ["openssl", *(str(arg) for arg in args)], capture_output=True, check=False, cwd=cwd
    )
    if done.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(map(str, args))}: {done.stderr.decode()}")
    return done.stdout


def make_authority(folder: Path, *, intermediate: bool = False) -> None:
    """root.pem/root.key (a CA), tsa.pem/tsa.key (its time-stamping certificate), tsa.cnf.
    With `intermediate`, the root signs inter.pem, which signs the TSA's certificate, and the
    tokens carry both (as public authorities' do); else the tokens carry the TSA's only."""
    folder = folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes")
    ca = ("-addext", "basicConstraints=critical,CA:TRUE",
          "-addext", "keyUsage=critical,keyCertSign,cRLSign")  # fmt: skip
    openssl("req", "-x509", *ec, "-keyout", "root.key", "-out", "root.pem", "-days", "3650",
            "-subj", SUBJECT_ROOT, *ca, cwd=folder)  # fmt: skip
    issuer = "root"
    if intermediate:
        openssl("req", *ec, "-keyout", "inter.key", "-out", "inter.csr",
                "-subj", SUBJECT_INTERMEDIATE, cwd=folder)  # fmt: skip
        (folder / "inter.ext").write_text(
            "basicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\n"
        )
        _sign(folder, "inter", "root", "inter.ext")
        issuer = "inter"
    openssl("req", *ec, "-keyout", "tsa.key", "-out", "tsa.csr", "-subj", SUBJECT_TSA, cwd=folder)
    (folder / "tsa.ext").write_text(TSA_EXTENSIONS)
    _sign(folder, "tsa", issuer, "tsa.ext")
    if intermediate:
        (folder / "carried.pem").write_bytes(
            (folder / "tsa.pem").read_bytes() + (folder / "inter.pem").read_bytes()
        )
    else:
        (folder / "carried.pem").write_bytes((folder / "tsa.pem").read_bytes())
    (folder / "serial").write_text("01\n")
    (folder / "tsa.cnf").write_text(CONFIG.format(dir=folder, carried="carried.pem"))


def _sign(folder: Path, name: str, issuer: str, extensions: str) -> None:
    openssl(
        "x509", "-req", "-in", f"{name}.csr", "-CA", f"{issuer}.pem", "-CAkey", f"{issuer}.key",
        "-CAcreateserial", "-out", f"{name}.pem", "-days", "3650", "-extfile", extensions,
        cwd=folder,
    )  # fmt: skip


class LocalTSA:
    def __init__(self, folder: Path) -> None:
        self.folder = folder.resolve()
        self.answer = "granted"
        self.queries: list[tuple[str, dict[str, str]]] = []  # (content type, headers)
        self._lock = threading.Lock()  # one reply at a time: they share the serial file
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True

    @property
    def root(self) -> Path:
        return self.folder / "root.pem"

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/tsr"

    def reply(self, query: bytes) -> tuple[int, str, bytes]:
        """(status, content type, body) for one query, as `answer` says."""
        if self.answer == "error-500":
            return 500, "text/plain", b"internal error"
        with self._lock:
            work = self.folder / "work"
            work.mkdir(exist_ok=True)
            (work / "query.tsq").write_bytes(query)
            if self.answer == "other-imprint":
                (work / "other").write_bytes(b"another file\n")
                openssl("ts", "-query", "-data", "other", "-sha256", "-cert", "-out",
                        "query.tsq", cwd=work)  # fmt: skip
            section = "rejection" if self.answer == "rejection" else "granted"
            openssl(
                "ts", "-reply", "-config", self.folder / "tsa.cnf", "-section", section,
                "-queryfile", "query.tsq", "-out", "reply.tsr", cwd=work,
            )  # fmt: skip
            body = (work / "reply.tsr").read_bytes()
        kind = "text/plain" if self.answer == "wrong-type" else "application/timestamp-reply"
        return 200, kind, body

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        authority = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                query = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                authority.queries.append((self.headers.get("Content-Type", ""), dict(self.headers)))
                status, kind, body = authority.reply(query)
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    @contextmanager
    def serving(self) -> Iterator[LocalTSA]:
        thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()


@contextmanager
def local_tsa(folder: Path, *, intermediate: bool = False) -> Iterator[LocalTSA]:
    make_authority(folder, intermediate=intermediate)
    with LocalTSA(folder).serving() as authority:
        yield authority
