"""The mount's own .hubfs/ folder: stats (Prometheus text), errors and config reflect what just
happened, and it never shadows a hub."""

import errno
import re

import hubfs_testlib as lib
from hubfs_testlib import HUB


def metrics(mount):
    """{name or name{labels}: value} from .hubfs/stats, checking the text format on the way."""
    values = {}
    text = mount.path(".hubfs/stats").read_text()
    for line in text.splitlines():
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            continue
        m = re.fullmatch(r'([a-z_]+(?:\{[a-z_]+="[^"]*"\})?) (\d+)', line)
        assert m, f"not Prometheus text format: {line!r}"
        values[m.group(1)] = int(m.group(2))
    return values


def test_stats_count_a_read_and_a_cache_hit(onnx_mount, onnx_fixture):
    assert sorted(p.name for p in onnx_mount.path(".hubfs").iterdir()) == ["config", "errors", "stats"]
    before = metrics(onnx_mount)
    path = onnx_fixture.readable_paths()[0]
    rel = onnx_fixture.mount_paths(HUB, path)[0]
    data = onnx_mount.path(rel).read_bytes()
    assert data == onnx_fixture.media_bytes(path)
    after = metrics(onnx_mount)
    assert after["hubfs_origin_bytes_total"] - before["hubfs_origin_bytes_total"] == len(data)
    assert after["hubfs_served_bytes_total"] - before["hubfs_served_bytes_total"] >= len(data)
    assert after["hubfs_cache_misses_total"] > before["hubfs_cache_misses_total"]
    assert after["hubfs_cache_used_bytes"] >= len(data)
    # The same bytes through the other view of the same blob, which the kernel has not cached:
    # served from the cache, nothing new from the origin.
    onnx_mount.path(onnx_fixture.mount_paths(HUB, path)[1]).read_bytes()
    again = metrics(onnx_mount)
    assert again["hubfs_origin_bytes_total"] == after["hubfs_origin_bytes_total"]
    assert again["hubfs_cache_hits_total"] > after["hubfs_cache_hits_total"]
    assert again["hubfs_fetches_in_flight"] == 0


def test_errors_name_the_path_and_reason(onnx_mount, onnx_fixture):
    assert onnx_mount.path(".hubfs/errors").read_text() == "no errors since the mount\n"
    entry = onnx_fixture.meta["bad_sha"][0]
    rel = onnx_fixture.mount_paths(HUB, entry["model_path"])[0]
    _, err, _ = lib.read_errno_timeout(onnx_mount.path(rel))
    assert err == errno.EIO
    errors = onnx_mount.path(".hubfs/errors").read_text()
    assert f"/{rel}" in errors and "sha256 mismatch" in errors, errors
    assert "DataLoss" in errors
    assert metrics(onnx_mount).get('hubfs_errors_total{kind="DataLoss"}', 0) >= 1


def test_config_shows_the_effective_configuration(onnx_mount, onnx_fixture):
    text = onnx_mount.path(".hubfs/config").read_text()
    assert f'name = "{HUB}"' in text and 'type = "onnx"' in text
    assert f'repo = "{onnx_fixture.repo}"' in text
    assert str(onnx_mount.cache_dir) in text
