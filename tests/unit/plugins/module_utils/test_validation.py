# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The modules' input checks: identifiers (the rules of _rules.py), the stage list and the pacing options."""

from __future__ import annotations

import pytest

from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.validation import request_pacing
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.validation import rest_api_id_problem
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.validation import stage_list_problems
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.validation import stage_name_problem
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.validation import stage_reference_problems

REST_API_ID_RULE = "must be a REST API id: exactly 10 lowercase letters or digits, the id API Gateway assigns (e.g. a1b2c3d4e5)"
STAGE_NAME_RULE = "must be a stage name: 1 to 128 characters, each a letter, a digit, '-' or '_'"
RATE_RULE = (
    "must be a number greater than 0: the most API Gateway requests per second to send. API Gateway's management quota is 10 requests/s "
    "with a burst of 40 per account and region, shared by every caller, so stay below 10 unless AWS raised the quota"
)
CONCURRENCY_RULE = "must be a whole number from 1 to 16: how many requests may wait for an answer at once"


@pytest.mark.parametrize("value", ["a1b2c3d4e5", "0123456789", "zzzzzzzzzz"])
def test_valid_rest_api_ids(value):
    assert rest_api_id_problem(value) is None


@pytest.mark.parametrize(
    "value, shown",
    [
        ("", "''"),
        ("A1B2C3D4E5", "'A1B2C3D4E5'"),
        ("a1b2c3d4e", "'a1b2c3d4e'"),
        ("a1b2c3d4e5f", "'a1b2c3d4e5f'"),
        ("a1b2-3d4e5", "'a1b2-3d4e5'"),
        ("a1b2c3d4\u00e95", "'a1b2c3d4\u00e95'"),
        ("a1b2c3d4e5\n", "'a1b2c3d4e5\\n'"),  # a trailing newline never passes
        ("a1b2c3d4\u0665\u0666", "'a1b2c3d4\u0665\u0666'"),  # non-ASCII digits
        (None, "null"),
        (5, "5 (integer)"),
    ],
)
def test_invalid_rest_api_ids_name_the_field_the_rule_and_the_value(value, shown):
    assert rest_api_id_problem(value) == f"rest_api_id: {REST_API_ID_RULE}, got {shown}"


@pytest.mark.parametrize("value", ["prod", "v1", "Prod_2-x", "a" * 128])
def test_valid_stage_names(value):
    assert stage_name_problem(value) is None


@pytest.mark.parametrize(
    "value, shown",
    [("", "''"), ("a" * 129, repr("a" * 129)), ("prod stage", "'prod stage'"), ("prod/x", "'prod/x'"), ("prod.1", "'prod.1'"), ("prod\n", "'prod\\n'")],
)
def test_invalid_stage_names_name_the_field_the_rule_and_the_value(value, shown):
    assert stage_name_problem(value) == f"stage_name: {STAGE_NAME_RULE}, got {shown}"


def test_stage_reference_checks_only_what_is_given():
    assert stage_reference_problems(None, None) == []
    assert stage_reference_problems("a1b2c3d4e5", None) == []
    assert stage_reference_problems("BAD", "no spaces", prefix="x.") == [
        f"x.rest_api_id: {REST_API_ID_RULE}, got 'BAD'",
        f"x.stage_name: {STAGE_NAME_RULE}, got 'no spaces'",
    ]


def test_empty_stage_list():
    assert stage_list_problems([]) == ["stages: must list at least one stage (or use rest_api_id and stage_name), got an empty list"]


def test_stage_list_items_are_checked_by_index():
    problems = stage_list_problems(
        [
            {"rest_api_id": "a1b2c3d4e5", "stage_name": "prod", "tracing_enabled": None},
            {"rest_api_id": "BAD", "stage_name": "prod", "tracing_enabled": None},
            {"rest_api_id": "a1b2c3d4e5", "stage_name": "no spaces", "tracing_enabled": None},
        ]
    )
    assert problems == [
        f"stages[1].rest_api_id: {REST_API_ID_RULE}, got 'BAD'",
        f"stages[2].stage_name: {STAGE_NAME_RULE}, got 'no spaces'",
    ]


def test_stage_list_items_with_null_ids_are_refused():
    # Required keys of an item given as null are mistakes, not "not set".
    problems = stage_list_problems([{"rest_api_id": None, "stage_name": None, "tracing_enabled": None}])
    assert problems == [f"stages[0].rest_api_id: {REST_API_ID_RULE}, got null", f"stages[0].stage_name: {STAGE_NAME_RULE}, got null"]


def test_duplicate_stage_names_both_positions():
    problems = stage_list_problems(
        [
            {"rest_api_id": "a1b2c3d4e5", "stage_name": "prod", "tracing_enabled": None},
            {"rest_api_id": "a1b2c3d4e5", "stage_name": "dev", "tracing_enabled": None},
            {"rest_api_id": "a1b2c3d4e5", "stage_name": "prod", "tracing_enabled": False},
        ]
    )
    assert problems == ["stages[2]: must not repeat a stage, got a1b2c3d4e5/prod already listed at stages[0]: list each stage once"]


@pytest.mark.parametrize(
    "rate, concurrency, expected_rate",
    [(9.0, 4, 9.0), (0.1, 1, 0.1), (10, 16, 10.0), (250.0, 8, 250.0), ("9.5", 4, 9.5), ("9", 4, 9.0), (".5", 4, 0.5)],
)
def test_valid_request_pacing_returns_the_rate_as_a_number(rate, concurrency, expected_rate):
    assert request_pacing(rate, concurrency) == (expected_rate, concurrency, [])
    assert isinstance(request_pacing(rate, concurrency)[0], float)


@pytest.mark.parametrize(
    "rate, shown",
    [
        (0, "0 (integer)"),
        (0.0, "0.0 (float)"),
        (-1, "-1 (integer)"),
        (-0.5, "-0.5 (float)"),
        (float("nan"), "nan (float)"),
        (float("inf"), "inf (float)"),
        (None, "null"),
        (True, "true (boolean)"),
        ("fast", "'fast'"),
        ("0", "'0'"),
        ("-1", "'-1'"),
        (" 9", "' 9'"),
        ("9.5\n", "'9.5\\n'"),
        ("nan", "'nan'"),
        ("1e3", "'1e3'"),
        ("\u0669", "'\u0669'"),
    ],
)
def test_invalid_rate_names_the_option_the_rule_and_the_value(rate, shown):
    assert request_pacing(rate, 4) == (None, 4, [f"max_requests_per_second: {RATE_RULE}, got {shown}"])


@pytest.mark.parametrize(
    "concurrency, shown",
    [(0, "0 (integer)"), (-1, "-1 (integer)"), (17, "17 (integer)"), (100, "100 (integer)"), (4.0, "4.0 (float)"), (True, "true (boolean)"),
     (None, "null"), ("4", "'4'"), ("x", "'x'")],
)
def test_invalid_concurrency_names_the_option_the_rule_and_the_value(concurrency, shown):
    rate, dummy, problems = request_pacing(9.0, concurrency)
    assert rate == 9.0
    assert problems == [f"concurrency: {CONCURRENCY_RULE}, got {shown}"]


def test_both_pacing_problems_are_reported():
    dummy, dummy2, problems = request_pacing(0, 17)
    assert [problem.split(":", 1)[0] for problem in problems] == ["max_requests_per_second", "concurrency"]
