"""The /by-framework view and `hubfs stage PATH... [--to DIR]` on a real mount with an ONNX hub
(the onnx fixture) and a DIGITS hub (tests/fixtures/make_digits_store.py, stores A and B, which
hold the same models at other URLs: their file names collide).

What is checked:
  - /by-framework/<framework>/ lists every model file of every hub (onnx: the .onnx files, not
    the bundles or info.json; digits: the files info.json names as snapshot/model/network/deploy,
    under "caffe"), each once, with the same bytes, cache key and user.hubfs.framework as its hub
    path; colliding names follow docs/staging.md (store A first keeps the plain name; the others
    get ~<model folder>, then ~<hub>, then ~<n>).
  - hubfs stage copies to $MODELHUB_PATH, to --to DIR, and to the configuration's staging_dir
    (which wins over the variable), as <DIR>/<framework>/<view name>; hub paths and view paths
    map to the same place; files that are no models are left out and counted.
  - A second run skips every file (nothing is read from the origin); a changed copy is replaced.
  - A progress line on a terminal (under script(1)), plain lines otherwise.
  - With the origin down, an uncached model fails with the reason (exit 1), and nothing partial
    is left in the staging folder; a path outside a mount is a usage error (exit 2).
  - by_framework = false: no view; hubfs stage then uses the plain names.
"""

import errno
import json
import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

import hubfs_testlib as lib
from hubfs_testlib import HUB

DIGITS = "digits"
VIEW = "by-framework"
DIGITS_BUILDER = lib.SOURCE_DIR / "tests/fixtures/make_digits_store.py"
MODEL_KEYS = ("snapshot file", "model file", "network file", "deploy file")
PLAIN_OK = re.compile(r"^ok (\S+) -> (\S+) [0-9.]+[KMG]?i?B [0-9.hms]+$")


# ------------------------------------------------------------------------------ fixtures

class Digits:
    """The DIGITS fixture: built files plus its sidecar."""

    def __init__(self, root):
        import importlib.util
        spec = importlib.util.spec_from_file_location("make_digits_store", DIGITS_BUILDER)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.build(str(root))
        self.root = Path(root)
        self.meta = json.loads((self.root / "fixture.json").read_text())

    def model_files(self, stores=("storeA", "storeB")):
        """{"<store>/<model>/<file>": framework} of the files info.json names as the model."""
        out = {}
        for path, entry in self.meta["expected"].items():
            parts = path.split("/")
            if entry["kind"] != "file" or parts[0] not in stores or parts[-1] != "info.json":
                continue
            info = json.loads((self.root / entry["source"]).read_text())
            for key in MODEL_KEYS:
                name = info.get(key)
                file = f"{parts[0]}/{parts[1]}/{name}"
                if isinstance(name, str) and file in self.meta["expected"]:
                    out[file] = info.get("framework", "caffe").lower()
        return out

    def readable(self, path):
        return "source" in self.meta["expected"][path] and not self.meta["expected"][path].get("missing") \
            and not self.meta["expected"][path].get("redirected")


@pytest.fixture(scope="module")
def digits_fixture(tmp_path_factory):
    return Digits(tmp_path_factory.mktemp("digits-stores"))


@pytest.fixture
def digits_nginx(nginx_factory, digits_fixture):
    return nginx_factory(digits_fixture.root, "        location /storeB/ { autoindex off; index index.html; }")


def hubs(onnx_fixture, nginx, digits_nginx):
    return [lib.HubConfig.onnx(HUB, onnx_fixture, nginx.url),
            {"type": "digits", "name": DIGITS, "urls": [f"{digits_nginx.url}/storeA/", f"{digits_nginx.url}/storeB/"]}]


@pytest.fixture
def both_mount(mount_factory, onnx_fixture, nginx, digits_nginx):
    mount = mount_factory()
    mount.write_config(hubs(onnx_fixture, nginx, digits_nginx), metadata_ttl="1h")
    mount.mount()
    return mount


# ------------------------------------------------------------------------------ helpers

def xattr(path, name):
    return os.getxattr(path, f"user.hubfs.{name}").decode()


def stage(*args, env=None, timeout=120):
    full = dict(os.environ)
    full.pop("MODELHUB_PATH", None)
    full.update(env or {})
    return subprocess.run([lib.hubfs_bin(), "stage", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL, env=full)


def onnx_models(fixture):
    """{mount path of the model folder view: manifest path} of the readable .onnx files."""
    return {fixture.mount_paths(HUB, p)[0]: p for p in fixture.readable_paths() if p.endswith(".onnx")}


def view_names_by_key(mount, framework):
    """{cache key: name} of /by-framework/<framework>/."""
    folder = mount.path(f"{VIEW}/{framework}")
    out = {}
    for name in os.listdir(folder):
        if (folder / name).is_file():
            key = xattr(folder / name, "cache_key")
            assert key not in out, f"{framework}/{name} and {framework}/{out.get(key)}: the same file twice"
            out[key] = name
    return out


def files_below(root):
    return sorted(str(p.relative_to(root)) for p in Path(root).rglob("*") if p.is_file())


def check_ok(proc):
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"


# ------------------------------------------------------------------------------ the view

def test_by_framework_lists_every_model_once_with_its_hubs_bytes(both_mount, onnx_fixture, digits_fixture):
    view = both_mount.path(VIEW)
    assert sorted(os.listdir(view)) == ["caffe", "onnx"]

    # ONNX: every .onnx of the hub (by cache key), same bytes as the hub path and the origin.
    onnx_view = view_names_by_key(both_mount, "onnx")
    hub_models = {}
    for rel, manifest_path in onnx_models(onnx_fixture).items():
        hub_path = both_mount.path(rel)
        assert xattr(hub_path, "framework") == "onnx"
        hub_models[xattr(hub_path, "cache_key")] = (hub_path, manifest_path)
    listed = {e["model_path"] for e in onnx_fixture.listed_entries()}
    assert len(onnx_view) == len(listed), "one view file per listed .onnx (unreadable ones too)"
    for key, (hub_path, manifest_path) in hub_models.items():
        assert key in onnx_view, f"{hub_path} is not in /{VIEW}/onnx"
        in_view = view / "onnx" / onnx_view[key]
        assert xattr(in_view, "framework") == "onnx"
        assert in_view.read_bytes() == hub_path.read_bytes() == onnx_fixture.media_bytes(manifest_path)
        assert os.path.basename(manifest_path).split(".")[0] in onnx_view[key]
    # Non-models are not there: no bundle, no info.json, no symlink.
    assert not [n for n in os.listdir(view / "onnx") if not n.endswith(".onnx")]
    with pytest.raises(OSError) as info:
        os.getxattr(both_mount.path(next(iter(onnx_models(onnx_fixture))).rsplit("/", 1)[0] + "/info.json"),
                    "user.hubfs.framework")
    assert info.value.errno == errno.ENODATA

    # DIGITS: the files info.json names as the model, under caffe, each once.
    caffe_view = view_names_by_key(both_mount, "caffe")
    models = digits_fixture.model_files()
    assert len(caffe_view) == len(models)
    by_path = {}
    for path, framework in models.items():
        hub_path = both_mount.path(f"{DIGITS}/{path}")
        assert xattr(hub_path, "framework") == framework == "caffe"
        name = caffe_view[xattr(hub_path, "cache_key")]
        by_path[path] = name
        if digits_fixture.readable(path):
            assert (view / "caffe" / name).read_bytes() == hub_path.read_bytes()
    # Collisions (docs/staging.md): store A is listed first and keeps the plain names; store B's
    # copies of the same models are called after their model folder.
    assert by_path["storeA/lenet/deploy.prototxt"] == "deploy.prototxt"
    assert by_path["storeB/lenet/deploy.prototxt"] == "deploy~lenet.prototxt"
    assert by_path["storeA/lenet/snapshot_iter_100.caffemodel"] == "snapshot_iter_100.caffemodel"
    assert by_path["storeB/lenet/snapshot_iter_100.caffemodel"] == "snapshot_iter_100~lenet.caffemodel"
    originals = {p: n for p, n in by_path.items() if p.endswith("/original.prototxt")}
    assert len(originals) >= 4, originals
    assert list(originals.values()).count("original.prototxt") == 1
    plain = [p for p, n in originals.items() if n == "original.prototxt"][0]
    assert plain.startswith("storeA/")
    for path, name in originals.items():
        if name == "original.prototxt":
            continue
        store, model, _ = path.split("/")
        m = re.fullmatch(r"original~([^~]+)(~digits)?(~\d+)?\.prototxt", name)
        assert m and m.group(1) == model, f"{path} is called {name}"


# ------------------------------------------------------------------------------ hubfs stage

def test_stage_to_modelhub_path_then_skips_then_to_dir_and_staging_dir(both_mount, onnx_fixture, nginx, tmp_path):
    models = onnx_models(onnx_fixture)
    area = "vision"
    chosen = {rel: p for rel, p in models.items() if rel.startswith(f"{HUB}/{area}/")}
    assert len(chosen) >= 3, "the fixture's vision/ area should hold several readable models"
    staging = tmp_path / "modelhub"
    proc = stage(both_mount.path(f"{HUB}/{area}"), "--config", both_mount.config, env={"MODELHUB_PATH": str(staging)})
    # vision/ also holds the bad-sha and the missing model: they fail, named; the rest is staged.
    eio = {p for p in onnx_fixture.meta["eio_paths"] if p.endswith(".onnx")}
    eio_here = [p for p in eio if onnx_fixture.mount_paths(HUB, p)[0].startswith(f"{HUB}/{area}/")]
    assert proc.returncode == (1 if eio_here else 0), proc.stdout + proc.stderr
    assert "\r" not in proc.stdout, "progress codes on a pipe"
    assert re.search(r"hubfs stage: \d+ file\(s\) that are no models .* left out", proc.stderr), proc.stderr
    done = {m.group(1): m.group(2) for line in proc.stdout.splitlines() if (m := PLAIN_OK.match(line))}
    assert set(done) == {str(both_mount.path(rel)) for rel in chosen}, proc.stdout
    for rel, manifest_path in chosen.items():
        dest = Path(done[str(both_mount.path(rel))])
        assert dest.parent == staging / "onnx", dest
        assert dest.read_bytes() == onnx_fixture.media_bytes(manifest_path)
        # The view's name for the same file.
        assert xattr(both_mount.path(f"{VIEW}/onnx/{dest.name}"), "cache_key") == xattr(both_mount.path(rel), "cache_key")
        assert os.getxattr(dest, "user.hubfs.sha256").decode() == xattr(both_mount.path(rel), "sha256")
    for p in eio_here:
        assert f"failed {both_mount.path(onnx_fixture.mount_paths(HUB, p)[0])} -> " in proc.stdout
    summary = proc.stdout.splitlines()[-1]
    assert re.match(rf"stage: {len(chosen) + len(eio_here)} files \(.*\): {len(chosen)} staged, 0 skipped "
                    rf"\(already staged\), {len(eio_here)} failed in ", summary), summary
    assert not [n for n in files_below(staging) if ".hubfs-stage" in n], files_below(staging)

    # Again: nothing is read from the origin, every file is skipped.
    mark = nginx.mark()
    again = stage(*[both_mount.path(rel) for rel in chosen], env={"MODELHUB_PATH": str(staging)})
    check_ok(again)
    assert f"0 staged, {len(chosen)} skipped (already staged), 0 failed" in again.stdout, again.stdout
    assert not nginx.requests(mark, prefix="/media/"), "a second stage fetched again"

    # A copy changed behind hubfs' back is replaced.
    victim = Path(done[str(both_mount.path(next(iter(chosen))))])
    victim.write_bytes(b"x" * victim.stat().st_size)
    third = stage(both_mount.path(next(iter(chosen))), env={"MODELHUB_PATH": str(staging)})
    check_ok(third)
    assert "1 staged, 0 skipped" in third.stdout, third.stdout
    assert victim.read_bytes() == onnx_fixture.media_bytes(next(iter(chosen.values())))

    # --to wins over MODELHUB_PATH; a view path and a hub path of one file are staged once.
    to = tmp_path / "to"
    rel, manifest_path = next(iter(chosen.items()))
    name = Path(done[str(both_mount.path(rel))]).name
    proc = stage(both_mount.path(rel), both_mount.path(f"{VIEW}/onnx/{name}"), "--to", to,
                 env={"MODELHUB_PATH": str(staging)})
    check_ok(proc)
    assert files_below(to) == [f"onnx/{name}"]

    # The configuration's staging_dir wins over MODELHUB_PATH.
    configured = tmp_path / "configured"
    config = tmp_path / "stage.toml"
    config.write_text(f"staging_dir = {lib.toml_string(configured)}\n")
    proc = stage(both_mount.path(rel), "--config", config, env={"MODELHUB_PATH": str(staging)})
    check_ok(proc)
    assert files_below(configured) == [f"onnx/{name}"]


def test_stage_digits_paths_land_under_their_view_names(both_mount, digits_fixture, tmp_path):
    to = tmp_path / "out"
    proc = stage(both_mount.path(f"{DIGITS}/storeA/lenet/deploy.prototxt"),
                 both_mount.path(f"{DIGITS}/storeB/lenet"),
                 both_mount.path(f"{VIEW}/caffe/snapshot_iter_100.caffemodel"), "--to", to)
    check_ok(proc)
    assert files_below(to) == ["caffe/deploy.prototxt", "caffe/deploy~lenet.prototxt",
                               "caffe/original~lenet.prototxt", "caffe/snapshot_iter_100.caffemodel",
                               "caffe/snapshot_iter_100~lenet.caffemodel"], proc.stdout
    src = digits_fixture.meta["expected"]["storeB/lenet/deploy.prototxt"]["source"]
    assert (to / "caffe/deploy~lenet.prototxt").read_bytes() == (digits_fixture.root / src).read_bytes()
    # storeB/lenet also holds info.json, labels, mean, solver...: left out.
    assert "that are no models" in proc.stderr


def test_stage_draws_a_progress_line_on_a_terminal(both_mount, onnx_fixture, tmp_path):
    rel = next(iter(onnx_models(onnx_fixture)))
    command = " ".join(shlex.quote(str(a)) for a in
                       [lib.hubfs_bin(), "stage", both_mount.path(rel), "--to", tmp_path / "tty"])
    proc = subprocess.run(["script", "-qfec", command, "/dev/null"], capture_output=True,
                          timeout=60, stdin=subprocess.DEVNULL)
    out = proc.stdout.decode()  # bytes first: text mode would turn "\r" into "\n"
    assert proc.returncode == 0, out + proc.stderr.decode()
    assert "\r[100%] " in out and "\x1b[K" in out, repr(out)
    assert re.search(r"\[100%\] .* 1/1 files", out), repr(out)
    assert "stage: 1 files" in out and "1 staged" in out
    assert not re.search(r"^ok ", out, re.M), "plain lines on a terminal"


def test_stage_with_the_origin_down_fails_with_the_reason_and_leaves_nothing(both_mount, onnx_fixture, nginx, tmp_path):
    rel = next(iter(onnx_models(onnx_fixture)))
    nginx.stop()
    to = tmp_path / "down"
    proc = stage(both_mount.path(rel), "--to", to)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    failed = [line for line in proc.stdout.splitlines() if line.startswith("failed ")]
    assert len(failed) == 1, proc.stdout
    assert "Input/output error" in failed[0] and "(Unavailable: " in failed[0], failed[0]
    assert "0 staged, 0 skipped (already staged), 1 failed" in proc.stdout
    assert files_below(to) == [], files_below(to)


def test_stage_usage_errors(both_mount, onnx_fixture, tmp_path):
    outside = tmp_path / "plain.onnx"
    outside.write_bytes(b"not in a mount")
    proc = stage(outside, "--to", tmp_path / "x")
    assert proc.returncode == 2 and "is not in a hubfs mount" in proc.stderr, proc.stderr
    proc = stage(both_mount.path(f"{HUB}/no-such"), "--to", tmp_path / "x")
    assert proc.returncode == 2, proc.stderr
    info = next(iter(onnx_models(onnx_fixture))).rsplit("/", 1)[0] + "/info.json"
    proc = stage(both_mount.path(info), "--to", tmp_path / "x")
    assert proc.returncode == 1 and "not a model file" in proc.stdout, proc.stdout
    not_dir = tmp_path / "file"
    not_dir.write_text("")
    proc = stage(both_mount.path(next(iter(onnx_models(onnx_fixture)))), "--to", not_dir)
    assert proc.returncode == 2 and "hubfs stage: " in proc.stderr, proc.stderr


def test_without_the_view_stage_uses_plain_names(mount_factory, onnx_fixture, nginx, digits_nginx, tmp_path):
    mount = mount_factory()
    mount.write_config(hubs(onnx_fixture, nginx, digits_nginx), extra="by_framework = false")
    mount.mount()
    assert VIEW not in os.listdir(mount.path())
    to = tmp_path / "plain"
    proc = stage(mount.path(f"{DIGITS}/storeA/lenet/deploy.prototxt"), "--to", to)
    check_ok(proc)
    assert files_below(to) == ["caffe/deploy.prototxt"]
    # Two different files would take one name: the second is refused, not overwritten.
    proc = stage(mount.path(f"{DIGITS}/storeA/lenet/deploy.prototxt"),
                 mount.path(f"{DIGITS}/storeB/lenet/deploy.prototxt"), "--to", to)
    assert proc.returncode == 1 and "would be staged as caffe/deploy.prototxt" in proc.stdout, proc.stdout


# ------------------------------------------------------------------------------ archives

@pytest.fixture(scope="module")
def archives(tmp_path_factory):
    root = tmp_path_factory.mktemp("archives")
    subprocess.run(["/usr/bin/python3", lib.SOURCE_DIR / "tests/fixtures/make_archives.py", root], check=True,
                   timeout=300)
    return root, json.loads((root / "archives.json").read_text())


def tree_bytes(folder):
    """{relative path: bytes} of the regular files below `folder`."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in Path(folder).rglob("*")
            if p.is_file() and not p.is_symlink()}


def test_archive_models_are_staged_uncompressed_with_their_folder(mount_factory, nginx_factory, archives, tmp_path):
    root, meta = archives
    server = nginx_factory(root)
    mount = mount_factory()
    models = {key: f"{server.url}/{meta[key]['path']}" for key in ("model", "mar")}
    mount.write_config([{"type": "dms", "name": "dms", "models": models}])
    mount.mount()
    view = mount.path(f"{VIEW}/mxnet")
    # The archive, and beside it the same unpacked folder as in the hub.
    assert sorted(os.listdir(view)) == ["mar", "mar.mar", "model", "model.model"]
    assert xattr(mount.path("dms/model.model"), "framework") == "mxnet"
    members = tree_bytes(mount.path("dms/model"))
    assert members, "the fixture's archive has members"
    assert tree_bytes(view / "model") == members

    to = tmp_path / "staged"
    proc = stage(mount.path("dms/model.model"), "--to", to)
    check_ok(proc)
    assert (to / "mxnet/model.model").read_bytes() == (root / meta["model"]["path"]).read_bytes()
    assert tree_bytes(to / "mxnet/model") == members
    assert "that are no models" not in proc.stderr
    # The hub folder: both archives with their folders; the hub's unpacked folders are not
    # walked on their own (their archives bring them).
    proc = stage(mount.path("dms"), "--to", to)
    check_ok(proc)
    assert tree_bytes(to / "mxnet/mar") == tree_bytes(mount.path("dms/mar"))
    assert f"0 failed" in proc.stdout and "that are no models" not in proc.stderr, proc.stdout + proc.stderr
