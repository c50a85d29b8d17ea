"""cache_size: the blocks on disk never exceed the limit, least recently used blobs are evicted,
blobs of open files and pinned blobs are not, and what does not fit is served uncached.

The cache's size is what its blob files occupy on disk (allocated blocks of sparse files, as `du`
counts them), below <cache_dir>/blobs; a sampler thread watches it during every read. One block
(2 MiB) of slack is allowed."""

import os
import random

import pytest

import hubfs_testlib as lib
from hubfs_testlib import BLOCK_SIZE, HUB

MIB = 1 << 20
# A, B, C, D: 3 blocks each; E: 12 blocks, more than the 8-block limit used below.
SIZES = ["6M", "6M", "6M", "6M", "24M"]
LIMIT = 16 * MIB


@pytest.fixture(scope="module")
def fixture(tmp_path_factory):
    return lib.build_big_fixture(tmp_path_factory.mktemp("big-hub"), SIZES)


@pytest.fixture
def files(fixture):
    return dict(zip("ABCDE", lib.big_files(fixture)))


@pytest.fixture
def server(fixture, nginx_factory):
    return nginx_factory(fixture.root)


class Cache:
    """A mount plus what its cache folder holds."""

    def __init__(self, mount, fixture, files):
        self.mount, self.fixture, self.files = mount, fixture, files

    def path(self, name):
        return self.mount.path(lib.big_rel(self.fixture, self.files[name]))

    def blob(self, name):
        return lib.blob_path(self.mount.cache_dir, self.files[name]["sha256"])

    def allocated(self, name):
        return lib.allocated_bytes(self.blob(name))

    def fully_cached(self, name):
        return self.allocated(name) >= self.files[name]["size"]

    def sampler(self):
        return lib.AllocationSampler(self.mount.cache_dir / "blobs")

    def read(self, *names):
        for name in names:
            expected = self.fixture.media_bytes(self.files[name]["model_path"])
            data, err, _ = lib.read_errno_timeout(self.path(name), timeout=60)
            assert err is None, f"reading {name}: {lib.errno_name(err)}\n{self.mount.log_tail(15)}"
            assert data == expected, f"reading {name}: {len(data)} bytes that differ"

    def state(self):
        return ", ".join(f"{n}: {lib.mib(self.allocated(n))}" for n in sorted(self.files))


def make_cache(mount_factory, fixture, files, server, *args, top=None, cache_dir=None):
    mount = mount_factory()
    lib.write_read_config(mount, [lib.HubConfig.onnx(HUB, fixture, server.url)], top=top,
                          cache_dir=cache_dir)
    if cache_dir is not None:
        mount.cache_dir = cache_dir
    mount.mount(*args)
    return Cache(mount, fixture, files)


def assert_within(sampler, limit, what):
    assert sampler.samples > 2, "the sampler did not run"
    assert sampler.max <= limit + BLOCK_SIZE, (
        f"{what}: the cache's blobs reached {lib.mib(sampler.max)} on disk, above the "
        f"{lib.mib(limit)} limit plus one block of slack; at that moment: {sampler.at_max()}")


# ------------------------------------------------------------------------------ limit and LRU

def test_cache_stays_under_the_limit_and_evicts_least_recently_used(
        mount_factory, fixture, files, server):
    cache = make_cache(mount_factory, fixture, files, server, top={"cache_size": "16M"})
    with cache.sampler() as sampler:
        cache.read("A", "B", "C", "D")
    assert_within(sampler, LIMIT, "reading 4 x 6 MiB")
    assert cache.fully_cached("D"), (f"the most recently read blob D is not fully cached "
                                     f"({cache.state()}); blob expected at {cache.blob('D')}")
    assert not cache.fully_cached("A"), (f"the least recently used blob A was not evicted "
                                         f"({cache.state()})")
    print(f"max {lib.mib(sampler.max)} over {sampler.samples} samples; {cache.state()}")


@pytest.mark.parametrize("verification", ["strict", "lazy"])
def test_a_read_that_does_not_fit_is_served_uncached(verification, mount_factory, fixture, files,
                                                     server):
    cache = make_cache(mount_factory, fixture, files, server,
                       top={"cache_size": "16M", "verification": verification})
    with cache.sampler() as sampler:
        cache.read("E")   # 24 MiB through a 16 MiB cache
        cache.read("A")   # fits: cached as usual (lazy may have kept part of E: A evicts it)
        assert cache.fully_cached("A"), f"A fits but was not cached ({cache.state()})"
        cache.read("E")   # again, still correct
    assert_within(sampler, LIMIT, f"{verification}: reading a 24 MiB file")


def test_cli_cache_size_overrides_config(mount_factory, fixture, files, server):
    cache = make_cache(mount_factory, fixture, files, server, "--cache-size", "4M",
                       top={"cache_size": "1G"})
    with cache.sampler() as sampler:
        cache.read("A", "B")
    assert_within(sampler, 4 * MIB, "--cache-size 4M (config says 1G)")


# ------------------------------------------------------------------------------ what is kept

def test_blob_of_an_open_file_is_not_evicted(mount_factory, fixture, files, server):
    cache = make_cache(mount_factory, fixture, files, server, top={"cache_size": "16M"})
    expected = fixture.media_bytes(files["A"]["model_path"])
    fd = os.open(cache.path("A"), os.O_RDONLY)
    try:
        assert lib.pread_all(fd, 0, len(expected)) == expected
        with cache.sampler() as sampler:
            cache.read("B", "C", "D")
        assert_within(sampler, LIMIT, "reading B, C, D while A is open")
        assert cache.fully_cached("A"), (f"the blob of the open file A was evicted "
                                         f"({cache.state()})")
        rng = random.Random(99)
        for _ in range(50):
            offset = rng.randrange(len(expected))
            assert lib.pread_all(fd, offset, 70000) == expected[offset:offset + 70000]
    finally:
        os.close(fd)


def test_pinned_blobs_are_never_evicted(mount_factory, fixture, files, server):
    cache = make_cache(mount_factory, fixture, files, server, top={"cache_size": "16M"})
    cache.read("A", "B")
    proc = lib.hubfs_command("pin", cache.path("A"), cache.path("B"))
    assert proc.returncode == 0, f"hubfs pin failed ({proc.returncode}): {proc.stderr}"
    # 6 of the 8 blocks are pinned: C, D and E do not fit and are served uncached.
    with cache.sampler() as sampler:
        cache.read("C", "D", "E", "C")
    assert_within(sampler, LIMIT, "reading C, D, E with A and B pinned")
    for name in "AB":
        assert cache.fully_cached(name), f"pinned blob {name} was evicted ({cache.state()})"

    # Pins survive a remount, and the pinned files read without the origin.
    cache.mount.umount()
    server.stop()
    cache.mount.mount()
    cache.read("A", "B")
    server.start()

    proc = lib.hubfs_command("unpin", cache.path("A"), cache.path("B"))
    assert proc.returncode == 0, f"hubfs unpin failed ({proc.returncode}): {proc.stderr}"
    with cache.sampler() as sampler:
        cache.read("C", "D", "C", "D")
    assert_within(sampler, LIMIT, "reading C, D after unpinning A and B")
    for name in "AB":
        assert not cache.fully_cached(name), (f"unpinned blob {name} was not evicted although "
                                              f"C and D were read since ({cache.state()})")


@pytest.mark.parametrize("command", ["pin", "unpin"])
def test_pin_outside_a_mount_fails_with_a_message(command, tmp_path):
    plain = tmp_path / "plain.onnx"
    plain.write_bytes(b"not in a hubfs mount")
    for path in (plain, tmp_path / "does-not-exist.onnx"):
        proc = lib.hubfs_command(command, path)
        assert proc.returncode > 0, f"hubfs {command} {path}: exit {proc.returncode}"
        assert proc.stderr.strip(), f"hubfs {command} {path}: no message on stderr"
        assert str(path) in proc.stderr or path.name in proc.stderr, \
            f"hubfs {command} {path}: message does not name the path: {proc.stderr!r}"


# ------------------------------------------------------------------------------ percent

@pytest.fixture
def small_fs(tmp_path):
    """A 64 MiB tmpfs for the cache, so that "NN%" means a testable size (needs root)."""
    folder = tmp_path / "smallfs"
    folder.mkdir()
    proc = lib.run(["mount", "-t", "tmpfs", "-o", "size=64m,mode=0700", "tmpfs", folder])
    if proc.returncode != 0:
        pytest.fail(f"cannot mount a tmpfs for the cache_size percentage test (needs root): "
                    f"{proc.stderr.strip()}", pytrace=False)
    yield folder
    lib.run(["umount", "-l", folder])


@pytest.mark.parametrize("setting,limit", [("25%", 16 * MIB), (None, 32 * MIB)],
                         ids=["25-percent", "default-50-percent"])
def test_percent_of_the_cache_filesystem(setting, limit, small_fs, mount_factory, fixture, files,
                                         server):
    cache = make_cache(mount_factory, fixture, files, server, top={"cache_size": setting},
                       cache_dir=small_fs / "cache")
    with cache.sampler() as sampler:
        cache.read("A", "B", "C", "D", "E")
    assert_within(sampler, limit, f"cache_size {setting or '(default)'} of a 64 MiB filesystem")
    cache.mount.umount()  # before the tmpfs goes away
