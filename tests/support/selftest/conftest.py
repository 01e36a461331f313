"""The self-test's pytest files use the integration fixtures unchanged."""
import importlib.util
import os
import sys

_path = os.path.join(os.path.dirname(__file__), "..", "..", "integration", "conftest.py")
_name = "rvk_integration_conftest"
if _name not in sys.modules:
    _spec = importlib.util.spec_from_file_location(_name, _path)
    _mod = importlib.util.module_from_spec(_spec)
    sys.modules[_name] = _mod
    _spec.loader.exec_module(_mod)
from rvk_integration_conftest import *  # noqa: E402,F401,F403
