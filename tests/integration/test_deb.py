"""The Debian package (debian/): built from a copy of this tree with
`dpkg-buildpackage -b -us -uc` (debhelper, meson), then checked:

- lintian, pedantic, reports no error and no warning (one informational
  tag is overridden in debian/revokd.lintian-overrides, with the reason);
- the package holds the binary, the unit in /lib/systemd/system with
  ExecStart=/usr/bin/revokd, the sysusers.d and tmpfiles.d entries, both man
  pages, the example configuration, rules and dashboard, the completion;
- its maintainer scripts create the user and the folders (systemd-sysusers,
  systemd-tmpfiles) and never enable or start the unit (it needs
  /etc/revokd/revokd.json first);
- the unpacked binary runs and depends on the libraries dpkg-shlibdeps
  found.

Builds only the service and the man pages (debian/rules), about two
minutes on two cores. Needs debhelper, dpkg-dev, lintian and the build
dependencies; tests/install-deps.sh installs them. A missing one fails.
"""
import os
import re
import shutil
import subprocess

import pytest

from conftest import ROOT, checked_run


def run(args, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 1200)
    return subprocess.run(args, **kw)


@pytest.fixture(scope="module")
def deb(tmp_path_factory):
    for tool in ("dpkg-buildpackage", "dh", "lintian", "git"):
        assert shutil.which(tool), f"{tool} missing (tests/install-deps.sh)"
    work = tmp_path_factory.mktemp("deb")
    src = work / "revokd-0.1.0"
    src.mkdir()
    files = run(["git", "-C", ROOT, "ls-files", "-co", "--exclude-standard", "-z"])
    assert files.returncode == 0, files.stderr
    pack = subprocess.run(["tar", "-C", ROOT, "--null", "-T", "-", "-cf", "-"],
                          input=files.stdout.encode(), capture_output=True, timeout=300)
    assert pack.returncode == 0, pack.stderr
    unpack = subprocess.run(["tar", "-C", str(src), "-xf", "-"], input=pack.stdout,
                            capture_output=True, timeout=300)
    assert unpack.returncode == 0, unpack.stderr
    b = run(["dpkg-buildpackage", "-b", "-us", "-uc", "-j2"], cwd=str(src))
    assert b.returncode == 0, (b.stdout + b.stderr)[-6000:]
    debs = [f for f in os.listdir(work) if re.fullmatch(r"revokd_[^_]+_[^_]+\.deb", f)]
    changes = [f for f in os.listdir(work) if f.endswith(".changes")]
    assert len(debs) == 1 and len(changes) == 1, os.listdir(work)
    return work, os.path.join(work, debs[0]), os.path.join(work, changes[0])


def test_lintian_reports_no_error_and_no_warning(deb):
    work, path, changes = deb
    r = run(["lintian", "--fail-on", "error,warning", "--display-level", ">=pedantic",
             changes])
    tags = [l for l in r.stdout.splitlines() if re.match(r"^[EWIPX]: ", l)]
    assert r.returncode == 0, r.stdout + r.stderr
    assert not [t for t in tags if t[0] in "EW"], tags


def test_package_contents(deb):
    work, path, changes = deb
    r = run(["dpkg-deb", "-c", path])
    assert r.returncode == 0, r.stderr
    listed = {l.split()[-1].lstrip(".") for l in r.stdout.splitlines()}
    for f in ("/usr/bin/revokd", "/lib/systemd/system/revokd.service",
              "/usr/lib/sysusers.d/revokd.conf", "/usr/lib/tmpfiles.d/revokd.conf",
              "/usr/share/man/man8/revokd.8.gz", "/usr/share/man/man5/revokd.json.5.gz",
              "/usr/share/doc/revokd/examples/revokd.json",
              "/usr/share/doc/revokd/examples/revokd-rules.yml",
              "/usr/share/doc/revokd/examples/revokd-dashboard.json",
              "/usr/share/doc/revokd/copyright",
              "/usr/share/bash-completion/completions/revokd"):
        assert f in listed, (f, sorted(listed))
    root = work / "unpacked"
    assert run(["dpkg-deb", "-x", path, str(root)]).returncode == 0
    unit = (root / "lib/systemd/system/revokd.service").read_text()
    assert re.search(r"^ExecStart=/usr/bin/revokd serve ", unit, re.M), unit
    out = checked_run([str(root / "usr/bin/revokd"), "version"]).stdout
    assert out.startswith("revokd 0.1.0"), out
    info = run(["dpkg-deb", "-f", path, "Depends"]).stdout
    for lib in ("libmicrohttpd12", "libjansson4", "libssl3", "libsqlite3-0", "liburcu8",
                "libjemalloc2"):
        assert lib in info, info


def test_maintainer_scripts_make_the_user_and_folders_and_never_start(deb):
    work, path, changes = deb
    ctrl = work / "control"
    assert run(["dpkg-deb", "-e", path, str(ctrl)]).returncode == 0
    postinst = (ctrl / "postinst").read_text()
    assert "systemd-sysusers" in postinst and "revokd.conf" in postinst
    assert "systemd-tmpfiles" in postinst
    # Enabled only if the admin enabled it before (upgrades); never started.
    assert "deb-systemd-invoke" not in postinst, postinst
    assert "was-enabled" in postinst
