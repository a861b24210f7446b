# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Private to this collection: not an API, may change in any release (the modules that use it are the API).

"""Checks on the modules' input that must pass before any AWS call is made.

Ansible's argument spec already rejects unknown keys, missing keys and values of the wrong type; these
checks cover what it cannot express: the shape of API Gateway identifiers (the rules in _rules.py, shared
with the inventory and the role), the uniqueness of listed stages and the ranges of the request pacing
options. Every message names the field, the rule and the value, so a user can fix the input without
reading the code.
"""

from __future__ import annotations

from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import parse_positive_number
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import problem
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import rest_api_id_problem
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import stage_name_problem

# More threads than this buy nothing under a quota of 10 requests/s, and only hold connections open.
CONCURRENCY_MIN = 1
CONCURRENCY_MAX = 16
MAX_REQUESTS_PER_SECOND_RULE = (
    "must be a number greater than 0: the most API Gateway requests per second to send. API Gateway's "
    "management quota is 10 requests/s with a burst of 40 per account and region, shared by every caller, so stay "
    "below 10 unless AWS raised the quota"
)
CONCURRENCY_RULE = f"must be a whole number from {CONCURRENCY_MIN} to {CONCURRENCY_MAX}: how many requests may wait for an answer at once"

__all__ = ("rest_api_id_problem", "stage_name_problem")


def stage_reference_problems(rest_api_id, stage_name, prefix=""):
    """Messages for an (optional) API id and (optional) stage name; empty when both are fine or absent."""
    problems = []
    if rest_api_id is not None:
        problems.append(rest_api_id_problem(rest_api_id, prefix + "rest_api_id"))
    if stage_name is not None:
        problems.append(stage_name_problem(stage_name, prefix + "stage_name"))
    return [message for message in problems if message]


def stage_list_problems(stages):
    """Messages for the list form of apigw_stage_tracing: shape of each item, then duplicates."""
    if not stages:
        return ["stages: must list at least one stage (or use rest_api_id and stage_name), got an empty list"]
    problems = []
    first_seen = {}
    for index, item in enumerate(stages):
        # Required, so null is a mistake here (an item's keys cannot be left out to mean "not set").
        item_problems = [
            message
            for message in (
                rest_api_id_problem(item["rest_api_id"], f"stages[{index}].rest_api_id"),
                stage_name_problem(item["stage_name"], f"stages[{index}].stage_name"),
            )
            if message
        ]
        problems.extend(item_problems)
        if item_problems:
            continue
        key = (item["rest_api_id"], item["stage_name"])
        if key in first_seen:
            problems.append(
                f"stages[{index}]: must not repeat a stage, got {key[0]}/{key[1]} already listed at stages[{first_seen[key]}]: list each stage once"
            )
        else:
            first_seen[key] = index
    return problems


def request_pacing(max_requests_per_second, concurrency):
    """(rate, concurrency, problems) for the pacing options as given.

    The rate may be a number or a decimal string ('9.5'), never a boolean (true is no rate anyone meant);
    a rate of 0 or less would never send a request, and NaN or infinity would switch the pacing off.
    """
    problems = []
    try:
        rate = parse_positive_number(max_requests_per_second)
    except ValueError:
        rate = None
        problems.append(problem("max_requests_per_second", MAX_REQUESTS_PER_SECOND_RULE, max_requests_per_second))
    if not (isinstance(concurrency, int) and not isinstance(concurrency, bool) and CONCURRENCY_MIN <= concurrency <= CONCURRENCY_MAX):
        problems.append(problem("concurrency", CONCURRENCY_RULE, concurrency))
    return rate, concurrency, problems
