# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Nothing after the converge can cost an enforcement its record.

An enforcement changes stages, then runs the steps after the converge: Security Hub, the history's read, the
comparison and its write, the charts, every report format, writing the files. Each test makes one of those
steps fail as a bug in it would (plugins/plugin_utils/_testing/faults.py: the environment variable names the step),
through the real enforce playbook against the local AWS, and finds every changed stage in report.json (or, when
report.json itself cannot be written, in the fallback file whose path the run prints), the failed step and its
cause in the report, and a run that does not pass.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from pathlib import Path

import jsonschema
import pytest

from conftest import REPO
from sweep_world import AUDIT_TRUTH
from sweep_world import CALLER_ACCOUNT
from sweep_world import POLICY
from sweep_world import static_inventory
from sweep_world import tracing_state
from sweep_world import write_yaml

ENFORCE = "cloudops.apigw_tracing.enforce"
AUDIT = "cloudops.apigw_tracing.audit"
MERGE = "cloudops.apigw_tracing.merge_reports"
SCHEMA = json.loads((REPO / "docs" / "report.schema.json").read_text(encoding="utf-8"))
FAULTS = "_CLOUDOPS_APIGW_TRACING_FAULTS"
WOULD_ENABLE = sorted(key for key, (_before, action) in AUDIT_TRUTH.items() if action == "would_enable")
# Each step after the converge: the failed steps report.json records when it fails, and the report files it makes.
STEPS_AFTER_CONVERGE = {
    "security_hub": ([], ()),  # recorded per target: findings not published
    "history_read": (["history_read"], ()),
    "history_write": (["history_write"], ()),
    "charts": (["format_markdown", "format_html"], ("report.md", "report.html")),
    "format_markdown": (["format_markdown"], ("report.md",)),
    "format_html": (["format_html"], ("report.html",)),
    "format_junit": (["format_junit"], ("report.xml",)),
    "format_csv": (["format_csv"], ("report.csv",)),
}


def changed(report):
    return sorted((row["account_id"], row["region"], row["rest_api_id"], row["stage_name"]) for row in report["stages"] if row["action"] == "enabled")


def failure_messages(run):
    return " ".join(entry["result"].get("msg", "") for entry in run.entries if entry["status"] == "failed")


@pytest.fixture
def enforce(run_playbook, tmp_path, estate):
    """enforce(fault, report_dir=None, env=None) -> (run, report_dir): the enforce playbook over the estate, with a
    history and Security Hub on, the step named by ``fault`` failing."""

    def run(fault, report_dir=None, env=None):
        for account_id, region in {(key[0], key[1]) for key in AUDIT_TRUTH}:
            estate.client("securityhub", region, account=None if account_id == CALLER_ACCOUNT else account_id).enable_security_hub()
        report_dir = Path(report_dir or tmp_path / "reports")
        extra_vars = dict(POLICY, tracing_sweep_report_dir=str(report_dir), tracing_sweep_history=str(tmp_path / "history"),
                          tracing_sweep_security_hub=True)
        inventory = write_yaml(tmp_path / "hosts.yml", static_inventory())
        result = run_playbook(ENFORCE, extra_vars, inventory=inventory, env=dict({FAULTS: fault}, **(env or {})))
        return result, report_dir

    return run


@pytest.mark.parametrize("step", sorted(STEPS_AFTER_CONVERGE))
def test_a_failing_step_after_the_converge_keeps_the_record_of_every_change(enforce, estate, step):
    run, report_dir = enforce(step)

    state = tracing_state(estate)
    assert all(state[key] for key in WOULD_ENABLE), run.describe()  # the changes were made
    report = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
    jsonschema.validate(report, SCHEMA)
    assert changed(report) == WOULD_ENABLE  # ...and report.json records every one of them
    # The failed step and its cause are in the report and its verdict, and the run does not pass.
    assert report["verdict"] == "error", report["verdict_reason"]
    if step == "security_hub":
        assert report["summary"]["security_hub"]["not_published"], report["summary"]
        assert all(target["security_hub"]["status"] == "failed" for target in report["targets"] if target["status"] == "ok")
        assert "fault injected into the step security_hub" in failure_messages(run)
    else:
        failed_steps, dummy = STEPS_AFTER_CONVERGE[step]
        assert [failed["step"] for failed in report["run"]["failed_steps"]] == failed_steps
        assert all(f"fault injected into the step {step}" in failed["error"] for failed in report["run"]["failed_steps"])
        assert "failed (" in report["verdict_reason"]
        assert f"fault injected into the step {step}" in failure_messages(run)
    assert run.rc != 0, run.describe()
    # Every other format was written; the failed one is not left from an earlier run.
    for name in ("report.md", "report.xml", "report.csv", "report.html"):
        assert (report_dir / name).is_file() == (name not in STEPS_AFTER_CONVERGE[step][1]), name
    assert "Verdict: error" in run.stdout


def test_reports_that_cannot_be_written_leave_report_json_elsewhere_with_every_change(enforce, estate, tmp_path, request):
    # A short path: ansible-core 2.21 puts its local RPC socket under TMPDIR (107 characters at most).
    fallback_dir = Path(tempfile.mkdtemp(prefix="fb-"))
    request.addfinalizer(lambda: shutil.rmtree(fallback_dir, ignore_errors=True))
    run, report_dir = enforce("report_write", env={"TMPDIR": str(fallback_dir)})

    assert run.rc != 0
    assert all(tracing_state(estate)[key] for key in WOULD_ENABLE)
    assert not (report_dir / "report.json").exists()
    message = failure_messages(run)
    for account, region, api, stage in WOULD_ENABLE:  # every change is named in the failure...
        assert "arn:aws:apigateway:%s::/restapis/%s/stages/%s tracing_enabled false -> true" % (region, api, stage) in message
    saved = Path(re.search(r"report.json was saved to (\S+) instead", message).group(1))  # ...and report.json kept where it says
    assert saved.parent == fallback_dir
    assert changed(json.loads(saved.read_text(encoding="utf-8"))) == WOULD_ENABLE


def test_every_step_failing_at_once_still_leaves_report_json(enforce, estate):
    run, report_dir = enforce(",".join(STEPS_AFTER_CONVERGE))

    assert run.rc != 0
    report = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
    assert changed(report) == WOULD_ENABLE and report["verdict"] == "error"
    steps = [failed["step"] for failed in report["run"]["failed_steps"]]
    # Without a comparison there is no run to keep in the history: its write is not tried.
    assert steps == ["history_read", "format_markdown", "format_junit", "format_csv", "format_html"]
    assert sorted(path.name for path in report_dir.iterdir()) == ["report.json"]
