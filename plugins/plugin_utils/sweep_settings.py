# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Checks on the tracing sweep's role settings and on the host vars of one target (account x region).

Nothing here talks to AWS or needs Ansible at run time: the role calls these through the sweep_problems
filter before any AWS call, and the policy code calls them again so it never acts on a malformed policy.
Every message starts with the path of the offending field as the user wrote it (for example
``tracing_sweep_rules[1].match.account_id``) and states the rule, so the input can be fixed without
reading the code. Values of secret fields (the external id) are never repeated in messages.

Types are checked strictly: YAML and JSON give real booleans, integers and dates, while ``-e key=value``
gives strings, and a string ``"false"`` silently read as true would invert the policy.

An optional role variable or host var that is null or the empty string is not set: role defaults are
``""`` so that ``default(omit, true)`` works on them. Inside rules and exemptions, which the user writes
out, an empty string is a mistake and is reported.
"""

from __future__ import annotations

import datetime
import difflib
import math
import re
from collections.abc import Mapping
from collections.abc import Sequence
from urllib.parse import urlsplit

from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.validation import CONCURRENCY_MAX
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.validation import CONCURRENCY_MIN

PARTITIONS = "aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b"
ACCOUNT_ID_PATTERN = re.compile(r"[0-9]{12}")
REGION_PATTERN = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]+")
ROLE_ARN_PATTERN = re.compile(rf"arn:(?:{PARTITIONS}):iam::([0-9]{{12}}):role/[\w+=,.@/-]{{1,512}}", re.ASCII)
EXTERNAL_ID_PATTERN = re.compile(r"[\w+=,.@:/-]{2,1224}", re.ASCII)
STAGE_ARN_PATTERN = re.compile(
    rf"arn:(?:{PARTITIONS}):apigateway:[a-z]{{2}}(?:-[a-z]+)+-[0-9]+::/restapis/[a-z0-9]{{10}}/stages/[A-Za-z0-9_-]{{1,128}}"
)
REST_API_ID_PATTERN = re.compile(r"[a-z0-9]{10}")
DATE_PATTERN = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

ACCOUNT_ID_RULE = "must be a 12-digit account id as a string"
REGION_RULE = "must be an AWS region name such as us-east-1"
ROLE_ARN_RULE = "must be an IAM role ARN such as arn:aws:iam::123456789012:role/tracing-sweep"
EXTERNAL_ID_RULE = "must be 2 to 1224 characters, each a letter, a digit or one of _+=,.@:/-"
STAGE_ARN_RULE = "must be an API Gateway stage ARN such as arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5/stages/prod"
REST_API_ID_RULE = "must be a REST API id: exactly 10 lowercase letters or digits (e.g. a1b2c3d4e5)"
DATE_RULE = "must be a date (YYYY-MM-DD)"
BOOL_RULE = "must be a boolean (true or false)"
TEXT_RULE = "must be a non-empty string"
GLOB_RULE = "must be a non-empty string (a glob: * ? [...] allowed)"

MAX_REQUESTS_PER_SECOND_RULE = (
    "must be a number greater than 0, the most API Gateway requests per second a target sends (API Gateway's management "
    "quota is 10 requests/s with a burst of 40 per account and region, shared by every caller: stay below 10 unless AWS "
    "raised it)"
)
CONCURRENCY_RULE = f"must be a whole number from {CONCURRENCY_MIN} to {CONCURRENCY_MAX}, the requests a target may have waiting at once"

SETTING_KEYS = (
    "desired", "rules", "exemptions", "exempt_tag", "max_changes", "report_dir", "endpoint_url", "sts_endpoint_url",
    "max_requests_per_second", "concurrency",
)
TARGET_KEYS = ("region", "account_id", "role_arn", "external_id", "account_name")
# Every variable of the role a user may set, and the one it sets for later plays (tracing_sweep_report).
# Its internal variables start with tracing_sweep__ and are not a user's to set.
ROLE_VARIABLES = frozenset(
    ["tracing_sweep_" + key for key in SETTING_KEYS + TARGET_KEYS]
    + [
        "tracing_sweep_report_formats", "tracing_sweep_role_session_name", "tracing_sweep_fail_on_error",
        "tracing_sweep_fail_on_noncompliant", "tracing_sweep_report", "tracing_sweep_rollback_report",
        "tracing_sweep_merge_reports",
        # What the role publishes with set_stats: AWX hands a workflow's artifacts to the next jobs as extra vars.
        "tracing_sweep_mode", "tracing_sweep_summary", "tracing_sweep_failed_targets", "tracing_sweep_reports",
        "tracing_sweep_rollback_summary",
    ]
)
ROLE_VARIABLE_PREFIX = "tracing_sweep_"
INTERNAL_VARIABLE_PREFIX = "tracing_sweep__"
RULE_KEYS = ("name", "match", "tracing_enabled", "skip")
MATCH_KEYS = ("account_id", "region", "api_name", "api_id", "stage_name", "tag")
TAG_KEYS = ("key", "value")
EXEMPTION_SELECTORS = ("account_id", "region", "api_id", "api_name", "stage_name")
EXEMPTION_KEYS = ("arn",) + EXEMPTION_SELECTORS + ("reason", "expires")


def describe(value):
    """How a value is shown in a message: strings quoted, other types named so 'got 5 (integer)' is clear."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"{str(value).lower()} (boolean)"
    if isinstance(value, str):
        return repr(str(value))
    if isinstance(value, int):
        return f"{int(value)} (integer)"
    if isinstance(value, float):
        return f"{float(value)} (float)"
    if isinstance(value, datetime.datetime):
        return f"{value.isoformat()} (a date and time)"
    if isinstance(value, datetime.date):
        return f"{value.isoformat()} (date)"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, Sequence):
        return "a list"
    return f"a value of type {type(value).__name__}"


def _problem(path, rule, value):
    return f"{path}: {rule}, got {describe(value)}"


def is_list(value):
    """A YAML list (any non-string sequence)."""
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def _is_text(value):
    return isinstance(value, str) and bool(value.strip())


def _pattern_problem(path, value, pattern, rule):
    if isinstance(value, str) and pattern.fullmatch(value):
        return None
    return _problem(path, rule, value)


def _unknown_key_problems(path, item, known, what):
    problems = []
    for key in item:
        if key not in known:
            problems.append(f"{path}: unknown key {str(key)!r}; {what} takes only {', '.join(known)}")
    return problems


def parse_date(value):
    """A datetime.date from a date or a 'YYYY-MM-DD' string; ValueError otherwise (a date and time is not a date)."""
    if isinstance(value, datetime.datetime):
        raise ValueError(value)
    if isinstance(value, datetime.date):
        return datetime.date(value.year, value.month, value.day)
    if isinstance(value, str) and DATE_PATTERN.fullmatch(value):
        return datetime.date.fromisoformat(str(value))  # raises ValueError for e.g. 2026-02-30
    raise ValueError(value)


def date_problem(path, value):
    try:
        parse_date(value)
    except ValueError:
        return _problem(path, DATE_RULE, value)
    return None


def _given(item, key):
    """A key counts as given when present and not null: YAML `key:` with no value means 'not set'."""
    return item.get(key) is not None


def _set(item, key):
    """An optional role variable or host var counts as set unless null or the empty string."""
    return item.get(key) not in (None, "")


# ---- policy ----------------------------------------------------------------------------------------


def desired_problems(value, path="tracing_sweep_desired"):
    return [] if isinstance(value, bool) else [_problem(path, BOOL_RULE, value)]


def exempt_tag_problems(value, path="tracing_sweep_exempt_tag"):
    if value in (None, "") or _is_text(value):
        return []
    return [_problem(path, "must be a stage tag key (a string), or empty for none", value)]


def _tag_match_problems(path, tag):
    if not isinstance(tag, Mapping):
        return [_problem(path, "must be a mapping with key (and optionally value)", tag)]
    problems = _unknown_key_problems(path, tag, TAG_KEYS, "a tag match")
    if not _given(tag, "key"):
        problems.append(f"{path}.key: is required: the tag key the stage must carry")
    elif not _is_text(tag["key"]):
        problems.append(_problem(path + ".key", TEXT_RULE, tag["key"]))
    if _given(tag, "value") and not isinstance(tag["value"], str):
        problems.append(_problem(path + ".value", "must be a string (quote numbers and booleans)", tag["value"]))
    return problems


def _selector_problems(path, item, keys):
    """Problems of the selector keys shared by rule matches and exemptions."""
    problems = []
    for key in keys:
        if not _given(item, key):
            continue
        value = item[key]
        key_path = f"{path}.{key}"
        if key == "account_id":
            problems.append(_pattern_problem(key_path, value, ACCOUNT_ID_PATTERN, ACCOUNT_ID_RULE))
        elif key == "region":
            problems.append(_pattern_problem(key_path, value, REGION_PATTERN, REGION_RULE))
        elif key == "api_id":
            problems.append(_pattern_problem(key_path, value, REST_API_ID_PATTERN, REST_API_ID_RULE))
        elif key in ("api_name", "stage_name"):
            problems.append(None if _is_text(value) else _problem(key_path, GLOB_RULE, value))
        elif key == "tag":
            problems.extend(_tag_match_problems(key_path, value))
    return [problem for problem in problems if problem]


def _rule_problems(path, rule):
    if not isinstance(rule, Mapping):
        return [_problem(path, "must be a mapping with match and tracing_enabled or skip", rule)]
    problems = _unknown_key_problems(path, rule, RULE_KEYS, "a rule")
    if _given(rule, "name") and not _is_text(rule["name"]):
        problems.append(_problem(path + ".name", TEXT_RULE, rule["name"]))
    match = rule.get("match")
    if match is not None:
        if isinstance(match, Mapping):
            problems.extend(_unknown_key_problems(path + ".match", match, MATCH_KEYS, "match"))
            problems.extend(_selector_problems(path + ".match", match, MATCH_KEYS))
        else:
            problems.append(_problem(path + ".match", "must be a mapping of account_id, region, api_name, api_id, stage_name, tag", match))
    if _given(rule, "tracing_enabled") and not isinstance(rule["tracing_enabled"], bool):
        problems.append(_problem(path + ".tracing_enabled", BOOL_RULE, rule["tracing_enabled"]))
    if _given(rule, "skip") and rule["skip"] is not True:
        problems.append(_problem(path + ".skip", "must be true when given (to leave matching stages alone)", rule["skip"]))
    actions = [key for key in ("tracing_enabled", "skip") if _given(rule, key)]
    if len(actions) != 1:
        got = "both" if actions else "neither"
        problems.append(f"{path}: must set exactly one of tracing_enabled (true or false) and skip (true), got {got}")
    return problems


def rules_problems(rules, path="tracing_sweep_rules"):
    if rules is None:
        return []
    if not is_list(rules):
        return [_problem(path, "must be a list of rules", rules)]
    problems = []
    for index, rule in enumerate(rules):
        problems.extend(_rule_problems(f"{path}[{index}]", rule))
    return problems


def _exemption_problems(path, exemption):
    if not isinstance(exemption, Mapping):
        return [_problem(path, "must be a mapping with arn or selectors, reason and optionally expires", exemption)]
    problems = _unknown_key_problems(path, exemption, EXEMPTION_KEYS, "an exemption")
    selectors = [key for key in EXEMPTION_SELECTORS if _given(exemption, key)]
    if _given(exemption, "arn"):
        problems.append(_pattern_problem(path + ".arn", exemption["arn"], STAGE_ARN_PATTERN, STAGE_ARN_RULE))
        if selectors:
            problems.append(f"{path}: must give either arn or selectors ({', '.join(EXEMPTION_SELECTORS)}), not both, got arn and {', '.join(selectors)}")
    elif not selectors:
        problems.append(f"{path}: must give arn or at least one of {', '.join(EXEMPTION_SELECTORS)}, got neither")
    problems.extend(_selector_problems(path, exemption, EXEMPTION_SELECTORS))
    if not _given(exemption, "reason"):
        problems.append(f"{path}.reason: is required: a non-empty string saying why the stages are exempt")
    elif not _is_text(exemption["reason"]):
        problems.append(_problem(path + ".reason", TEXT_RULE + " saying why the stages are exempt", exemption["reason"]))
    if _given(exemption, "expires"):
        problems.append(date_problem(path + ".expires", exemption["expires"]))
    return [problem for problem in problems if problem]


def exemptions_problems(exemptions, path="tracing_sweep_exemptions"):
    if exemptions is None:
        return []
    if not is_list(exemptions):
        return [_problem(path, "must be a list of exemptions", exemptions)]
    problems = []
    for index, exemption in enumerate(exemptions):
        problems.extend(_exemption_problems(f"{path}[{index}]", exemption))
    return problems


# ---- run settings ----------------------------------------------------------------------------------


def _max_changes_problems(value, path="tracing_sweep_max_changes"):
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
        return []
    return [_problem(path, "must be a whole number >= 0 (or null for no limit)", value)]


def _report_dir_problems(value, path="tracing_sweep_report_dir"):
    return [] if _is_text(value) else [_problem(path, TEXT_RULE + " (a directory on the controller)", value)]


def _endpoint_url_problems(value, path="tracing_sweep_endpoint_url"):
    if value in (None, ""):
        return []
    if isinstance(value, str) and not any(char.isspace() for char in value):
        try:
            parts = urlsplit(value)
        except ValueError:  # e.g. an unclosed IPv6 bracket
            parts = None
        if parts is not None and parts.scheme in ("http", "https") and parts.netloc:
            return []
    return [_problem(path, "must be an http:// or https:// URL, or empty for the SDK default", value)]


def _sts_endpoint_url_problems(value):
    return _endpoint_url_problems(value, path="tracing_sweep_sts_endpoint_url")


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _max_requests_per_second_problems(value, path="tracing_sweep_max_requests_per_second"):
    # NaN and infinity would switch the pacing off without saying so.
    if _is_number(value) and math.isfinite(value) and value > 0:
        return []
    return [_problem(path, MAX_REQUESTS_PER_SECOND_RULE, value)]


def _concurrency_problems(value, path="tracing_sweep_concurrency"):
    if isinstance(value, int) and not isinstance(value, bool) and CONCURRENCY_MIN <= value <= CONCURRENCY_MAX:
        return []
    return [_problem(path, CONCURRENCY_RULE, value)]


def unknown_variable_problems(names):
    """Problems for the tracing_sweep_* names among ``names`` (variables defined for a host) the role does not know.

    A misspelt variable is otherwise ignored without a word: tracing_sweep_exemption (no s) would leave every
    stage it meant to exempt to the enforcement.
    """
    if not is_list(names):
        return [_problem("variables", "must be a list of variable names", names)]
    problems = []
    for name in sorted({str(name) for name in names}):
        if not name.startswith(ROLE_VARIABLE_PREFIX) or name.startswith(INTERNAL_VARIABLE_PREFIX) or name in ROLE_VARIABLES:
            continue
        hint = difflib.get_close_matches(name, sorted(ROLE_VARIABLES), n=1)
        suggestion = f" (did you mean {hint[0]}?)" if hint else ""
        problems.append(
            f"{name}: unknown variable{suggestion}; the role's variables are listed in its README and by "
            "ansible-doc -t role cloudops.apigw_tracing.tracing_sweep"
        )
    return problems


SETTING_CHECKS = {
    "desired": desired_problems,
    "rules": rules_problems,
    "exemptions": exemptions_problems,
    "exempt_tag": exempt_tag_problems,
    "max_changes": _max_changes_problems,
    "report_dir": _report_dir_problems,
    "endpoint_url": _endpoint_url_problems,
    "sts_endpoint_url": _sts_endpoint_url_problems,
    "max_requests_per_second": _max_requests_per_second_problems,
    "concurrency": _concurrency_problems,
    # Not a setting: the names of the variables defined for the host, to find misspelt ones.
    "variables": unknown_variable_problems,
}


def settings_problems(settings):
    """Problems of the role settings {desired, rules, ..., max_requests_per_second, concurrency}; a key left out is not checked.

    The optional key ``variables`` lists the names of the variables defined for the host (the varnames lookup
    gives them); tracing_sweep_* names the role does not know are reported.
    """
    if not isinstance(settings, Mapping):
        return [_problem("settings", "must be a mapping of " + ", ".join(SETTING_KEYS), settings)]
    problems = []
    for key in settings:
        if key not in SETTING_CHECKS:
            problems.append(f"tracing_sweep_{key}: unknown setting; the sweep's settings are " + ", ".join("tracing_sweep_" + k for k in SETTING_KEYS))
    for key, check in SETTING_CHECKS.items():
        if key in settings:
            problems.extend(check(settings[key]))
    return problems


# ---- target host vars ------------------------------------------------------------------------------


def target_problems(target):
    """Problems of one target's host vars {region, account_id, role_arn, external_id, account_name}."""
    if not isinstance(target, Mapping):
        return [_problem("target", "must be a mapping of region, account_id, role_arn, external_id, account_name", target)]
    problems = []
    for key in target:
        if key not in TARGET_KEYS:
            problems.append(f"tracing_sweep_{key}: unknown target variable; a target has " + ", ".join("tracing_sweep_" + k for k in TARGET_KEYS))
    if not _set(target, "region"):
        problems.append("tracing_sweep_region: is required: the AWS region this host (one account x region) covers, e.g. us-east-1")
    else:
        problems.append(_pattern_problem("tracing_sweep_region", target["region"], REGION_PATTERN, REGION_RULE))
    if _set(target, "account_id"):
        problems.append(_pattern_problem("tracing_sweep_account_id", target["account_id"], ACCOUNT_ID_PATTERN, ACCOUNT_ID_RULE))
    role_account = None
    if _set(target, "role_arn"):
        role_arn = target["role_arn"]
        found = ROLE_ARN_PATTERN.fullmatch(role_arn) if isinstance(role_arn, str) else None
        if found:
            role_account = found.group(1)
        else:
            problems.append(_problem("tracing_sweep_role_arn", ROLE_ARN_RULE, role_arn))
    if _set(target, "external_id"):
        external_id = target["external_id"]
        if not (isinstance(external_id, str) and EXTERNAL_ID_PATTERN.fullmatch(external_id)):
            # Secret: name its type and length, never its value.
            shown = f"{len(external_id)} characters" if isinstance(external_id, str) else f"type {type(external_id).__name__}"
            problems.append(f"tracing_sweep_external_id: {EXTERNAL_ID_RULE}, got a value of {shown} (not shown: it is secret)")
        if not _set(target, "role_arn"):
            problems.append(
                "tracing_sweep_external_id: is only used when assuming tracing_sweep_role_arn, which is not set; set the role or remove the external id"
            )
    account_id = target.get("account_id")
    if role_account and isinstance(account_id, str) and ACCOUNT_ID_PATTERN.fullmatch(account_id) and account_id != role_account:
        problems.append(
            f"tracing_sweep_role_arn: must be a role in tracing_sweep_account_id {account_id}, got a role in account {role_account}"
        )
    if _set(target, "account_name") and not _is_text(target["account_name"]):
        problems.append(_problem("tracing_sweep_account_name", TEXT_RULE + " (a label for reports)", target["account_name"]))
    return [problem for problem in problems if problem]
