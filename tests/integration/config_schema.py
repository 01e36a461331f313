"""The keys service/config.c accepts, read from its schema tables (one
`static const struct item NAME[]` per JSON object, one ROW_* per key), for
the tests that hold the documentation to the parser
(test_reference_doc.py, test_configuration_doc.py)."""
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def schema_keys(table):
    """The key names of one schema table, in table (= parsing) order:
    "root_items", "issuer_items", "key_items", "verified_cache_items", ..."""
    with open(os.path.join(ROOT, "service", "config.c"), encoding="utf-8") as f:
        src = f.read()
    m = re.search(r"^static const struct item " + re.escape(table) + r"\[\] = \{\n(.*?)^\};",
                  src, re.M | re.S)
    assert m, table
    keys = re.findall(r'^\s*ROW_[A-Z]+\((?:\w+, )?"([a-z_]+)"', m.group(1), re.M)
    assert keys, table
    return keys
