# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The remediate playbook's first step: the event's variables checked, its target found in the inventory; and the
tracing_sweep_stages setting it hands to the role."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._settings.checks import named_stages
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._settings.checks import named_stages_problems
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._steps import remediation

INVENTORY = [
    ("prod_us-east-1", {"tracing_sweep_account_id": "111111111111", "tracing_sweep_region": "us-east-1"}),
    ("prod_eu-west-1", {"tracing_sweep_account_id": "111111111111", "tracing_sweep_region": "eu-west-1"}),
    ("legacy", {"tracing_sweep_region": "us-east-1"}),
]


def event(**changes):
    value = {"account_id": "111111111111", "region": "us-east-1", "mode": "enforce", "stages": ["a1b2c3d4e5/prod"], "base_dir": "/r"}
    value.update(changes)
    return value


@pytest.mark.parametrize("value, expected", [
    ("a1b2c3d4e5/prod", [{"rest_api_id": "a1b2c3d4e5", "stage_name": "prod"}]),
    ("a1b2c3d4e5/prod, a1b2c3d4e5/dev", [{"rest_api_id": "a1b2c3d4e5", "stage_name": "prod"}, {"rest_api_id": "a1b2c3d4e5", "stage_name": "dev"}]),
    ([{"rest_api_id": "a1b2c3d4e5", "stage_name": "prod"}, "a1b2c3d4e5/prod"], [{"rest_api_id": "a1b2c3d4e5", "stage_name": "prod"}]),
    ([], []),
    (None, []),
])
def test_named_stages_as_users_and_events_give_them(value, expected):
    assert named_stages_problems(value) == []
    assert named_stages(value) == expected


@pytest.mark.parametrize("value, problem", [
    ("a1b2c3d4e5", "tracing_sweep_stages: must be a list of the stages to sweep"),
    ([{"rest_api_id": "a1b2c3d4e5"}], "tracing_sweep_stages[0]: must be a list of the stages to sweep"),
    ([{"rest_api_id": "a1b2c3d4e5", "stage_name": "prod", "extra": 1}], "tracing_sweep_stages[0]: must be a list"),
    (["A1B2C3D4E5/prod"], "tracing_sweep_stages[0].rest_api_id: must be a REST API id"),
    (["a1b2c3d4e5/pr od"], "tracing_sweep_stages[0].stage_name: must be a stage name"),
    (["a1b2c3d4e5/a/b"], "tracing_sweep_stages[0]: must be a list"),
    ({"rest_api_id": "a1b2c3d4e5", "stage_name": "prod"}, "tracing_sweep_stages: must be a list"),
    (42, "tracing_sweep_stages: must be a list"),
    (["a1b2c3d4e5/s%d" % n for n in range(1001)], "tracing_sweep_stages: must be a list of the stages to sweep"),
])
def test_bad_named_stages_are_refused_naming_the_entry_and_the_rule(value, problem):
    problems = named_stages_problems(value)
    assert problems and problems[0].startswith(problem), problems


def test_the_target_is_the_inventory_host_of_the_events_account_and_region():
    found = remediation.event_target_step(event(), INVENTORY)
    assert found["host"] == "prod_us-east-1"
    assert found["stages"] == [{"rest_api_id": "a1b2c3d4e5", "stage_name": "prod"}]
    assert found["report_dir"].startswith("/r/") and found["report_dir"].endswith("-111111111111-us-east-1")


def test_an_account_id_the_inventory_gives_as_a_number_still_matches():
    inventory = [("prod", {"tracing_sweep_account_id": 111111111111, "tracing_sweep_region": "us-east-1"})]
    assert remediation.event_target_step(event(), inventory)["host"] == "prod"


def test_two_hosts_of_one_target_use_the_first_by_name_and_say_so():
    inventory = INVENTORY + [("a_copy", dict(INVENTORY[0][1]))]
    found = remediation.event_target_step(event(), inventory)
    assert found["host"] == "a_copy" and "2 inventory hosts have this account and region" in found["lines"][1]


def test_no_host_of_the_events_target_is_a_clear_failure():
    found = remediation.event_target_step(event(region="ap-south-1"), INVENTORY)
    assert found["failed"] is True and found["msg"].startswith("No inventory host is the target of this event")


@pytest.mark.parametrize("changes, problem", [
    ({"account_id": None}, "apigw_tracing_event_account_id: must be given"),
    ({"account_id": "11111111111"}, "apigw_tracing_event_account_id: must be"),
    ({"account_id": 111111111111}, "apigw_tracing_event_account_id: must be"),
    ({"region": ""}, "apigw_tracing_event_region: must be given"),
    ({"region": "us-east-l"}, "apigw_tracing_event_region: "),
    ({"mode": "Enforce"}, "apigw_tracing_remediate_mode: must be one of enforce, audit"),
    ({"stages": []}, "tracing_sweep_stages: must name the stages to remediate"),
    ({"stages": ["nope"]}, "tracing_sweep_stages[0]: must be a list"),
])
def test_bad_event_variables_are_refused_before_any_aws_call(changes, problem):
    found = remediation.event_target_step(event(**changes), INVENTORY)
    assert found["failed"] is True
    assert found["msg"].startswith("Invalid remediation variables, nothing was done and no AWS call was made: " + problem), found["msg"]


def test_each_run_has_a_report_directory_of_its_own():
    now = datetime.datetime(2026, 12, 5, 9, 0, 0, 123456, tzinfo=datetime.timezone.utc)
    assert remediation.report_dir("base", "111111111111", "us-east-1", now) == "base/20261205T090000.123456Z-111111111111-us-east-1"
    assert remediation.report_dir(None, "1", "../x", now).startswith(remediation.DEFAULT_BASE_DIR + "/20261205T090000.123456Z-1-.._x")


def test_under_ansible_rulebook_the_reports_go_to_an_absolute_directory(monkeypatch):
    monkeypatch.setenv("HOME", "/home/eda")
    found = remediation.event_target_step(event(base_dir="", under_rulebook=True), INVENTORY)
    assert found["report_dir"].startswith("/home/eda/tracing-sweep-remediations/")
    refused = remediation.event_target_step(event(base_dir="reports", under_rulebook=True), INVENTORY)
    assert refused["failed"] is True and "apigw_tracing_remediation_dir: must be an absolute path when ansible-rulebook runs" in refused["msg"]
    assert remediation.event_target_step(event(base_dir="reports"), INVENTORY)["report_dir"].startswith("reports/")


def test_under_ansible_rulebook_the_event_names_the_target_and_the_stages():
    eda_event = {"stage": {"account_id": "011111111111", "region": "eu-west-1", "rest_api_id": "a1b2c3d4e5", "stage_name": "prod"},
                 "batch": {"stages": [{"rest_api_id": "a1b2c3d4e5", "stage_name": "prod"}, {"rest_api_id": "a1b2c3d4e5", "stage_name": "dev"}]}}
    event = remediation.event_of({"tracing_sweep_stages": []}, eda_event)
    assert event == {"account_id": "011111111111", "region": "eu-west-1", "mode": "enforce", "stages": eda_event["batch"]["stages"]}
    given = {"apigw_tracing_event_account_id": "222222222222", "apigw_tracing_remediate_mode": "audit", "tracing_sweep_stages": ["b/c"]}
    assert remediation.event_of(given, eda_event) == {"account_id": "222222222222", "region": "eu-west-1", "mode": "audit", "stages": ["b/c"]}
    assert remediation.event_of({}, None) == {"account_id": None, "region": None, "mode": "enforce", "stages": None}


def test_a_host_that_stands_for_an_account_is_the_target_of_each_of_its_regions():
    inventory = [("prod", {"tracing_sweep_account_id": "111111111111", "tracing_sweep_regions": ["us-east-1", "eu-west-1"]}),
                 ("staging_eu-west-1", {"tracing_sweep_account_id": "222222222222", "tracing_sweep_region": "eu-west-1"})]
    assert remediation.find_target("111111111111", "eu-west-1", inventory) == ("prod", ["prod"])
    assert remediation.find_target("111111111111", "ap-south-1", inventory) == (None, [])
