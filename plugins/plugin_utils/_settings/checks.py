# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Private to this collection: not an API, may change in any release.

"""Checks on the tracing sweep's role settings and on the host vars of one target (account x region).

Nothing here talks to AWS or needs Ansible at run time: the role calls these through its private _sweep action
(the settings step) before any AWS call, and the policy code calls them again so it never acts on a malformed policy.
Every message starts with the path of the offending field as the user wrote it (for example
``tracing_sweep_rules[1].match.account_id``) and states the rule, so the input can be fixed without
reading the code. Values of secret fields (the external id) are never repeated in messages.

Types are checked strictly: YAML and JSON give real booleans, integers and dates, while ``-e key=value``
gives strings, and a string ``"false"`` silently read as true would invert the policy.

An optional role variable or host var that is null or the empty string is not set: role defaults are
``""`` so that ``default(omit, true)`` works on them. Inside rules and exemptions, which the user writes
out, an empty string is a mistake and is reported.

These checks are the only ones that judge the role's variables: the role's argument spec declares types that
ansible-core's own validation cannot refuse (its failure prints the whole spec, on every host), so that every
rule it stated (types, choices, required values, list elements) is said here, one line per problem.
Each host's settings are checked in its own context; ``run_problems`` says each problem once for the run.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import ACCOUNT_ID_PATTERN
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import REGION_PATTERN
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import REST_API_ID_PATTERN
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import TEXT_RULE
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import account_id_problem
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import allowed_regions
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import bool_problem
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import date_problem as _date_problem
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import describe
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import external_id_problem
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import history_location_problem
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import is_list
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import is_text as _is_text
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import parse_bool
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import parse_date
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import parse_positive_number
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import parse_whole_number
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import problem as _problem
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import region_name_problem
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import region_problem
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import role_arn_account
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import rest_api_id_problem
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import role_arn_problem
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import stage_arn_problem
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import stage_name_problem
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import whole_number_problem
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.validation import CONCURRENCY_MAX
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.validation import CONCURRENCY_MIN

# Re-exported for the report and rollback code, which check ids and regions of reports they read.
__all__ = (
    "ACCOUNT_ID_PATTERN", "REGION_PATTERN", "REST_API_ID_PATTERN", "describe", "is_list", "parse_date",
    "settings_problems", "target_problems", "normalized_settings",
)

GLOB_RULE = "must be a non-empty string (a glob: * ? [...] allowed)"

MAX_REQUESTS_PER_SECOND_RULE = (
    "must be a number greater than 0, the most API Gateway requests per second a target sends (API Gateway's management "
    "quota is 10 requests/s with a burst of 40 per account and region, shared by every caller: stay below 10 unless AWS "
    "raised it)"
)
CONCURRENCY_RULE = f"must be a whole number from {CONCURRENCY_MIN} to {CONCURRENCY_MAX}, the requests a target may have waiting at once"
MAX_CHANGES_RULE = "must be a whole number >= 0 (or null for no limit)"

SETTING_KEYS = (
    "desired", "rules", "exemptions", "exempt_tag", "max_changes", "report_dir", "endpoint_url", "sts_endpoint_url",
    "max_requests_per_second", "concurrency", "role_session_name", "fail_on_error", "fail_on_noncompliant",
    "history", "fail_on_regression", "regression_includes_new",
    "security_hub", "report_formats", "allow_unknown_regions", "rollback_report", "merge_reports", "stages",
    "whole_path", "lambda_tracing",
)
# The formats tracing_sweep_report_formats may name (report.json is always written): _report.formats.FILE_NAMES's keys.
REPORT_FORMATS = ("json", "markdown", "junit", "csv", "html")
# Other names the role takes for two of them (_report.formats.ALIASES, which this module cannot import: a cycle).
REPORT_FORMAT_ALIASES = ("md", "xml")
# The opt-out of the region rule, for regions newer than the installed botocore (module_utils/_rules.py).
ALLOW_UNKNOWN_REGIONS = "tracing_sweep_allow_unknown_regions"
# What an entry point of the role cannot run without (the argument spec's required options).
ENTRY_POINTS = ("main", "rollback", "merge")
REQUIRED_BY_ENTRY_POINT = {"rollback": ("rollback_report",), "merge": ("merge_reports",)}
ROLLBACK_REPORT_RULE = "the path, on the controller, of the report.json the enforcement to undo wrote"
MERGE_REPORTS_RULE = "a non-empty list of the slices' reports, each the path of a report.json or of the directory that holds one"
REQUIRED_RULES = {
    "rollback_report": ROLLBACK_REPORT_RULE + ", e.g. -e tracing_sweep_rollback_report=tracing-sweep-reports/report.json",
    "merge_reports": MERGE_REPORTS_RULE + ", e.g. -e '{\"tracing_sweep_merge_reports\": [\"slice1/report.json\", \"slice2\"]}'",
}
# The role's own check (settings with an entry_point) refuses null where its argument spec asked for a number or a list,
# as that spec's check did: the filters' and the policy's null ("no limit", "none") is not the role's.
ROLE_NOT_NULL = {
    "max_changes": "must be a whole number >= 0: the role's change guard has no off switch; give a larger number to allow more changes",
    "rules": "must be a list of rules (an empty list for none)",
    "exemptions": "must be a list of exemptions (an empty list for none)",
    "report_formats": "must be a list of report formats, each one of " + ", ".join(REPORT_FORMATS) + " (an empty list writes report.json alone)",
}
# A problem found on some hosts of a run names them, the first HOSTS_SHOWN of them.
HOSTS_SHOWN = 5
ROLE_SESSION_NAME_PATTERN = re.compile(r"[\w+=,.@-]{2,64}", re.ASCII)
ROLE_SESSION_NAME_RULE = "must be 2 to 64 characters, each a letter, a digit or one of _+=,.@- (STS's rule for a role session name)"
TARGET_KEYS = ("region", "account_id", "role_arn", "external_id", "account_name", "allow_unknown_regions")
# A host that stands for a whole account (the accounts inventory's host_per: account): its regions, each a target.
ACCOUNT_HOST_KEYS = ("regions",)
# Every variable of the role a user may set, and the one it sets for later plays (tracing_sweep_report).
# Its internal variables start with tracing_sweep__ and are not a user's to set.
ROLE_VARIABLES = frozenset(
    ["tracing_sweep_" + key for key in SETTING_KEYS + TARGET_KEYS + ACCOUNT_HOST_KEYS]
    + [
        "tracing_sweep_report_formats", "tracing_sweep_role_session_name",
        "tracing_sweep_report", "tracing_sweep_rollback_report", "tracing_sweep_merge_reports",
        # What the role publishes with set_stats: AWX hands a workflow's artifacts to the next jobs as extra vars.
        "tracing_sweep_mode", "tracing_sweep_verdict", "tracing_sweep_summary", "tracing_sweep_failed_targets", "tracing_sweep_reports",
        "tracing_sweep_rollback_summary", "tracing_sweep_since_baseline",
    ]
)
ROLE_VARIABLE_PREFIX = "tracing_sweep_"
INTERNAL_VARIABLE_PREFIX = "tracing_sweep__"
RULE_KEYS = ("name", "match", "tracing_enabled", "skip")
MATCH_KEYS = ("account_id", "region", "api_name", "api_id", "stage_name", "tag", "function_arn")
TAG_KEYS = ("key", "value")
EXEMPTION_SELECTORS = ("account_id", "region", "api_id", "api_name", "stage_name")
EXEMPTION_KEYS = ("arn", "function_arn") + EXEMPTION_SELECTORS + ("reason", "expires")
# A Lambda function's ARN, with or without its qualifier (an alias, a version or $LATEST): the selector that makes an
# exemption or a rule about a function (tracing_sweep_lambda_tracing) instead of stages.
FUNCTION_ARN_PATTERN = re.compile(r"arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,140}(:(\$LATEST|[A-Za-z0-9_-]{1,128}))?")
FUNCTION_ARN_RULE = (
    "must be a Lambda function's ARN, arn:aws:lambda:<region>:<12-digit account id>:function:<name>, optionally with "
    ":<alias or version>; without a qualifier it names the function under every alias and version"
)
LAMBDA_TRACING_VALUES = ("", "active")


def _unknown_key_problems(path, item, known, what):
    problems = []
    for key in item:
        if key not in known:
            problems.append(f"{path}: unknown key {str(key)!r}; {what} takes only {', '.join(known)}")
    return problems


def _given(item, key):
    """A key counts as given when present and not null: YAML `key:` with no value means 'not set'."""
    return item.get(key) is not None


def _set(item, key):
    """An optional role variable or host var counts as set unless null or the empty string."""
    return item.get(key) not in (None, "")


# ---- policy ----------------------------------------------------------------------------------------


def desired_problems(value, path="tracing_sweep_desired"):
    """A boolean, or one of the words true/false/yes/no/1/0 as -e gives them; never 'ture' read as false."""
    problem = bool_problem(value, path)
    return [problem] if problem else []


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


def _selector_problems(path, item, keys, allowed_regions=None):
    """Problems of the selector keys shared by rule matches and exemptions.

    A region is checked for its shape only, unless ``allowed_regions`` is given (the role's settings check): then it
    must also be a region the installed botocore knows, or one of ``allowed_regions``."""
    problems = []
    for key in keys:
        if not _given(item, key):
            continue
        value = item[key]
        key_path = f"{path}.{key}"
        if key == "account_id":
            problems.append(account_id_problem(value, key_path))
        elif key == "region" and allowed_regions is None:
            problems.append(region_name_problem(value, key_path))
        elif key == "region":
            problems.append(region_problem(value, key_path, allowed=allowed_regions, opt_out=ALLOW_UNKNOWN_REGIONS))
        elif key == "api_id":
            problems.append(rest_api_id_problem(value, key_path))
        elif key in ("api_name", "stage_name"):
            problems.append(None if _is_text(value) else _problem(key_path, GLOB_RULE, value))
        elif key == "tag":
            problems.extend(_tag_match_problems(key_path, value))
        elif key == "function_arn":
            problems.append(None if _is_text(value) and FUNCTION_ARN_PATTERN.fullmatch(value) else _problem(key_path, FUNCTION_ARN_RULE, value))
    return [problem for problem in problems if problem]


def _function_selector_problems(path, item, others):
    """function_arn selects one function (tracing_sweep_lambda_tracing), never stages: it stands alone."""
    given = [key for key in others if _given(item, key)]
    if _given(item, "function_arn") and given:
        return [f"{path}: function_arn names a Lambda function, not stages, so it cannot be combined with {', '.join(given)}; "
                "write a separate entry for the stages"]
    return []


def _rule_problems(path, rule, allowed_regions=None):
    if not isinstance(rule, Mapping):
        return [_problem(path, "must be a mapping with match and tracing_enabled or skip", rule)]
    problems = _unknown_key_problems(path, rule, RULE_KEYS, "a rule")
    if _given(rule, "name") and not _is_text(rule["name"]):
        problems.append(_problem(path + ".name", TEXT_RULE, rule["name"]))
    match = rule.get("match")
    if match is not None:
        if isinstance(match, Mapping):
            problems.extend(_unknown_key_problems(path + ".match", match, MATCH_KEYS, "match"))
            problems.extend(_selector_problems(path + ".match", match, MATCH_KEYS, allowed_regions))
            problems.extend(_function_selector_problems(path + ".match", match, [key for key in MATCH_KEYS if key != "function_arn"]))
        else:
            problems.append(_problem(path + ".match", "must be a mapping of account_id, region, api_name, api_id, stage_name, tag", match))
    if _given(rule, "tracing_enabled") and not isinstance(rule["tracing_enabled"], bool):
        # Written out in a policy file: a quoted "yes" is a string someone chose, not a boolean.
        problems.append(_problem(path + ".tracing_enabled", "must be a boolean (true or false, unquoted)", rule["tracing_enabled"]))
    if _given(rule, "skip") and rule["skip"] is not True:
        problems.append(_problem(path + ".skip", "must be true when given (to leave matching stages alone)", rule["skip"]))
    actions = [key for key in ("tracing_enabled", "skip") if _given(rule, key)]
    if len(actions) != 1:
        got = "both" if actions else "neither"
        problems.append(f"{path}: must set exactly one of tracing_enabled (true or false) and skip (true), got {got}")
    return problems


def rules_problems(rules, path="tracing_sweep_rules", allowed_regions=None):
    if rules is None:
        return []
    if not is_list(rules):
        return [_problem(path, "must be a list of rules", rules)]
    problems = []
    for index, rule in enumerate(rules):
        problems.extend(_rule_problems(f"{path}[{index}]", rule, allowed_regions))
    return problems


def _exemption_problems(path, exemption, allowed_regions=None):
    if not isinstance(exemption, Mapping):
        return [_problem(path, "must be a mapping with arn or selectors, reason and optionally expires", exemption)]
    problems = _unknown_key_problems(path, exemption, EXEMPTION_KEYS, "an exemption")
    selectors = [key for key in EXEMPTION_SELECTORS if _given(exemption, key)]
    if _given(exemption, "function_arn"):
        problems.extend(_selector_problems(path, exemption, ("function_arn",)))
        problems.extend(_function_selector_problems(path, exemption, ("arn",) + EXEMPTION_SELECTORS))
    elif _given(exemption, "arn"):
        problems.append(stage_arn_problem(exemption["arn"], path + ".arn"))
        if selectors:
            problems.append(f"{path}: must give either arn or selectors ({', '.join(EXEMPTION_SELECTORS)}), not both, got arn and {', '.join(selectors)}")
    elif not selectors:
        problems.append(f"{path}: must give arn, function_arn or at least one of {', '.join(EXEMPTION_SELECTORS)}, got none")
    problems.extend(_selector_problems(path, exemption, EXEMPTION_SELECTORS, allowed_regions))
    if not _given(exemption, "reason"):
        problems.append(f"{path}.reason: is required: a non-empty string saying why the stages are exempt")
    elif not _is_text(exemption["reason"]):
        problems.append(_problem(path + ".reason", TEXT_RULE + " saying why the stages are exempt", exemption["reason"]))
    if _given(exemption, "expires"):
        problems.append(_date_problem(exemption["expires"], path + ".expires"))
    return [problem for problem in problems if problem]


def exemptions_problems(exemptions, path="tracing_sweep_exemptions", allowed_regions=None):
    if exemptions is None:
        return []
    if not is_list(exemptions):
        return [_problem(path, "must be a list of exemptions", exemptions)]
    problems = []
    for index, exemption in enumerate(exemptions):
        problems.extend(_exemption_problems(f"{path}[{index}]", exemption, allowed_regions))
    return problems


# ---- run settings ----------------------------------------------------------------------------------


def _max_changes_problems(value, path="tracing_sweep_max_changes"):
    # -e tracing_sweep_max_changes=500 gives the string "500": a decimal whole number as text is what the user meant.
    if value is None:
        return []
    problem = whole_number_problem(value, path, minimum=0, rule=MAX_CHANGES_RULE)
    return [problem] if problem else []


def _report_dir_problems(value, path="tracing_sweep_report_dir"):
    if _is_text(value) and "\x00" not in value:
        return []
    return [_problem(path, TEXT_RULE + " (a directory on the controller)", value)]


def _endpoint_url_problems(value, path="tracing_sweep_endpoint_url"):
    if value in (None, ""):
        return []
    if isinstance(value, str) and not any(char.isspace() or not char.isprintable() for char in value):
        try:
            parts = urlsplit(value)
        except ValueError:  # e.g. an unclosed IPv6 bracket
            parts = None
        if parts is not None and parts.scheme in ("http", "https") and parts.netloc:
            return []
    return [_problem(path, "must be an http:// or https:// URL, or empty for the SDK default", value)]


def _sts_endpoint_url_problems(value):
    return _endpoint_url_problems(value, path="tracing_sweep_sts_endpoint_url")


def _max_requests_per_second_problems(value, path="tracing_sweep_max_requests_per_second"):
    # A number, or a decimal string as -e gives it ("9.5"); never a boolean, NaN or infinity.
    try:
        parse_positive_number(value)
    except ValueError:
        return [_problem(path, MAX_REQUESTS_PER_SECOND_RULE, value)]
    return []


def _concurrency_problems(value, path="tracing_sweep_concurrency"):
    problem = whole_number_problem(value, path, minimum=CONCURRENCY_MIN, maximum=CONCURRENCY_MAX, rule=CONCURRENCY_RULE)
    return [problem] if problem else []


def _role_session_name_problems(value, path="tracing_sweep_role_session_name"):
    return [] if isinstance(value, str) and ROLE_SESSION_NAME_PATTERN.fullmatch(value) else [_problem(path, ROLE_SESSION_NAME_RULE, value)]


def _fail_on_error_problems(value):
    return desired_problems(value, "tracing_sweep_fail_on_error")


def _fail_on_noncompliant_problems(value):
    return desired_problems(value, "tracing_sweep_fail_on_noncompliant")


def _history_problems(value):
    problem = history_location_problem(value)
    return [problem] if problem else []


def _fail_on_regression_problems(value):
    return desired_problems(value, "tracing_sweep_fail_on_regression")


def _regression_includes_new_problems(value):
    return desired_problems(value, "tracing_sweep_regression_includes_new")


def _security_hub_problems(value):
    return desired_problems(value, "tracing_sweep_security_hub")


def _names(value, strip=True):
    """A list as given, or the comma-separated names of a string (-e key=a,b gives the string "a,b"); None otherwise."""
    if isinstance(value, str):
        return [name.strip() if strip else name for name in value.split(",")]
    return list(value) if is_list(value) else None


def _format_hint(name):
    found = difflib.get_close_matches(name.strip().lower(), REPORT_FORMATS, n=1) if isinstance(name, str) else []
    return " (did you mean %s?)" % found[0] if found else ""


def report_formats_problems(value, path="tracing_sweep_report_formats"):
    """A list of report formats (REPORT_FORMATS), or their names separated by commas as -e gives them (split as
    Ansible splits them for the report step: no space around a comma); empty or null writes report.json alone."""
    if value in (None, ""):
        return []
    rule = "must be a list of report formats, each one of " + ", ".join(REPORT_FORMATS) + " (report.json is always written)"
    names = _names(value, strip=False)
    if names is None:
        return [_problem(path, rule, value)]
    if isinstance(value, str):
        unknown = [name for name in names if name not in REPORT_FORMATS + REPORT_FORMAT_ALIASES]
        if not unknown:
            return []
        if names == unknown == [value]:
            return [_problem(path, rule, value) + _format_hint(value)]
        return [_problem(path, rule, value) + ": " + ", ".join(describe(name) + _format_hint(name) for name in unknown) + (
            " is not one" if len(unknown) == 1 else " are not")]
    return [
        _problem(f"{path}[{index}]", "must be one of " + ", ".join(REPORT_FORMATS), name) + _format_hint(name)
        for index, name in enumerate(names) if name not in REPORT_FORMATS + REPORT_FORMAT_ALIASES
    ]


def allow_unknown_regions_problems(value, path=ALLOW_UNKNOWN_REGIONS):
    """The opt-out of the region rule: names of regions newer than the installed botocore (a list, or separated by commas)."""
    if value in (None, ""):
        return []
    names = _names(value)
    rule = "must be a list of the region names the installed botocore does not know yet (regions newer than it), e.g. [xx-newregion-1]"
    if names is None:
        return [_problem(path, rule, value)]
    problems = []
    for index, name in enumerate(names):
        problem = region_name_problem(name, path if isinstance(value, str) else f"{path}[{index}]")
        if problem:
            problems.append(problem)
    return problems


# The most stages one run may name (a remediation's batch is far smaller): beyond it, sweep the targets whole.
MAX_NAMED_STAGES = 1000
NAMED_STAGES_RULE = (
    "must be a list of the stages to sweep, each {rest_api_id: ..., stage_name: ...} or 'REST_API_ID/STAGE_NAME' "
    "(several separated by commas as -e gives them), at most %d; empty sweeps every stage of each target" % MAX_NAMED_STAGES
)


def _named_stage(item):
    """(rest_api_id, stage_name) of one entry of tracing_sweep_stages as given, or None when it has neither shape."""
    if isinstance(item, Mapping) and set(item) == {"rest_api_id", "stage_name"}:
        return item["rest_api_id"], item["stage_name"]
    if isinstance(item, str) and item.count("/") == 1:
        api, stage = item.strip().split("/")
        return api, stage
    return None


def named_stages_problems(value, path="tracing_sweep_stages"):
    """tracing_sweep_stages: the stages a run is limited to (a remediation of the stages an event named)."""
    if value in (None, ""):
        return []
    items = _names(value)
    if items is None:
        return [_problem(path, NAMED_STAGES_RULE, value)]
    if len(items) > MAX_NAMED_STAGES:
        return [f"{path}: {NAMED_STAGES_RULE}, got {len(items)} stages"]
    problems = []
    for index, item in enumerate(items):
        where = path if isinstance(value, str) else f"{path}[{index}]"
        pair = _named_stage(item)
        if pair is None:
            problems.append(_problem(where, NAMED_STAGES_RULE, item))
            continue
        for problem in (rest_api_id_problem(pair[0], f"{where}.rest_api_id"), stage_name_problem(pair[1], f"{where}.stage_name")):
            if problem:
                problems.append(problem)
    return problems


def named_stages(value):
    """The checked tracing_sweep_stages as [{rest_api_id, stage_name}], each once, in the order given."""
    if value in (None, ""):
        return []
    seen = {}
    for item in _names(value):
        pair = _named_stage(item)
        seen.setdefault(pair, {"rest_api_id": pair[0], "stage_name": pair[1]})
    return list(seen.values())


def _not_given(value):
    """An empty value: what an entry point requires is then reported as missing (entry_point_problems), once."""
    return value is None or (isinstance(value, str) and not value.strip()) or (is_list(value) and not value)


def _rollback_report_problems(value, path="tracing_sweep_rollback_report"):
    if _not_given(value) or (_is_text(value) and "\x00" not in value):
        return []
    return [_problem(path, "must be " + ROLLBACK_REPORT_RULE, value)]


def _merge_reports_problems(value, path="tracing_sweep_merge_reports"):
    if _not_given(value):
        return []
    names = _names(value)
    if names is None:
        return [_problem(path, "must be " + MERGE_REPORTS_RULE, value)]
    problems = []
    for index, name in enumerate(names):
        if not (_is_text(name) and "\x00" not in name):
            where = path if isinstance(value, str) else f"{path}[{index}]"
            problems.append(_problem(where, TEXT_RULE + " (the path of a report.json or of its directory)", name))
    return problems


def _whole_path_problems(value):
    return desired_problems(value, "tracing_sweep_whole_path")


def _lambda_tracing_problems(value):
    if value is None or (isinstance(value, str) and value in LAMBDA_TRACING_VALUES):
        return []
    return [_problem("tracing_sweep_lambda_tracing", "must be active (set Active tracing on the Lambda functions in the path of stages "
                     "that should be traced, in an enforcement) or empty (never change a function)", value)]


def entry_point_problems(settings):
    """The values an entry point of the role cannot run without (``entry_point``: main, rollback or merge)."""
    entry_point = settings.get("entry_point", "main")
    if entry_point not in ENTRY_POINTS:
        return [_problem("entry_point", "must be one of " + ", ".join(ENTRY_POINTS), entry_point)]
    problems = []
    for key in REQUIRED_BY_ENTRY_POINT.get(entry_point, ()):
        value = settings.get(key)
        if _not_given(value):
            shown = "an empty list" if is_list(value) else describe(value)
            problems.append(f"tracing_sweep_{key}: is required by the {entry_point} entry point, got {shown}: {REQUIRED_RULES[key]}")
    return problems


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
    "role_session_name": _role_session_name_problems,
    "fail_on_error": _fail_on_error_problems,
    "fail_on_noncompliant": _fail_on_noncompliant_problems,
    "history": _history_problems,
    "fail_on_regression": _fail_on_regression_problems,
    "regression_includes_new": _regression_includes_new_problems,
    "security_hub": _security_hub_problems,
    "report_formats": report_formats_problems,
    "allow_unknown_regions": allow_unknown_regions_problems,
    "rollback_report": _rollback_report_problems,
    "merge_reports": _merge_reports_problems,
    "stages": named_stages_problems,
    "whole_path": _whole_path_problems,
    "lambda_tracing": _lambda_tracing_problems,
    # Not a setting: the names of the variables defined for the host, to find misspelt ones.
    "variables": unknown_variable_problems,
}


def settings_problems(settings):
    """Problems of the role settings {desired, rules, ..., max_requests_per_second, concurrency}; a key left out is not checked.

    The optional key ``variables`` lists the names of the variables defined for the host (the varnames lookup
    gives them); tracing_sweep_* names the role does not know are reported. The optional key ``entry_point``
    (main, rollback, merge) says which values are required, and that these are the role's variables: null is
    then refused where the role takes a number or a list (ROLE_NOT_NULL). When ``allow_unknown_regions`` is given (the role
    gives it), the regions of rules and exemptions must be regions the installed botocore knows, or listed
    there; without it (the policy's own check of a policy already checked) only their shape is checked.
    """
    if not isinstance(settings, Mapping):
        return [_problem("settings", "must be a mapping of " + ", ".join(SETTING_KEYS), settings)]
    problems = []
    for key in settings:
        if key not in SETTING_CHECKS and key != "entry_point":
            problems.append(f"tracing_sweep_{key}: unknown setting; the sweep's settings are " + ", ".join("tracing_sweep_" + k for k in SETTING_KEYS))
    checks = dict(SETTING_CHECKS)
    if "allow_unknown_regions" in settings:
        allowed = allowed_regions(settings["allow_unknown_regions"])
        checks["rules"] = lambda value: rules_problems(value, allowed_regions=allowed)
        checks["exemptions"] = lambda value: exemptions_problems(value, allowed_regions=allowed)
    if "entry_point" in settings:
        problems.extend(entry_point_problems(settings))
        for key, rule in ROLE_NOT_NULL.items():
            if key in settings and settings[key] is None:
                problems.append(f"tracing_sweep_{key}: {rule}, got null")
    for key, check in checks.items():
        if key in settings:
            problems.extend(check(settings[key]))
    if not problems and settings.get("lambda_tracing") and not parse_bool(settings.get("whole_path", False)):
        # The functions to change are the ones the whole-path read finds: without it there are none to know of.
        problems.append(
            f"tracing_sweep_lambda_tracing: is {settings['lambda_tracing']}, but tracing_sweep_whole_path is not true: the functions to change "
            "are the ones the whole request path is read for; set tracing_sweep_whole_path to true, or leave tracing_sweep_lambda_tracing empty"
        )
    for key in ("fail_on_regression", "regression_includes_new"):
        if not problems and key in settings and parse_bool(settings[key]) and not _set(settings, "history"):
            # Without a history nothing can regress: an alert that can never fire must not look armed.
            problems.append(
                f"tracing_sweep_{key}: is true, but tracing_sweep_history is not set: without a history no run is compared "
                "with the one before, so nothing could ever regress; set tracing_sweep_history (a directory or s3://bucket/prefix)"
            )
    return problems


def normalized_settings(settings):
    """The settings as the sweep uses them, once settings_problems found none: booleans as booleans, whole
    numbers as int, the rate as float. Keys left out stay out; other values are passed through."""
    converters = {
        "desired": parse_bool,
        "fail_on_error": parse_bool,
        "fail_on_noncompliant": parse_bool,
        "fail_on_regression": parse_bool,
        "regression_includes_new": parse_bool,
        "security_hub": parse_bool,
        "whole_path": parse_bool,
        "max_changes": lambda value: None if value is None else parse_whole_number(value),
        "concurrency": parse_whole_number,
        "max_requests_per_second": parse_positive_number,
        "report_formats": lambda value: [] if value in (None, "") else _names(value, strip=False),
        "allow_unknown_regions": lambda value: [] if value in (None, "") else [name for name in _names(value) if name],
        "stages": named_stages,
    }
    return {key: converters[key](value) if key in converters else value for key, value in settings.items() if key not in ("variables", "entry_point")}


def run_problems(hosts, problems_by_host):
    """The settings problems of a run, each once, in the order first found, from each host's (the settings step's).

    A problem every host has (a value given with -e, or to all of them) is said as it is; one that only some hosts
    have (host or group variables) names them, the first HOSTS_SHOWN. Hosts are paired with their problems in order.
    """
    hosts = [str(host) for host in hosts or []]
    found = {}
    for host, problems in zip(hosts, problems_by_host or []):
        for problem in problems if is_list(problems) else []:
            found.setdefault(str(problem), []).append(host)
    lines = []
    for problem, where in found.items():
        if len(where) == len(hosts):
            lines.append(problem)
            continue
        names = ", ".join(where[:HOSTS_SHOWN]) + (" and %d more" % (len(where) - HOSTS_SHOWN) if len(where) > HOSTS_SHOWN else "")
        lines.append("%s (host%s %s)" % (problem, "" if len(where) == 1 else "s", names))
    return lines


# ---- target host vars ------------------------------------------------------------------------------


REGIONS_RULE = "must be a list of AWS regions, each listed once, e.g. [us-east-1, eu-west-1]"


def host_targets(host, target):
    """([(target name, target)], problems) of one host: the host itself, its one target; or, for a host with
    tracing_sweep_regions (a host that stands for an account), one target per region, named ``<host>_<region>`` (as
    the accounts inventory names the hosts of its per-region layout, so that reports and the run history name the same
    targets in either layout), each with that region. A list that breaks the rule is one problem per broken entry,
    with no target: nothing is swept on that host."""
    regions = (target or {}).get("regions") if isinstance(target, Mapping) else None
    if regions in (None, "", []):
        return [(str(host), {key: value for key, value in (target or {}).items() if key != "regions"})], []
    if isinstance(regions, str):
        # -e tracing_sweep_regions=us-east-1,eu-west-1 gives a string.
        regions = regions.split(",")
    if not is_list(regions):
        return [], [_problem("tracing_sweep_regions", REGIONS_RULE, regions)]
    problems = []
    if _set(target, "region"):
        problems.append("tracing_sweep_regions: a host has tracing_sweep_region (one region) or tracing_sweep_regions (an account's regions), not both")
    allowed = allowed_regions(target.get("allow_unknown_regions"))
    for index, region in enumerate(regions):
        path = f"tracing_sweep_regions[{index}]"
        if region in regions[:index]:
            problems.append(f"{path}: {region!r} is listed twice; {REGIONS_RULE}")
        else:
            problems.append(region_problem(region, path, allowed=allowed, opt_out=ALLOW_UNKNOWN_REGIONS))
    problems = [problem for problem in problems if problem]
    if problems:
        return [], problems
    base = {key: value for key, value in target.items() if key not in ("regions", "region")}
    return [(f"{host}_{region}", dict(base, region=region)) for region in regions], []


def target_problems(target):
    """Problems of one target's host vars {region, account_id, role_arn, external_id, account_name, allow_unknown_regions}.

    The region must be one the installed botocore knows, or be listed in allow_unknown_regions (the role's
    tracing_sweep_allow_unknown_regions, which the accounts inventory sets for the hosts of such a region)."""
    if not isinstance(target, Mapping):
        return [_problem("target", "must be a mapping of region, account_id, role_arn, external_id, account_name", target)]
    problems = []
    for key in target:
        if key not in TARGET_KEYS:
            problems.append(f"tracing_sweep_{key}: unknown target variable; a target has " + ", ".join("tracing_sweep_" + k for k in TARGET_KEYS))
    if not _set(target, "region"):
        problems.append("tracing_sweep_region: is required: the AWS region this host (one account x region) covers, e.g. us-east-1")
    else:
        allowed = allowed_regions(target.get("allow_unknown_regions"))
        problems.append(region_problem(target["region"], "tracing_sweep_region", allowed=allowed, opt_out=ALLOW_UNKNOWN_REGIONS))
    if _set(target, "account_id"):
        problems.append(account_id_problem(target["account_id"], "tracing_sweep_account_id"))
    if _set(target, "role_arn"):
        problems.append(
            role_arn_problem(target["role_arn"], "tracing_sweep_role_arn", account_id=target.get("account_id"), account_path="tracing_sweep_account_id")
        )
    if _set(target, "external_id"):
        problems.append(external_id_problem(target["external_id"], "tracing_sweep_external_id"))
        if not _set(target, "role_arn"):
            problems.append(
                "tracing_sweep_external_id: is only used when assuming tracing_sweep_role_arn, which is not set; set the role or remove the external id"
            )
    if _set(target, "account_name") and not _is_text(target["account_name"]):
        problems.append(_problem("tracing_sweep_account_name", TEXT_RULE + " (a label for reports)", target["account_name"]))
    return [problem for problem in problems if problem]


def target_account_id(target):
    """The account a well-formed target names: tracing_sweep_account_id, else its role's account, else None."""
    if _set(target, "account_id"):
        return target["account_id"]
    if _set(target, "role_arn"):
        return role_arn_account(target["role_arn"])
    return None
