# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make demo`, the README's first command, as a user runs it."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from conftest import REPO

GENERATED_AT = re.compile(r"^- Generated at: .*$", re.MULTILINE)


def test_make_demo_passes():
    """tools/demo.py is what `make demo` runs; it starts its own local AWS and checks every step itself."""
    completed = subprocess.run(
        [sys.executable, str(REPO / "tools" / "demo.py")], env=dict(os.environ), capture_output=True, text=True, timeout=600, check=False
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    assert "Demo passed" in completed.stdout
    assert "FAILED" not in completed.stdout
    # The audit and the enforcement (both --diff) showed a before/after per stage that changes, and the
    # reports are where the demo says.
    assert completed.stdout.count("--- before: ") == 2 * 5, output
    for run in ("1-audit", "2-enforce", "3-audit"):
        for name in ("report.json", "report.md", "report.xml", "report.csv"):
            assert (REPO / ".build" / "demo" / run / name).is_file()
    # README's sample report is the demo audit's report.md, whole, but for when it ran.
    sample = (REPO / "docs" / "samples" / "audit-report.md").read_text(encoding="utf-8")
    written = (REPO / ".build" / "demo" / "1-audit" / "report.md").read_text(encoding="utf-8")
    assert GENERATED_AT.sub("", written) == GENERATED_AT.sub("", sample)
