"""Cache files damaged on disk: every block read from the cache is checked against its digest, and
a bad or missing block is fetched again from the origin (a Range request for that block) while the
reader gets correct bytes."""

import os

import pytest

import hubfs_testlib as lib
from hubfs_testlib import BLOCK_SIZE, HUB

# 3 full blocks and a partial fourth.
SIZE = 3 * BLOCK_SIZE + 1234567


@pytest.fixture(scope="module")
def fixture(tmp_path_factory):
    return lib.build_big_fixture(tmp_path_factory.mktemp("big-hub"), [str(SIZE)])


def flip_blocks_0_and_1(blob):
    lib.flip_bytes(blob, 100)
    lib.flip_bytes(blob, BLOCK_SIZE + 12345)
    return [0, 1]


def flip_last_block(blob):
    lib.flip_bytes(blob, 3 * BLOCK_SIZE + 1000, 64)
    return [3]


def hole_in_block_2(blob):
    lib.punch_hole(blob, 2 * BLOCK_SIZE + 4096, 8192)  # reads as zeros now
    return [2]


def truncated(blob):
    os.truncate(blob, BLOCK_SIZE + 5000)  # block 1 is cut short, blocks 2 and 3 are gone
    return [1]


def deleted(blob):
    os.unlink(blob)  # the index still says the blocks are present
    return []


DAMAGE = {f.__name__.replace("_", "-"): f
          for f in (flip_blocks_0_and_1, flip_last_block, hole_in_block_2, truncated, deleted)}
# Damage confined to known blocks: only those may be downloaded again.
ONLY_DAMAGED_REFETCHED = {"flip-blocks-0-and-1", "flip-last-block", "hole-in-block-2"}
CASES = [("flip-blocks-0-and-1", "strict"), ("flip-blocks-0-and-1", "lazy"),
         ("flip-last-block", "lazy"), ("hole-in-block-2", "strict"), ("truncated", "lazy"),
         ("deleted", "strict")]


@pytest.mark.parametrize("damage,verification", CASES, ids=[f"{d}-{v}" for d, v in CASES])
def test_damaged_cache_blocks_are_fetched_again(damage, verification, mount_factory, fixture,
                                                nginx_factory, record_property):
    big = lib.big_files(fixture)[0]
    uri = fixture.media_uri(big["model_path"])
    expected = fixture.media_bytes(big["model_path"])
    server = nginx_factory(fixture.root)
    mount = mount_factory()
    lib.write_read_config(mount, [lib.HubConfig.onnx(HUB, fixture, server.url)],
                          top={"verification": verification})
    mount.mount()
    rel = lib.big_rel(fixture, big)
    read_and_compare(mount, rel, expected, "first read")
    mount.umount()

    blob = lib.blob_path(mount.cache_dir, big["sha256"])
    assert blob.is_file(), (f"the blob is not where the cache layout puts it: {blob}\n"
                            f"cache holds: {cache_listing(mount.cache_dir)}")
    assert lib.allocated_bytes(blob) >= SIZE, (
        f"after a full read and umount the blob has only {lib.allocated_bytes(blob)} bytes "
        f"allocated of {SIZE}: it was not cached completely")
    damaged_blocks = DAMAGE[damage](blob)

    mark = server.mark()
    mount.mount()
    # Damaged offsets first (a fresh page cache: these reads reach hubfs), then everything.
    fd = os.open(mount.path(rel), os.O_RDONLY)
    try:
        for block in damaged_blocks:
            offset = block * BLOCK_SIZE + 50
            got = lib.pread_all(fd, offset, 100000)
            assert got == expected[offset:offset + 100000], \
                f"{damage}: block {block} served with wrong bytes"
    finally:
        os.close(fd)
    read_and_compare(mount, rel, expected, f"read after damage ({damage})")
    requests = server.requests(since=mark, uri=uri)
    assert requests, f"{damage}: the damaged blob was served without asking the origin"
    ranges = [r["range"] for r in requests]
    for block in damaged_blocks:
        prefix = f"bytes={block * BLOCK_SIZE}-"
        assert any(r.startswith(prefix) for r in ranges), (
            f"{damage}: no Range request for damaged block {block} ({prefix}...); "
            f"requests for the blob: {ranges}")
    body = sum(r["body_bytes_sent"] for r in requests)
    record_property("refetched_body_bytes", body)
    if damage in ONLY_DAMAGED_REFETCHED:
        assert body <= len(damaged_blocks) * BLOCK_SIZE, (
            f"{damage}: {body} body bytes fetched again for {len(damaged_blocks)} damaged "
            f"block(s): intact blocks were downloaded again ({ranges})")
    print(f"{damage}/{verification}: {len(requests)} request(s), {body} body bytes, "
          f"ranges {ranges}")

    # The repaired blocks went back into the cache: with the origin gone it all still reads.
    mount.umount()
    server.stop()
    mount.mount()
    read_and_compare(mount, rel, expected, "offline read after the repair")


def read_and_compare(mount, rel, expected, what):
    data, err, _ = lib.read_errno_timeout(mount.path(rel), timeout=60)
    assert err is None, f"{what}: {rel}: {lib.errno_name(err)}\n{mount.log_tail(15)}"
    assert data == expected, f"{what}: {rel}: {len(data)} bytes that differ from the fixture"


def cache_listing(cache_dir, limit=40):
    found = []
    for folder, _, names in os.walk(cache_dir):
        for name in names:
            found.append(os.path.relpath(os.path.join(folder, name), cache_dir))
    return sorted(found)[:limit]
