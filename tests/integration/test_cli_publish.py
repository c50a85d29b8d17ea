"""`hubfs publish` and `hubfs validate --format`: folders of models become hubs that nginx on
127.0.0.1 serves to a fresh hubfs mount and to Debian's python3-onnx `onnx.hub` client.

ONNX: real models from libonnx-testdata are laid out as a zoo below www/acme/models/main (the repo
root), published, checked against python3-onnx's own reading of each model (opset, io_ports),
validated, served with `root www`, mounted (every file byte-exact through the mount's tree/ view)
and loaded with onnx.hub. onnx.hub builds its URLs from the fixed GitHub hosts, so the test
replaces only its `_get_base_url` with the nginx base; list_models, get_model_info, the download,
the sha256 check and onnx.load are the client's own code.
DIGITS: Caffe-like model folders, master.json and info.json written (an existing info.json kept),
validated, served, mounted, listed and read byte-exact.
MindSpore: <version>/<model>/ weights, markdown written with asset-sha256, `hubfs validate` passes,
`--git` commits only mshub_res/, and a hub with that git_url lists and reads the weights.
"""

import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

import hubfs_testlib as lib

TESTDATA = Path(os.environ.get("HUBFS_ONNX_TESTDATA", "/usr/share/libonnx-testdata/data"))
# (source test dir, path below the repo root); names end in -<opset> like the zoo's.
MODELS = [
    ("node/test_abs", "vision/classification/absnet/model/absnet-13.onnx"),
    ("pytorch-converted/test_Conv2d", "vision/classification/convnet/model/convnet-6.onnx"),
    ("node/test_sequence_insert_at_back", "text/sequence_ops/seqnet/model/seqnet-11.onnx"),
    ("simple/test_sequence_model1", "text/sequence_ops/seqnet/model/seqnet-12.onnx"),
    ("node/test_optional_get_element_sequence", "misc/optnet.onnx"),
]
PYTHON = "/usr/bin/python3"


def hubfs(*args, **kwargs):
    return lib.run([lib.hubfs_bin(), *map(str, args)], **kwargs)


@pytest.fixture
def work(tmp_path):
    missing = lib.missing_prerequisites()
    assert not missing, f"prerequisites missing: {missing}"
    assert TESTDATA.is_dir(), f"{TESTDATA} is missing: install Debian's libonnx-testdata"
    return tmp_path


@pytest.fixture
def cleanup():
    things = []
    yield things
    for thing in reversed(things):
        thing.cleanup() if hasattr(thing, "cleanup") else thing.stop()


def make_bundle(model_file, test_dir, out):
    """A zoo-style .tar.gz: one top folder with model.onnx and test_data_set_0/."""
    with tarfile.open(out, "w:gz") as tar:
        tar.add(model_file, arcname="bundle/model.onnx")
        tar.add(test_dir / "test_data_set_0", arcname="bundle/test_data_set_0")


def build_onnx_repo(repo):
    for src, rel in MODELS:
        dst = repo / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(TESTDATA / src / "model.onnx", dst)
    first = repo / MODELS[0][1]
    make_bundle(first, TESTDATA / MODELS[0][0], first.with_suffix("").with_suffix(".tar.gz"))


def python_onnx_ports(path):
    """opset and io_ports of a model as python3-onnx reads them."""
    script = r"""
import json, sys, onnx
m = onnx.load(sys.argv[1])
inits = {i.name for i in m.graph.initializer}
def t(tp):
    k = tp.WhichOneof("value")
    if k == "tensor_type":
        return "tensor(%s)" % onnx.TensorProto.DataType.Name(tp.tensor_type.elem_type).lower()
    if k == "sequence_type": return "seq(%s)" % t(tp.sequence_type.elem_type)
    if k == "optional_type": return "optional(%s)" % t(tp.optional_type.elem_type)
    return k
def shape(tp):
    while tp.WhichOneof("value") in ("sequence_type", "optional_type"):
        tp = getattr(tp, tp.WhichOneof("value")).elem_type
    dims = tp.tensor_type.shape.dim
    return [d.dim_value if d.HasField("dim_value") else (d.dim_param if d.HasField("dim_param") else None) for d in dims]
ports = lambda vs: [{"name": v.name, "shape": shape(v.type), "type": t(v.type)} for v in vs if v.name not in inits]
opset = [o.version for o in m.opset_import if o.domain in ("", "ai.onnx")][0]
print(json.dumps({"opset": opset, "io_ports": {"inputs": ports(m.graph.input), "outputs": ports(m.graph.output)}}))
"""
    proc = subprocess.run([PYTHON, "-c", script, str(path)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_onnx_publish_validate_serve_mount_and_onnx_hub(work, cleanup):
    www = work / "www"
    repo = www / "acme" / "models" / "main"
    build_onnx_repo(repo)
    (repo / "broken").mkdir()
    (repo / "broken" / "junk.onnx").write_bytes(b"\x0b not a protobuf")
    (repo / ".hidden").mkdir()
    (repo / ".hidden" / "x.onnx").write_bytes(b"ignored")

    proc = hubfs("publish", repo, "--format", "onnx")
    assert proc.returncode == 1, proc.stderr  # the junk file was skipped
    assert "skipped broken/junk.onnx" in proc.stderr
    assert f"ok      {MODELS[0][1]}" in proc.stderr
    shutil.rmtree(repo / "broken")
    proc = hubfs("publish", repo, "--format", "onnx")
    assert proc.returncode == 0, proc.stderr
    assert "5 models" in proc.stdout

    text = (repo / "ONNX_HUB_MANIFEST.json").read_text()
    manifest = json.loads(text)
    assert [e["model_path"] for e in manifest] == sorted(rel for _, rel in MODELS)
    by_path = {e["model_path"]: e for e in manifest}
    for src, rel in MODELS:
        entry, data = by_path[rel], (repo / rel).read_bytes()
        meta = entry["metadata"]
        assert meta["model_sha"] == hashlib.sha256(data).hexdigest()
        assert meta["model_bytes"] == len(data)
        expected = python_onnx_ports(repo / rel)
        assert entry["opset_version"] == expected["opset"], rel
        assert meta["io_ports"] == expected["io_ports"], rel
    absnet = by_path[MODELS[0][1]]
    assert absnet["model"] == "absnet" and absnet["onnx_version"] == "1.8"
    assert absnet["metadata"]["tags"] == ["vision", "classification", "absnet"]
    bundle = repo / absnet["metadata"]["model_with_data_path"]
    assert absnet["metadata"]["model_with_data_sha"] == hashlib.sha256(bundle.read_bytes()).hexdigest()
    assert [e["model"] for e in manifest].count("seqnet") == 2  # two opsets, one name

    proc = hubfs("validate", repo, "--format", "onnx")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "6 files checked: all match" in proc.stdout
    victim = repo / MODELS[1][1]
    original = victim.read_bytes()
    victim.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))
    proc = hubfs("validate", repo, "--format", "onnx")
    assert proc.returncode == 1 and "sha256" in proc.stdout, proc.stdout
    victim.write_bytes(original)
    assert hubfs("validate", work / "nope", "--format", "onnx").returncode == 2

    nginx = lib.NginxServer(www, work / "nginx").start()
    cleanup.append(nginx)
    mount = lib.HubfsMount(work)
    cleanup.append(mount)
    mount.write_config([lib.HubConfig("pub", "acme/models:main", nginx.url, nginx.url)])
    mount.mount()
    files = [e["model_path"] for e in manifest] + [absnet["metadata"]["model_with_data_path"]]
    for rel in files:
        assert (mount.path("pub/tree") / rel).read_bytes() == (repo / rel).read_bytes(), rel
    mount.umount()

    # The official client, with only its two URL templates pointed at nginx.
    script = r"""
import sys, onnx
from onnx import hub
base = sys.argv[1]
hub._get_base_url = lambda repo, lfs=False: base + "/" + "/".join(hub._parse_repo_info(repo)) + "/"
hub.set_dir(sys.argv[2])
repo = "acme/models:main"
names = sorted({m.model for m in hub.list_models(repo)})
print("models", names)
print("tagged", sorted(m.model for m in hub.list_models(repo, tags=["classification"])))
info = hub.get_model_info("seqnet", repo)
print("seqnet opset", info.opset)
for name in names:
    model = hub.load(name, repo, silent=True)
    assert model is not None and len(model.graph.output) > 0, name
print("loaded", len(names))
"""
    proc = subprocess.run([PYTHON, "-c", script, nginx.url, str(work / "onnx-cache")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "models ['absnet', 'convnet', 'optnet', 'seqnet']" in proc.stdout
    assert "tagged ['absnet', 'convnet']" in proc.stdout
    assert "seqnet opset 12" in proc.stdout
    assert "loaded 4" in proc.stdout


def test_digits_publish_validate_serve_mount(work, cleanup):
    store = work / "store"
    lenet = store / "lenet"
    lenet.mkdir(parents=True)
    for name, data in {"deploy.prototxt": b"name: 'LeNet'\n", "labels.txt": b"0\n1\n",
                       "snapshot_iter_100.caffemodel": b"old", "solver.prototxt": b"solver\n",
                       "snapshot_iter_2000.caffemodel": os.urandom(300000)}.items():
        (lenet / name).write_bytes(data)
    custom = store / "custom"
    custom.mkdir()
    (custom / "weights.bin").write_bytes(b"w" * 1000)
    (custom / "net.txt").write_bytes(b"net")
    info = {"name": "Custom", "framework": "caffe", "snapshot file": "weights.bin",
            "model file": "net.txt"}
    (custom / "info.json").write_text(json.dumps(info))
    (store / "empty").mkdir()

    proc = hubfs("publish", store, "--format", "digits")
    assert proc.returncode == 1, proc.stderr  # "empty" has no weights
    assert "skipped empty/" in proc.stderr
    assert json.loads((custom / "info.json").read_text()) == info  # kept as written
    written = json.loads((lenet / "info.json").read_text())
    assert written["snapshot file"] == "snapshot_iter_2000.caffemodel"
    assert written["model file"] == "deploy.prototxt"
    assert json.loads((store / "master.json").read_text())["children"] == ["custom", "lenet"]
    shutil.rmtree(store / "empty")
    assert hubfs("publish", store, "--format", "digits").returncode == 0

    proc = hubfs("validate", store, "--format", "digits")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (custom / "net.txt").unlink()
    proc = hubfs("validate", store, "--format", "digits")
    assert proc.returncode == 1 and "custom/net.txt: named by info.json but missing" in proc.stdout
    (custom / "net.txt").write_bytes(b"net")

    nginx = lib.NginxServer(store, work / "nginx").start()
    cleanup.append(nginx)
    mount = lib.HubfsMount(work)
    cleanup.append(mount)
    mount.write_config([{"type": "digits", "name": "digits", "urls": [nginx.url + "/"],
                         "names": ["pub"]}])
    mount.mount()
    root = mount.path("digits/pub")
    assert sorted(os.listdir(root)) == ["custom", "lenet"]
    assert "snapshot_iter_2000.caffemodel" in os.listdir(root / "lenet")
    for model in ("custom", "lenet"):
        for name in json.loads((store / model / "info.json").read_text()).values():
            if (store / model / name).is_file():
                assert (root / model / name).read_bytes() == (store / model / name).read_bytes()
    mount.umount()


def test_mindspore_publish_validate_git_and_mount(work, cleanup):
    top = work / "ms"
    weights = {"1.10/toynet/toynet_v1.ckpt": os.urandom(200000),
               "1.10/toynet/toynet_v1.mindir": os.urandom(1000),
               "2.0/tiny/tiny.ms": os.urandom(5000)}
    for rel, data in weights.items():
        (top / rel).parent.mkdir(parents=True, exist_ok=True)
        (top / rel).write_bytes(data)
    (top / "2.0" / "notes").mkdir()
    (top / "2.0" / "notes" / "README.txt").write_text("no weights")

    assert hubfs("publish", top, "--format", "mindspore").returncode == 2  # no --base-url
    nginx = lib.NginxServer(top, work / "nginx").start()
    cleanup.append(nginx)
    proc = hubfs("publish", top, "--format", "mindspore", "--base-url", nginx.url, "--git")
    assert proc.returncode == 1, proc.stderr  # 2.0/notes has no weights
    assert "skipped 2.0/notes/" in proc.stderr
    md = top / "mshub_res/assets/mindspore/1.10/toynet.md"
    text = md.read_text()
    for rel, data in weights.items():
        if rel.startswith("1.10/"):
            assert f"asset-link: <{nginx.url}/{rel}>" in text
            assert f"asset-sha256: {hashlib.sha256(data).hexdigest()}" in text
    proc = hubfs("validate", top / "mshub_res")
    assert proc.returncode == 0, proc.stdout
    assert "2 files checked: 2 passed" in proc.stdout
    tracked = subprocess.run(["git", "-C", str(top), "ls-files"], capture_output=True, text=True,
                             check=True).stdout.split()
    assert sorted(tracked) == [".gitignore", "mshub_res/assets/mindspore/1.10/toynet.md",
                               "mshub_res/assets/mindspore/2.0/tiny.md"]
    # A second run keeps the (possibly edited) files.
    md.write_text(text.replace("author: edit-me", "author: Toy team"))
    proc = hubfs("publish", top, "--format", "mindspore", "--base-url", nginx.url)
    assert "kept    mshub_res/assets/mindspore/1.10/toynet.md" in proc.stderr
    assert "author: Toy team" in md.read_text()

    mount = lib.HubfsMount(work)
    cleanup.append(mount)
    mount.write_config([{"type": "mindspore", "name": "ms", "git_url": str(top)}])
    proc = mount.mount(check=False)
    if proc.returncode != 0:
        pytest.fail(f"mount of the published git repository failed: {proc.stderr}\n{mount.log_tail()}")
    found = {}
    for dirpath, _, names in os.walk(mount.path("ms")):
        for name in names:
            found[name] = Path(dirpath) / name
    for rel, data in weights.items():
        name = os.path.basename(rel)
        assert name in found, f"{name} not in the mount: {sorted(found)}"
        assert found[name].read_bytes() == data
    mount.umount()
