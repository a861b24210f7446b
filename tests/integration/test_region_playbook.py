# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shipped playbook cloudops.apigw_tracing.region_tracing (its refusals of careless input are in test_trust.py)."""

from __future__ import annotations

import json

from conftest import REPO
from local_aws import seed

PLAYBOOK = str(REPO / "playbooks" / "region_tracing.yml")
WORLD = [
    {"name": "orders", "id": "a1b2c3d4e5", "stages": {"prod": {"tracing": True}, "staging": {}}},
    {"name": "billing", "id": "f6g7h8i9j0", "stages": {"prod": {}, "v1": {"tracing": True}}},
]


def tracing(apigw):
    return {
        (api["id"], stage["stageName"]): bool(stage.get("tracingEnabled"))
        for api in apigw.get_rest_apis(limit=500)["items"]
        for stage in apigw.get_stages(restApiId=api["id"])["item"]
    }


def test_audit_shows_the_diff_and_writes_nothing(aws, apigw, run_playbook, tmp_path):
    seed(apigw, WORLD)
    before = tracing(apigw)
    aws.clear()

    run = run_playbook(PLAYBOOK, {"tracing_sweep_report_dir": str(tmp_path / "r")}, check=True, diff=True)

    assert run.rc == 0, run.describe()
    assert "Region us-east-1 (from the environment variable AWS_REGION)" in run.stdout
    assert "123456789012 us-east-1: X-Ray tracing of 2 stages would change" in run.stdout
    assert "  a1b2c3d4e5/staging: tracing_enabled false -> true" in run.stdout
    assert "  f6g7h8i9j0/prod: tracing_enabled false -> true" in run.stdout
    assert "2 would change, 0 changed" in run.stdout
    report = json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))
    assert report["mode"] == "audit" and report["verdict"] == "noncompliant"
    assert aws.calls("UpdateStage") == 0
    assert tracing(apigw) == before


def test_enforce_then_nothing_left(aws, apigw, run_playbook, tmp_path):
    seed(apigw, WORLD)
    aws.clear()

    run = run_playbook(PLAYBOOK, {"tracing_sweep_report_dir": str(tmp_path / "r")})

    assert run.rc == 0, run.describe()
    assert aws.calls("UpdateStage") == 2
    assert all(tracing(apigw).values())

    aws.clear()
    again = run_playbook(PLAYBOOK, {"tracing_sweep_report_dir": str(tmp_path / "r")})
    assert again.rc == 0, again.describe()
    assert aws.calls("UpdateStage") == 0
    assert "0 would change, 0 changed" in again.stdout
    report = json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))
    assert report["verdict"] == "compliant" and report["summary"]["compliant"] == 4


def test_desired_off_turns_every_stage_off(aws, apigw, run_playbook, tmp_path):
    seed(apigw, WORLD)

    run = run_playbook(PLAYBOOK, extra_vars={"apigw_tracing_desired": False, "tracing_sweep_report_dir": str(tmp_path / "r")})

    assert run.rc == 0, run.describe()
    assert not any(tracing(apigw).values())
