"""The generated docs match the code they describe."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_event_reference_is_current():
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen-event-docs.py"), "--check"])
    assert result.returncode == 0, "docs/events.md is stale: run scripts/gen-event-docs.py"
