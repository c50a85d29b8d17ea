"""pytest wiring for hubfs' integration tests (the helpers themselves are in hubfs_testlib.py).

Fixtures:
  onnx_fixture   the ONNX hub fixture tree, built once per session into a temp dir
  nginx          nginx serving onnx_fixture on 127.0.0.1 for one test
  nginx_factory  nginx with custom root or extra server-block config (limit_rate, return 503, ...)
  mount_factory  HubfsMount objects (own config, cache dir, mountpoint), always unmounted at
                 teardown
  onnx_mount     a ready mount with one ONNX hub named "onnx" pointing at `nginx`
"""

import pytest

import hubfs_testlib as lib


def pytest_report_header(config):
    return f"hubfs: HUBFS_BIN={lib.hubfs_bin() or '(unset)'}, node_modules={lib.NODE_MODULES}"


@pytest.fixture(scope="session", autouse=True)
def prerequisites():
    # Fail, never skip: an integration suite that skips on a misconfigured machine reports green
    # while testing nothing.
    problems = lib.missing_prerequisites()
    if problems:
        pytest.fail("hubfs integration tests cannot run:\n  " + "\n  ".join(problems),
                    pytrace=False)


@pytest.fixture(scope="session")
def onnx_fixture(tmp_path_factory):
    return lib.OnnxFixture.build(tmp_path_factory.mktemp("onnx-hub"))


@pytest.fixture
def nginx_factory(tmp_path):
    servers = []

    def make(root, extra=""):
        server = lib.NginxServer(root, tmp_path / f"nginx{len(servers)}", extra)
        servers.append(server)
        return server.start()

    yield make
    for server in servers:
        server.stop()
        print(f"nginx {server.url} error.log (tail):\n{server.error_tail()}")


@pytest.fixture
def nginx(nginx_factory, onnx_fixture):
    return nginx_factory(onnx_fixture.root)


@pytest.fixture
def mount_factory(tmp_path):
    with lib.mounts_in(tmp_path) as make:
        yield make


@pytest.fixture
def onnx_mount(mount_factory, onnx_fixture, nginx):
    mount = mount_factory()
    mount.write_config([lib.HubConfig.onnx(lib.HUB, onnx_fixture, nginx.url)])
    mount.mount()
    return mount
