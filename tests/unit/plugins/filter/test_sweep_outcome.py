# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.cloudops.apigw_tracing.plugins.filter.sweep_outcome import sweep_outcome
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._policy.decide import plan_target
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import TARGET
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import converged
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import stage


@pytest.fixture(name="plan")
def plan_fixture():
    return plan_target([stage(enabled=False)], TARGET)


def test_check_mode_rows(plan):
    assert [row["action"] for row in sweep_outcome(plan, check_mode=True)] == ["would_enable"]


def test_converge_rows(plan):
    assert [row["action"] for row in sweep_outcome(plan, converged(plan["changes"]))] == ["enabled"]


def test_refused_rows(plan):
    rows = sweep_outcome(plan, None, True, "2 changes planned, more than tracing_sweep_max_changes=1")
    assert [(row["action"], row["reason"]) for row in rows] == [("refused", "2 changes planned, more than tracing_sweep_max_changes=1")]


@pytest.mark.parametrize("refused", ["", False, None])
def test_empty_refusal_is_no_refusal(plan, refused):
    assert sweep_outcome(plan, check_mode=True, refused=refused)[0]["action"] == "would_enable"


@pytest.mark.parametrize("check_mode", ["true", 1, None])
def test_check_mode_must_be_boolean(plan, check_mode):
    with pytest.raises(AnsibleFilterError, match="^sweep_outcome: check_mode must be a boolean, got "):
        sweep_outcome(plan, check_mode=check_mode)


def test_refused_must_be_text(plan):
    with pytest.raises(AnsibleFilterError, match="^sweep_outcome: refused must be null or a string, got 3$"):
        sweep_outcome(plan, refused=3)


def test_bad_plan_is_a_filter_error():
    with pytest.raises(AnsibleFilterError, match="^sweep_outcome: plan: must be the result of sweep_plan"):
        sweep_outcome([])
