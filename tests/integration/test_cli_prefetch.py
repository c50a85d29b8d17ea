"""`hubfs prefetch PATH... [--pin] [--jobs N]` on a real mount: it fills the cache by reading
through the mount (each file fetched once), skips what is cached (resumable), names every file
that failed and exits 1, pins before reading with --pin, draws a progress line on a terminal and
plain lines otherwise, stops at once on Ctrl-C, and refuses paths outside a mount (exit 2)."""

import os
import re
import shlex
import signal
import subprocess
import time

import pytest

import hubfs_testlib as lib
from hubfs_testlib import HUB

PLAIN_OK = re.compile(r"^ok (.+) [0-9.]+[KMG]?i?B [0-9.hms]+$")
EIO_REASON = "I/O error (see the daemon's log: "


def files_below(fixture, area):
    """{mounted path below the mount (model folder view): manifest path} of the readable files
    whose manifest path starts with validated/<area>/."""
    out = {}
    for path in fixture.readable_paths():
        if path.startswith(f"validated/{area}/"):
            out[fixture.mount_paths(HUB, path)[0]] = path
    return out


def xattr(path, name):
    return os.getxattr(path, f"user.hubfs.{name}").decode()


def assert_cached(mount, rels, fixture=None):
    for rel in rels:
        path = mount.path(rel)
        size = os.stat(path).st_size
        assert xattr(path, "verified") == "yes", f"{rel}: not verified after prefetch"
        assert int(xattr(path, "cached_bytes")) == size, f"{rel}: not wholly cached"


def prefetch(*args, timeout=60):
    return lib.hubfs_command("prefetch", *map(str, args), timeout=timeout)


def test_prefetch_folder_fetches_every_file_once_then_skips(onnx_mount, onnx_fixture, nginx):
    files = files_below(onnx_fixture, "text")
    assert len(files) >= 6, "the fixture's text/ area should hold several models"
    mark = nginx.mark()
    proc = prefetch(onnx_mount.path(f"{HUB}/text"))
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}{proc.stderr}"
    assert "\r" not in proc.stdout, "progress codes on a pipe"
    lines = proc.stdout.splitlines()
    done = {m.group(1) for line in lines if (m := PLAIN_OK.match(line))}
    assert done == {str(onnx_mount.path(rel)) for rel in files}, proc.stdout
    assert re.match(rf"prefetch: {len(files)} files \(.*\): {len(files)} fetched, 0 skipped "
                    r"\(cached\), 0 failed in ", lines[-1]), lines[-1]
    assert_cached(onnx_mount, files)
    for rel, path in files.items():
        size = os.stat(onnx_mount.path(rel)).st_size
        sent = sum(r["body_bytes_sent"]
                   for r in nginx.requests(mark, uri=onnx_fixture.media_uri(path)))
        assert sent == size, f"{rel}: origin sent {sent} bytes for a {size}-byte file"

    # Again: everything is cached, nothing is read or fetched.
    mark = nginx.mark()
    proc = prefetch(onnx_mount.path(f"{HUB}/text"))
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}{proc.stderr}"
    skipped = [line for line in proc.stdout.splitlines() if line.startswith("skipped ")]
    assert len(skipped) == len(files) and all(l.endswith("(cached)") for l in skipped), proc.stdout
    assert f"0 fetched, {len(files)} skipped" in proc.stdout
    media = nginx.requests(mark, prefix="/media/")
    assert not media, f"a second prefetch fetched again: {media}"


def test_failed_files_are_named_and_the_others_cached(onnx_mount, onnx_fixture, nginx):
    # vision/ holds the bad-sha and the missing model; the tree/ mirror names the same files a
    # second time, and each is fetched once anyway.
    eio = [onnx_fixture.mount_paths(HUB, p)[0] for p in onnx_fixture.meta["eio_paths"]]
    assert eio and all(rel.startswith(f"{HUB}/vision/") for rel in eio)
    good = files_below(onnx_fixture, "vision")
    mark = nginx.mark()
    proc = prefetch(onnx_mount.path(f"{HUB}/vision"), onnx_mount.path(f"{HUB}/tree/validated"),
                    "--jobs", "3")
    assert proc.returncode == 1, f"exit {proc.returncode}\n{proc.stdout}{proc.stderr}"
    failed = [line for line in proc.stdout.splitlines() if line.startswith("failed ")]
    assert len(failed) == len(eio), proc.stdout
    for rel in eio:
        line = next((l for l in failed if l.startswith(f"failed {onnx_mount.path(rel)}: ")), None)
        assert line is not None, f"{rel} not named as failed:\n{proc.stdout}"
        assert EIO_REASON + str(onnx_mount.cache_dir) + "/hubfs.log)" in line, line
    assert_cached(onnx_mount, good)
    for rel, path in good.items():
        sent = sum(r["body_bytes_sent"]
                   for r in nginx.requests(mark, uri=onnx_fixture.media_uri(path)))
        assert sent == os.stat(onnx_mount.path(rel)).st_size, f"{rel}: fetched {sent} bytes"
    # The text/ files were reached through tree/ only, and listed once.
    text = files_below(onnx_fixture, "text")
    assert_cached(onnx_mount, text)
    ok_lines = [l for l in proc.stdout.splitlines() if l.startswith("ok ")]
    assert len(ok_lines) == len(good) + len(text), proc.stdout


def test_pin_pins_before_reading(onnx_mount, onnx_fixture):
    files = files_below(onnx_fixture, "text/machine_comprehension/bert-squad")
    assert files
    folder = onnx_mount.path(f"{HUB}/text/bert-squad")
    proc = prefetch("--pin", folder)
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}{proc.stderr}"
    for rel in files:
        assert xattr(onnx_mount.path(rel), "pinned") == "yes", rel
    assert_cached(onnx_mount, files)
    # Already cached, and pinned all the same.
    other = onnx_mount.path(f"{HUB}/text/gpt-2")
    assert prefetch(other).returncode == 0
    proc = prefetch("--pin", other)
    assert proc.returncode == 0 and "skipped" in proc.stdout, proc.stdout
    for name in os.listdir(other):
        path = os.path.join(other, name)
        if os.path.isfile(path) and not os.path.islink(path) and name != "info.json":
            assert xattr(path, "pinned") == "yes", path


def test_progress_line_on_a_terminal(onnx_mount, onnx_fixture):
    files = files_below(onnx_fixture, "text")
    command = shlex.join([lib.hubfs_bin(), "prefetch", str(onnx_mount.path(f"{HUB}/text"))])
    # Bytes, not text: universal newlines would turn each "\r" into a line break.
    proc = subprocess.run(["script", "-qfec", command, "/dev/null"], capture_output=True,
                          timeout=60)
    out = proc.stdout.decode(errors="replace")
    assert proc.returncode == 0, f"exit {proc.returncode}\n{out!r}"
    updates = re.findall(r"\r\[\s*(\d+)%\] [^\r\n]* (\d+)/(\d+) files", out)
    assert len(updates) >= 2, f"no progress line redrawn with \\r:\n{out!r}"
    assert all(int(total) == len(files) for _, _, total in updates), out
    assert updates[-1][0] == "100" and updates[-1][1] == str(len(files)), updates[-1]
    assert "\x1b[K" in out, "the progress line is not erased before the summary"
    assert re.search(rf"prefetch: {len(files)} files .*{len(files)} fetched", out), out
    assert not re.search(r"^ok ", out.replace("\r\n", "\n"), re.M), "per-file ok lines on a tty"


def test_paths_outside_a_mount_or_missing_are_usage_errors(onnx_mount, tmp_path):
    plain = tmp_path / "plain.onnx"
    plain.write_bytes(b"not in a hubfs mount")
    for path, words in ((plain, "is not in a hubfs mount"), (tmp_path, "is not in a hubfs mount"),
                        (onnx_mount.path(f"{HUB}/nope"), "no such file")):
        proc = prefetch(onnx_mount.path(f"{HUB}/text/gpt-2"), path)
        assert proc.returncode == 2, f"{path}: exit {proc.returncode}\n{proc.stdout}{proc.stderr}"
        assert str(path) in proc.stderr and words in proc.stderr, proc.stderr
        assert not proc.stdout, f"{path}: a usage error still fetched: {proc.stdout}"
    proc = prefetch()
    assert proc.returncode not in (0, 1), "no PATH must be a usage error"


def test_ctrl_c_stops_at_once_and_a_rerun_resumes(mount_factory, onnx_fixture, tmp_path):
    origin = lib.GatedOrigin(onnx_fixture.root)
    try:
        mount = mount_factory()
        mount.write_config([lib.HubConfig.onnx(HUB, onnx_fixture, origin.url)])
        mount.mount()
        big = onnx_fixture.meta["big_model_path"]
        uri = onnx_fixture.media_uri(big)
        origin.gate(uri, 1 << 20)  # the big model stalls after its first MiB
        files = files_below(onnx_fixture, "text")
        proc = subprocess.Popen([lib.hubfs_bin(), "prefetch", "--jobs", "1",
                                 mount.path(f"{HUB}/text")],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert origin.wait_gate_reached(uri, 30), "the prefetch never reached the big model"
            proc.send_signal(signal.SIGINT)
            start = time.monotonic()
            out, err = proc.communicate(timeout=10)
            seconds = time.monotonic() - start
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert proc.returncode == 130, f"exit {proc.returncode}\n{out}{err}"
        assert seconds < 5, f"Ctrl-C took {seconds:.1f} s"
        assert "prefetch: interrupted" in out and "run the same command again" in out, out
        done_before = {m.group(1) for l in out.splitlines() if (m := PLAIN_OK.match(l))}
        assert str(mount.path(fixture_rel(onnx_fixture, big))) not in done_before

        origin.open_gate(uri)
        again = prefetch(mount.path(f"{HUB}/text"))
        assert again.returncode == 0, f"exit {again.returncode}\n{again.stdout}{again.stderr}"
        skipped = {l.split(" ")[1] for l in again.stdout.splitlines() if l.startswith("skipped ")}
        # What was done is skipped; the big model may be too (the daemon finished its download
        # after the command had gone); the rest is fetched now.
        big_path = str(mount.path(fixture_rel(onnx_fixture, big)))
        assert done_before <= skipped <= done_before | {big_path}, again.stdout
        assert len(skipped) < len(files), "the interrupted run did not stop early"
        assert_cached(mount, files)
    finally:
        origin.stop()


def fixture_rel(fixture, manifest_path):
    return fixture.mount_paths(HUB, manifest_path)[0]


def test_lazy_verification_waits_for_the_background_check(mount_factory, onnx_fixture, nginx):
    mount = mount_factory()
    mount.write_config([lib.HubConfig.onnx(HUB, onnx_fixture, nginx.url)])
    mount.mount("--verification", "lazy")
    files = files_below(onnx_fixture, "text")
    proc = prefetch(mount.path(f"{HUB}/text"))
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}{proc.stderr}"
    assert f"{len(files)} fetched" in proc.stdout, proc.stdout
    assert_cached(mount, files)
