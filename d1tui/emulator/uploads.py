"""Presigned-style upload URLs and the objects they store (streamed to disk, md5 on the way)."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import math
import os
import re
import secrets
import sys
import time
from pathlib import Path
from typing import Protocol
from urllib.parse import urlencode

MAX_OBJECT = 5 * 1024**3 - 5 * 1024**2
"""R2's largest single PUT: 5 GiB minus 5 MiB."""

_FILENAME = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.[0-9a-f]{16}\.sql"
)
_EXPORT_NAME = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-[0-9a-f]{8}\.sql"
)
_ROUTES = {"PUT": ("/upload/", _FILENAME), "GET": ("/download/", _EXPORT_NAME)}
_CHUNK = 1 << 20
RETRY_RETENTION = 900.0
"""Seconds an upload is kept after a failed or rolled-back import (for a rerun to re-attach)."""
_AMZ_DATE = "%Y%m%dT%H%M%SZ"


class Readable(Protocol):
    """Anything with read(n) -> bytes (a socket file, an open file)."""

    def read(self, size: int, /) -> bytes:
        """Read up to size bytes."""
        ...


class S3Error(Exception):
    """An S3-style refusal: HTTP status, error code and message for the XML body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def xml(self) -> bytes:
        """The S3 error document."""
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{self.code}</Code><Message>{self.message}</Message></Error>"
        ).encode()


class UploadDroppedError(Exception):
    """The connection is to be closed without an answer (fault injection)."""


def object_name(db_uuid: str, etag: str) -> str:
    """The filename init hands out for a database and an md5."""
    return f"{db_uuid}.{etag[:16]}.sql"


class Uploads:
    """Signed URLs; uploaded objects in `<data_dir>/uploads`, dumps in `<data_dir>/exports`."""

    def __init__(self, data_dir: Path, ttl: float, retention: float = 0.0) -> None:
        self.dir = data_dir / "uploads"
        self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        with contextlib.suppress(OSError):
            self.dir.chmod(0o700)  # a folder made by an older version may be world-readable
        self.exports_dir = data_dir / "exports"
        self.exports_dir.mkdir(parents=True, exist_ok=True)
        self.ttl = ttl
        self.retention = retention
        self.origin = ""  # "http://host:port", set once the server is listening
        self._secret = secrets.token_bytes(32)
        self.in_use: set[str] = set()  # objects an import of this process is reading
        self.sweep()

    def _signature(self, method: str, filename: str, amz_date: str, expires: str) -> str:
        msg = f"{method}\n{filename}\n{amz_date}\n{expires}".encode()
        return hmac.new(self._secret, msg, hashlib.sha256).hexdigest()

    def signed_url(self, filename: str, *, method: str = "PUT", ttl: float | None = None) -> str:
        """A URL accepting `method` (PUT an upload, GET a dump) on `filename` until it expires."""
        amz_date = dt.datetime.now(dt.UTC).strftime(_AMZ_DATE)
        expires = str(max(0, math.ceil(self.ttl if ttl is None else ttl)))
        query = urlencode(
            {
                "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
                "X-Amz-Date": amz_date,
                "X-Amz-Expires": expires,
                "X-Amz-SignedHeaders": "host",
                "X-Amz-Signature": self._signature(method, filename, amz_date, expires),
            }
        )
        return f"{self.origin}{_ROUTES[method][0]}{filename}?{query}"

    def check(self, filename: str, query: dict[str, list[str]], *, method: str = "PUT") -> None:
        """Validate the object name and the URL's signature and expiry (S3Error if not)."""
        if not _ROUTES[method][1].fullmatch(filename):
            raise S3Error(400, "InvalidArgument", "Invalid object name.")
        amz_date = _one(query, "X-Amz-Date")
        expires = _one(query, "X-Amz-Expires")
        signature = _one(query, "X-Amz-Signature")
        if not (amz_date and expires and signature):
            raise S3Error(403, "AccessDenied", "Query-string authentication is required.")
        expected = self._signature(method, filename, amz_date, expires)
        if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
            raise S3Error(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.",
            )
        try:
            issued = dt.datetime.strptime(amz_date, _AMZ_DATE).replace(tzinfo=dt.UTC).timestamp()
            lifetime = int(expires)
        except ValueError:
            raise S3Error(403, "AccessDenied", "Invalid X-Amz-Date or X-Amz-Expires.") from None
        if time.time() > issued + lifetime:
            raise S3Error(403, "AccessDenied", "Request has expired")

    def path_of(self, filename: str) -> Path:
        """Where an object lives (the name is validated first)."""
        if not _FILENAME.fullmatch(filename):
            raise ValueError(f"invalid object name {filename!r}")
        return self.dir / filename

    def export_path(self, filename: str) -> Path:
        """Where a dump lives (the name is validated first)."""
        if not _EXPORT_NAME.fullmatch(filename):
            raise ValueError(f"invalid export name {filename!r}")
        return self.exports_dir / filename

    def stored_md5(self, filename: str) -> str | None:
        """The md5 of a fully uploaded object, or None if there is none."""
        try:
            target = self.path_of(filename)
            sidecar = target.with_suffix(".md5")
            if not (target.exists() and sidecar.exists()):
                return None
            return sidecar.read_text("ascii").strip()
        except (ValueError, OSError):
            return None

    def started(self, filename: str) -> None:
        """An import began on this object: it is in use until `finished`."""
        self.in_use.add(filename)
        with contextlib.suppress(OSError, ValueError):
            target = self.path_of(filename)
            target.with_suffix(".done").unlink(missing_ok=True)
            os.utime(target)  # a sweep elsewhere counts its age from now

    def finished(self, filename: str, *, ok: bool) -> None:
        """The import of this object ended: remove it, or keep it a while for a rerun.

        After a success it goes at once (or after `retention` seconds, if set). After a
        failure or rollback it stays at least RETRY_RETENTION seconds, so that running the
        same file again finds it "already uploaded" as on D1. Expired objects are swept here.
        """
        self.in_use.discard(filename)
        keep = self.retention if ok else max(self.retention, RETRY_RETENTION)
        try:
            target = self.path_of(filename)
            if keep > 0:
                done = target.with_suffix(".done")
                done.touch(mode=0o600)
                expires = time.time() + keep
                os.utime(done, (expires, expires))  # its mtime says when it may go
            else:
                _remove_object(target)
        except (OSError, ValueError):
            pass
        self.sweep()

    def sweep(self) -> None:
        """Remove what no import needs any more: `.part` files of killed uploads, objects kept
        after their import past their time, and objects never ingested once their URL expired.
        """
        now = time.time()
        for path in list(self.dir.iterdir()):
            with contextlib.suppress(OSError):
                if path.name.endswith(".part"):
                    if _abandoned(path):
                        path.unlink()
                elif path.name.endswith(".tmp"):
                    if now - path.stat().st_mtime > 60:
                        path.unlink()
                elif _FILENAME.fullmatch(path.name) and path.name not in self.in_use:
                    done = path.with_suffix(".done")
                    if done.exists():
                        expired = done.stat().st_mtime <= now
                    else:
                        expired = now - path.stat().st_mtime > max(self.ttl, self.retention)
                    if expired:
                        _remove_object(path)
                elif path.suffix in (".md5", ".done") and not path.with_suffix(".sql").exists():
                    path.unlink()

    def remove_for(self, db_uuid: str) -> None:
        """Forget every object uploaded for a database (it was deleted)."""
        for path in self.dir.glob(f"{db_uuid}.*"):
            with contextlib.suppress(OSError):
                path.unlink()

    def receive(
        self, stream: Readable, length: int, filename: str, *, drop_after: int | None = None
    ) -> str:
        """Stream `length` bytes of body to the object file; return their md5 hex."""
        target = self.path_of(filename)
        part = target.with_name(f"{filename}.{secrets.token_hex(4)}.part")
        digest = hashlib.md5()
        received = 0
        try:
            with open(os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
                _hold(out.fileno())  # tells a sweep in another process this part is alive
                while received < length:
                    want = min(_CHUNK, length - received)
                    if drop_after is not None:
                        want = min(want, max(drop_after - received, 0))
                        if want == 0:
                            raise UploadDroppedError
                    chunk = stream.read(want)
                    if not chunk:
                        raise S3Error(
                            400,
                            "IncompleteBody",
                            "You did not provide the number of bytes specified by the"
                            " Content-Length HTTP header.",
                        )
                    digest.update(chunk)
                    out.write(chunk)
                    received += len(chunk)
            md5 = digest.hexdigest()
            sidecar = target.with_suffix(".md5")
            with contextlib.suppress(FileNotFoundError):
                sidecar.unlink()
            os.replace(part, target)
            tmp = sidecar.with_name(sidecar.name + ".tmp")
            with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as fh:
                fh.write(md5)
            os.replace(tmp, sidecar)
            return md5
        finally:
            with contextlib.suppress(FileNotFoundError):
                part.unlink()


def _remove_object(target: Path) -> None:
    for path in (target.with_suffix(".md5"), target.with_suffix(".done"), target):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _hold(fd: int) -> None:
    """Lock an open `.part` file for as long as it is open (POSIX; a no-op elsewhere)."""
    if sys.platform != "win32":
        import fcntl  # noqa: PLC0415 - POSIX only

        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def _abandoned(part: Path) -> bool:
    """No live upload writes this `.part` file (its writer's lock is gone, or it is old)."""
    if sys.platform == "win32":
        return time.time() - part.stat().st_mtime > 3600
    import fcntl  # noqa: PLC0415 - POSIX only

    with open(part, "rb") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True


def _one(query: dict[str, list[str]], key: str) -> str:
    values = query.get(key)
    return values[0] if values else ""
