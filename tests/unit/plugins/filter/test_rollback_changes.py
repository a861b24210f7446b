# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import inspect
import json

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.cloudops.apigw_tracing.plugins.filter import rollback_changes as plugin
from ansible_collections.cloudops.apigw_tracing.plugins.filter.rollback_changes import rollback_changes
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import ACCOUNT
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import REGION
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import build_audit_report
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import build_enforce_report

TARGET = {"account_id": ACCOUNT, "region": REGION}


def enforce_text():
    return json.dumps(build_enforce_report())


def test_report_text_by_position_and_keyword():
    by_keyword = rollback_changes(enforce_text(), target=TARGET, targets=[TARGET])
    assert by_keyword == rollback_changes(enforce_text(), TARGET, [TARGET])
    assert by_keyword["problems"] == []
    assert by_keyword["stages"] and all(set(item) == {"rest_api_id", "stage_name", "tracing_enabled"} for item in by_keyword["stages"])
    assert by_keyword["not_in_run"] == []


def test_changes_of_an_earlier_call_are_valid_input():
    changes = rollback_changes(enforce_text())["changes"]
    assert rollback_changes(changes, target=TARGET)["stages"] == rollback_changes(enforce_text(), target=TARGET)["stages"]


def test_a_report_problem_is_returned_not_raised():
    plan = rollback_changes(json.dumps(build_audit_report()))
    assert "mode audit" in plan["problems"][0]
    assert plan["changes"] == []


def test_a_malformed_target_is_a_filter_error():
    with pytest.raises(AnsibleFilterError, match=r"^rollback_changes: target\.account_id: must be a 12-digit account id as a string, got '42'$"):
        rollback_changes(enforce_text(), target={"account_id": "42", "region": REGION})


def test_malformed_targets_are_a_filter_error():
    with pytest.raises(AnsibleFilterError, match=r"^rollback_changes: targets: must be a list"):
        rollback_changes(enforce_text(), targets="prod_us-east-1")


def test_one_filter_named_like_its_file():
    assert plugin.FilterModule().filters() == {"rollback_changes": rollback_changes}


def test_documentation_matches_the_signature():
    doc = yaml.safe_load(plugin.DOCUMENTATION)
    assert doc["name"] == "rollback_changes"
    parameters = list(inspect.signature(rollback_changes).parameters)[1:]
    assert list(doc["options"]) == ["_input"] + parameters
    assert [item.strip() for item in doc["positional"].split(",")] == parameters
    assert "_value" in yaml.safe_load(plugin.RETURN)
    assert any("cloudops.apigw_tracing.rollback_changes" in str(task) for task in yaml.safe_load(plugin.EXAMPLES))
