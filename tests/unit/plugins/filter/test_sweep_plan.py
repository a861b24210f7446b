# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import datetime

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.cloudops.apigw_tracing.plugins.filter.sweep_plan import sweep_plan
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import TARGET
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import stage

EXEMPTIONS = [{"stage_name": "prod", "reason": "r", "expires": "2026-03-15"}]


def test_plan_with_defaults():
    result = sweep_plan([stage(enabled=False)], TARGET)
    assert result["changes"] == [{"rest_api_id": "a1b2c3d4e5", "stage_name": "prod", "tracing_enabled": True, "observed_tracing_enabled": False}]


def test_all_arguments_by_keyword():
    result = sweep_plan(
        [stage(enabled=True), stage(name="dev", tags={"Skip": "x"})],
        TARGET,
        desired=False,
        rules=[{"match": {"stage_name": "qa"}, "skip": True}],
        exemptions=EXEMPTIONS,
        exempt_tag="Skip",
        today="2026-03-15",
    )
    assert [item["decision"] for item in result["stages"]] == ["exempt", "exempt"]


@pytest.mark.parametrize("today, decision", [("2026-03-15", "exempt"), (datetime.date(2026, 3, 16), "enforce"), ("2026-03-16", "enforce")])
def test_today_as_string_or_date(today, decision):
    assert sweep_plan([stage()], TARGET, exemptions=EXEMPTIONS, today=today)["stages"][0]["decision"] == decision


def test_bad_policy_is_a_filter_error():
    with pytest.raises(AnsibleFilterError, match=r"^sweep_plan: tracing_sweep_rules\[0\]: must set exactly one of tracing_enabled"):
        sweep_plan([stage()], TARGET, rules=[{"match": {}}])


def test_bad_today_is_a_filter_error():
    with pytest.raises(AnsibleFilterError, match=r"^sweep_plan: today: must be a date \(YYYY-MM-DD\), got '15/03/2026'$"):
        sweep_plan([stage()], TARGET, today="15/03/2026")


def test_bad_stages_are_a_filter_error():
    with pytest.raises(AnsibleFilterError, match=r"^sweep_plan: stages\[0\]: missing rest_api_id"):
        sweep_plan([{"stage_name": "prod"}], TARGET)
