# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Checks on user input that must pass before any AWS call is made.

Ansible's argument spec already rejects unknown keys, missing keys and non-boolean values; these rules
cover what it cannot express: the shape of API Gateway identifiers and the uniqueness of listed stages.
Every message names the field and the rule, so a user can fix the input without reading the code.
"""

from __future__ import annotations

import re

REST_API_ID_PATTERN = re.compile(r"^[a-z0-9]{10}$")
STAGE_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,128}$")

REST_API_ID_RULE = "must be exactly 10 lowercase letters or digits, the id API Gateway assigns (e.g. a1b2c3d4e5)"
STAGE_NAME_RULE = "must be 1 to 128 characters, each a letter, a digit, '-' or '_'"


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
