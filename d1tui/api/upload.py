"""PUT a file to D1's signed upload URL: streamed from disk, no API credentials, ETag checked."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import h11

from d1tui.api.envelope import network_error
from d1tui.api.httpclient import httpx
from d1tui.errors import ImportCancelledError, UploadError

CHUNK = 256 * 1024
UPLOAD_TIMEOUT = httpx.Timeout(60.0, write=300.0)
# The three failures wrangler distinguishes, in its words.
NOT_UPLOADED = "File could not be uploaded. Please retry."
NO_ETAG = "File did not upload successfully. Please retry."
WRONG_CONTENTS = "File contents did not upload successfully. Please retry."


def _body(
    path: Path,
    size: int,
    on_progress: Callable[[int, int], None] | None,
    should_cancel: Callable[[], bool] | None,
) -> Iterator[bytes]:
    """Exactly ``size`` bytes of the file in chunks; stops early when asked to (or on change)."""
    sent = 0
    with path.open("rb") as f:
        while sent < size:
            if should_cancel is not None and should_cancel():
                raise ImportCancelledError("the upload was cancelled; nothing was imported")
            chunk = f.read(min(CHUNK, size - sent))
            if not chunk:
                raise UploadError(
                    f"{path} became shorter while it was uploaded ({sent:,} of {size:,} bytes)",
                    hint="something changed the file; prepare it again and retry",
                )
            yield chunk
            sent += len(chunk)
            if on_progress is not None:
                on_progress(sent, size)


def put_file(
    http: httpx.Client,
    url: str,
    path: Path,
    md5: str,
    *,
    on_progress: Callable[[int, int], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> None:
    """Upload ``path`` to ``url``; require HTTP 200 and an ETag equal to ``md5``."""
    size = path.stat().st_size
    headers = {"Content-Length": str(size)}
    try:
        response = http.put(
            url, content=_body(path, size, on_progress, should_cancel), headers=headers
        )
    except (httpx.TransportError, h11.LocalProtocolError) as exc:
        error, _ = network_error(exc)
        raise error from None
    if response.status_code != 200:
        got = response.text[:500]
        raise UploadError(
            f"{NOT_UPLOADED}\nGot response: {got}",
            http_status=response.status_code,
            server_messages=(got,) if got else (),
        )
    etag = response.headers.get("ETag")
    if not etag:
        raise UploadError(NO_ETAG, http_status=200)
    if etag.strip().strip('"').lower() != md5.lower():
        raise UploadError(
            WRONG_CONTENTS,
            http_status=200,
            server_messages=(f"ETag {etag.strip()} ≠ md5 {md5}",),
        )
