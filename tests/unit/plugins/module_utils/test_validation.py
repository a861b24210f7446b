# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.validation import request_pacing_problems
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


@pytest.mark.parametrize("rate, concurrency", [(9.0, 4), (0.1, 1), (10, 16), (250.0, 8)])
def test_valid_request_pacing(rate, concurrency):
    assert request_pacing_problems(rate, concurrency) == []


@pytest.mark.parametrize("rate", [0, 0.0, -1, -0.5, float("nan"), float("inf"), None, True, "fast", "9"])
def test_invalid_rate_names_the_option_the_rule_and_the_value(rate):
    problems = request_pacing_problems(rate, 4)
    assert len(problems) == 1
    assert problems[0].startswith(f"max_requests_per_second {rate!r} is invalid: it must be a number greater than 0")
    # The rule says why: the quota every caller of the account and region shares.
    assert "10 requests/s with a burst of 40 per account and region" in problems[0]


@pytest.mark.parametrize("concurrency", [0, -1, 17, 100, 4.0, True, None, "4", "x"])
def test_invalid_concurrency_names_the_option_the_rule_and_the_value(concurrency):
    problems = request_pacing_problems(9.0, concurrency)
    assert problems == [f"concurrency {concurrency!r} is invalid: it must be a whole number from 1 to 16: how many requests may wait for an answer at once"]


def test_both_pacing_problems_are_reported():
    problems = request_pacing_problems(0, 17)
    assert [problem.split(" ", 1)[0] for problem in problems] == ["max_requests_per_second", "concurrency"]
