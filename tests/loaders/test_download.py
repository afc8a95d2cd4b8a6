"""download_dataset against a local HTTP server on 127.0.0.1; no internet."""

from __future__ import annotations

import hashlib
import io
import threading
import zipfile
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from graphrec.loaders.download import DATASETS, MARKER, download_dataset
from graphrec.loaders.errors import DownloadError


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path):
    """Serve ``tmp_path / "www"`` on a free port; yields (folder, base URL)."""
    root = tmp_path / "www"
    root.mkdir()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def make_zip(path: Path, members: dict[str, str]) -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for name, text in members.items():
            bundle.writestr(name, text)
    path.write_bytes(buffer.getvalue())
    return hashlib.sha256(buffer.getvalue()).hexdigest()


TINY = {
    "ml-tiny/ratings.csv": "userId,movieId,rating,timestamp\n1,1,4.0,1\n",
    "ml-tiny/README": "x",
}


def test_good_hash_unpacks_and_is_reused(server, tmp_path):
    root, base = server
    digest = make_zip(root / "tiny.zip", TINY)
    cache = tmp_path / "cache"
    folder = download_dataset(
        "tiny", cache, url=f"{base}/tiny.zip", sha256=digest.upper(), progress=False
    )
    assert folder == cache / "tiny"
    assert (folder / "ratings.csv").read_text().startswith("userId")
    assert (folder / MARKER).read_text().strip() == digest
    assert sorted(p.name for p in cache.iterdir()) == ["tiny"]  # no archive or scratch left

    (root / "tiny.zip").unlink()  # a second call must not need the server
    again = download_dataset("tiny", cache, url=f"{base}/tiny.zip", sha256=digest, progress=False)
    assert again == folder


def test_bad_hash_is_an_error_and_leaves_nothing(server, tmp_path):
    root, base = server
    make_zip(root / "tiny.zip", TINY)
    cache = tmp_path / "cache"
    with pytest.raises(DownloadError, match="sha256 mismatch for .*tiny.zip: expected 00+, got"):
        download_dataset("tiny", cache, url=f"{base}/tiny.zip", sha256="0" * 64, progress=False)
    assert list(cache.iterdir()) == []


def test_known_name_checks_the_publisher_hash_even_from_a_mirror(server, tmp_path):
    root, base = server
    make_zip(root / "ml-100k.zip", TINY)
    expected = DATASETS["movielens-100k"].sha256
    with pytest.raises(DownloadError, match=f"expected {expected}"):
        download_dataset(
            "movielens-100k", tmp_path / "cache", url=f"{base}/ml-100k.zip", progress=False
        )


def test_a_stale_copy_is_replaced(server, tmp_path):
    root, base = server
    digest = make_zip(root / "tiny.zip", TINY)
    stale = tmp_path / "cache" / "tiny"
    stale.mkdir(parents=True)
    (stale / MARKER).write_text("f" * 64)
    (stale / "old.txt").write_text("old")
    folder = download_dataset(
        "tiny", tmp_path / "cache", url=f"{base}/tiny.zip", sha256=digest, progress=False
    )
    assert not (folder / "old.txt").exists() and (folder / "ratings.csv").exists()


@pytest.mark.parametrize("member", ["../evil.txt", "/abs/evil.txt", "ml/../../evil.txt"])
def test_path_traversal_is_refused(server, tmp_path, member):
    root, base = server
    digest = make_zip(root / "evil.zip", {"ml/ok.txt": "fine", member: "owned"})
    cache = tmp_path / "cache"
    with pytest.raises(DownloadError, match="unsafe path in archive"):
        download_dataset("evil", cache, url=f"{base}/evil.zip", sha256=digest, progress=False)
    assert list(cache.iterdir()) == []
    assert not list(tmp_path.rglob("evil.txt"))


@pytest.mark.parametrize("names", [["ml/x", "ml/x/y"], ["ml/x/y", "ml/x"], ["ml/", "ml"]])
def test_a_member_that_is_both_file_and_folder_is_a_download_error(server, tmp_path, names):
    root, base = server
    digest = make_zip(root / "both.zip", dict.fromkeys(names, "1"))
    cache = tmp_path / "cache"
    with pytest.raises(DownloadError, match=r"both.zip: cannot unpack 'ml"):
        download_dataset("both", cache, url=f"{base}/both.zip", sha256=digest, progress=False)
    assert list(cache.iterdir()) == []


def test_http_errors_and_unknown_names(server, tmp_path):
    _, base = server
    with pytest.raises(DownloadError, match="HTTP 404"):
        download_dataset(
            "x", tmp_path / "c", url=f"{base}/missing.zip", sha256="0" * 64, progress=False
        )
    with pytest.raises(DownloadError, match="unknown dataset 'ml-25m'.*movielens-latest-small"):
        download_dataset("ml-25m", tmp_path / "c")
    with pytest.raises(DownloadError, match="invalid dataset name"):
        download_dataset("../up", tmp_path / "c", url=f"{base}/x.zip", sha256="0" * 64)


def test_registry_holds_the_grouplens_urls():
    assert set(DATASETS) == {"movielens-latest-small", "movielens-100k", "movielens-1m"}
    for dataset in DATASETS.values():
        assert dataset.url.startswith("https://files.grouplens.org/datasets/movielens/ml-")
        assert len(dataset.sha256) == 64 and int(dataset.sha256, 16) >= 0
