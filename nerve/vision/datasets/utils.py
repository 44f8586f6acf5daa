"""Download and integrity helpers for the vision datasets (``torchvision.datasets.utils``).

Downloads stream into a temporary file beside the destination, are checked against an MD5 (and
optionally a SHA-256) checksum, flushed to disk and only then renamed into place, so an
interrupted or corrupted download never leaves a file that looks complete.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request

__all__ = ["calculate_md5", "check_md5", "check_integrity", "download_url", "ChecksumError"]

USER_AGENT = "nerve-vision"


class ChecksumError(RuntimeError):
    """A downloaded or cached file does not match its expected checksum."""


def _hash_file(fpath, algo: str, chunk_size: int = 1024 * 1024) -> str:
    h = hashlib.new(algo)
    with open(fpath, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            h.update(chunk)
    return h.hexdigest()


def calculate_md5(fpath, chunk_size: int = 1024 * 1024) -> str:
    return _hash_file(fpath, "md5", chunk_size)


def check_md5(fpath, md5: str, **kwargs) -> bool:
    return md5 == calculate_md5(fpath, **kwargs)


def check_integrity(fpath, md5: str | None = None) -> bool:
    """Whether ``fpath`` exists and (when ``md5`` is given) matches it."""
    if not os.path.isfile(fpath):
        return False
    if md5 is None:
        return True
    return check_md5(fpath, md5)


def download_url(url: str, root, filename: str | None = None, md5: str | None = None, sha256: str | None = None,
                 timeout: float = 60.0) -> str:
    """Download ``url`` to ``root/filename`` atomically, verifying ``md5`` / ``sha256`` when given.

    An existing file that passes the checks is kept. Returns the file's path.

    Raises:
        ChecksumError: the downloaded data does not match the checksum (nothing is written).
        urllib.error.URLError / OSError: the download itself failed (no network, HTTP error).
    """
    root = os.path.expanduser(os.fspath(root))
    filename = filename or os.path.basename(url)
    fpath = os.path.join(root, filename)
    if check_integrity(fpath, md5) and (sha256 is None or _hash_file(fpath, "sha256") == sha256):
        return fpath
    os.makedirs(root, exist_ok=True)
    md5_h, sha_h = hashlib.md5(), hashlib.sha256()
    fd, tmp = tempfile.mkstemp(prefix=f".{filename}.", suffix=".part", dir=root)
    try:
        req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(req, timeout=timeout) as resp:
            while True:
                chunk = resp.read(1024 * 1024)
                if not chunk:
                    break
                md5_h.update(chunk)
                sha_h.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if md5 is not None and md5_h.hexdigest() != md5:
            raise ChecksumError(f"{url}: MD5 checksum mismatch (expected {md5}, got {md5_h.hexdigest()}); the "
                                "download is corrupt or the mirror serves a different file")
        if sha256 is not None and sha_h.hexdigest() != sha256:
            raise ChecksumError(f"{url}: SHA-256 checksum mismatch (expected {sha256}, got {sha_h.hexdigest()})")
        os.replace(tmp, fpath)
        tmp = None
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
    return fpath
