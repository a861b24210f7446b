# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a CI job reads is this run's: the documented recipe, run as written, and no stale report.json.

- The CI recipe of the reports guide (docs/docsite/rst/guide_reports.rst, the shell block under "The verdict: what a
  scheduler reads") is extracted as it is and
  run with bash -e, as CI runners run a script, on the estate of tools/sweep_world.py: it branches on this run's
  verdict, and a report an earlier run left never passes for this run's (the exit code and generated_at).
- A run that stops before writing its report (the role's argument checks, its settings, the region_tracing
  playbook's own checks) leaves no report.json at all: the earlier run's files were moved to a temporary
  directory first, and the run says which.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from docsite import code_blocks
from docsite import guide
from docsite import section
from sweep_world import POLICY
from sweep_world import accounts_inventory
from sweep_world import static_inventory
from sweep_world import write_yaml

AUDIT = "cloudops.apigw_tracing.audit"
ENFORCE = "cloudops.apigw_tracing.enforce"
REGION = "cloudops.apigw_tracing.region_tracing"
REPORT_FILES = ("report.json", "report.md", "report.xml", "report.csv", "report.html")
STALE = {"verdict": "compliant", "generated_at": "2020-01-01T00:00:00Z"}
MOVED = re.compile(r"The reports of an earlier run \(report\.json of (\S+), verdict (\S+)\) were moved from (\S+) to (\S+), so that")


def recipe():
    """The documented CI recipe, as written: the sh block of the reports guide's section on the verdict that runs the audit."""
    verdict = section(guide("guide_reports"), "The verdict: what a scheduler reads")
    blocks = [block for block in code_blocks(verdict, "sh") if "ansible-playbook cloudops.apigw_tracing.audit" in block]
    assert len(blocks) == 1, "expected one sh block running the audit in the reports guide's verdict section"
    return blocks[0]


def plant_earlier_reports(report_dir, report=None):
    """A complete report set an earlier run left: report.json says compliant, long ago."""
    report_dir.mkdir(parents=True, exist_ok=True)
    for name in REPORT_FILES:
        (report_dir / name).write_text(json.dumps(report or STALE) if name == "report.json" else "an earlier run\n", encoding="utf-8")


@pytest.fixture
def run_recipe(estate, playbook_runner, tmp_path):
    """run_recipe(policy) -> (exit code, stdout, workdir): the recipe in a directory holding accounts.yml and policy.yml."""
    workdir = tmp_path / "ci"
    workdir.mkdir()
    script = workdir / "recipe.sh"
    script.write_text(recipe(), encoding="utf-8")
    write_yaml(workdir / "accounts.yml", accounts_inventory())

    def run(policy, earlier=None, policy_text=None):
        if policy_text is not None:
            (workdir / "policy.yml").write_text(policy_text, encoding="utf-8")
        else:
            write_yaml(workdir / "policy.yml", policy)
        if earlier is not None:
            plant_earlier_reports(workdir / "tracing-sweep-reports", earlier)
        proc = subprocess.run(["bash", "-e", str(script)], cwd=str(workdir), env=playbook_runner.environment(), capture_output=True,
                              text=True, timeout=300, check=False)
        return proc.returncode, proc.stdout, workdir

    return run


def last_line(stdout):
    return stdout.strip().splitlines()[-1]


def test_the_recipe_reads_the_verdict_of_the_run_it_started(run_recipe):
    code, stdout, workdir = run_recipe(POLICY)

    assert (code, last_line(stdout)) == (1, "findings: see tracing-sweep-reports/report.md"), stdout
    assert json.loads((workdir / "tracing-sweep-reports" / "report.json").read_text(encoding="utf-8"))["verdict"] == "noncompliant"


@pytest.mark.parametrize("misspelt", [
    {"tracing_sweep_desired": "flase"},     # the role's argument checks stop every host
    {"tracing_sweep_desird": True},         # the sweep's settings refuse a misspelt variable
])
def test_the_recipe_never_reads_an_earlier_report_when_the_run_stopped_before_its_own(run_recipe, misspelt):
    policy = dict(copy.deepcopy(POLICY), **misspelt)

    code, stdout, workdir = run_recipe(policy, earlier=STALE)

    assert code == 2, stdout
    assert last_line(stdout).startswith("the audit could not vouch for every target (exit code 2, verdict error)"), stdout
    # The run moved the earlier report out of the way before it stopped.
    assert not (workdir / "tracing-sweep-reports" / "report.json").exists()


def test_the_recipe_never_reads_an_earlier_report_when_ansible_playbook_did_not_start(run_recipe):
    """ansible-playbook stops before any play (its extra variables are not YAML): the earlier report stays, and the
    exit code alone says error, even when the report's time would pass (written by a controller whose clock was ahead)."""
    ahead = dict(STALE, generated_at="2999-01-01T00:00:00Z")

    code, stdout, workdir = run_recipe(None, earlier=ahead, policy_text="tracing_sweep_desired: [true\n")

    assert code == 2, stdout
    assert re.match(r"the audit could not vouch for every target \(exit code [1-9]\d*, verdict compliant\)", last_line(stdout)), stdout
    assert json.loads((workdir / "tracing-sweep-reports" / "report.json").read_text(encoding="utf-8")) == ahead


def test_the_recipe_never_reads_a_report_written_before_the_run_started(run_recipe):
    """The run passed, but wrote its report elsewhere: what the recipe finds is an earlier run's, whatever it says."""
    policy = dict(copy.deepcopy(POLICY), tracing_sweep_report_dir="elsewhere")

    code, stdout, workdir = run_recipe(policy, earlier=STALE)

    assert code == 2, stdout
    assert last_line(stdout) == "the audit could not vouch for every target (exit code 0, verdict error): see its output", stdout
    assert (workdir / "elsewhere" / "report.json").exists()


# ---- no report of an earlier run where this run's belongs ----------------------------------------------------


@pytest.mark.parametrize("playbook, extra", [
    (AUDIT, {"tracing_sweep_desired": "flase"}),                        # the role's argument checks
    (ENFORCE, {"tracing_sweep_max_changes": "lots"}),                   # the role's argument checks
    (AUDIT, {"tracing_sweep_exemptions": [{"arn": "nope"}]}),           # the sweep's settings
    (REGION, {"apigw_tracing_region": "us-east-1", "apigw_tracing_desierd": "true"}),  # region_tracing's own checks
], ids=["audit-argument-checks", "enforce-argument-checks", "audit-settings", "region_tracing-checks"])
def test_a_run_that_stops_before_its_report_leaves_no_report_of_an_earlier_run(run_playbook, estate, tmp_path, playbook, extra):
    report_dir = tmp_path / "reports"
    earlier = dict(STALE, verdict="noncompliant")
    plant_earlier_reports(report_dir, earlier)
    extra_vars = dict(copy.deepcopy(POLICY) if playbook != REGION else {}, tracing_sweep_report_dir=str(report_dir), **extra)

    run = run_playbook(playbook, extra_vars, inventory=None if playbook == REGION else write_yaml(tmp_path / "hosts.yml", static_inventory()))

    assert run.rc != 0, run.describe()
    assert "Tracing sweep (" not in run.stdout, "the run was to stop before its report: %s" % run.describe()
    assert sorted(path.name for path in report_dir.iterdir()) == [], run.describe()
    moved = MOVED.search(run.stdout)
    assert moved, run.describe()
    assert moved.groups()[:3] == (earlier["generated_at"], earlier["verdict"], str(report_dir))
    # Nothing is lost: the earlier run's files are where the run said, as they were.
    kept = Path(moved.group(4))
    assert sorted(path.name for path in kept.iterdir()) == sorted(REPORT_FILES)
    assert json.loads((kept / "report.json").read_text(encoding="utf-8")) == earlier
    assert (kept / "report.md").read_text(encoding="utf-8") == "an earlier run\n"
    assert not [request for request in estate.requests if request.service == "apigateway"]


def test_a_run_that_writes_its_report_moves_the_earlier_one_and_says_where(run_playbook, estate, tmp_path):
    report_dir = tmp_path / "reports"
    plant_earlier_reports(report_dir)
    extra_vars = dict(copy.deepcopy(POLICY), tracing_sweep_report_dir=str(report_dir), tracing_sweep_report_formats=["json"])

    run = run_playbook(AUDIT, extra_vars, inventory=write_yaml(tmp_path / "hosts.yml", static_inventory()))

    assert run.rc == 0, run.describe()
    # One run, one set: only this run's report.json (the earlier run's report.md and others went with it).
    assert sorted(path.name for path in report_dir.iterdir()) == ["report.json"]
    assert json.loads((report_dir / "report.json").read_text(encoding="utf-8"))["verdict"] == "noncompliant"
    assert sorted(path.name for path in Path(MOVED.search(run.stdout).group(4)).iterdir()) == sorted(REPORT_FILES)


def test_the_merge_never_moves_one_of_the_reports_it_merges(run_playbook, estate, tmp_path):
    """tracing_sweep_report_dir names the directory of one of the reports to merge: the merge refuses it, and the
    report stays where it is."""
    slice_dir = tmp_path / "slice"
    plant_earlier_reports(slice_dir)
    kept = (slice_dir / "report.json").read_text(encoding="utf-8")

    run = run_playbook("cloudops.apigw_tracing.merge_reports",
                       {"tracing_sweep_merge_reports": [str(slice_dir / "report.json")], "tracing_sweep_report_dir": str(slice_dir)})

    assert run.rc != 0
    assert not MOVED.search(run.stdout), run.describe()
    assert (slice_dir / "report.json").read_text(encoding="utf-8") == kept
    assert yaml.safe_load(kept) == STALE
