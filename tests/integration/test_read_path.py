"""The block read path: what strict and lazy verification may serve and when, byte-exact random
and mmap reads across 2 MiB block boundaries, concurrent cold readers, wrong bytes at the origin
(EIO in strict, poisoned in lazy), and the new configuration keys."""

import errno
import os
import random
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import hubfs_testlib as lib
from hubfs_testlib import BLOCK_SIZE, HUB

# Big 1: 3 full blocks and a partial one; Big 2: 6 blocks (concurrency); Big 3: 3 blocks whose
# published sha256 is wrong (lazy poisoning of a multi-block blob).
SIZES = [str(3 * BLOCK_SIZE + 1234567), "12M", "6M!"]
POLICIES = ["strict", "lazy"]


@pytest.fixture(scope="module")
def fixture(tmp_path_factory):
    return lib.build_big_fixture(tmp_path_factory.mktemp("big-hub"), SIZES)


@pytest.fixture
def big(fixture):
    return {b["model"]: b for b in lib.big_files(fixture)}


@pytest.fixture
def origin(fixture):
    server = lib.GatedOrigin(fixture.root)
    yield server
    server.stop()


def mount_hub(mount_factory, fixture, url, *args, top=None, per_hub=None):
    mount = mount_factory()
    lib.write_read_config(mount, [lib.HubConfig.onnx(HUB, fixture, url)], top=top,
                          per_hub=per_hub)
    mount.mount(*args)
    return mount


def policy(value):
    return {"verification": value}


# ------------------------------------------------------------------------------ what is served when

class BackgroundRead:
    """One read running in a thread, so the test can look at it while it is blocked."""

    def __init__(self, path, length):
        self.done = threading.Event()
        self.data = self.err = None
        threading.Thread(target=self._run, args=(path, length), daemon=True).start()

    def _run(self, path, length):
        try:
            self.data, self.err = lib.read_errno(path, length)
        finally:
            self.done.set()


# name: (top-level config, [[hub]] config, CLI args, effective policy)
POLICY_CASES = {
    "default-is-strict": (None, None, [], "strict"),
    "config-lazy": (policy("lazy"), None, [], "lazy"),
    "hub-strict-overrides-top-lazy": (policy("lazy"), [policy("strict")], [], "strict"),
    "hub-lazy-overrides-top-strict": (policy("strict"), [policy("lazy")], [], "lazy"),
    "cli-lazy-overrides-config": (policy("strict"), None, ["--verification", "lazy"], "lazy"),
    "cli-strict-overrides-config": (policy("lazy"), None, ["--verification", "strict"], "strict"),
}


@pytest.mark.parametrize("case", list(POLICY_CASES))
def test_first_bytes_before_the_blob_is_complete(case, mount_factory, fixture, big, origin):
    """The origin sends block 0 of a cold file, then holds everything after it. Lazy must serve
    the first bytes meanwhile; strict must not serve a byte until the rest has arrived."""
    top, per_hub, args, effective = POLICY_CASES[case]
    target = big["Big 1"]
    uri = fixture.media_uri(target["model_path"])
    expected = fixture.media_bytes(target["model_path"])
    origin.gate(uri, BLOCK_SIZE)
    mount = mount_hub(mount_factory, fixture, origin.url, *args, top=top, per_hub=per_hub)
    path = mount.path(lib.big_rel(fixture, target))
    assert path.stat().st_size == target["size"]
    first = BackgroundRead(path, 16)
    if effective == "lazy":
        assert first.done.wait(20), (
            "lazy: reading the first 16 bytes blocked although the origin had sent all of block 0 "
            "(only bytes from offset 2 MiB on are held back)")
        assert first.err is None, f"lazy: first read failed: {lib.errno_name(first.err)}"
        assert first.data == expected[:16], "lazy: wrong first bytes"
        sent = lib.origin_body_bytes(origin, uri)
        assert sent < target["size"], "test bug: the gate let the whole file through"
        origin.open_gate(uri)
    else:
        assert origin.wait_gate_reached(uri, 20), (
            "strict: a read of the first 16 bytes never asked the origin for the bytes after "
            "block 0, so the blob's sha256 cannot have been checked")
        # The origin is now holding the transfer: whatever the reader gets now would be unverified.
        assert not first.done.wait(1.5), (
            f"strict: the read returned ({lib.errno_name(first.err)}, "
            f"{len(first.data or b'')} bytes) while most of the blob had not arrived")
        origin.open_gate(uri)
        assert first.done.wait(30), "strict: the read did not finish after the origin resumed"
        assert first.err is None, f"strict: read failed: {lib.errno_name(first.err)}"
        assert first.data == expected[:16], "strict: wrong first bytes"
    data, err, _ = lib.read_errno_timeout(path, timeout=60)
    assert err is None, f"full read failed: {lib.errno_name(err)}"
    assert data == expected, "full read differs from the fixture"


# ------------------------------------------------------------------------------ byte-exact reads

def boundary_offsets(rng, size, count):
    """Offsets near block boundaries (both sides) and uniform ones, plus the file's edges."""
    boundaries = list(range(BLOCK_SIZE, size, BLOCK_SIZE))
    offsets = [0, size - 1, size, size + 4096]
    for i in range(count - len(offsets)):
        if i % 2 and boundaries:
            offsets.append(max(0, rng.choice(boundaries) + rng.randint(-70000, 70000)))
        else:
            offsets.append(rng.randrange(size))
    return offsets


MMAP_SCRIPT = r"""
import mmap, random, sys
path, source, seed, count, block = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
expected = open(source, "rb").read()
size = len(expected)
rng = random.Random(seed)
bad = []
with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
    if len(m) != size:
        sys.exit(f"mmap length {len(m)} != {size}")
    for i in range(count):
        if i % 2:
            off = max(0, rng.randrange(block, size, block) + rng.randint(-70000, 70000))
        else:
            off = rng.randrange(size)
        length = rng.randint(1, 3 * block)
        if m[off:off + length] != expected[off:off + length]:
            bad.append((off, length))
if bad:
    sys.exit(f"{len(bad)} of {count} slices differ, first: offset/length {bad[:5]}")
print("ok")
"""

MMAP_SEQUENTIAL = r"""
import mmap, sys
path, source = sys.argv[1], sys.argv[2]
expected = open(source, "rb").read()
with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
    step = 1 << 20
    for off in range(0, len(expected), step):
        if m[off:off + step] != expected[off:off + step]:
            sys.exit(f"sequential mmap differs in [{off}, {off + step})")
    if len(m) != len(expected):
        sys.exit(f"mmap length {len(m)} != {len(expected)}")
print("ok")
"""


def run_python(code, *args, timeout=60):
    """mmap runs in a child: a fault on a broken mount is SIGBUS, which must not kill pytest."""
    try:
        proc = lib.run([lib.PYTHON, "-c", code, *args], timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"mmap reader did not finish within {timeout} s (hung)")
    if proc.returncode < 0:
        pytest.fail(f"mmap reader killed by signal {-proc.returncode} (SIGBUS = a failed page-in)")
    return proc


@pytest.mark.parametrize("verification", POLICIES)
def test_mmap_random_slices_and_sequential(verification, mount_factory, fixture, big,
                                           nginx_factory):
    server = nginx_factory(fixture.root)
    mount = mount_hub(mount_factory, fixture, server.url, top=policy(verification))
    target = big["Big 1"]
    source = fixture.root / fixture.meta["media_root"] / target["model_path"]
    random_view = mount.path(lib.big_rel(fixture, target, view=0))
    proc = run_python(MMAP_SCRIPT, random_view, source, 20240601, 200, BLOCK_SIZE)
    assert proc.returncode == 0, f"{verification}: random mmap slices: {proc.stderr.strip()}"
    # The other view is a different inode: a cold page cache, read front to back.
    sequential_view = mount.path(lib.big_rel(fixture, target, view=1))
    proc = run_python(MMAP_SEQUENTIAL, sequential_view, source)
    assert proc.returncode == 0, f"{verification}: sequential mmap: {proc.stderr.strip()}"


@pytest.mark.parametrize("verification", POLICIES)
def test_random_preads_are_byte_exact(verification, mount_factory, fixture, big, nginx_factory):
    server = nginx_factory(fixture.root)
    mount = mount_hub(mount_factory, fixture, server.url, top=policy(verification))
    target = big["Big 1"]
    expected = fixture.media_bytes(target["model_path"])
    size = len(expected)
    rng = random.Random(7 if verification == "strict" else 8)
    # The first read lands in the last block of a cold file: no sequential warm-up.
    offsets = [3 * BLOCK_SIZE + 5] + boundary_offsets(rng, size, 300)
    lengths = [rng.choice((1, 17, 4096, 65536, 131072, BLOCK_SIZE - 1, BLOCK_SIZE + 1,
                           rng.randint(1, 3 * BLOCK_SIZE))) for _ in offsets]

    def check():
        problems = []
        fd = os.open(mount.path(lib.big_rel(fixture, target)), os.O_RDONLY)
        try:
            for off, length in zip(offsets, lengths):
                try:
                    got = lib.pread_all(fd, off, length)
                except OSError as e:
                    problems.append(f"pread({off}, {length}): {lib.errno_name(e.errno)}")
                    continue
                if got != expected[off:off + length]:
                    problems.append(f"pread({off}, {length}): {len(got)} bytes differ "
                                    f"(expected {len(expected[off:off + length])})")
        finally:
            os.close(fd)
        return problems

    finished, problems, error, _ = lib.call_with_timeout(check, 90)
    assert finished, "random preads did not finish within 90 s (hung)"
    if error is not None:
        raise error
    assert not problems, (f"{verification}: {len(problems)} of {len(offsets)} preads wrong:\n"
                          + "\n".join(problems[:10]))


def test_lazy_concurrent_cold_readers_get_identical_bytes(mount_factory, fixture, big,
                                                         nginx_factory, record_property):
    target = big["Big 2"]
    uri = fixture.media_uri(target["model_path"])
    # ~0.5 s per connection for 12 MiB, so that all readers overlap the download.
    server = nginx_factory(fixture.root, extra=f"        location = {uri} {{ limit_rate 24m; }}")
    mount = mount_hub(mount_factory, fixture, server.url, top=policy("lazy"))
    path = mount.path(lib.big_rel(fixture, target))
    path.stat()
    expected = fixture.media_bytes(target["model_path"])
    size, readers = len(expected), 8
    start = threading.Barrier(readers, timeout=30)

    def reader(i):
        # Each reader has its own chunk size and starts at its own offset, wrapping around.
        chunk = (64 << 10) * (i + 1) + i * 4099
        first = (i * size // readers) // 4096 * 4096
        segments = [(b, min(chunk, size - b)) for b in range(first, size, chunk)]
        segments += [(b, min(chunk, first - b)) for b in range(0, first, chunk)]
        parts = {}
        fd = os.open(path, os.O_RDONLY)
        try:
            start.wait()
            for begin, length in segments:
                parts[begin] = lib.pread_all(fd, begin, length)
        finally:
            os.close(fd)
        return b"".join(parts[k] for k in sorted(parts))

    with ThreadPoolExecutor(readers) as pool:
        futures = [pool.submit(reader, i) for i in range(readers)]
        results = []
        for i, future in enumerate(futures):
            try:
                results.append(future.result(timeout=90))
            except OSError as e:
                pytest.fail(f"reader {i}: {lib.errno_name(e.errno)}")
    for i, data in enumerate(results):
        assert data == expected, f"reader {i}: {len(data)} bytes that differ from the fixture"
    body = lib.origin_body_bytes(server, uri)
    record_property("origin_body_bytes_ratio", round(body / size, 3))
    print(f"lazy, {readers} cold readers: {body} body bytes for {size} ({body / size:.2f}x)")


# ------------------------------------------------------------------------------ wrong bytes

def bad_sha_targets(fixture, big):
    small = fixture.meta["bad_sha"][0]["model_path"]
    return {"small": (small, 0), "multi-block": (big["Big 3"]["model_path"], 2 * BLOCK_SIZE + 99)}


@pytest.mark.parametrize("which", ["small", "multi-block"])
def test_strict_wrong_sha_serves_nothing(which, mount_factory, fixture, big, nginx_factory):
    server = nginx_factory(fixture.root)
    mount = mount_hub(mount_factory, fixture, server.url, top=policy("strict"))
    model_path, offset = bad_sha_targets(fixture, big)[which]
    rel = fixture.mount_paths(HUB, model_path)[0]
    for length in (16, -1):
        data, err, _ = lib.read_errno_timeout(mount.path(rel), length)
        assert err == errno.EIO, f"{rel}: read({length}): expected EIO, got {describe(data, err)}"
    # Just rejected: the open itself fails (within failure_memory), or the read does.
    try:
        fd = os.open(mount.path(rel), os.O_RDONLY)
    except OSError as e:
        assert e.errno == errno.EIO, f"{rel}: open: expected EIO, got {lib.errno_name(e.errno)}"
        fd = None
    if fd is not None:
        try:
            os.pread(fd, 16, offset)
            pytest.fail(f"{rel}: pread at {offset} returned bytes of a blob that failed verification")
        except OSError as e:
            assert e.errno == errno.EIO, f"{rel}: pread: expected EIO, got {lib.errno_name(e.errno)}"
        finally:
            os.close(fd)
    assert server.requests(uri=fixture.media_uri(model_path)), "the file was never fetched"


@pytest.mark.parametrize("which", ["small", "multi-block"])
def test_lazy_wrong_sha_is_poisoned(which, mount_factory, fixture, big, origin):
    model_path, offset = bad_sha_targets(fixture, big)[which]
    rel = fixture.mount_paths(HUB, model_path)[0]
    served = fixture.media_bytes(model_path)
    if which == "multi-block":
        # Block 0 first, the rest only once the reader has had block 0: the reader (and the
        # kernel's page cache) hold bytes of the blob before it turns out to be wrong.
        origin.gate(fixture.media_uri(model_path), BLOCK_SIZE)
    mount = mount_hub(mount_factory, fixture, origin.url, top=policy("lazy"))
    if which == "multi-block":
        first = BackgroundRead(mount.path(rel), 16)
        assert first.done.wait(20), "lazy: block 0 had arrived but the read of it blocked"
        assert first.err is None and first.data == served[:16], \
            f"lazy: first read: {describe(first.data, first.err)}"
        origin.open_gate(fixture.media_uri(model_path))
    # Lazy may hand out bytes before the background verification fails; once it has, EIO.
    history = []
    deadline = time.monotonic() + 10
    while True:
        data, err, _ = lib.read_errno_timeout(mount.path(rel))
        history.append(describe(data, err))
        if err == errno.EIO:
            break
        assert err is None, f"{rel}: unexpected {lib.errno_name(err)}"
        assert data == served, f"{rel}: lazy served bytes the origin never sent"
        assert time.monotonic() < deadline, (
            f"{rel}: still readable 10 s after the whole blob arrived ({history[:3]}...); the "
            "poisoned blob must fail with EIO (if hubfs poisoned it, the kernel page cache may "
            "still be serving it)")
        time.sleep(0.25)
    print(f"lazy {which}: reads until EIO: {history}")
    log = lib.log_text(mount).lower()
    assert "poison" in log or "sha256 mismatch" in log, (
        "the log does not say why the file fails (expected 'poison' or 'sha256 mismatch'):\n"
        + mount.log_tail())
    assert_poisoned(mount, rel, offset, "after poisoning")
    # The other view opens the same blob through another inode.
    assert_poisoned(mount, fixture.mount_paths(HUB, model_path)[1], offset, "other view")
    mount.umount()
    mount.mount()
    assert_poisoned(mount, rel, offset, "after a remount with the same cache")


def assert_poisoned(mount, rel, offset, when):
    for length in (16, -1):
        data, err, _ = lib.read_errno_timeout(mount.path(rel), length)
        assert err == errno.EIO, f"{rel} {when}: read({length}): expected EIO, got " \
                                 f"{describe(data, err)}"
    fd = os.open(mount.path(rel), os.O_RDONLY)
    try:
        got = os.pread(fd, 16, offset)
        pytest.fail(f"{rel} {when}: pread at {offset} returned {len(got)} bytes")
    except OSError as e:
        assert e.errno == errno.EIO, f"{rel} {when}: pread: {lib.errno_name(e.errno)}"
    finally:
        os.close(fd)


# ------------------------------------------------------------------------------ configuration

GOOD_CONFIGS = {
    "all-keys": ({"verification": "lazy", "cache_size": "64M", "read_timeout": "10s"},
                 [policy("strict")], []),
    "cache-size-gigabytes": ({"cache_size": "1G"}, None, []),
    "cache-size-kilobytes": ({"cache_size": "65536K"}, None, []),
    "cache-size-percent": ({"cache_size": "50%"}, None, []),
    "cli-overrides": ({"verification": "strict", "cache_size": "1G"}, None,
                      ["--cache-size", "64M", "--verification", "lazy"]),
}


@pytest.mark.parametrize("case", list(GOOD_CONFIGS))
def test_new_keys_are_accepted(case, mount_factory, onnx_fixture, nginx):
    top, per_hub, args = GOOD_CONFIGS[case]
    mount = mount_factory()
    lib.write_read_config(mount, [lib.HubConfig.onnx(HUB, onnx_fixture, nginx.url)], top=top,
                          per_hub=per_hub)
    proc = mount.mount(*args, check=False)
    assert proc.returncode == 0, f"{case}: hubfs mount failed: {proc.stderr}\n{mount.log_tail()}"
    lib.check_all_reads(mount.path(), onnx_fixture, HUB)


def test_cache_size_as_toml_integer_bytes(mount_factory, onnx_fixture, nginx):
    mount = mount_factory()
    mount.write_config([lib.HubConfig.onnx(HUB, onnx_fixture, nginx.url)],
                       extra="cache_size = 67108864")
    proc = mount.mount(check=False)
    assert proc.returncode == 0, f"cache_size = <integer bytes> refused: {proc.stderr}"


BAD_CONFIGS = {
    "verification-unknown": ({"verification": "sometimes"}, None),
    "hub-verification-unknown": (None, [policy("paranoid")]),
    "cache-size-no-number": ({"cache_size": "lots"}, None),
    "cache-size-bad-suffix": ({"cache_size": "12Q"}, None),
    "cache-size-negative": ({"cache_size": "-5M"}, None),
    "read-timeout-garbage": ({"read_timeout": "soon"}, None),
}


@pytest.mark.parametrize("case", list(BAD_CONFIGS))
def test_bad_values_are_refused(case, mount_factory):
    top, per_hub = BAD_CONFIGS[case]
    mount = mount_factory()
    # Port 9 on loopback: never contacted, the config must be rejected first.
    hub = lib.HubConfig(HUB, "onnx/models:main", "http://127.0.0.1:9/raw",
                        "http://127.0.0.1:9/media")
    lib.write_read_config(mount, [hub], top=top, per_hub=per_hub)
    proc = mount.mount(check=False)
    assert_refused(mount, proc, str(mount.config), "config")


@pytest.mark.parametrize("args", [["--verification", "maybe"], ["--cache-size", "huge"]],
                         ids=["verification", "cache-size"])
def test_bad_cli_values_are_refused(args, mount_factory):
    mount = mount_factory()
    hub = lib.HubConfig(HUB, "onnx/models:main", "http://127.0.0.1:9/raw",
                        "http://127.0.0.1:9/media")
    lib.write_read_config(mount, [hub])
    proc = mount.mount(*args, check=False)
    assert_refused(mount, proc, args[0], args[0].lstrip("-"), args[0].lstrip("-").replace("-", "_"))


def assert_refused(mount, proc, *mentions):
    assert proc.returncode > 0, f"expected a clean failure, got exit {proc.returncode}: " \
                                f"{proc.stderr}"
    message = proc.stderr.strip()
    assert message, "no error message on stderr"
    assert any(m.lower() in message.lower() for m in mentions), \
        f"message does not mention any of {mentions}: {message!r}"
    assert not lib.is_mounted(mount.mountpoint)


def describe(data, err):
    return lib.errno_name(err) if err is not None else f"{len(data)} bytes"
