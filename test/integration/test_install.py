"""make install: the public header lw.h, liblw.a and lw.pc are all a user
needs to build a worker out of the tree. examples/hello/hello.c, copied
alone into a temporary directory, builds with
`cc hello.c $(pkg-config --cflags --libs lw)` against a temporary prefix,
and the binary joins a real master and runs a test with exact counts."""

import os
import shutil
import subprocess

import pytest

from conftest import ROOT, c_worker_only, poll

pytestmark = c_worker_only("installs and builds the C library")


def run(cmd, **kw):
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300, **kw)
    assert result.returncode == 0, f"{cmd}: {result.stdout[-2000:]}{result.stderr[-2000:]}"
    return result.stdout


@pytest.mark.parametrize("flavor", ["pypi"])   # once: make install writes build/lw.pc
def test_install_and_build_out_of_tree(cluster, target, tmp_path, flavor):
    prefix = tmp_path / "prefix"
    run(["make", "-s", "install", f"PREFIX={prefix}"], cwd=ROOT)
    files = sorted(str(p.relative_to(prefix)) for p in prefix.rglob("*") if p.is_file())
    assert files == ["include/lw.h", "lib/liblw.a", "lib/pkgconfig/lw.pc"], files

    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(ROOT / "examples" / "hello" / "hello.c", src / "hello.c")
    env = dict(os.environ, PKG_CONFIG_PATH=str(prefix / "lib" / "pkgconfig"))
    flags = run(["pkg-config", "--cflags", "--libs", "lw"], env=env).split()
    assert f"-I{prefix}/include" in flags and "-llw" in flags, flags
    run(["cc", "hello.c", *flags, "-o", "hello"], cwd=src, env=env)
    assert run([src / "hello", "--version"]).split()[-1] == run(["pkg-config", "--modversion", "lw"], env=env).strip()

    master = cluster.master(["HelloUser"], stop_timeout=2)
    cluster.worker(master, binary=src / "hello")
    assert len(cluster.wait_registered(master)) == 1
    since = target.mark()
    master.swarm(2, 2)
    stats = poll(master.stats, lambda s: s["user_count"] == 2, 15)
    assert stats["user_count"] == 2
    assert poll(lambda: target.count(since), lambda n: n >= 4, 10) >= 4
    master.stop()
    counts, served = master.settled_counts(target, since)
    assert counts == served
