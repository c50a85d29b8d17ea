"""The site cache tier: origin nginx <- site cache nginx <- two hubfs boxes.

The site cache runs packaging/site-cache/nginx.conf as shipped; only what is specific to a
machine is replaced (SiteCache below): the listen address, the cache and log paths, the cache's
size limits and the list of allowed origins, which becomes the loopback origin. Every server is on
127.0.0.1.

  test_two_boxes_download_a_model_from_the_origin_once
      two mounts with separate caches read one cold 512 MiB model at the same time through the
      site cache; the origin sends each 8 MiB slice once, both mounts verify the bytes.
  test_a_stopped_site_cache_falls_back_to_the_origin_only_when_configured
      with the site cache stopped, mirror_fallback = true reads from the origin, false fails with
      EIO and says why in the log.
  test_hugging_face_cdn_redirects_come_back_through_the_site_cache
      the Hugging Face fixture (API + a CDN with signed URLs): the site cache rewrites the CDN
      redirect to itself, so the second box's LFS bytes come from the site cache.
"""

import errno
import hashlib
import json
import os
import re
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

import hubfs_testlib as lib
from hf_testlib import hf_data, hf_server, hub  # noqa: F401 (fixtures)

MIB = 1 << 20
BIG_SIZE = 512 * MIB
SMALL_SIZE = 6 * MIB
SLICE = 8 * MIB                                  # `slice 8m` in the shipped nginx.conf
REPO = ("site", "models", "main")
SHIPPED_CONF = lib.SOURCE_DIR / "packaging/site-cache/nginx.conf"
SITE_TOML = lib.SOURCE_DIR / "packaging/site-cache/hubfs-site.toml"


# ------------------------------------------------------------------------------ the origin hub

def write_model(path, size, seed):
    """A model of `size` bytes that is cheap to make and to serve: 64 KiB of random bytes at the
    start of every MiB, holes in between (a sparse file). Every slice differs from every other,
    so a slice served at the wrong offset fails the sha256. Returns its sha256."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = os_random(seed)
    digest = hashlib.sha256()
    zeros = bytes(MIB - 64 * 1024)
    with open(path, "wb") as f:
        for _ in range(size // MIB):
            head = rng(64 * 1024)
            f.write(head)
            f.seek(len(zeros), os.SEEK_CUR)
            digest.update(head)
            digest.update(zeros)
        f.truncate(size)
    return digest.hexdigest()


def os_random(seed):
    """A seeded byte source (fast: SHAKE-256 output), so the model is the same on every run."""
    counter = [0]

    def take(n):
        counter[0] += 1
        return hashlib.shake_256(f"{seed}-{counter[0]}".encode()).digest(n)
    return take


class OriginHub:
    """An ONNX hub with two models (a 512 MiB one and a 6 MiB one): the manifest below raw/, the
    files below media/, as GitHub serves the ONNX Model Hub."""

    def __init__(self, root):
        self.root = Path(root)
        repo = "/".join(REPO)
        manifest = []
        self.models = {}
        for name, size in (("big", BIG_SIZE), ("small", SMALL_SIZE)):
            model_path = f"models/site/{name}/model/{name}-13.onnx"
            data_path = model_path.removesuffix(".onnx") + ".tar.gz"
            sha = write_model(self.root / "media" / repo / model_path, size, f"hubfs-site-{name}")
            data = f"{name}: no test data\n".encode()
            (self.root / "media" / repo / data_path).write_bytes(data)
            manifest.append({
                "model": name, "model_path": model_path, "onnx_version": "1.12", "opset_version": 13,
                "metadata": {"model_sha": sha, "model_bytes": size, "tags": ["site"],
                             "io_ports": {"inputs": [], "outputs": []},
                             "model_with_data_path": data_path,
                             "model_with_data_sha": hashlib.sha256(data).hexdigest(),
                             "model_with_data_bytes": len(data)}})
            self.models[name] = {"sha256": sha, "size": size, "rel": f"onnx/tree/{model_path}",
                                 "uri": f"/media/{repo}/{model_path}"}
        (self.root / "raw" / repo).mkdir(parents=True)
        (self.root / "raw" / repo / "ONNX_HUB_MANIFEST.json").write_text(json.dumps(manifest))
        self.manifest_uri = f"/raw/{repo}/ONNX_HUB_MANIFEST.json"


@pytest.fixture(scope="module")
def origin_hub(tmp_path_factory):
    return OriginHub(tmp_path_factory.mktemp("site-origin"))


# ------------------------------------------------------------------------------ the site cache

def allowed_origins(origins, signed=()):
    """The shipped file's allowed-origins block for loopback origins ("127.0.0.1:PORT", served
    over http); `signed`: those that are CDNs with signed query strings."""
    lines = ["map $hubfs_host $hubfs_origin {", '    default "";']
    lines += [f"    {o} http://{o};" for o in origins]
    lines += ["}", "map $hubfs_host $hubfs_signed_urls {", "    default 0;"]
    lines += [f"    {o} 1;" for o in signed]
    return "\n".join(lines + ["}"])


def site_cache_conf(shipped, *, work, port, origins, signed=()):
    """The shipped nginx.conf for a test: each replacement must match exactly once, so a change
    of the shipped file's shape fails here instead of testing something else."""
    replacements = [
        (r"listen 8080;", f"listen 127.0.0.1:{port};"),
        (r"\n *listen \[::\]:8080;", ""),
        (r"proxy_cache_path /var/cache/nginx/hubfs ", f"proxy_cache_path {work}/cache "),
        (r"max_size=\S+ min_free=\S+", "max_size=4g min_free=1g"),
        (r"access_log /var/log/nginx/hubfs-site-cache.log", f"access_log {work}/site.log"),
        (r"(?s)# BEGIN allowed origins\n.*?\n# END allowed origins\n",
         allowed_origins(origins, signed) + "\n"),
    ]
    text = shipped
    for pattern, replacement in replacements:
        text, n = re.subn(pattern, lambda _: replacement, text)
        assert n == 1, f"{SHIPPED_CONF}: expected one match of {pattern!r}, found {n}"
    return f"""\
# Generated by test_site_cache.py from {SHIPPED_CONF}.
daemon off;
master_process off;    # one process, running as the test's user: it owns the cache folder
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/error.log info;
events {{ worker_connections 512; }}
http {{
    client_body_temp_path {work}/tmp/client_body;
    proxy_temp_path {work}/tmp/proxy;
    fastcgi_temp_path {work}/tmp/fastcgi;
    uwsgi_temp_path {work}/tmp/uwsgi;
    scgi_temp_path {work}/tmp/scgi;
{text}
}}
"""


class SiteCache:
    """nginx running the shipped site cache configuration on 127.0.0.1."""

    def __init__(self, work, origins, signed=()):
        self.work = Path(work)
        (self.work / "tmp").mkdir(parents=True, exist_ok=True)
        (self.work / "cache").mkdir(exist_ok=True)
        self.port = lib.free_port()
        self.conf = self.work / "nginx.conf"
        self.conf.write_text(site_cache_conf(SHIPPED_CONF.read_text(), work=self.work, port=self.port,
                                             origins=origins, signed=signed))
        self.proc = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        cmd = [lib.find_program("nginx"), "-p", f"{self.work}/", "-c", str(self.conf),
               "-e", str(self.work / "error.log")]
        check = lib.run(cmd + ["-t"])
        assert check.returncode == 0, f"nginx -t refused the site cache config:\n{check.stderr}"
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"site cache nginx exited:\n{self.error_tail()}"
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"site cache nginx did not start:\n{self.error_tail()}")

    def stop(self):
        if self.proc is not None:
            self.proc.terminate()  # fast shutdown of the master and its workers
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
            self.proc = None

    def error_tail(self, lines=20):
        path = self.work / "error.log"
        return "\n".join(path.read_text().splitlines()[-lines:]) if path.exists() else "(no error.log)"

    def log(self):
        """The shipped log format, parsed: [{request, status, range, cache}]."""
        path = self.work / "site.log"
        entries = []
        for line in path.read_text().splitlines() if path.exists() else []:
            m = re.search(r'"(?P<request>[^"]*)" (?P<status>\d+) \d+ range="(?P<range>[^"]*)" '
                          r'cache=(?P<cache>\S+)', line)
            assert m, f"site cache log line not in the shipped format: {line}"
            entries.append(m.groupdict())
        return entries


@pytest.fixture
def site_factory(tmp_path):
    caches = []

    def make(*origins, signed=()):
        cache = SiteCache(tmp_path / f"site{len(caches)}", origins, signed)
        caches.append(cache)
        return cache.start()

    yield make
    for cache in caches:
        cache.stop()
        print(f"site cache {cache.url} error.log (tail):\n{cache.error_tail()}")


@pytest.fixture
def origin(nginx_factory, origin_hub):
    return nginx_factory(origin_hub.root)


def mount_through(mount_factory, origin, site_url, **mirror):
    """A mount whose ONNX hub reads `origin` through the site cache at `site_url`."""
    mount = mount_factory()
    hub = {"type": "onnx", "name": "onnx", "repo": "/".join(REPO[:2]) + ":" + REPO[2],
           "raw_base": f"{origin.url}/raw", "media_base": f"{origin.url}/media", "mirror": site_url}
    options = "".join(f"{k} = {str(v).lower()}\n" for k, v in mirror.items())
    mount.write_config([hub])
    mount.config.write_text(mount.config.read_text().rstrip("\n") + "\n" + options)
    mount.mount()
    return mount


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(4 * MIB):
            digest.update(chunk)
    return digest.hexdigest()


def stat_value(mount, name):
    text = (mount.path(".hubfs/stats")).read_text()
    m = re.search(rf"^{name} (\d+)$", text, re.M)
    assert m, f"{name} not in .hubfs/stats:\n{text}"
    return int(m.group(1))


# ------------------------------------------------------------------------------ tests

def test_the_shipped_hubfs_config_is_valid():
    result = lib.hubfs_command("config", "check", str(SITE_TOML))
    assert result.returncode == 0, result.stdout + result.stderr


def test_two_boxes_download_a_model_from_the_origin_once(mount_factory, origin, origin_hub,
                                                         site_factory):
    site = site_factory(f"127.0.0.1:{origin.port}")
    boxes = [mount_through(mount_factory, origin, site.url) for _ in range(2)]
    big = origin_hub.models["big"]

    # Both boxes read the cold model at the same time.
    results, errors = {}, []

    def read(i):
        try:
            results[i] = sha256_of(boxes[i].path(big["rel"]))
        except OSError as e:
            errors.append(f"box {i}: {e}")
    started = time.monotonic()
    threads = [threading.Thread(target=read, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    seconds = time.monotonic() - started
    assert not errors and all(not t.is_alive() for t in threads), errors
    assert results == {0: big["sha256"], 1: big["sha256"]}

    for box in boxes:
        path = box.path(big["rel"])
        assert os.getxattr(path, "user.hubfs.verified") == b"yes"
        # The local cache names the hub's own URL, not the site cache's.
        assert os.getxattr(path, "user.hubfs.source").decode() == f"{origin.url}{big['uri']}"
        assert stat_value(box, "hubfs_origin_bytes_total") >= big["size"]

    # The origin sent the model once: every 8 MiB slice once, nothing else.
    sent = origin.requests(uri=big["uri"])
    ranges = [e["range"] for e in sent]
    assert len(ranges) == len(set(ranges)), f"a slice was fetched twice: {sorted(ranges)}"
    expected = {f"bytes={o}-{o + SLICE - 1}" for o in range(0, big["size"], SLICE)}
    assert set(ranges) == expected
    assert sum(e["body_bytes_sent"] for e in sent) == big["size"]
    assert len(origin.requests(uri=origin_hub.manifest_uri)) == 1  # the second box's was a hit

    # What the site cache's own log says (the hit rate recipe of docs/operations.md).
    model_lines = [e for e in site.log() if big["uri"] in e["request"]]
    assert len(model_lines) == 2 * big["size"] // lib.BLOCK_SIZE  # one 2 MiB block per request
    hits = sum(e["cache"] == "HIT" for e in model_lines)
    assert hits >= len(model_lines) * 3 // 4 - 2, f"{hits} hits of {len(model_lines)}"
    print(f"two boxes read {big['size'] >> 20} MiB in {seconds:.1f} s; origin sent "
          f"{sum(e['body_bytes_sent'] for e in sent) >> 20} MiB in {len(sent)} requests; site cache "
          f"hits {hits}/{len(model_lines)}")


def test_a_stopped_site_cache_falls_back_to_the_origin_only_when_configured(
        mount_factory, origin, origin_hub, site_factory):
    site = site_factory(f"127.0.0.1:{origin.port}")
    fallback = mount_through(mount_factory, origin, site.url, mirror_fallback=True)
    strict = mount_through(mount_factory, origin, site.url)  # mirror_fallback defaults to false
    site.stop()
    small = origin_hub.models["small"]
    mark = origin.mark()

    assert sha256_of(fallback.path(small["rel"])) == small["sha256"]
    assert os.getxattr(fallback.path(small["rel"]), "user.hubfs.verified") == b"yes"
    direct = origin.requests(since=mark, uri=small["uri"])
    # hubfs' own 2 MiB ranges: from the origin itself, not through a site cache's 8 MiB slices.
    assert sorted(e["range"] for e in direct) == sorted(
        f"bytes={o}-{o + lib.BLOCK_SIZE - 1}" for o in range(0, small["size"], lib.BLOCK_SIZE))
    log = lib.log_text(fallback)
    assert log.count(f"hub onnx: the site cache {site.url} cannot be reached") == 1, log
    assert "asking the origin directly" in log

    mark = origin.mark()
    data, err = lib.read_errno(strict.path(small["rel"]))
    assert (data, err) == (None, errno.EIO)
    assert origin.requests(since=mark, uri=small["uri"]) == []
    log = lib.log_text(strict)
    assert f"hub onnx: the site cache {site.url} cannot be reached" in log, log
    assert "mirror_fallback is off, so its downloads fail" in log
    assert re.search(r"hub onnx, through its site cache: GET http://127\.0\.0\.1:\d+/127\.0\.0\.1:"
                     rf"{origin.port}{re.escape(small['uri'])}: connection refused", log), log


def test_hugging_face_cdn_redirects_come_back_through_the_site_cache(mount_factory, hf_server, hf_data,
                                                                  site_factory):
    api, cdn = (f"127.0.0.1:{p}" for p in (hf_server.api_port, hf_server.cdn_port))
    site = site_factory(api, cdn, signed=[cdn])
    repo = hf_data["repos"][hub.MNIST]
    files = repo["commits"][repo["revisions"]["main"]]["files"]
    lfs = sorted(p for p, f in files.items() if f["lfs"])
    assert lfs, "the fixture repository has LFS files"
    for box in range(2):
        mount = mount_factory()
        mount.write_config([{"type": "hf", "name": "hf", "endpoint": hf_server.endpoint, "hf_cache": "",
                             "repos": [hub.MNIST], "mirror": site.url}])
        mount.mount()
        mark = hf_server.mark()
        for path, f in files.items():
            got = mount.path(f"hf/{hub.MNIST}/{path}")
            assert got.read_bytes() == Path(f["bytes_path"]).read_bytes(), path
        assert os.getxattr(mount.path(f"hf/{hub.MNIST}/{lfs[0]}"), "user.hubfs.sha256").decode() == \
            files[lfs[0]]["sha256"]
        from_cdn = hf_server.requests(mark, role="cdn")
        if box == 0:
            # Each LFS file's slices, fetched by the site cache (8 MiB ranges, never hubfs's 2 MiB).
            assert sorted({e["path"].split("?")[0] for e in from_cdn}) == \
                sorted(f"/blobs/{files[p]['sha256']}" for p in lfs)
            assert all(e["range"].startswith("bytes=") and
                       int(e["range"].split("=")[1].split("-")[0]) % SLICE == 0 for e in from_cdn), from_cdn
            assert not any(e["authorization"] for e in from_cdn)
        else:
            # The second box's CDN downloads (other signatures, same paths) were all hits.
            assert from_cdn == [], from_cdn
    # API pages differ only in their query (?cursor=), which the key leaves out: never cached.
    api_queries = [e for e in site.log() if e["request"].startswith(f"GET /{api}/api/") and "?" in e["request"]]
    assert api_queries and {e["cache"] for e in api_queries} == {"BYPASS"}, api_queries
    cdn_lines = [e for e in site.log() if e["request"].startswith(f"GET /{cdn}/blobs/")]
    assert {e["cache"] for e in cdn_lines[len(cdn_lines) // 2:]} == {"HIT"}, cdn_lines
