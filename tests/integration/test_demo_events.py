# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make demo-events` (tools/demo_events.py) as a user runs it: the shipped rulebook under the real ansible-rulebook
traces a stage that shipped untraced, and the demo says so. It needs Java 17 and the venv of `make eda-deps`: the end
to end test skips, saying why, without them, like the other rulebook tests; without them the demo itself fails with
the reason. No test here measures time: the demo prints its seconds, the test only reads that it did."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from types import SimpleNamespace

import pytest

from conftest import REPO
from eda_run import rulebook_command

# The demo writes .build/demo-events/ afresh.
pytestmark = pytest.mark.xdist_group("demo_events")

DEMO = REPO / "tools" / "demo_events.py"
WORKDIR = REPO / ".build" / "demo-events"


@pytest.fixture(scope="module")
def demo():
    rulebook_command()  # skips without Java 17 or the venv of `make eda-deps`
    completed = subprocess.run([sys.executable, str(DEMO)], env=dict(os.environ), capture_output=True, text=True, timeout=600, check=False)
    return SimpleNamespace(returncode=completed.returncode, stdout=completed.stdout, stderr=completed.stderr)


def test_make_demo_events_traces_the_stage_that_shipped_untraced(demo):
    output = demo.stdout + demo.stderr
    assert demo.returncode == 0, output
    assert "Demo passed" in demo.stdout and not re.search(r"^FAILED: ", demo.stdout, re.MULTILINE), output
    # What happened, in plain lines: the stage, the event, the run's report directory and verdict, the time.
    assert "a deployment shipped stage ord1111use/release-42 (API orders) in 111111111111 us-east-1 without tracing" in demo.stdout
    assert "Event: CreateStage of ord1111use/release-42 by arn:aws:sts::111111111111:assumed-role/Deployer/deploy-pipeline" in demo.stdout
    assert "Verdict: compliant (" in demo.stdout
    assert re.search(r"^Event to fix \(put_events to tracingEnabled true\): \d+\.\d s$", demo.stdout, re.MULTILINE), output
    assert re.search(r"^Event to UpdateStage: \d+\.\d s$", demo.stdout, re.MULTILINE), output
    # The minimum calls, counted by the proxy (the demo's own reads of the stage are not in them).
    assert "API calls the remediation made: AssumeRole 1, GetRestApi 1, GetStage 1, UpdateStage 1" in demo.stdout, output
    # The run's report set is where the demo says, and its report.json names the stage.
    [run_dir] = [path for path in (WORKDIR / "remediations").iterdir() if path.is_dir()]
    assert "one remediation run: %s" % run_dir in demo.stdout
    report = json.loads((run_dir / "report.json").read_text(encoding="utf-8"))
    assert [(row["rest_api_id"], row["stage_name"], row["action"]) for row in report["stages"]] == [("ord1111use", "release-42", "enabled")]
    assert report["verdict"] == "compliant"
    # ansible-rulebook was stopped: the demo leaves no process behind (its log says it started the source).
    assert "ansible-rulebook stopped" in demo.stdout
    assert (WORKDIR / "ansible-rulebook.log").is_file()


def test_make_demo_events_without_java_says_why_and_fails(tmp_path):
    """No java on PATH: one line with the reason, a non-zero exit, and nothing started."""
    env = dict(os.environ, PATH=str(tmp_path))
    completed = subprocess.run([sys.executable, str(DEMO)], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert completed.stdout == ""
    assert completed.stderr.startswith("make demo-events: cannot run ansible-rulebook here: no Java runtime: ansible-rulebook needs Java 17")


def test_make_demo_events_without_the_rulebook_venv_says_why_and_fails(tmp_path):
    if subprocess.run(["java", "-version"], capture_output=True, check=False).returncode != 0:
        pytest.skip("no Java here: the demo stops at that first")
    env = dict(os.environ, APIGW_EDA_VENV=str(tmp_path / "no-venv"))
    completed = subprocess.run([sys.executable, str(DEMO)], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert completed.stderr.strip() == "make demo-events: cannot run ansible-rulebook here: no ansible-rulebook at %s: run `make eda-deps`" % (
        tmp_path / "no-venv" / "bin" / "ansible-rulebook")


def test_make_demo_events_installs_ansible_rulebook_first(tmp_path):
    """The target depends on eda-deps (which builds .build/eda-venv), then runs the demo."""
    planned = subprocess.run(["make", "-n", "demo-events", "VENV=%s" % (tmp_path / "venv"), "BUILD=%s" % (tmp_path / "build")],
                             cwd=str(REPO), capture_output=True, text=True, timeout=60, check=False)
    assert planned.returncode == 0, planned.stderr
    lines = planned.stdout.splitlines()
    rulebook = [number for number, line in enumerate(lines) if "eda-deps.stamp" in line]
    demo = [number for number, line in enumerate(lines) if "tools/demo_events.py" in line]
    assert rulebook and demo and rulebook[0] < demo[0], planned.stdout
