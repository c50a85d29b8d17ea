"""A file far larger than the cache, read again and again under CPU load: every byte must be right.

Regression test for a race in the read engine: a worker that served a block from memory could,
after a reader consumed that block and another worker started fetching it again, mark it as
written to disk, so readers got the zeros of the sparse file's hole. It needed many blocks
cycling through the memory budget and busy CPUs to show, hence a 60 MiB file through an 8 MiB
cache, several rounds, and two spinning processes beside the reader.
"""
import contextlib
import subprocess

import pytest

import hubfs_testlib as lib
from hubfs_testlib import HUB

SIZES = ["60M"]
ROUNDS = 4


@pytest.fixture(scope="module")
def fixture(tmp_path_factory):
    return lib.build_big_fixture(tmp_path_factory.mktemp("stress-hub"), SIZES)


@contextlib.contextmanager
def busy_cpus(count=2):
    """Processes that spin, so that the daemon's threads interleave in unusual ways. Each is the
    shell itself (no wrapper whose death would orphan it), killed when the block ends."""
    spinners = [subprocess.Popen(["sh", "-c", "while :; do :; done"]) for _ in range(count)]
    try:
        yield
    finally:
        for p in spinners:
            p.kill()
            p.wait()


@pytest.mark.parametrize("verification", ["strict", "lazy"])
def test_big_file_through_a_small_cache_is_byte_exact(verification, fixture, nginx_factory,
                                                      mount_factory):
    server = nginx_factory(fixture.root)
    big = lib.big_files(fixture)[0]
    expected = fixture.media_bytes(big["model_path"])
    with busy_cpus():
        for round_ in range(ROUNDS):
            mount = mount_factory()
            lib.write_read_config(mount, [lib.HubConfig.onnx(HUB, fixture, server.url)],
                                  top={"verification": verification, "cache_size": "8M"})
            mount.mount()
            data, err = lib.read_errno(mount.path(lib.big_rel(fixture, big)))
            assert err is None, f"round {round_}: {lib.errno_name(err)}\n{mount.log_tail(20)}"
            bad = [i >> 20 for i in range(0, len(expected), 1 << 20)
                   if data[i:i + (1 << 20)] != expected[i:i + (1 << 20)]]
            assert not bad, f"round {round_} ({verification}): wrong bytes in MiB {bad[:10]}"
            mount.umount()
