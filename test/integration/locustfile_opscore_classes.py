"""examples/opscore/locustfile.py's user classes and options without its
LoadTestShape, so that a headless master runs them with -u/-r/-t: for the
tests of --tags, --exclude-tags and the locustfile's own --agent-prefix."""

import importlib.util
from pathlib import Path

_PATH = Path(__file__).resolve().parents[2] / "examples" / "opscore" / "locustfile.py"
_spec = importlib.util.spec_from_file_location("opscore_example_locustfile", _PATH)
_example = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_example)   # registers its command-line options too

QuickStateUser = _example.QuickStateUser
StateUpdateUser = _example.StateUpdateUser
WorkflowUser = _example.WorkflowUser
MixedUser = _example.MixedUser
