# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A sliced run is judged as the unsliced run would be.

AWX job slicing runs one job per slice (each its own --limit), then merge_reports merges their reports. For each
judgement a single run applies (a failed target, a stage error, findings not published, the history not kept,
the change guard, non-compliance with tracing_sweep_fail_on_noncompliant), the same world is swept once unsliced
and once in two slices merged by a merge job given none of the slices' settings: the merge must end with the
exit status and verdict of the unsliced run, and fail for the same reasons.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from sweep_world import POLICY
from sweep_world import seed_estate
from sweep_world import static_inventory
from sweep_world import write_yaml

AUDIT = "cloudops.apigw_tracing.audit"
ENFORCE = "cloudops.apigw_tracing.enforce"
MERGE = "cloudops.apigw_tracing.merge_reports"
SLICES = (("--limit", "prod_*"), ("--limit", "all:!prod_*"))


def _deny_assume_role(estate):
    estate.deny("AssumeRole", role_arn="arn:aws:iam::222222222222:role/TracingAudit")


def _deny_get_stages(estate):
    estate.deny("GetStages", account="111111111111", region="eu-west-1")


def _enable_hub_and_deny_import(estate):
    for account, region in (("111111111111", "us-east-1"), ("111111111111", "eu-west-1")):
        estate.client("securityhub", region, account=account).enable_security_hub()
    estate.deny("BatchImportFindings", account="111111111111", region="us-east-1")


# name: (playbook, extra vars of the sweep, set-up of the local AWS, what the failure says)
JUDGEMENTS = {
    "failed_target": (AUDIT, {}, _deny_assume_role, "targets failed"),
    "stage_error": (AUDIT, {}, _deny_get_stages, "stage error"),
    "findings_not_published": (AUDIT, {"tracing_sweep_security_hub": True}, _enable_hub_and_deny_import, "Findings were not published"),
    "history_not_kept": (AUDIT, {"tracing_sweep_history": "s3://no-such-history-bucket/runs"}, None, "not kept in the history"),
    "change_guard": (ENFORCE, {"tracing_sweep_max_changes": 1}, None, "tracing_sweep_max_changes"),
    "noncompliant": (AUDIT, {"tracing_sweep_fail_on_noncompliant": True}, None, "desired tracing state"),
}


def read_report(folder):
    return json.loads((Path(folder) / "report.json").read_text(encoding="utf-8"))


def failure_messages(run):
    return " ".join(entry["result"].get("msg", "") for entry in run.entries if entry["status"] == "failed")


@pytest.fixture
def world(run_playbook, tmp_path, estate):
    """world(name) -> (unsliced run, its report, merge run, merged report) of one judgement's world."""

    def run(name):
        playbook, extra, set_up, dummy = JUDGEMENTS[name]
        if set_up is not None:
            set_up(estate)
        inventory = write_yaml(tmp_path / "hosts.yml", static_inventory())

        def sweep(report_dir, args=()):
            extra_vars = dict(copy.deepcopy(POLICY), tracing_sweep_report_dir=str(report_dir), **extra)
            return run_playbook(playbook, extra_vars, inventory=inventory, args=args)

        # The slices first: an enforcement's unsliced run would leave nothing for them to change.
        slice_dirs = [tmp_path / ("slice%d" % index) for index in range(len(SLICES))]
        for args, report_dir in zip(SLICES, slice_dirs):
            sweep(report_dir, args)
        merged = run_playbook(MERGE, {"tracing_sweep_merge_reports": [str(path) for path in slice_dirs],
                                      "tracing_sweep_report_dir": str(tmp_path / "merged")})
        if playbook == ENFORCE:
            estate.reset()
            seed_estate(estate)
            if set_up is not None:
                set_up(estate)
        whole = sweep(tmp_path / "whole")
        return whole, read_report(tmp_path / "whole"), merged, read_report(tmp_path / "merged")

    return run


@pytest.mark.parametrize("name", sorted(JUDGEMENTS))
def test_each_judgement_fails_the_merged_run_as_it_fails_the_unsliced_run(world, name):
    whole, whole_report, merged, merged_report = world(name)
    says = JUDGEMENTS[name][3]

    assert whole.rc != 0, whole.describe()
    assert says in failure_messages(whole), whole.describe()
    assert merged.rc == whole.rc, merged.describe()
    assert says in failure_messages(merged), merged.describe()
    assert merged_report["verdict"] == whole_report["verdict"], (merged_report["verdict_reason"], whole_report["verdict_reason"])
    assert merged_report["run"]["judged_with"] == whole_report["run"]["judged_with"]


def test_a_clean_world_passes_sliced_and_unsliced(world, estate):
    # The control: without any of the judgements' causes, neither fails (an audit of a non-compliant estate passes).
    JUDGEMENTS["clean"] = (AUDIT, {}, None, "")
    try:
        whole, whole_report, merged, merged_report = world("clean")
    finally:
        del JUDGEMENTS["clean"]
    assert whole.rc == 0 and merged.rc == 0, merged.describe()
    assert merged_report["verdict"] == whole_report["verdict"] == "noncompliant"
