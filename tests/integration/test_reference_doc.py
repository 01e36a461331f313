"""docs/REFERENCE.md matches the code it describes: its section numbers are
the ones code comments cite ("REFERENCE §5.3"), its configuration tables
name exactly the keys the parser accepts (service/config.c's schema tables), its example is
a valid configuration, its reason table is base/reason.c's, and its metric
table names every metric /metrics renders. docs/DECISIONS.md has every
decision that something cites ("DECISIONS D7")."""
import json
import os
import re
import subprocess

from cryptography.hazmat.primitives.asymmetric import ec

from config_schema import schema_keys
from conftest import REVOKD, ROOT, pem_public


def read(name):
    with open(os.path.join(ROOT, name), encoding="utf-8") as f:
        return f.read()


def section(doc, title):
    m = re.search(r"^#+ " + re.escape(title) + r"[^\n]*\n(.*?)(?=^#|\Z)", doc, re.M | re.S)
    assert m, title
    return m.group(1)


def first_column(text):
    return re.findall(r"^\| `([a-z_.]+)` \|", text, re.M)


def test_sections_keep_their_numbers():
    doc = read("docs/REFERENCE.md")
    numbers = re.findall(r"^#{2,3} (\d+(?:\.\d+)?)\. ", doc, re.M) + \
        re.findall(r"^### (\d+\.\d+) ", doc, re.M)
    want = ["1", "1.1", "2", "3", "4", "5", "5.1", "5.2", "5.3", "5.4", "5.5",
            "5.6", "5.7", "6", "7", "8"]
    assert sorted(set(numbers), key=lambda s: [int(x) for x in s.split(".")]) == want


def test_every_cited_section_exists():
    doc = read("docs/REFERENCE.md")
    have = set(re.findall(r"^#{2,3} (\d+(?:\.\d+)?)\.? ", doc, re.M))
    out = subprocess.run(["git", "grep", "-hoE", r"REFERENCE §[0-9]+(\.[0-9]+)?"],
                         cwd=ROOT, capture_output=True, text=True)
    if out.returncode not in (0, 1):  # not a git checkout: nothing to cross-check
        return
    cited = {c.split("§")[1] for c in out.stdout.split("\n") if c}
    assert cited and cited <= have, sorted(cited - have)


def test_every_cited_decision_exists():
    doc = read("docs/DECISIONS.md")
    have = set(re.findall(r"^## (D\d+)\. ", doc, re.M))
    out = subprocess.run(["git", "grep", "-hoE", r"DECISIONS D[0-9]+"],
                         cwd=ROOT, capture_output=True, text=True)
    if out.returncode not in (0, 1):
        return
    cited = {c.split()[1] for c in out.stdout.split("\n") if c}
    assert cited and cited <= have, sorted(cited - have)


def test_key_tables_are_the_parsers_keys():
    doc = read("docs/REFERENCE.md")
    top = first_column(section(doc, "Top-level keys"))
    assert sorted({k.split(".")[0] for k in top}) == sorted(schema_keys("root_items"))
    for obj in ("verified_cache", "webhook", "admin", "introspection", "redis"):
        documented = sorted(k.split(".", 1)[1] for k in top if k.startswith(obj + "."))
        assert documented == sorted(schema_keys(obj + "_items")), obj
    issuer = first_column(section(doc, "Issuer keys"))
    assert sorted(issuer) == sorted(schema_keys("issuer_items"))


def test_example_is_a_valid_configuration(tmp_path):
    doc = read("docs/REFERENCE.md")
    m = re.search(r"^## 2\. Configuration file.*?```json\n(.*?)```", doc, re.M | re.S)
    assert m
    cfg = json.loads(m.group(1))
    os.makedirs(tmp_path / "keys")
    os.makedirs(tmp_path / "secrets")
    (tmp_path / "keys" / "k1.pub.pem").write_bytes(pem_public(ec.generate_private_key(ec.SECP256R1())))
    (tmp_path / "keys" / "h1.secret").write_text("a-test-secret-of-32-bytes-length\n")
    (tmp_path / "secrets" / "webhook.secret").write_text("whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\n")
    (tmp_path / "secrets" / "admin.token").write_text("an-admin-token-for-the-test\n")
    (tmp_path / "secrets" / "oathkeeper.secret").write_text("an-introspection-secret\n")
    cfg["data_dir"] = "data"  # the example's /var/lib/revokd is not ours
    path = tmp_path / "revokd.json"
    path.write_text(json.dumps(cfg))
    p = subprocess.run([REVOKD, "check", "--config", str(path), "not-a-token"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 1, p.stderr
    assert json.loads(p.stdout)["decision"] == "deny"


def test_reason_table_is_the_codes():
    doc = read("docs/REFERENCE.md")
    m = re.search(r"^\| step \| reasons \|\n\|---\|---\|\n(.*?)\n\n", doc, re.M | re.S)
    assert m
    documented = re.findall(r"`([a-z ]+)`", m.group(1))
    code = re.findall(r'\{ "([a-z ]+)", "[a-z_]+" \}', read("base/reason.c"))
    assert documented == [r for r in code if r != "allow"]


def test_metric_table_is_what_metrics_renders():
    doc = read("docs/REFERENCE.md")
    documented = set(re.findall(r"^\| `(revokd_[a-z_]+)` \|", section(doc, "6. Operations"), re.M))
    code = set()
    for f in ("api/metrics.c", "service/keyfetch.c"):
        code |= set(re.findall(r"# TYPE (revokd_[a-z_]+) ", read(f)))
    assert documented == code


def test_tests_readme_maps_every_section_to_existing_tests():
    doc = read("docs/REFERENCE.md")
    have = set(re.findall(r"^#{2,3} (\d+(?:\.\d+)?)\.? ", doc, re.M))
    readme = read("tests/README.md")
    rows = dict(re.findall(r"^\| §(\d+(?:\.\d+)?) \|[^|]*\|(.*)\|$", readme, re.M))
    assert set(rows) == have, sorted(set(rows) ^ have)
    for files in rows.values():
        for f in re.findall(r"`(tests/[^`]+)`", files):
            assert os.path.exists(os.path.join(ROOT, f)), f
