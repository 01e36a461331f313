"""Every command in README.md, then in docs/OPERATIONS.md's "Quick paths",
runs as a new user would run it straight after `deploy/quickstart.sh`, in
order, against a fresh dev-mode server, and prints what the document says it
prints. A change to either document that breaks a command fails this test.

Which lines are commands: every line of an indented (4 spaces) or fenced code
block of README.md, and of the blocks in the "Quick paths" section of
docs/OPERATIONS.md. Fenced blocks labelled with something other than
sh/bash/shell/console (`json`, `text`) are not commands; blank lines and
comment lines are not commands; a line ending in `\\` continues on the next.

What a command must print: a comment line `# → TEXT` under a command (or a
trailing `# → TEXT` on it) says that a line of its standard output is TEXT,
`…` standing for any text; `# exit N → TEXT` says that, and that it exits N.
Without `exit N` a command must exit 0.

How they run: each with `bash -c` in a temporary folder laid out like a fresh
clone after the quickstart (the repository's files linked in, the binary
under test at `build-release/service/revokd`, where the quickstart builds
it), after every earlier variable assignment (`X=…`, `export X=…`), as in one
terminal. The only departures, all here:

- `deploy/quickstart.sh` installs packages and builds: the test instead
  starts the binary as the quickstart does (`build-release/service/revokd
  serve --dev`, stopping the server it started before, as Ctrl-C would) and
  pastes the `TOKEN=` line it prints. At the tour's quickstart (the last
  one) it also runs the three curl lines dev mode prints, checking each
  against the README's list ("- the first `curl` …": every code span but
  `curl` is in that answer).
- `tests/run.sh` is not run: it installs packages and runs this suite.
- a command that starts the server (`revokd serve …`, not `--help`) runs
  in the background, after the running server is stopped (SIGINT, as
  Ctrl-C; it must exit 0); the test waits for its /readyz.
- `127.0.0.1:8080`, dev mode's default listener, is `127.0.0.1:<free port>`
  everywhere (commands, the dev server, expected text): port 8080 may be
  taken on a test machine.
"""
import os
import re
import signal
import subprocess
import threading

from conftest import REVOKD, free_port, wait_ready

ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
NOT_RUN = {"tests/run.sh": "installs packages and runs every test suite, this one included"}
SHELL_LANGS = {"", "sh", "bash", "shell", "console"}
EXPECT = re.compile(r"^#\s*(?:exit (\d+)\s*)?→\s?(.*)$")
TRAILING_EXPECT = re.compile(r"\s+#\s*((?:exit \d+\s*)?→.*)$")
ASSIGNMENT = re.compile(r"^(export\s+)?[A-Za-z_][A-Za-z0-9_]*=")
SERVE = re.compile(r"(^|[\s/])revokd serve\b")
HELP = re.compile(r"\s(--help|-h)\b")


def blocks(text):
    """Yields the lines of each shell code block of a markdown text."""
    lines = text.split("\n")
    i = 0
    prev_blank = True
    while i < len(lines):
        line = lines[i]
        m = re.match(r"^```\s*(\S*)", line)
        if m:
            lang, body = m.group(1), []
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            if lang in SHELL_LANGS:
                yield body
            i += 1
            prev_blank = False
            continue
        if prev_blank and line.startswith("    ") and line.strip():
            body = []
            while i < len(lines) and (lines[i].startswith("    ") or not lines[i].strip()):
                body.append(lines[i][4:])
                i += 1
            yield body
            prev_blank = True
            continue
        prev_blank = not line.strip()
        i += 1


def commands(text):
    """Returns [(command, [(exit, expected text)])] of a markdown text."""
    out = []
    for body in blocks(text):
        pending = ""
        for line in body:
            if pending:
                line, pending = pending + "\n" + line, ""
            if line.endswith("\\"):
                pending = line
                continue
            s = line.strip()
            if not s:
                continue
            m = EXPECT.match(s)
            if m:
                assert out, f"an expected output before any command: {s}"
                out[-1][1].append((int(m.group(1) or 0), m.group(2)))
                continue
            if s.startswith("#"):
                continue
            expects = []
            t = TRAILING_EXPECT.search(line)
            if t:
                m = EXPECT.match("# " + t.group(1))
                expects.append((int(m.group(1) or 0), m.group(2)))
                line = line[:t.start()]
            out.append((line, expects))
    return out


def section(text, title):
    """The text of the `## title` section of a markdown text."""
    m = re.search(r"^## " + re.escape(title) + r"\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert m, f"no section ## {title}"
    return m.group(1)


def curl_claims(readme):
    """The README's list of what the three printed curl lines answer: for
    each, the code spans of its item (`curl` itself left out)."""
    items = re.findall(r"^- the (first|second|third) `curl`(.*?)(?=^- |^\s*$)", readme,
                       re.M | re.S)
    assert [x[0] for x in items] == ["first", "second", "third"], items
    return [[c for c in re.findall(r"`([^`]+)`", x[1]) if c != "curl"] for x in items]


SANITIZER = re.compile(r"ERROR: (Address|Leak)Sanitizer|runtime error:|WARNING: ThreadSanitizer")


def line_matches(expected, stdout):
    pattern = "^" + ".*".join(re.escape(p) for p in expected.split("…")) + "$"
    return any(re.match(pattern, x) for x in stdout.splitlines())


class Session:
    """A new user's terminal in a fresh clone, and the server they started."""

    def __init__(self, clone, port):
        self.clone = clone
        self.port = port
        self.assignments = []
        self.proc = None
        self.log_path = os.path.join(os.path.dirname(clone), "server-stderr.log")
        self.log = open(self.log_path, "ab")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("REVOKD_")}

    def local(self, text):
        return text.replace("127.0.0.1:8080", f"127.0.0.1:{self.port}")

    def script(self, command):
        return "\n".join(self.assignments + [command]) + "\n"

    def run(self, command, expects=()):
        p = subprocess.run(["bash", "-c", self.script(self.local(command))], cwd=self.clone,
                           env=self.env, capture_output=True, text=True, timeout=60)
        want = {code for code, _ in expects} or {0}
        assert len(want) == 1, f"{command}: two exit statuses expected"
        assert p.returncode in want, (command, p.returncode, p.stdout, p.stderr)
        assert not SANITIZER.search(p.stderr), (command, p.stderr)
        for _, text in expects:
            assert line_matches(self.local(text), p.stdout), (command, text, p.stdout)
        if ASSIGNMENT.match(command):
            self.assignments.append(command)
        return p

    def stop(self):
        if self.proc is not None:
            self.proc.send_signal(signal.SIGINT)  # Ctrl-C
            assert self.proc.wait(timeout=15) == 0
            self.proc = None
            with open(self.log_path, errors="replace") as f:
                text = f.read()
            assert not SANITIZER.search(text), text[-4000:]

    def quickstart(self, claims):
        """deploy/quickstart.sh, from the already built binary: start dev
        mode, paste its TOKEN= line and run its curl lines."""
        self.stop()
        self.proc = subprocess.Popen(
            ["build-release/service/revokd", "serve", "--dev",
             "--listen", f"127.0.0.1:{self.port}"],
            cwd=self.clone, env=self.env, stdout=subprocess.PIPE, stderr=self.log, text=True)
        printed = []
        watchdog = threading.Timer(30, self.proc.kill)  # only ends a hung start
        watchdog.start()
        try:
            while not (printed and " serve --config " in printed[-1]):
                line = self.proc.stdout.readline()
                assert line, "revokd serve --dev ended before printing its lines"
                printed.append(line.rstrip("\n"))
        finally:
            watchdog.cancel()
        tokens = [x for x in printed if x.startswith("TOKEN=")]
        curls = [x for x in printed if x.startswith("curl ")]
        assert len(tokens) == 1 and len(curls) == 3, printed
        self.assignments = [x for x in self.assignments if not x.startswith("TOKEN=")]
        self.run(tokens[0])
        for line, spans in zip(curls, claims or []):
            out = self.run(line).stdout
            for span in spans:
                assert self.local(span) in out, (line, span, out)

    def serve(self, command):
        self.stop()
        self.proc = subprocess.Popen(
            ["bash", "-c", self.script("exec " + self.local(command))], cwd=self.clone,
            env=self.env, stdout=subprocess.DEVNULL, stderr=self.log)
        wait_ready(self.port, self.proc)


def fresh_clone(path):
    """A folder like a clone of the repository after the quickstart built it:
    its top-level entries linked in (not .git, build folders or a var/ of
    an earlier dev run), the binary under test at build-release/service/revokd."""
    os.makedirs(path)
    for top in sorted(os.listdir(ROOT)):
        if top.startswith((".git", "build")) or top == "var":
            continue
        os.symlink(os.path.join(ROOT, top), os.path.join(path, top))
    os.makedirs(os.path.join(path, "build-release", "service"))
    os.symlink(os.path.realpath(REVOKD),
               os.path.join(path, "build-release", "service", "revokd"))


def read(name):
    with open(os.path.join(ROOT, name)) as f:
        return f.read()


def test_quickstart_runs_what_the_test_runs_in_its_place():
    """The replacement for deploy/quickstart.sh is what the script ends
    with: the binary it builds, in dev mode, from the clone's root."""
    script = read("deploy/quickstart.sh")
    assert 'cd "$(dirname "$0")/.."' in script
    assert "ninja -C build-release" in script
    assert script.rstrip().splitlines()[-1] == 'exec build-release/service/revokd serve --dev "$@"'


def test_commands_parsed():
    """The parser sees the documents' commands (a sanity check on the test
    itself): the tour's, and an expected output for each admin command."""
    readme = commands(read("README.md"))
    first = [c.split()[0] for c, _ in readme]
    assert "deploy/quickstart.sh" in first and "tests/run.sh" in first
    for c, expects in readme:
        if re.search(r"revokd (check|revoke|list|unrevoke)\b", c):
            assert expects, c
    assert commands(section(read("docs/OPERATIONS.md"), "Quick paths"))


def test_every_readme_and_quick_path_command_runs(tmp_path):
    readme = read("README.md")
    claims = curl_claims(readme)
    todo = commands(readme) + commands(section(read("docs/OPERATIONS.md"), "Quick paths"))
    clone = str(tmp_path / "revokd")
    fresh_clone(clone)
    s = Session(clone, free_port())
    ran = 0
    tour = max(i for i, (c, _) in enumerate(todo) if c.split()[0] == "deploy/quickstart.sh")
    try:
        for i, (command, expects) in enumerate(todo):
            name = command.split()[0]
            if name in NOT_RUN:
                continue
            if name == "deploy/quickstart.sh":
                s.quickstart(claims if i == tour else None)
            elif SERVE.search(command) and not HELP.search(command):
                assert not expects, command
                s.serve(command)
            else:
                s.run(command, expects)
            ran += 1
    finally:
        s.stop()
        s.log.close()
    assert ran == len(todo) - sum(1 for c, _ in todo if c.split()[0] in NOT_RUN)
