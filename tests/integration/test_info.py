# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""apigw_stage_tracing_info against the local AWS, through ansible-playbook."""

from __future__ import annotations

import pytest

from local_aws import seed
from plays import write_play

REGION = "us-east-1"

APIS = [
    {"name": "orders", "id": "a1b2c3d4e5", "stages": {
        "prod": {"tracing": True, "tags": {"Env": "prod", "CostCentre": "42"}},
        "staging": {"tags": {"Env": "staging"}},
    }},
    {"name": "users", "id": "f6g7h8i9j0", "stages": {
        "prod": {"tracing": True},
        "v1": {},
    }},
    {"name": "billing", "id": "k1l2m3n4o5", "stages": {"Beta_2": {"tags": {"Owner": "Team-Billing"}}}},
    {"name": "empty", "id": "p6q7r8s9t0", "stages": {}},
]


def arn(api_id, stage):
    return "arn:aws:apigateway:%s::/restapis/%s/stages/%s" % (REGION, api_id, stage)


def expected_stages(apis):
    """(rest_api_id, stage_name) -> (api name, stage spec) for every seeded stage."""
    return {(api["id"], name): (api["name"], spec) for api in apis for name, spec in api["stages"].items()}


def check_entry(entry, api_name, spec):
    assert entry["rest_api_name"] == api_name
    assert entry["arn"] == arn(entry["rest_api_id"], entry["stage_name"])
    # A real bool, also where AWS left the key out.
    assert entry["tracing_enabled"] is bool(spec.get("tracing"))
    assert entry["deployment_id"] == "dep000"
    assert entry["tags"] == spec.get("tags", {})
    assert entry["access_logging_enabled"] is False
    for key in ("created_date", "last_updated_date", "cache_cluster_enabled"):
        assert key in entry, key
    assert not [key for key in entry if key != key.lower()], "keys not snake_cased: %s" % sorted(entry)


def test_every_stage_of_the_region(aws, apigw, run_playbook):
    seed(apigw, APIS)
    aws.clear()
    run = run_playbook("info.yml")
    assert run.rc == 0, run.describe()
    result = run.result("Info")
    assert result["changed"] is False
    expected = expected_stages(APIS)
    got = {(s["rest_api_id"], s["stage_name"]): s for s in result["stages"]}
    assert len(result["stages"]) == len(expected) == 5
    assert set(got) == set(expected)
    for key, entry in got.items():
        check_entry(entry, *expected[key])
    assert aws.calls("GetRestApis") == 1
    assert aws.calls("GetStages") == len(APIS)
    assert aws.calls("GetStage") == 0
    assert aws.writes() == []
    stages_paths = sorted(r.path for r in aws.requests if r.operation == "GetStages")
    assert stages_paths == sorted("/restapis/%s/stages" % api["id"] for api in APIS)


def test_every_stage_follows_rest_api_pages(aws, apigw, run_playbook):
    # AWS may return fewer APIs than the limit asks for; every page must be read.
    apis = [{"name": "api%02d" % i, "stages": {"prod": {"tracing": i % 2 == 0}}} for i in range(23)]
    ids = seed(apigw, apis)
    aws.rest_apis_page_cap = 10
    aws.clear()
    run = run_playbook("info.yml")
    assert run.rc == 0, run.describe()
    stages = run.result("Info")["stages"]
    assert sorted(s["rest_api_id"] for s in stages) == sorted(ids)
    listing = [r for r in aws.requests if r.operation == "GetRestApis"]
    assert len(listing) == 3
    assert listing[0].query.get("limit") == "500"
    assert aws.calls("GetStages") == 23 and aws.calls("GetStage") == 0


# The read-only lookups below share one seeded region and one playbook (one task each); the
# requests of each task are told apart by time (PlaybookRun.requests).
INFO = "cloudops.apigw_tracing.apigw_stage_tracing_info"
LOOKUPS = {
    "One REST API": {"rest_api_id": "f6g7h8i9j0"},
    "One stage": {"rest_api_id": "a1b2c3d4e5", "stage_name": "prod"},
    "One stage without the tracing key": {"rest_api_id": "a1b2c3d4e5", "stage_name": "staging"},
    "Missing REST API": {"rest_api_id": "zzzzzzzzzz"},
    "Missing stage": {"rest_api_id": "a1b2c3d4e5", "stage_name": "nope"},
    "Stage of a missing REST API": {"rest_api_id": "zzzzzzzzzz", "stage_name": "prod"},
}
CHECK_MODE = "One REST API in check mode"


@pytest.fixture(scope="module")
def lookups(local_aws_server, playbook_runner, tmp_path_factory):
    """(run, requests) of one playbook running every lookup of LOOKUPS, plus one in check mode."""
    local_aws_server.rest_apis_page_cap = None
    local_aws_server.reset()
    seed(local_aws_server.client("apigateway"), APIS)
    local_aws_server.clear()
    tasks = [{"name": name, INFO: args} for name, args in LOOKUPS.items()]
    tasks.append({"name": CHECK_MODE, INFO: {"rest_api_id": "a1b2c3d4e5"}, "check_mode": True})
    run = playbook_runner.run(write_play(tmp_path_factory.mktemp("info") / "lookups.yml", "Lookups", tasks))
    assert run.rc == 0, run.describe()
    return run, local_aws_server.requests


def lookup(lookups, name):
    """(result, operations) of one lookup task."""
    run, requests = lookups
    assert run.status(name) == "ok"
    result = run.result(name)
    assert result["changed"] is False
    return result, [r.operation for r in run.requests(name, requests)]


def test_one_rest_api(lookups):
    result, operations = lookup(lookups, "One REST API")
    assert sorted(s["stage_name"] for s in result["stages"]) == ["prod", "v1"]
    expected = expected_stages(APIS)
    for entry in result["stages"]:
        assert entry["rest_api_id"] == "f6g7h8i9j0"
        check_entry(entry, *expected[("f6g7h8i9j0", entry["stage_name"])])
    assert operations.count("GetStages") == 1
    assert "GetStage" not in operations and "GetRestApis" not in operations


def test_one_stage(lookups):
    result, operations = lookup(lookups, "One stage")
    assert len(result["stages"]) == 1
    entry = result["stages"][0]
    assert (entry["rest_api_id"], entry["stage_name"]) == ("a1b2c3d4e5", "prod")
    check_entry(entry, "orders", APIS[0]["stages"]["prod"])
    assert entry["tags"] == {"Env": "prod", "CostCentre": "42"}
    assert operations.count("GetStage") == 1
    assert "GetStages" not in operations and "GetRestApis" not in operations


def test_one_stage_with_absent_tracing_key(lookups):
    result, dummy = lookup(lookups, "One stage without the tracing key")
    (entry,) = result["stages"]
    assert entry["tracing_enabled"] is False


@pytest.mark.parametrize("name", ["Missing REST API", "Missing stage", "Stage of a missing REST API"])
def test_missing_is_empty_not_failed(lookups, name):
    result, dummy = lookup(lookups, name)
    assert result["stages"] == []


def test_check_mode(lookups):
    result, operations = lookup(lookups, CHECK_MODE)
    assert len(result["stages"]) == 2
    assert all(op.startswith("Get") for op in operations)


def test_lookups_wrote_nothing(lookups):
    run, requests = lookups
    assert requests and all(r.method == "GET" for r in requests)


def test_no_rest_apis_at_all(aws, run_playbook):
    run = run_playbook("info.yml")
    assert run.rc == 0, run.describe()
    assert run.result("Info")["stages"] == []


def test_check_mode_in_a_playbook_of_its_own(aws, apigw, run_playbook):
    seed(apigw, APIS)
    run = run_playbook("info.yml", {"rest_api_id": "a1b2c3d4e5"}, check=True)
    assert run.rc == 0, run.describe()
    assert len(run.result("Info")["stages"]) == 2
    assert run.result("Info")["changed"] is False
