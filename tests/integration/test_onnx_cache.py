"""The persistent cache: remounts served without the network, metadata_ttl, and one download for
many concurrent readers."""

import threading
from concurrent.futures import ThreadPoolExecutor

import hubfs_testlib as lib
from hubfs_testlib import HUB

READERS = 8


def mount_and_read_all(mount, fixture, nginx, metadata_ttl):
    """Mounts with a fresh config, reads every file (filling the cache), and unmounts."""
    mount.write_config([lib.HubConfig.onnx(HUB, fixture, nginx.url)], metadata_ttl=metadata_ttl)
    mount.mount()
    lib.check_all_reads(mount.path(), fixture, HUB)
    mount.umount()


def test_remount_reads_from_cache_without_requests(mount_factory, onnx_fixture, nginx):
    mount = mount_factory()
    mount_and_read_all(mount, onnx_fixture, nginx, "10m")
    mark = nginx.mark()
    mount.mount()
    lib.compare_tree(mount.path(), onnx_fixture.expected_tree(HUB), only={HUB})
    lib.check_all_reads(mount.path(), onnx_fixture, HUB)
    # Within metadata_ttl even the manifest comes from the cache.
    assert nginx.requests(since=mark) == [], "a warm remount talked to the server"


def test_remount_with_server_down_uses_cache(mount_factory, onnx_fixture, nginx):
    mount = mount_factory()
    mount_and_read_all(mount, onnx_fixture, nginx, "0s")
    nginx.stop()
    # metadata_ttl = 0s asks the server every time; it is down, so the cached manifest is used.
    mount.mount()
    lib.compare_tree(mount.path(), onnx_fixture.expected_tree(HUB), only={HUB})
    lib.check_all_reads(mount.path(), onnx_fixture, HUB)


def test_ttl_zero_revalidates_only_the_manifest(mount_factory, onnx_fixture, nginx):
    mount = mount_factory()
    mount_and_read_all(mount, onnx_fixture, nginx, "0s")
    mark = nginx.mark()
    mount.mount()
    lib.compare_tree(mount.path(), onnx_fixture.expected_tree(HUB), only={HUB})
    lib.check_all_reads(mount.path(), onnx_fixture, HUB)
    uris = {r["uri"] for r in nginx.requests(since=mark)}
    assert uris == {onnx_fixture.manifest_uri}, f"expected only manifest revalidation, got {uris}"


def test_cache_dir_flag_overrides_config(mount_factory, onnx_fixture, nginx):
    mount = mount_factory()
    mount_and_read_all(mount, onnx_fixture, nginx, "10m")
    mark = nginx.mark()
    # The config now names an empty cache; --cache-dir points back at the filled one.
    mount.write_config([lib.HubConfig.onnx(HUB, onnx_fixture, nginx.url)],
                       cache_dir=mount.work / "empty-cache")
    mount.mount("--cache-dir", mount.cache_dir)
    lib.check_all_reads(mount.path(), onnx_fixture, HUB)
    assert nginx.requests(since=mark) == [], "--cache-dir did not take precedence over the config"


def test_concurrent_cold_readers_get_identical_bytes(mount_factory, onnx_fixture, nginx_factory,
                                                    record_property):
    path = onnx_fixture.meta["big_model_path"]
    uri = onnx_fixture.media_uri(path)
    # limit_rate stretches the 4 MiB download to ~0.5 s, so all readers overlap it.
    server = nginx_factory(onnx_fixture.root,
                           extra=f"        location = {uri} {{ limit_rate 8m; }}")
    mount = mount_factory()
    mount.write_config([lib.HubConfig.onnx(HUB, onnx_fixture, server.url)])
    mount.mount()
    target = mount.path(onnx_fixture.mount_paths(HUB, path)[0])
    target.stat()  # resolve the name first, so that the readers start together on the read
    start = threading.Barrier(READERS)

    def reader(_):
        start.wait()
        return lib.read_errno(target)

    with ThreadPoolExecutor(READERS) as pool:
        results = list(pool.map(reader, range(READERS)))
    expected = onnx_fixture.media_bytes(path)
    for i, (data, err) in enumerate(results):
        assert err is None, f"reader {i}: errno {err}"
        assert data == expected, f"reader {i}: got {len(data)} bytes that differ from the fixture"
    requests = server.requests(uri=uri)
    body = sum(r["body_bytes_sent"] for r in requests)
    # Reported, not asserted (target P6 is <= 1.05x): single flight is measured by the benchmarks.
    record_property("origin_requests", len(requests))
    record_property("origin_body_bytes_ratio", round(body / len(expected), 3))
    print(f"{READERS} concurrent cold readers: {len(requests)} request(s), {body} body bytes "
          f"for a {len(expected)}-byte file ({body / len(expected):.2f}x)")
