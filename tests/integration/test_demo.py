# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make demo`, the README's first command, as a user runs it; and what the README and the guides say about it."""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
from types import SimpleNamespace

import pytest

from conftest import REPO
from docsite import all_guides
from docsite import code_blocks
from docsite import guide

# The demo writes .build/demo/ afresh; the fixture below runs it once for all workers.
pytestmark = pytest.mark.xdist_group("demo")

# When and where a run was: its time, and its history's directory and run id (the demo's history is in the checkout).
GENERATED_AT = re.compile(r"^- (Generated at|History): .*$", re.MULTILINE)
README = (REPO / "README.md").read_text(encoding="utf-8")
GUIDES = all_guides()


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """tools/demo.py is what `make demo` runs; it starts its own local AWS and checks every step itself.

    The demo writes .build/demo/ afresh, so it runs once per test session: the first pytest worker that needs it
    runs it (a lock file keeps the others waiting) and keeps its output and a copy of what it wrote in the
    session's shared temporary directory, where the other workers find them.
    """
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # pytest-xdist: each worker's base is a folder of the session's
    cache = shared / "demo-run"
    lock_path = REPO / ".build" / "demo.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (cache / "result.json").is_file():
            completed = subprocess.run(
                [sys.executable, str(REPO / "tools" / "demo.py")], env=dict(os.environ), capture_output=True, text=True, timeout=600, check=False
            )
            cache.mkdir(parents=True, exist_ok=True)
            if (REPO / ".build" / "demo").is_dir():
                shutil.copytree(REPO / ".build" / "demo", cache / "demo")
            result = {"returncode": completed.returncode, "stdout": completed.stdout, "stderr": completed.stderr}
            (cache / "result.json").write_text(json.dumps(result), encoding="utf-8")
    result = json.loads((cache / "result.json").read_text(encoding="utf-8"))
    return SimpleNamespace(workdir=cache / "demo", **result)


def test_make_demo_passes(demo):
    output = demo.stdout + demo.stderr
    assert demo.returncode == 0, output
    assert "Demo passed" in demo.stdout
    # Its own checks all passed (the last audit's "fatal" is the alert it shows on purpose).
    assert not re.search(r"^FAILED: ", demo.stdout, re.MULTILINE), output
    # The audit and the enforcement (both --diff) showed one line per stage that changes, under its account and
    # region, and the reports are where the demo says.
    assert len(re.findall(r"^  \w+/\w+: tracing_enabled false -> true$", demo.stdout, re.MULTILINE)) == 2 * 5, output
    for run in ("1-audit", "2-enforce", "3-audit", "5-audit"):
        for name in ("report.json", "report.md", "report.xml", "report.csv", "report.html"):
            assert (demo.workdir / run / name).is_file()
    # The reports guide's sample report is the demo audit's report.md, whole, but for when and where it ran.
    sample = (REPO / "docs" / "samples" / "audit-report.md").read_text(encoding="utf-8")
    written = (demo.workdir / "1-audit" / "report.md").read_text(encoding="utf-8")
    assert GENERATED_AT.sub("", written) == GENERATED_AT.sub("", sample)


def test_make_demo_shows_drift_since_the_last_run(demo):
    """The demo turns one stage off behind the collection's back; the next audit names it as regressed and fails."""
    arn = "arn:aws:apigateway:us-east-1::/restapis/ord1111use/stages/prod"
    assert f"Regressed: {arn} in 111111111111: compliant -> noncompliant (tracing_enabled is false, desired true)" in demo.stdout
    assert "1 stage has regressed since the last run" in demo.stdout
    assert "ok:     the run failed (exit code 2), as tracing_sweep_fail_on_regression asks" in demo.stdout
    runs = [path for scope in (demo.workdir / "history").iterdir() if scope.is_dir() for path in scope.iterdir()]
    assert len(runs) == 4 and all((run / "state.json").is_file() and (run / "report.json").is_file() for run in runs)
    assert "make demo" in README and "behind the collection's back" in README


def test_readme_output_sample_is_what_the_demo_prints(demo):
    """Every line of the audit guide's sample output, but its '...', is a line the demo's audit printed."""
    block = code_blocks(guide("guide_audit_enforce").split("An audit's output shows", 1)[1], "text")[0]
    printed = demo.stdout.splitlines()
    for line in block.splitlines():
        if line.strip() in ("...", ""):
            continue
        # The demo prints its own path; the guide shows the checkout's.
        assert line.replace("/work/main/", str(REPO) + "/") in printed or line in printed, line


def test_readme_describes_the_demo_as_it_runs():
    demo_source = (REPO / "tools" / "demo.py").read_text(encoding="utf-8")
    # The audit runs with --diff only: the playbook itself is in check mode.
    assert '"cloudops.apigw_tracing.audit", "1-audit", "--diff")' in demo_source
    assert "`--diff` (the playbook runs in check mode itself" in README
    assert "--check --diff` (nothing changes" not in README
    # Counts are worded for one and for many.
    assert not re.search(r"\b1 (targets|stages)\b", README + GUIDES)


def test_make_demo_installs_only_what_the_demo_needs(tmp_path):
    """On a fresh machine `make demo` installs the demo's requirements, not the test toolchain, and says so."""
    planned = subprocess.run(
        ["make", "-n", "demo", "VENV=%s" % (tmp_path / "venv"), "BUILD=%s" % (tmp_path / "build")],
        cwd=str(REPO), capture_output=True, text=True, timeout=60, check=False,
    )
    assert planned.returncode == 0, planned.stderr
    installs = [line for line in planned.stdout.splitlines() if "pip install" in line]
    assert len(installs) == 1, planned.stdout
    assert "tests/requirements/demo.txt" in installs[0] and "test-requirements.txt" not in installs[0]
    assert "installing what the demo needs" in planned.stdout
    demo_requirements = (REPO / "tests" / "requirements" / "demo.txt").read_text(encoding="utf-8")
    assert [line for line in demo_requirements.splitlines() if line and not line.startswith("#")] == ["moto[server]>=5.2,<5.3"]


def test_readme_names_the_endpoint_variables_ansible_doc_shows():
    """ansible-doc lists amazon.aws's AWS_URL for endpoint_url; the modules' guide says which variable does what."""
    shown = subprocess.run(
        ["ansible-doc", "cloudops.apigw_tracing.apigw_stage_tracing"], capture_output=True, text=True, timeout=120, check=False
    ).stdout
    assert "AWS_URL" in shown
    modules_guide = guide("guide_modules")
    assert "`AWS_URL`" in modules_guide and "`AWS_ENDPOINT_URL`" in modules_guide
