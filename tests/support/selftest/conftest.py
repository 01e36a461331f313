"""The self-test's pytest files use the integration fixtures unchanged
(tests/support/revokd_fixtures.py)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from revokd_fixtures import *  # noqa: E402,F401,F403
from revokd_fixtures import pytest_configure  # noqa: E402,F401 - a hook, by name
import revokd_fixtures as ic  # noqa: E402,F401 - `from conftest import ic`
