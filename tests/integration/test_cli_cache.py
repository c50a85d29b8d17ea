"""`hubfs cache stats|verify|gc|clear` against a real mount of the ONNX fixture: stats shows what
was read, verify finds a block damaged on disk and --fix removes its blob (a re-read downloads it
again), gc evicts the least recently used file but not a pinned one, clear refuses while the cache
is mounted and works after umount or with --force (reads still work then)."""

import json
import os
import time

import pytest

import hubfs_testlib as lib
from hubfs_testlib import BLOCK_SIZE, HUB

MIB = 1 << 20
SIZES = ["6M", "6M", "6M"]


@pytest.fixture(scope="module")
def fixture(tmp_path_factory):
    return lib.build_big_fixture(tmp_path_factory.mktemp("cli-cache-hub"), SIZES)


@pytest.fixture
def files(fixture):
    return dict(zip("ABC", lib.big_files(fixture)))


@pytest.fixture
def server(fixture, nginx_factory):
    return nginx_factory(fixture.root)


@pytest.fixture
def mount(mount_factory, fixture, server):
    m = mount_factory()
    lib.write_read_config(m, [lib.HubConfig.onnx(HUB, fixture, server.url)], top={"cache_size": "64M"})
    m.mount()
    return m


def cache_cmd(mount, *args):
    return lib.hubfs_command("cache", *args, "--config", mount.config, timeout=120)


def read(mount, fixture, big):
    expected = fixture.media_bytes(big["model_path"])
    data, err, _ = lib.read_errno_timeout(mount.path(lib.big_rel(fixture, big)), timeout=60)
    assert err is None, f"reading {big['model_path']}: {lib.errno_name(err)}\n{mount.log_tail(15)}"
    assert data == expected, f"reading {big['model_path']}: {len(data)} bytes that differ"


def drop_page_cache(mount, fixture, big):
    """Makes the kernel forget a file's cached pages, so the next read reaches hubfs."""
    fd = os.open(mount.path(lib.big_rel(fixture, big)), os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def settle():
    """The kernel's RELEASE of a file just read arrives asynchronously; until then its blob counts
    as open."""
    time.sleep(0.5)


def test_stats_shows_what_was_read(mount, fixture, files):
    read(mount, fixture, files["A"])
    read(mount, fixture, files["B"])
    text = cache_cmd(mount, "stats")
    assert text.returncode == 0, text.stderr
    print(text.stdout)
    assert f"cache       {mount.cache_dir}" in text.stdout
    assert "limit       64.0 MiB" in text.stdout
    assert "used        12.0 MiB" in text.stdout
    assert f"{HUB}: 12.0 MiB in 2 blobs" in text.stdout
    assert "hit rate    not recorded" in text.stdout
    for name in "AB":
        assert fixture.media_uri(files[name]["model_path"]) in text.stdout

    proc = cache_cmd(mount, "stats", "--json")
    assert proc.returncode == 0, proc.stderr
    stats = json.loads(proc.stdout)
    assert stats["used_bytes"] == 12 * MIB
    assert stats["limit_bytes"] == 64 * MIB
    assert stats["blobs"]["verified"] == 2
    assert {"hub": HUB, "bytes": 12 * MIB, "blobs": 2} in stats["hubs"]
    assert stats["hit_rate"] is None
    assert stats["documents"] >= 1  # the manifest
    assert {b["key"] for b in stats["biggest"]} == {f"sha256:{files[n]['sha256']}" for n in "AB"}


def test_verify_reports_damage_and_fix_removes_it(mount, fixture, files, server):
    a, b = files["A"], files["B"]
    read(mount, fixture, a)
    read(mount, fixture, b)
    settle()
    ok = cache_cmd(mount, "verify")  # while mounted: safe, and a healthy cache is fine
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "checked 2 blobs: 6 blocks (12.0 MiB) re-read, whole-file sha256 of 2 verified blobs" in ok.stdout

    mount.umount()
    blob = lib.blob_path(mount.cache_dir, a["sha256"])
    lib.flip_bytes(blob, BLOCK_SIZE + 100)
    found = cache_cmd(mount, "verify")
    print(found.stdout)
    assert found.returncode == 1, found.stdout + found.stderr
    assert fixture.media_uri(a["model_path"]) in found.stdout
    assert "damaged on disk: block 1 does not match" in found.stdout
    assert "run hubfs cache verify --fix" in found.stdout
    assert blob.exists(), "verify without --fix changed the cache"

    # Progress: a redrawn line on a terminal (under script), nothing on a pipe.
    assert "verifying:" not in found.stderr
    tty = lib.run(["script", "-qec", f"{lib.hubfs_bin()} cache verify --config {mount.config}",
                   "/dev/null"], timeout=120)
    # (text mode turns the '\r' into a newline)
    assert "verifying: 12.0 MiB of 12.0 MiB (100%)\x1b[K" in tty.stdout, repr(tty.stdout[-400:])

    fixed = cache_cmd(mount, "verify", "--fix")
    assert fixed.returncode == 1, fixed.stdout + fixed.stderr
    assert "removed: the next read downloads it again" in fixed.stdout
    assert not blob.exists()
    again = cache_cmd(mount, "verify")
    assert again.returncode == 0, again.stdout

    mount.mount()
    mark = server.mark()
    read(mount, fixture, a)
    assert server.requests(since=mark, uri=fixture.media_uri(a["model_path"])), \
        "the removed blob was not downloaded again"
    assert not server.requests(since=mark, uri=fixture.media_uri(b["model_path"]))


def test_gc_evicts_least_recently_used_not_pinned(mount, fixture, files):
    for name in "ABC":
        read(mount, fixture, files[name])
    pin = lib.hubfs_command("pin", mount.path(lib.big_rel(fixture, files["A"])))
    assert pin.returncode == 0, pin.stderr
    settle()
    proc = cache_cmd(mount, "gc", "--to", "12M")
    print(proc.stdout)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "freed 6.0 MiB (1 blob): 18.0 MiB -> 12.0 MiB, target 12.0 MiB" in proc.stdout
    assert f"evicted 6.0 MiB  " in proc.stdout
    assert fixture.media_uri(files["B"]["model_path"]) in proc.stdout
    assert lib.allocated_bytes(lib.blob_path(mount.cache_dir, files["B"]["sha256"])) == 0
    for name in "AC":
        assert lib.allocated_bytes(lib.blob_path(mount.cache_dir, files[name]["sha256"])) >= 6 * MIB

    # Below what the pin holds: C goes, A stays, and gc says the target was not reached.
    proc = cache_cmd(mount, "gc", "--to", "1M")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "the target was not reached" in proc.stdout
    assert lib.allocated_bytes(lib.blob_path(mount.cache_dir, files["A"]["sha256"])) >= 6 * MIB
    read(mount, fixture, files["B"])  # evicted files read again


def test_clear_refuses_while_mounted(mount, fixture, files):
    read(mount, fixture, files["A"])
    refused = cache_cmd(mount, "clear")
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "is in use by another hubfs process" in refused.stderr
    assert str(mount.mountpoint) in refused.stderr
    assert lib.blob_path(mount.cache_dir, files["A"]["sha256"]).exists()

    mount.umount()
    done = cache_cmd(mount, "clear")
    print(done.stdout)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "cleared" in done.stdout and "1 blob (6.0 MiB)" in done.stdout
    assert "trusted anew" in done.stdout
    stats = json.loads(cache_cmd(mount, "stats", "--json").stdout)
    assert stats["used_bytes"] == 0 and stats["blobs"]["total"] == 0 and stats["documents"] == 0
    assert not any((mount.cache_dir / "blobs").iterdir())

    mount.mount()
    read(mount, fixture, files["A"])


def test_clear_force_while_mounted_then_reads_still_work(mount, fixture, files):
    read(mount, fixture, files["A"])
    read(mount, fixture, files["B"])
    settle()
    proc = cache_cmd(mount, "clear", "--force")
    print(proc.stdout)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 blobs (12.0 MiB)" in proc.stdout
    stats = json.loads(cache_cmd(mount, "stats", "--json").stdout)
    assert stats["used_bytes"] == 0, stats
    for name in "ABC":
        drop_page_cache(mount, fixture, files[name])
        read(mount, fixture, files[name])
    settle()
    stats = json.loads(cache_cmd(mount, "stats", "--json").stdout)
    assert stats["used_bytes"] == 18 * MIB, stats


def test_missing_cache_and_bad_size(mount_factory, fixture, server, tmp_path):
    m = mount_factory()
    lib.write_read_config(m, [lib.HubConfig.onnx(HUB, fixture, server.url)])
    proc = lib.hubfs_command("cache", "stats", "--config", m.config, "--cache-dir", tmp_path / "none")
    assert proc.returncode == 0 and "no cache at" in proc.stdout, proc.stdout + proc.stderr
    assert not (tmp_path / "none").exists(), "stats created a cache"
    m.mount()
    proc = cache_cmd(m, "gc", "--to", "huge")
    assert proc.returncode == 2 and "--to huge: use e.g." in proc.stderr, proc.stderr
