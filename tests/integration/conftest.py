"""The integration suite's fixtures: tests/support/revokd_fixtures.py (revokd
on a free port, keys, minting, and the harness: every server examined at
teardown, a sanitizer report or exit 86 fails the test that started it)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from revokd_fixtures import *  # noqa: E402,F401,F403
from revokd_fixtures import pytest_configure  # noqa: E402,F401 - a hook, by name
import revokd_fixtures as ic  # noqa: E402,F401 - `from conftest import ic`
