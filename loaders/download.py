"""Download, verify and unpack the public MovieLens archives.

The archive is streamed to a temporary file next to the cache, hashed while it
arrives, and only unpacked when its SHA-256 matches. Unpacking refuses any
member that would land outside the target folder (absolute paths, ``..``,
links). The unpacked folder gets a marker holding the archive's hash; a later
call with the same hash returns the cached folder without touching the
network. A failure at any step leaves no partial files behind.

Checksums: the SHA-256 values are those recorded for the GroupLens URLs in
TensorFlow Datasets (``tensorflow_datasets/url_checksums/movielens.txt``),
together with the archive sizes, and match other projects that pin them.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import httpx
from tqdm.auto import tqdm

from .errors import DownloadError

__all__ = ["DATASETS", "Dataset", "download_dataset"]

MARKER = ".graphrec-sha256"
_CHUNK = 1 << 16


@dataclass(frozen=True, slots=True)
class Dataset:
    url: str
    sha256: str
    size: int  # bytes of the archive, for the progress bar


_GROUPLENS = "https://files.grouplens.org/datasets/movielens"

#: Known datasets: name -> publisher URL, archive SHA-256 and size.
DATASETS: dict[str, Dataset] = {
    "movielens-latest-small": Dataset(
        f"{_GROUPLENS}/ml-latest-small.zip",
        "696d65a3dfceac7c45750ad32df2c259311949efec81f0f144fdfb91ebc9e436",
        978_202,
    ),
    "movielens-100k": Dataset(
        f"{_GROUPLENS}/ml-100k.zip",
        "50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229",
        4_924_029,
    ),
    "movielens-1m": Dataset(
        f"{_GROUPLENS}/ml-1m.zip",
        "a6898adb50b9ca05aa231689da44c217cb524e7ebd39d264c56e2832f2c54e20",
        5_917_549,
    ),
}


def download_dataset(
    name: str,
    cache_dir: Path,
    *,
    url: str | None = None,
    sha256: str | None = None,
    progress: bool = True,
    timeout: float = 60.0,
) -> Path:
    """Fetch a dataset archive, verify it and return the unpacked folder.

    Args:
        name: A key of :data:`DATASETS`, or any folder name when both ``url``
            and ``sha256`` are given.
        cache_dir: Where unpacked datasets live; created if missing.
        url: Download from here instead of the publisher (a mirror, or a
            local server in tests) (default: the publisher's URL).
        sha256: Expected archive hash (default: the known hash of ``name``).
        progress: Show a tqdm progress bar (default: ``True``).
        timeout: Network timeout in seconds (default: 60).

    Returns:
        The unpacked dataset folder, ``cache_dir/<name>``.

    Raises:
        DownloadError: unknown name, network or HTTP error, hash mismatch, or
            an unsafe or broken archive. Nothing partial is left in ``cache_dir``.
    """
    known = DATASETS.get(name)
    if known is None and (url is None or sha256 is None):
        raise DownloadError(
            f"unknown dataset {name!r} (known: {', '.join(DATASETS)}; "
            "or pass both url= and sha256=)"
        )
    if "/" in name or "\\" in name or name in ("", ".", ".."):
        raise DownloadError(f"invalid dataset name {name!r}")
    url = url or known.url  # type: ignore[union-attr]
    expected = (sha256 or known.sha256).lower()  # type: ignore[union-attr]
    cache_dir = Path(cache_dir)
    target = cache_dir / name
    if _verified(target, expected):
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory(prefix=f".{name}-", dir=cache_dir) as scratch:
        archive = Path(scratch) / "archive.zip"
        actual = _fetch(url, archive, progress=progress, timeout=timeout, size_hint=known)
        if actual != expected:
            raise DownloadError(f"sha256 mismatch for {url}: expected {expected}, got {actual}")
        unpacked = Path(scratch) / "unpacked"
        _safe_extract(archive, unpacked, url)
        root = _single_root(unpacked)
        (root / MARKER).write_text(expected + "\n", encoding="ascii")
        if target.exists():  # stale or unverified copy
            shutil.rmtree(target)
        try:
            os.replace(root, target)
        except OSError:
            if not _verified(target, expected):  # not a concurrent download that won
                raise
    return target


def _verified(folder: Path, expected: str) -> bool:
    marker = folder / MARKER
    try:
        return marker.read_text(encoding="ascii").strip() == expected
    except OSError:
        return False


def _fetch(
    url: str, dest: Path, *, progress: bool, timeout: float, size_hint: Dataset | None
) -> str:
    """Stream ``url`` into ``dest``; return the hex SHA-256 of the bytes."""
    digest = hashlib.sha256()
    try:
        with httpx.stream("GET", url, follow_redirects=True, timeout=timeout) as response:
            if response.status_code != 200:
                raise DownloadError(f"{url}: HTTP {response.status_code}")
            length = response.headers.get("content-length")
            total = int(length) if length and length.isascii() and length.isdigit() else None
            if total is None and size_hint is not None:
                total = size_hint.size
            with (
                open(dest, "wb") as out,
                tqdm(
                    total=total,
                    unit="B",
                    unit_scale=True,
                    desc=PurePosixPath(url).name,
                    disable=not progress,
                ) as bar,
            ):
                for chunk in response.iter_bytes(_CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    bar.update(len(chunk))
    except httpx.HTTPError as exc:
        raise DownloadError(f"{url}: download failed: {exc}") from None
    return digest.hexdigest()


def _safe_extract(archive: Path, dest: Path, url: str) -> None:
    """Unpack ``archive`` into ``dest``, refusing members that escape it or are links."""
    try:
        with zipfile.ZipFile(archive) as bundle:
            members = bundle.infolist()
            for member in members:
                _check_member(member, url)
            dest.mkdir()
            root = dest.resolve()
            for member in members:
                out = (dest / member.filename).resolve()
                if not out.is_relative_to(root):
                    raise DownloadError(f"{url}: unsafe path in archive: {member.filename!r}")
                try:
                    _unpack(bundle, member, out)
                except OSError as exc:  # "a" and "a/b" both in the archive, a full disk ...
                    raise DownloadError(
                        f"{url}: cannot unpack {member.filename!r}: {exc.strerror or exc}"
                    ) from None
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
        # RuntimeError: an encrypted member; NotImplementedError: an unknown compression.
        raise DownloadError(f"{url}: not a valid zip archive: {exc}") from None


def _unpack(bundle: zipfile.ZipFile, member: zipfile.ZipInfo, out: Path) -> None:
    if member.is_dir():
        out.mkdir(parents=True, exist_ok=True)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    with bundle.open(member) as src, open(out, "wb") as dst:
        shutil.copyfileobj(src, dst, _CHUNK)


def _check_member(member: zipfile.ZipInfo, url: str) -> None:
    name = member.filename
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if name.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
        raise DownloadError(f"{url}: unsafe path in archive: {name!r}")
    mode = member.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise DownloadError(f"{url}: archive holds a symbolic link: {name!r}")


def _single_root(folder: Path) -> Path:
    """The archive's only top-level folder (``ml-100k/``), else the folder itself."""
    entries = [p for p in folder.iterdir() if p.name != "__MACOSX"]
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return folder
