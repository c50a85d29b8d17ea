"""Robustness of the block cache: SIGKILL at any moment during downloads, two daemons sharing one
cache folder (one download between them), and an origin that is down or does not answer (EIO
within read_timeout, no hang, recovery when it is back)."""

import errno
import random
import socket
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import hubfs_testlib as lib
from hubfs_testlib import BLOCK_SIZE, HUB

# Big 1: 12 blocks; Big 2: 5 blocks; Big 3: 3 blocks and a partial one.
SIZES = ["24M", "10M", str(3 * BLOCK_SIZE + 777)]
POLICIES = ["strict", "lazy"]
READ_TIMEOUT = 3      # seconds, read_timeout of the offline tests
OFFLINE_SLACK = 5     # seconds on top of read_timeout before a failing read counts as a hang
ROUNDS = 8            # SIGKILL rounds


@pytest.fixture(scope="module")
def fixture(tmp_path_factory):
    return lib.build_big_fixture(tmp_path_factory.mktemp("big-hub"), SIZES)


@pytest.fixture
def bigs(fixture):
    return lib.big_files(fixture)


@pytest.fixture
def slow_origin(fixture):
    """An origin that sends the big files at 8 MB/s per response (a 2 MiB block takes 0.26 s),
    so that downloads are in flight when the test acts, whatever hubfs' parallelism. (nginx's
    limit_rate sends the first second's worth at once: useless for 2 MiB block requests.)"""
    server = lib.GatedOrigin(fixture.root)
    server.throttle(r"/big_[0-9]+/", 8_000_000)
    yield server
    server.stop()


def new_mount(mount_factory, fixture, url, cache_dir, **top):
    mount = mount_factory()
    lib.write_read_config(mount, [lib.HubConfig.onnx(HUB, fixture, url)], top=top or None,
                          cache_dir=cache_dir)
    mount.mount()
    return mount


def read_big(mount, fixture, big, view=0):
    data, err, seconds = lib.read_errno_timeout(mount.path(lib.big_rel(fixture, big, view=view)),
                                                timeout=60)
    return data, err, seconds


def assert_reads_correct(mount, fixture, bigs, what):
    problems = []
    for big in bigs:
        for view in (0, 1):
            data, err, _ = read_big(mount, fixture, big, view)
            if err is not None:
                problems.append(f"{big['model']} (view {view}): {lib.errno_name(err)}")
            elif data != fixture.media_bytes(big["model_path"]):
                problems.append(f"{big['model']} (view {view}): {len(data)} bytes differ")
    assert not problems, f"{what}:\n" + "\n".join(problems) + "\n" + mount.log_tail(20)


def wrong_pages_in_cache(cache_dir, fixture, bigs):
    """Pages (4 KiB) of the blob files that hold data but neither zeros nor the right bytes.

    Holes, and allocated-but-unwritten ranges (zeros), are missing blocks; anything else must be
    the blob's bytes at that offset, whatever the index says."""
    problems = []
    for big in bigs:
        blob = lib.blob_path(cache_dir, big["sha256"])
        if not blob.exists():
            continue
        expected = fixture.media_bytes(big["model_path"])
        data = blob.read_bytes()
        if len(data) > len(expected):
            problems.append(f"{blob.name}: {len(data)} bytes, the blob has {len(expected)}")
        zero = bytes(4096)
        for offset in range(0, min(len(data), len(expected)), 4096):
            page = data[offset:offset + 4096]
            if page != expected[offset:offset + len(page)] and page != zero[:len(page)]:
                problems.append(f"{big['model']}: wrong bytes at offset {offset} of {blob}")
                break
    return problems


# ------------------------------------------------------------------------------ SIGKILL

def start_readers(mount, fixture, bigs, rng):
    """Readers in child processes (a killed daemon turns their reads into errors, never a hang of
    pytest): a full sequential read of each big file and one from a random block on."""
    procs = []
    for big in bigs:
        path = mount.path(lib.big_rel(fixture, big))
        procs.append(subprocess.Popen(["cat", str(path)], stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL))
        skip = rng.randrange(max(1, big["size"] // BLOCK_SIZE))
        procs.append(subprocess.Popen(["dd", f"if={path}", "of=/dev/null", f"bs={BLOCK_SIZE}",
                                       f"skip={skip}", "status=none"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    return procs


def stop_readers(procs):
    for proc in procs:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def test_sigkill_during_downloads_leaves_a_correct_cache(mount_factory, fixture, bigs,
                                                         slow_origin, tmp_path):
    server = slow_origin
    cache_dir = tmp_path / "shared-cache"
    rng = random.Random(20240607)
    interrupted = []  # per round: transfers of big files cut off by the kill
    for round_ in range(ROUNDS):
        verification = POLICIES[round_ % 2]
        # Every fourth round squeezes the cache below what earlier rounds left: kills then also
        # land in evictions, and the evicted blocks give later rounds something to download.
        cache_size = "8M" if round_ % 4 == 3 else None
        mount = new_mount(mount_factory, fixture, server.url, cache_dir,
                          verification=verification, cache_size=cache_size)
        mark = server.mark()
        readers = start_readers(mount, fixture, bigs, rng)
        delay = rng.uniform(0, 0.3)
        time.sleep(delay)
        lib.kill_daemon(mount)
        stop_readers(readers)
        time.sleep(0.1)  # let the origin notice the dropped connections
        cut = [r for r in server.requests(since=mark) if "/big_" in r["uri"] and not r["complete"]]
        interrupted.append(len(cut))
        print(f"round {round_}: {verification}, cache_size {cache_size or 'default'}, killed after "
              f"{delay * 1000:.0f} ms, {len(cut)} transfer(s) cut off, cache holds "
              f"{lib.mib(lib.allocated_bytes(cache_dir / 'blobs'))}")
        problems = wrong_pages_in_cache(cache_dir, fixture, bigs)
        assert not problems, (f"round {round_} ({verification}, killed after {delay * 1000:.0f} "
                              f"ms): the cache holds wrong data:\n" + "\n".join(problems))
    print(f"transfers cut off by SIGKILL, per round: {interrupted}")
    # Otherwise this test proved nothing: the kills must have hit downloads in flight.
    assert sum(1 for n in interrupted if n) >= 2, (
        f"only {sum(1 for n in interrupted if n)} of {ROUNDS} kills interrupted a download "
        f"(cut-off transfers per round: {interrupted})")
    # The cache is reused as it is: everything reads correctly, whatever state it was left in.
    mount = new_mount(mount_factory, fixture, server.url, cache_dir)
    assert_reads_correct(mount, fixture, bigs, f"after {ROUNDS} SIGKILLs")
    lib.check_all_reads(mount.path(), fixture, HUB)
    mount.umount()
    assert not wrong_pages_in_cache(cache_dir, fixture, bigs)
    for big in bigs:
        blob = lib.blob_path(cache_dir, big["sha256"])
        assert blob.is_file() and blob.read_bytes() == fixture.media_bytes(big["model_path"]), (
            f"{big['model']}: after a full read and a clean umount, {blob} does not hold the "
            "complete, correct blob")
    # And it keeps working without the origin (all of it is cached now).
    server.stop()  # (the fixture's stop() at teardown is harmless)
    mount = new_mount(mount_factory, fixture, server.url, cache_dir, verification="lazy")
    assert_reads_correct(mount, fixture, bigs, "offline, after the SIGKILL rounds")


# ------------------------------------------------------------------------------ shared cache

@pytest.mark.parametrize("verification", POLICIES)
def test_two_daemons_on_one_cache_download_once(verification, mount_factory, fixture, bigs,
                                                slow_origin, tmp_path, record_property):
    server = slow_origin
    cache_dir = tmp_path / "shared-cache"
    big = bigs[0]
    uri = fixture.media_uri(big["model_path"])
    mounts = [new_mount(mount_factory, fixture, server.url, cache_dir, verification=verification)
              for _ in range(2)]
    paths = [m.path(lib.big_rel(fixture, big)) for m in mounts]
    for path in paths:
        path.stat()
    start = threading.Barrier(2, timeout=30)

    def reader(path):
        start.wait()
        return lib.read_errno(path)

    with ThreadPoolExecutor(2) as pool:
        results = [f.result(timeout=90) for f in [pool.submit(reader, p) for p in paths]]
    expected = fixture.media_bytes(big["model_path"])
    for i, (data, err) in enumerate(results):
        assert err is None, f"daemon {i}: {lib.errno_name(err)}\n{mounts[i].log_tail(20)}"
        assert data == expected, f"daemon {i}: {len(data)} bytes that differ from the fixture"
    body = lib.origin_body_bytes(server, uri)
    record_property("origin_body_bytes_ratio", round(body / len(expected), 3))
    ranges = [r["range"] or "(whole)" for r in server.requests(uri=uri)]
    assert body <= 1.05 * len(expected), (
        f"{verification}: the origin sent {body} body bytes ({body / len(expected):.2f}x) for a "
        f"{len(expected)}-byte file read by two daemons sharing a cache; requests: {ranges}")


# ------------------------------------------------------------------------------ origin down

def offline_mount(mount_factory, fixture, server, bigs):
    """A mount with read_timeout = 3s whose Big 3 is cached and whose Big 1 is not."""
    mount = new_mount(mount_factory, fixture, server.url, None, read_timeout=f"{READ_TIMEOUT}s")
    data, err, _ = read_big(mount, fixture, bigs[2])
    assert err is None and data == fixture.media_bytes(bigs[2]["model_path"])
    return mount


def assert_eio_in_time(mount, fixture, big, what):
    bound = READ_TIMEOUT + OFFLINE_SLACK
    data, err, seconds = lib.read_errno_timeout(mount.path(lib.big_rel(fixture, big)), 16,
                                                timeout=60)
    assert err == errno.EIO, f"{what}: expected EIO, got " \
                             f"{lib.errno_name(err) if err else f'{len(data)} bytes'}"
    assert seconds <= bound, (f"{what}: EIO took {seconds:.1f} s, more than read_timeout "
                              f"({READ_TIMEOUT} s) + {OFFLINE_SLACK} s")
    return seconds


def assert_recovers(mount, fixture, big, what, timeout=20):
    """After the origin is back, the same read succeeds (a failure is remembered ~3 s)."""
    expected = fixture.media_bytes(big["model_path"])
    deadline = time.monotonic() + timeout
    attempts = []
    while True:
        data, err, _ = read_big(mount, fixture, big)
        if err is None:
            assert data == expected, f"{what}: {len(data)} bytes that differ from the fixture"
            return
        attempts.append(lib.errno_name(err))
        assert time.monotonic() < deadline, (f"{what}: still failing {timeout} s after the origin "
                                             f"came back: {attempts}")
        time.sleep(0.5)


def test_origin_down_cached_files_work_uncached_fail_fast(mount_factory, fixture, bigs,
                                                          nginx_factory):
    server = nginx_factory(fixture.root)
    mount = offline_mount(mount_factory, fixture, server, bigs)
    mount.umount()  # a fresh page cache: the cached file must come from hubfs' cache
    server.stop()
    mount.mount()
    data, err, _ = read_big(mount, fixture, bigs[2])
    assert err is None, f"cached file with the origin down: {lib.errno_name(err)}"
    assert data == fixture.media_bytes(bigs[2]["model_path"])
    seconds = assert_eio_in_time(mount, fixture, bigs[0], "uncached file, origin down")
    print(f"EIO after {seconds:.2f} s")
    server.start()
    assert_recovers(mount, fixture, bigs[0], "origin restarted")


class Blackhole:
    """A listening socket that never accepts: connections complete, requests go unanswered."""

    def __init__(self, port):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        deadline = time.monotonic() + 10
        while True:
            try:
                self.sock.bind(("127.0.0.1", port))
                break
            except OSError:
                assert time.monotonic() < deadline, f"cannot bind port {port} for the blackhole"
                time.sleep(0.1)
        self.sock.listen(128)

    def close(self):
        self.sock.close()


def test_unresponsive_origin_fails_within_read_timeout(mount_factory, fixture, bigs,
                                                       nginx_factory):
    server = nginx_factory(fixture.root)
    mount = offline_mount(mount_factory, fixture, server, bigs)
    server.stop()
    hole = Blackhole(server.port)
    try:
        seconds = assert_eio_in_time(mount, fixture, bigs[0], "origin accepts but never answers")
        print(f"EIO after {seconds:.2f} s")
        data, err, _ = read_big(mount, fixture, bigs[2])
        assert err is None and data == fixture.media_bytes(bigs[2]["model_path"]), \
            "a cached file failed while the origin hung"
    finally:
        hole.close()
    server.start()
    assert_recovers(mount, fixture, bigs[0], "origin answering again")
