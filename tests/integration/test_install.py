"""`meson install`: the build under test (the folder REVOKD_BIN
was built in) is installed into a DESTDIR, and the tree is checked:

- the binary, the systemd unit (ExecStart = the installed binary), the
  sysusers.d and tmpfiles.d entries, the man pages revokd(8) and
  revokd.json(5), the example configuration and documents under
  share/doc/revokd, the bash completion;
- each man page renders with `man -l` without a groff warning, and
  revokd.json(5) names exactly the keys the parser accepts;
- `systemd-analyze verify` passes on the installed unit, and its
  Documentation= (man:revokd(8) man:revokd.json(5)) resolves to the
  installed pages. Two things differ from a real install, because a DESTDIR
  tree is not at its final path: verify insists that ExecStart's binary
  exists at its absolute path, so a copy of the unit has that one path
  pointed into DESTDIR; and `man` finds the pages through MANPATH set to
  DESTDIR's man folder (verify runs `man` for each man: link).
  (`systemd-analyze --root=DESTDIR verify` cannot be used instead: it also
  wants sysinit.target and /bin/kill inside the root.);
- systemd-sysusers and systemd-tmpfiles apply the entries to an empty root
  (--root): the user exists, /etc/revokd/secrets is 0700;
- the completion offers every subcommand, and for each subcommand every
  option its --help prints.

Needs meson, scdoc (the man pages are built only when it is found), man-db
and systemd; tests/install-deps.sh installs them. A missing one fails.
"""
import json
import os
import re
import shutil
import stat
import subprocess

import pytest

from conftest import REVOKD, ROOT, checked_run

BUILD = os.path.dirname(os.path.dirname(REVOKD))


def run(args, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 120)
    return subprocess.run(args, **kw)


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    """(DESTDIR, {option: absolute installed path})."""
    assert os.path.exists(os.path.join(BUILD, "meson-private")), \
        f"{BUILD} is not the meson build folder of {REVOKD}"
    meson = shutil.which("meson")
    assert meson, "meson missing"
    dest = str(tmp_path_factory.mktemp("destdir"))
    p = run([meson, "install", "-C", BUILD, "--destdir", dest, "--no-rebuild"])
    assert p.returncode == 0, p.stdout + p.stderr
    p = run([meson, "introspect", BUILD, "--buildoptions"])
    assert p.returncode == 0, p.stderr
    opts = {o["name"]: o["value"] for o in json.loads(p.stdout)}
    prefix = opts["prefix"]

    def at(*parts):
        return os.path.join(prefix, *parts)

    paths = {
        "bin": at(opts["bindir"], "revokd"),
        "unit": opts["systemdunitdir"] or at("lib", "systemd", "system"),
        "sysusers": opts["sysusersdir"] or at("lib", "sysusers.d"),
        "tmpfiles": opts["tmpfilesdir"] or at("lib", "tmpfiles.d"),
        "man": at(opts["mandir"]),
        "doc": at(opts["datadir"], "doc", "revokd"),
        "completion": opts["bashcompletiondir"] or at(opts["datadir"], "bash-completion",
                                                      "completions"),
    }
    return dest, paths


def inside(dest, path):
    return dest + path


def test_the_installed_tree(tree):
    dest, p = tree
    files = {
        "binary": p["bin"],
        "unit": os.path.join(p["unit"], "revokd.service"),
        "sysusers": os.path.join(p["sysusers"], "revokd.conf"),
        "tmpfiles": os.path.join(p["tmpfiles"], "revokd.conf"),
        "revokd(8)": os.path.join(p["man"], "man8", "revokd.8"),
        "revokd.json(5)": os.path.join(p["man"], "man5", "revokd.json.5"),
        "example config": os.path.join(p["doc"], "examples", "revokd.json"),
        "alert rules": os.path.join(p["doc"], "examples", "revokd-rules.yml"),
        "dashboard": os.path.join(p["doc"], "examples", "revokd-dashboard.json"),
        "OPERATIONS.md": os.path.join(p["doc"], "OPERATIONS.md"),
        "CONFIGURATION.md": os.path.join(p["doc"], "CONFIGURATION.md"),
        "completion": os.path.join(p["completion"], "revokd"),
    }
    missing = {k: v for k, v in files.items() if not os.path.isfile(inside(dest, v))}
    assert not missing, f"not installed (scdoc missing at configure time?): {missing}"
    b = inside(dest, p["bin"])
    assert os.stat(b).st_mode & stat.S_IXUSR
    assert checked_run([b, "version"]).stdout.startswith("revokd ")
    with open(inside(dest, files["example config"])) as f, \
            open(os.path.join(ROOT, "deploy", "revokd.json")) as g:
        assert json.load(f) == json.load(g)
    with open(inside(dest, files["unit"])) as f:
        unit = f.read()
    assert re.search(r"^ExecStart=" + re.escape(p["bin"]) + r" serve ", unit, re.M), unit
    assert re.search(r"^Documentation=man:revokd\(8\) man:revokd\.json\(5\)$", unit, re.M)


@pytest.mark.parametrize("page,title", [("man8/revokd.8", "revokd(8)"),
                                        ("man5/revokd.json.5", "revokd.json(5)")])
def test_man_pages_render_without_warnings(tree, page, title):
    dest, p = tree
    man = shutil.which("man")
    assert man, "man missing: apt-get install man-db"
    path = inside(dest, os.path.join(p["man"], page))
    r = run([man, "--warnings", "-l", path], env=dict(os.environ, MANWIDTH="80",
                                                        MAN_KEEP_FORMATTING="0"))
    assert r.returncode == 0, r.stderr
    assert r.stderr == "", r.stderr
    out = re.sub(r".\x08", "", r.stdout)        # overstrike bold/underline
    assert out.lstrip().startswith(title), out[:200]
    for section in ("NAME", "DESCRIPTION", "SEE ALSO"):
        assert re.search(r"^" + section + r"$", out, re.M), section


def test_revokd_json_5_names_the_parsers_keys():
    from test_configuration_doc import parser_keys
    with open(os.path.join(ROOT, "docs", "man", "revokd.json.5.scd")) as f:
        src = f.read()

    def terms(section):
        m = re.search(r"^# " + section + r"\n(.*?)(?=^# )", src, re.M | re.S)
        assert m, section
        return re.findall(r"^\*([a-z_]+)\*$", m.group(1), re.M)
    assert terms("TOP-LEVEL KEYS") == parser_keys("parse_root")
    assert sorted(terms("ISSUER KEYS")) == sorted(parser_keys("parse_issuer"))


def test_installed_unit_passes_systemd_analyze_verify(tree, tmp_path):
    dest, p = tree
    exe = shutil.which("systemd-analyze")
    assert exe, "systemd-analyze missing (Debian package systemd)"
    with open(inside(dest, os.path.join(p["unit"], "revokd.service"))) as f:
        text = f.read()
    unit = tmp_path / "revokd.service"
    unit.write_text(text.replace(p["bin"], inside(dest, p["bin"])))
    env = dict(os.environ, MANPATH=inside(dest, p["man"]))
    r = run([exe, "verify", str(unit)], env=env)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert "revokd.service" not in out, out
    # The man: links are really checked: without the pages, verify fails.
    r = run([exe, "verify", str(unit)], env=dict(os.environ, MANPATH=str(tmp_path)))
    assert r.returncode != 0 and "man revokd(8)" in r.stdout + r.stderr


def test_sysusers_and_tmpfiles_entries_apply(tree, tmp_path):
    dest, p = tree
    root = str(tmp_path / "root")
    os.makedirs(os.path.join(root, "etc"))      # sysusers locks ROOT/etc/.pwd.lock
    for tool in ("systemd-sysusers", "systemd-tmpfiles"):
        assert shutil.which(tool), f"{tool} missing (Debian package systemd)"
    r = run(["systemd-sysusers", "--root", root,
             inside(dest, os.path.join(p["sysusers"], "revokd.conf"))])
    assert r.returncode == 0, r.stderr
    with open(os.path.join(root, "etc", "passwd")) as f:
        user = next(l for l in f if l.startswith("revokd:")).rstrip("\n").split(":")
    assert user[5] == "/var/lib/revokd" and user[6].endswith("nologin"), user
    r = run(["systemd-tmpfiles", "--root", root, "--create",
             inside(dest, os.path.join(p["tmpfiles"], "revokd.conf"))])
    assert r.returncode == 0, r.stderr
    st = os.stat(os.path.join(root, "etc", "revokd", "secrets"))
    assert stat.S_IMODE(st.st_mode) == 0o700 and st.st_uid == 0


def complete(script, *words):
    """What the completion offers after `revokd WORDS...` (last word: the
    one being completed)."""
    words = ("revokd",) + words
    arr = " ".join("'" + w + "'" for w in words)
    r = run(["bash", "-c", f'source "$1"; COMP_WORDS=({arr}); COMP_CWORD={len(words) - 1}; '
             '_revokd; printf "%s\\n" "${COMPREPLY[@]}"', "bash", script])
    assert r.returncode == 0, r.stderr
    return set(r.stdout.split())


def test_bash_completion_offers_every_subcommand_and_option(tree):
    dest, p = tree
    script = inside(dest, os.path.join(p["completion"], "revokd"))
    help_top = checked_run([REVOKD, "--help"]).stdout
    subs = re.findall(r"^  ([a-z]+)  ", help_top, re.M)
    assert set(subs) == {"serve", "check", "revoke", "unrevoke", "list", "version"}, subs
    assert complete(script, "") == set(subs)
    assert complete(script, "unr") == {"unrevoke"}
    for sub in subs:
        if sub == "version":
            continue
        h = checked_run([REVOKD, sub, "--help"])
        opts = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", h.stdout + h.stderr))
        assert opts, sub
        offered = complete(script, sub, "--")
        assert opts <= offered, (sub, opts - offered)
    assert complete(script, "serve", "--log-level", "") == {"debug", "info", "warn", "error"}
    assert complete(script, "list", "--type", "s") == {"session", "subject"}
