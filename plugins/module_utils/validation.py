# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Checks on user input that must pass before any AWS call is made.

Ansible's argument spec already rejects unknown keys, missing keys and values of the wrong type; these
rules cover what it cannot express: the shape of API Gateway identifiers, the uniqueness of listed stages
and the ranges of the request pacing options. Every message names the field, the rule and the value, so a
user can fix the input without reading the code.
"""

from __future__ import annotations

import math
import re

REST_API_ID_PATTERN = re.compile(r"^[a-z0-9]{10}$")
STAGE_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,128}$")

REST_API_ID_RULE = "must be exactly 10 lowercase letters or digits, the id API Gateway assigns (e.g. a1b2c3d4e5)"
STAGE_NAME_RULE = "must be 1 to 128 characters, each a letter, a digit, '-' or '_'"

# More threads than this buy nothing under a quota of 10 requests/s, and only hold connections open.
CONCURRENCY_MIN = 1
CONCURRENCY_MAX = 16
MAX_REQUESTS_PER_SECOND_RULE = (
    "must be a number greater than 0: the most API Gateway requests per second the task sends. API Gateway's "
    "management quota is 10 requests/s with a burst of 40 per account and region, shared by every caller, so stay "
    "below 10 unless AWS raised the quota"
)
CONCURRENCY_RULE = f"must be a whole number from {CONCURRENCY_MIN} to {CONCURRENCY_MAX}: how many requests may wait for an answer at once"


def rest_api_id_problem(value, field="rest_api_id"):
    """Return a message if value is not a REST API id, else None."""
    if REST_API_ID_PATTERN.match(value or ""):
        return None
    return f"{field} {value!r} is invalid: it {REST_API_ID_RULE}"


def stage_name_problem(value, field="stage_name"):
    """Return a message if value is not a valid stage name, else None."""
    if STAGE_NAME_PATTERN.match(value or ""):
        return None
    return f"{field} {value!r} is invalid: it {STAGE_NAME_RULE}"


def stage_reference_problems(rest_api_id, stage_name, prefix=""):
    """Messages for an (optional) API id and (optional) stage name; empty when both are fine or absent."""
    problems = []
    if rest_api_id is not None:
        problems.append(rest_api_id_problem(rest_api_id, field=prefix + "rest_api_id"))
    if stage_name is not None:
        problems.append(stage_name_problem(stage_name, field=prefix + "stage_name"))
    return [problem for problem in problems if problem]


def stage_list_problems(stages):
    """Messages for the list form of apigw_stage_tracing: shape of each item, then duplicates."""
    if not stages:
        return ["stages is empty: it must list at least one stage (or use rest_api_id and stage_name)"]
    problems = []
    first_seen = {}
    for index, item in enumerate(stages):
        prefix = f"stages[{index}]."
        item_problems = stage_reference_problems(item["rest_api_id"], item["stage_name"], prefix=prefix)
        problems.extend(item_problems)
        if item_problems:
            continue
        key = (item["rest_api_id"], item["stage_name"])
        if key in first_seen:
            problems.append(
                f"stages[{index}] repeats stage {key[0]}/{key[1]} already listed at stages[{first_seen[key]}]: each stage may be listed once"
            )
        else:
            first_seen[key] = index
    return problems


def _is_number(value):
    # bool is an int to Python, but `true` is no rate a user meant to give.
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def request_pacing_problems(max_requests_per_second, concurrency):
    """Messages for the pacing options; empty when both are fine.

    A rate of 0 or less would never send a request (or divide by zero), and NaN or infinity disable the
    pacing without saying so.
    """
    problems = []
    rate = max_requests_per_second
    if not (_is_number(rate) and math.isfinite(rate) and rate > 0):
        problems.append(f"max_requests_per_second {rate!r} is invalid: it {MAX_REQUESTS_PER_SECOND_RULE}")
    if not (isinstance(concurrency, int) and not isinstance(concurrency, bool) and CONCURRENCY_MIN <= concurrency <= CONCURRENCY_MAX):
        problems.append(f"concurrency {concurrency!r} is invalid: it {CONCURRENCY_RULE}")
    return problems
