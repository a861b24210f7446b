# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.validation import rest_api_id_problem
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.validation import stage_list_problems
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.validation import stage_name_problem


@pytest.mark.parametrize("value", ["a1b2c3d4e5", "0123456789", "zzzzzzzzzz"])
def test_valid_rest_api_ids(value):
    assert rest_api_id_problem(value) is None


@pytest.mark.parametrize("value", ["", "A1B2C3D4E5", "a1b2c3d4e", "a1b2c3d4e5f", "a1b2-3d4e5", "a1b2c3d4é5"])
def test_invalid_rest_api_ids_name_the_field_and_rule(value):
    problem = rest_api_id_problem(value)
    assert problem.startswith("rest_api_id ")
    assert "10 lowercase letters or digits" in problem


@pytest.mark.parametrize("value", ["prod", "v1", "Prod_2-x", "a" * 128])
def test_valid_stage_names(value):
    assert stage_name_problem(value) is None


@pytest.mark.parametrize("value", ["", "a" * 129, "prod stage", "prod/x", "prod.1"])
def test_invalid_stage_names_name_the_field_and_rule(value):
    problem = stage_name_problem(value)
    assert problem.startswith("stage_name ")
    assert "1 to 128 characters" in problem


def test_empty_stage_list():
    assert stage_list_problems([]) == ["stages is empty: it must list at least one stage (or use rest_api_id and stage_name)"]


def test_stage_list_items_are_checked_by_index():
    problems = stage_list_problems(
        [
            {"rest_api_id": "a1b2c3d4e5", "stage_name": "prod", "tracing_enabled": None},
            {"rest_api_id": "BAD", "stage_name": "prod", "tracing_enabled": None},
            {"rest_api_id": "a1b2c3d4e5", "stage_name": "no spaces", "tracing_enabled": None},
        ]
    )
    assert len(problems) == 2
    assert problems[0].startswith("stages[1].rest_api_id 'BAD' is invalid")
    assert problems[1].startswith("stages[2].stage_name 'no spaces' is invalid")


def test_duplicate_stage_names_both_positions():
    problems = stage_list_problems(
        [
            {"rest_api_id": "a1b2c3d4e5", "stage_name": "prod", "tracing_enabled": None},
            {"rest_api_id": "a1b2c3d4e5", "stage_name": "dev", "tracing_enabled": None},
            {"rest_api_id": "a1b2c3d4e5", "stage_name": "prod", "tracing_enabled": False},
        ]
    )
    assert problems == ["stages[2] repeats stage a1b2c3d4e5/prod already listed at stages[0]: each stage may be listed once"]
