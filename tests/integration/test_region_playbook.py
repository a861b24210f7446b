# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shipped playbook cloudops.apigw_tracing.region_tracing."""

from __future__ import annotations

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


def test_audit_shows_the_diff_and_writes_nothing(aws, apigw, run_playbook):
    seed(apigw, WORLD)
    before = tracing(apigw)
    aws.clear()

    run = run_playbook(PLAYBOOK, check=True, diff=True)

    assert run.rc == 0, run.describe()
    assert "--- before: a1b2c3d4e5/staging" in run.stdout and "--- before: f6g7h8i9j0/prod" in run.stdout
    assert "2 stage(s) would change" in run.stdout
    assert aws.calls("UpdateStage") == 0
    assert tracing(apigw) == before


def test_enforce_then_nothing_left(aws, apigw, run_playbook):
    seed(apigw, WORLD)
    aws.clear()

    run = run_playbook(PLAYBOOK)

    assert run.rc == 0, run.describe()
    assert aws.calls("UpdateStage") == 2
    assert all(tracing(apigw).values())

    aws.clear()
    again = run_playbook(PLAYBOOK)
    assert again.rc == 0, again.describe()
    assert aws.calls("UpdateStage") == 0
    assert again.status("Converge the stages that differ from the desired state, in one call") == "skipped"


def test_desired_off_turns_every_stage_off(aws, apigw, run_playbook):
    seed(apigw, WORLD)

    run = run_playbook(PLAYBOOK, extra_vars={"apigw_tracing_desired": False})

    assert run.rc == 0, run.describe()
    assert not any(tracing(apigw).values())
