# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_defaults group/cloudops.apigw_tracing.aws reaches our modules and amazon.aws's."""

from __future__ import annotations

from local_aws import seed

API = "a1b2c3d4e5"


def test_group_defaults_cover_both_collections(aws, apigw, run_playbook):
    seed(apigw, [{"name": "orders", "id": API, "stages": {"prod": {}}}])
    aws.clear()
    run = run_playbook(
        "module_defaults.yml",
        {"local_endpoint_url": aws.endpoint_url, "rest_api_id": API, "stage_name": "prod"},
        aws_env=False,
    )
    assert run.rc == 0, run.describe()
    assert run.result("Caller")["account"] == "123456789012"
    stages = run.result("Info")["stages"]
    assert [(s["rest_api_id"], s["stage_name"], s["tracing_enabled"]) for s in stages] == [(API, "prod", False)]
    assert run.result("Tracing")["changed"] is True
    assert apigw.get_stage(restApiId=API, stageName="prod")["tracingEnabled"] is True
    # Every call used the defaults: the test keys, in us-east-1.
    assert aws.calls("GetCallerIdentity") == 1
    assert aws.calls("UpdateStage") == 1
    assert {(r.access_key, r.region) for r in aws.requests} == {("testing", "us-east-1")}


def test_without_defaults_or_environment_nothing_reaches_aws(aws, run_playbook):
    # The control for the test above: with neither module_defaults nor AWS_* variables the
    # modules have no region/credentials, so the defaults really are what made it work.
    run = run_playbook("info.yml", aws_env=False)
    assert run.rc != 0
    assert run.status("Info") == "failed"
    assert aws.requests == []
