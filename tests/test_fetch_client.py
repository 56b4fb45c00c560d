"""The shared download client (gangmap.fetch.client) against a local replay server; never the network."""

from __future__ import annotations

import hashlib
import json
import os
import socket

import pytest
from replay_server import ReplayServer, block_network

from gangmap.errors import ConfigError, DownloadError
from gangmap.fetch import client as fc

BODY = bytes(range(256)) * 4096  # 1 MiB
FAST = dict(retries=2, backoff=0.5, timeout=5, manual="download it from https://example.org/by-hand")


class FileServer(ReplayServer):
    """Serves BODY at /file.bin, JSON at /data.json and an HTML login page at /login."""

    def answer(self, path, params):
        if path == "/file.bin":
            return 200, {"Content-Type": "application/octet-stream"}, BODY
        if path == "/data.json":
            return 200, {"Content-Type": "application/json"}, b'{"ok": true}'
        if path == "/login":
            return 200, {"Content-Type": "text/html"}, b"<html>Please sign in</html>"
        return 404, {}, b"not here"


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    block_network(monkeypatch)


@pytest.fixture
def srv():
    s = FileServer().start()
    yield s
    s.stop()


@pytest.fixture
def sleeps(monkeypatch):
    out = []
    monkeypatch.setattr(fc.time, "sleep", out.append)
    return out


def test_download_streams_hashes_and_replaces_atomically(srv, tmp_path, sleeps):
    dest = tmp_path / "sub" / "file.bin"
    with fc.DownloadClient(**FAST) as c:
        meta = c.download(srv.root + "/file.bin", dest, what="test file")
    assert dest.read_bytes() == BODY and meta["bytes"] == len(BODY)
    assert meta["sha256"] == hashlib.sha256(BODY).hexdigest() == fc.sha256_file(dest)
    assert not list(tmp_path.rglob(".*part*")) and sleeps == []


def test_errors_are_retried_with_backoff_and_retry_after(srv, tmp_path, sleeps):
    srv.fail_statuses = [500, 503]
    with fc.DownloadClient(**FAST) as c:
        c.download(srv.root + "/file.bin", tmp_path / "f", what="f")
        assert c.requests == 3
    assert sleeps == [0.5, 1.0]
    sleeps.clear()
    srv.fail_statuses, srv.retry_after = [429], "7"
    with fc.DownloadClient(**FAST) as c:
        c.get_json(srv.root + "/data.json", what="j")
    assert sleeps == [7.0]  # the server's Retry-After wins when longer
    sleeps.clear()
    srv.fail_statuses, srv.retry_after = [429], "86400"
    with fc.DownloadClient(**FAST) as c:
        c.get_json(srv.root + "/data.json", what="j")
    assert sleeps == [fc.MAX_DELAY]


def test_broken_transfer_is_retried_and_never_leaves_half_a_file(srv, tmp_path, sleeps):
    dest = tmp_path / "file.bin"
    dest.write_bytes(b"previous version")
    srv.truncate = 1000
    with fc.DownloadClient(**dict(FAST, retries=0)) as c:
        broke = r"kept failing \((short body: 1000 of 1048576 bytes|the download broke off), 1 attempt\)"
        with pytest.raises(DownloadError, match=broke):
            c.download(srv.root + "/file.bin", dest, what="f")
    assert dest.read_bytes() == b"previous version" and not list(tmp_path.glob(".*part*"))
    srv.truncate = 1000
    with fc.DownloadClient(**FAST) as c:
        c.download(srv.root + "/file.bin", dest, what="f")
    assert dest.read_bytes() == BODY


def test_client_errors_are_not_retried_and_name_the_fix(srv, tmp_path, sleeps):
    with fc.DownloadClient(**FAST) as c:
        with pytest.raises(DownloadError) as exc:
            c.download(srv.root + "/missing.bin", tmp_path / "m", what="thing", hint404="no such thing: try X")
        assert c.requests == 1
    msg = str(exc.value)
    assert msg == (f"HTTP 404 from {srv.root}/missing.bin (thing): no such thing: try X; "
                   "download it from https://example.org/by-hand.")
    with fc.DownloadClient(**FAST) as c:
        res = c.download(srv.root + "/missing.bin", tmp_path / "m", what="thing", allow=(404,))
    assert res["status"] == 404 and not (tmp_path / "m").exists()
    with fc.DownloadClient(**FAST) as c, pytest.raises(DownloadError, match="did not answer with JSON.*sign in"):
        c.get_json(srv.root + "/login", what="data")


def test_timeouts_and_offline_are_one_line_naming_the_manual_page(srv, tmp_path):
    srv.slow = 1.0  # (no patched time.sleep here: the server's wait must really happen)
    with fc.DownloadClient(**dict(FAST, timeout=0.2, retries=1, backoff=0.01)) as c:
        with pytest.raises(DownloadError) as exc:
            c.get_json(srv.root + "/data.json", what="data")
    msg = str(exc.value)
    assert "\n" not in msg and "did not answer within 0.2 s (2 attempts)" in msg
    assert msg.endswith("download it from https://example.org/by-hand.")
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with fc.DownloadClient(**dict(FAST, retries=0)) as c:
        offline = (rf"^cannot reach 127.0.0.1:{port} \(http://127.0.0.1:{port}/x\): .*offline \(1 attempt\); "
                   "download it from https://example.org/by-hand.$")
        with pytest.raises(DownloadError, match=offline):
            c.download(f"http://127.0.0.1:{port}/x", tmp_path / "x", what="x")


def test_cache_entries_are_verified_by_checksum(tmp_path):
    f = tmp_path / "data.csv"
    f.write_bytes(b"a,b\n1,2\n")
    fc.write_sidecar(f, {"source_url": "http://x/data.csv"})
    side = json.loads(fc.sidecar_path(f).read_text())
    assert side["sha256"] == hashlib.sha256(b"a,b\n1,2\n").hexdigest() and side["file"] == "data.csv"
    assert fc.cached(f, {"source_url": "http://x/data.csv"})["sha256"] == side["sha256"]
    assert fc.cached(f, {"source_url": "http://y/data.csv"}) is None  # another query
    f.write_bytes(b"a,b\n1,3\n")  # same size, different bytes
    assert fc.cached(f) is None
    fc.sidecar_path(f).write_text("{not json")
    assert fc.cached(f) is None
    with pytest.raises(DownloadError, match="cannot read the provenance file.*fetch again"):
        fc.read_sidecar(f, fix="fetch again")


def test_atomic_path_keeps_the_old_file_on_failure(tmp_path):
    f = tmp_path / "out.csv"
    f.write_text("old")
    with pytest.raises(RuntimeError):
        with fc.atomic_path(f) as part:
            part.write_text("half")
            raise RuntimeError("killed")
    assert f.read_text() == "old" and os.listdir(tmp_path) == ["out.csv"]


def test_refuse_input(tmp_path, monkeypatch):
    f = tmp_path / "in.csv"
    f.write_text("x")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="one of the inputs"):
        fc.refuse_input("in.csv", [f])
    os.symlink(f, tmp_path / "link.csv")
    with pytest.raises(ConfigError, match="one of the inputs"):
        fc.refuse_input(tmp_path / "link.csv", [f, None])
    fc.refuse_input(tmp_path / "other.csv", [f])


def test_default_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("GANGMAP_CACHE", str(tmp_path / "g"))
    assert fc.default_cache_dir() == tmp_path / "g"
    monkeypatch.delenv("GANGMAP_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert fc.default_cache_dir() == tmp_path / "x" / "gangmap"
