"""docs/CONFIGURATION.md says what the configuration file takes: its key
tables name exactly the keys the parser accepts (service/config.c's schema tables), and its
example is a valid configuration (`revokd check` reads it and decides,
instead of exiting 2)."""
import json
import os
import re
import subprocess

from cryptography.hazmat.primitives.asymmetric import ec

from config_schema import schema_keys
from conftest import REVOKD, ROOT, pem_public


def read(name):
    with open(os.path.join(ROOT, name)) as f:
        return f.read()


def table_keys(doc, title):
    m = re.search(r"^### " + re.escape(title) + r"\n(.*?)(?=^#|\Z)", doc, re.M | re.S)
    assert m, title
    return re.findall(r"^\| `([a-z_]+)` \|", m.group(1), re.M)


def test_key_tables_are_the_parsers_keys():
    doc = read("docs/CONFIGURATION.md")
    assert table_keys(doc, "Top level") == schema_keys("root_items")
    assert sorted(table_keys(doc, "Issuers")) == sorted(schema_keys("issuer_items"))


def test_example_is_a_valid_configuration(tmp_path):
    doc = read("docs/CONFIGURATION.md")
    m = re.search(r"^## 3\. The configuration file\n.*?```json\n(.*?)```", doc, re.M | re.S)
    assert m
    cfg = json.loads(m.group(1))
    os.makedirs(tmp_path / "keys")
    (tmp_path / "keys" / "k1.pub.pem").write_bytes(pem_public(ec.generate_private_key(ec.SECP256R1())))
    (tmp_path / "keys" / "h1.secret").write_text("a-test-secret-of-32-bytes-length\n")
    cfg["data_dir"] = "data"  # the example's /var/lib/revokd is not ours
    path = tmp_path / "revokd.json"
    path.write_text(json.dumps(cfg))
    p = subprocess.run([REVOKD, "check", "--config", str(path), "not-a-token"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 1, p.stderr
    assert json.loads(p.stdout)["decision"] == "deny"
