# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import datetime
import math
from pathlib import Path

import pytest
import yaml

from ansible_collections.cloudops.apigw_tracing.plugins.module_utils import _rules
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.formats import FILE_NAMES
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._settings.checks import REPORT_FORMATS
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._settings.checks import ROLE_VARIABLES
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._settings.checks import report_formats_problems
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._settings.checks import normalized_settings
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._settings.checks import run_problems
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._settings.checks import settings_problems
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._settings.checks import exemptions_problems
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._settings.checks import rules_problems
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._settings.checks import target_account_id
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._settings.checks import host_targets
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._settings.checks import target_problems

ARN = "arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5/stages/prod"
ROLE = "arn:aws:iam::111111111111:role/tracing-sweep"
ACCOUNT_ID_RULE = "must be a 12-digit AWS account id, as a string (in quotes)"
ROLE_ARN_RULE = "must be an IAM role ARN such as arn:aws:iam::111111111111:role/TracingAudit (partition aws, aws-cn, aws-us-gov, aws-iso, aws-iso-b)"
BOOL_RULE = "must be a boolean: true or false (also yes/no, 1/0)"

VALID_SETTINGS = {
    "desired": True,
    "rules": [
        {"name": "internal apis", "match": {"api_name": "internal-*", "tag": {"key": "Tier", "value": "internal"}}, "tracing_enabled": False},
        {"match": {"account_id": "111111111111", "region": "eu-west-1", "api_id": "a1b2c3d4e5", "stage_name": "dev*"}, "skip": True},
        {"match": {"tag": {"key": "Owner"}}, "tracing_enabled": True},
        {"match": {}, "tracing_enabled": True},
        {"tracing_enabled": True},
    ],
    "exemptions": [
        {"arn": ARN, "reason": "cost review", "expires": "2026-12-31"},
        {"api_name": "legacy-*", "stage_name": "v1", "reason": "being retired", "expires": datetime.date(2026, 6, 30)},
        {"account_id": "222222222222", "reason": "sandbox account"},
        {"region": "ap-southeast-2", "api_id": "b1b2c3d4e5", "reason": "vendor managed", "expires": None},
    ],
    "exempt_tag": "XrayExempt",
    "max_changes": 0,
    "report_dir": "/var/tmp/tracing",
    "endpoint_url": "http://127.0.0.1:5000",
    "sts_endpoint_url": "https://sts.us-east-1.amazonaws.com",
    "max_requests_per_second": 2.5,
    "concurrency": 16,
    "role_session_name": "cloudops-tracing-sweep",
    "fail_on_error": True,
    "fail_on_noncompliant": False,
}
ROLE_DIR = Path(__file__).resolve().parents[5] / "roles" / "tracing_sweep"


def rule(**fields):
    return {"settings": {"rules": [dict({"tracing_enabled": True}, **fields)]}}


def one_problem(settings):
    problems = settings_problems(settings)
    assert len(problems) == 1, problems
    return problems[0]


def test_valid_settings_have_no_problems():
    assert settings_problems(VALID_SETTINGS) == []


def test_every_setting_may_be_left_out():
    assert settings_problems({}) == []


def test_role_defaults_have_no_problems():
    # The role's defaults: empty strings mean "not set" for the optional ones.
    defaults = {
        "desired": True,
        "rules": [],
        "exemptions": [],
        "exempt_tag": "",
        "max_changes": 100,
        "report_dir": "tracing-sweep-reports",
        "endpoint_url": "",
        "sts_endpoint_url": "",
        "max_requests_per_second": 9.5,
        "concurrency": 4,
        "role_session_name": "cloudops-tracing-sweep",
        "fail_on_error": True,
        "fail_on_noncompliant": False,
    }
    assert settings_problems(defaults) == []


@pytest.mark.parametrize("settings", [None, [], "desired: true"])
def test_settings_must_be_a_mapping(settings):
    assert one_problem(settings).startswith("settings: must be a mapping")


def test_unknown_setting_is_named():
    problem = one_problem({"desire": True})
    assert problem.startswith("tracing_sweep_desire: unknown setting; the sweep's settings are tracing_sweep_desired, tracing_sweep_rules")


@pytest.mark.parametrize("value", [True, False, "true", "false", "yes", "no", "1", "0", "TRUE", "No", 1, 0])
def test_desired_accepts_a_boolean_or_its_words(value):
    # -e tracing_sweep_desired=false arrives as the string 'false'.
    assert settings_problems({"desired": value}) == []


@pytest.mark.parametrize(
    "value, shown",
    [("ture", "'ture'"), ("enabled", "'enabled'"), ("", "''"), (" true", "' true'"), ("true\n", "'true\\n'"), (None, "null"),
     (2, "2 (integer)"), (1.0, "1.0 (float)"), (["true"], "a list")],
)
def test_desired_refuses_anything_else(value, shown):
    # A misspelling is a mistake, never false.
    assert one_problem({"desired": value}) == f"tracing_sweep_desired: {BOOL_RULE}, got {shown}"


@pytest.mark.parametrize("key", ["fail_on_error", "fail_on_noncompliant"])
@pytest.mark.parametrize("value", [True, False, "yes", "false", 0])
def test_fail_on_settings_accept_a_boolean_or_its_words(key, value):
    assert settings_problems({key: value}) == []


@pytest.mark.parametrize("key", ["fail_on_error", "fail_on_noncompliant"])
@pytest.mark.parametrize("value, shown", [("ture", "'ture'"), (None, "null"), (3, "3 (integer)")])
def test_fail_on_settings_refuse_anything_else(key, value, shown):
    assert one_problem({key: value}) == f"tracing_sweep_{key}: {BOOL_RULE}, got {shown}"


@pytest.mark.parametrize("value", ["cloudops-tracing-sweep", "ab", "a" * 64, "x+=,.@-_1"])
def test_valid_role_session_names(value):
    assert settings_problems({"role_session_name": value}) == []


@pytest.mark.parametrize(
    "value, shown", [("x", "'x'"), ("a" * 65, repr("a" * 65)), ("has space", "'has space'"), ("name\n", "'name\\n'"), ("caf\u00e9", "'caf\u00e9'"),
                     (None, "null"), (12, "12 (integer)")]
)
def test_role_session_name_follows_the_sts_rule(value, shown):
    assert one_problem({"role_session_name": value}) == (
        "tracing_sweep_role_session_name: must be 2 to 64 characters, each a letter, a digit or one of _+=,.@- (STS's rule for a role session name), "
        f"got {shown}"
    )


@pytest.mark.parametrize("value, shown", [({"match": {}}, "a mapping"), ("skip all", "'skip all'")])
def test_rules_must_be_a_list(value, shown):
    assert one_problem({"rules": value}) == f"tracing_sweep_rules: must be a list of rules, got {shown}"


def test_rules_may_be_null():
    assert settings_problems({"rules": None, "exemptions": None}) == []


def test_rule_must_be_a_mapping():
    assert one_problem({"rules": [{"tracing_enabled": True}, "skip"]}).startswith("tracing_sweep_rules[1]: must be a mapping")


def test_rule_unknown_key():
    problem = one_problem({"rules": [{"tracing_enabled": True, "enabled": True}]})
    assert problem == "tracing_sweep_rules[0]: unknown key 'enabled'; a rule takes only name, match, tracing_enabled, skip"


def test_match_unknown_key():
    problem = one_problem({"rules": [{"match": {"stage": "prod"}, "skip": True}]})
    assert problem.startswith("tracing_sweep_rules[0].match: unknown key 'stage'; match takes only account_id, region, api_name, api_id, stage_name, tag")


def test_match_must_be_a_mapping():
    problem = one_problem({"rules": [{"match": ["prod"], "skip": True}]})
    assert problem.startswith("tracing_sweep_rules[0].match: must be a mapping of account_id, region")


def test_contract_example_account_id_message():
    problem = one_problem({"rules": [{"tracing_enabled": True}, {"match": {"account_id": "1234"}, "tracing_enabled": False}]})
    assert problem == f"tracing_sweep_rules[1].match.account_id: {ACCOUNT_ID_RULE}, got '1234'"


def test_account_id_as_a_number_is_refused():
    # YAML reads an unquoted account id as an integer: the hint quotes that same id.
    problem = one_problem({"rules": [{"match": {"account_id": 111111111111}, "skip": True}]})
    assert problem == (
        f"tracing_sweep_rules[0].match.account_id: {ACCOUNT_ID_RULE}, got 111111111111 (integer): "
        'YAML reads an unquoted id as a number; write it in quotes, "111111111111"'
    )


def test_account_id_read_as_octal_is_refused_without_suggesting_another_id():
    # YAML 1.1 reads an unquoted 011111111111 as the octal number 1227133513: another account's digits.
    problem = one_problem({"rules": [{"match": {"account_id": 0o11111111111}, "skip": True}]})
    assert problem.startswith(f"tracing_sweep_rules[0].match.account_id: {ACCOUNT_ID_RULE}, got 1227133513 (integer): ")
    assert "octal" in problem
    assert "exactly as AWS shows it" in problem
    assert "001227133513" not in problem and '"' not in problem


@pytest.mark.parametrize(
    "key, value, rule_text",
    [
        ("region", "US-EAST-1", "must be an AWS region name such as us-east-1"),
        ("region", "useast1", "must be an AWS region name such as us-east-1"),
        ("api_id", "A1B2C3D4E5", "must be a REST API id: exactly 10 lowercase letters or digits"),
        ("api_id", "a1b2c3", "must be a REST API id: exactly 10 lowercase letters or digits"),
        ("api_name", "", "must be a non-empty string (a glob: * ? [...] allowed)"),
        ("api_name", 7, "must be a non-empty string (a glob: * ? [...] allowed)"),
        ("stage_name", "  ", "must be a non-empty string (a glob: * ? [...] allowed)"),
    ],
)
def test_match_selector_rules(key, value, rule_text):
    problem = one_problem({"rules": [{"match": {key: value}, "skip": True}]})
    assert problem.startswith(f"tracing_sweep_rules[0].match.{key}: {rule_text}")


@pytest.mark.parametrize(
    "tag, expected",
    [
        ("Tier", "tracing_sweep_rules[0].match.tag: must be a mapping with key (and optionally value), got 'Tier'"),
        ({"value": "x"}, "tracing_sweep_rules[0].match.tag.key: is required: the tag key the stage must carry"),
        ({"key": ""}, "tracing_sweep_rules[0].match.tag.key: must be a non-empty string, got ''"),
        ({"key": "Tier", "value": 1}, "tracing_sweep_rules[0].match.tag.value: must be a string (quote numbers and booleans), got 1 (integer)"),
        ({"key": "Tier", "values": ["a"]}, "tracing_sweep_rules[0].match.tag: unknown key 'values'; a tag match takes only key, value"),
    ],
)
def test_tag_match_rules(tag, expected):
    assert one_problem({"rules": [{"match": {"tag": tag}, "skip": True}]}) == expected


def test_tag_match_value_may_be_empty_or_absent():
    assert settings_problems({"rules": [{"match": {"tag": {"key": "Tier", "value": ""}}, "skip": True}, {"match": {"tag": {"key": "T"}}, "skip": True}]}) == []


def test_rule_name_must_be_text():
    assert one_problem({"rules": [{"name": "", "skip": True}]}) == "tracing_sweep_rules[0].name: must be a non-empty string, got ''"


def test_rule_tracing_enabled_must_be_boolean():
    # Written out in a policy file, a quoted "true" is a string someone chose: only a YAML boolean is a rule's action.
    problem = one_problem({"rules": [{"tracing_enabled": "true"}]})
    assert problem == "tracing_sweep_rules[0].tracing_enabled: must be a boolean (true or false, unquoted), got 'true'"


@pytest.mark.parametrize("value, shown", [("yes", "'yes'"), (1, "1 (integer)"), (0, "0 (integer)"), ("false", "'false'")])
def test_rule_tracing_enabled_is_stricter_than_desired(value, shown):
    assert settings_problems({"desired": value}) == []
    problem = one_problem({"rules": [{"tracing_enabled": value}]})
    assert problem == f"tracing_sweep_rules[0].tracing_enabled: must be a boolean (true or false, unquoted), got {shown}"


def test_rule_skip_must_be_true():
    problems = settings_problems({"rules": [{"skip": False}]})
    assert problems == ["tracing_sweep_rules[0].skip: must be true when given (to leave matching stages alone), got false (boolean)"]


def test_rule_with_both_actions():
    problem = one_problem({"rules": [{"tracing_enabled": True, "skip": True}]})
    assert problem == "tracing_sweep_rules[0]: must set exactly one of tracing_enabled (true or false) and skip (true), got both"


@pytest.mark.parametrize("item", [{"name": "no action"}, {"match": {"region": "us-east-1"}, "tracing_enabled": None}])
def test_rule_with_neither_action(item):
    problem = one_problem({"rules": [item]})
    assert problem == "tracing_sweep_rules[0]: must set exactly one of tracing_enabled (true or false) and skip (true), got neither"


def test_several_problems_in_input_order():
    problems = settings_problems(
        {
            "desired": "ture",
            "rules": [{"match": {"region": "nowhere"}, "tracing_enabled": True}, {"skip": True, "tracing_enabled": False}],
            "exemptions": [{"reason": "x"}],
        }
    )
    assert [problem.split(":", maxsplit=1)[0] for problem in problems] == [
        "tracing_sweep_desired",
        "tracing_sweep_rules[0].match.region",
        "tracing_sweep_rules[1]",
        "tracing_sweep_exemptions[0]",
    ]


# ---- exemptions ---------------------------------------------------------------------------------------


def test_exemptions_must_be_a_list():
    assert one_problem({"exemptions": {"arn": ARN}}) == "tracing_sweep_exemptions: must be a list of exemptions, got a mapping"


def test_exemption_must_be_a_mapping():
    problem = one_problem({"exemptions": [ARN]})
    assert problem == f"tracing_sweep_exemptions[0]: must be a mapping with arn or selectors, reason and optionally expires, got '{ARN}'"


def test_exemption_unknown_key():
    problem = one_problem({"exemptions": [{"arn": ARN, "reason": "r", "until": "2026-01-01"}]})
    assert problem == (
        "tracing_sweep_exemptions[0]: unknown key 'until'; an exemption takes only arn, function_arn, account_id, region, api_id, api_name, "
        "stage_name, reason, expires"
    )


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5",
        "arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5/stages/*",
        "arn:azure:apigateway:us-east-1::/restapis/a1b2c3d4e5/stages/prod",
        "arn:aws:execute-api:us-east-1:111111111111:a1b2c3d4e5/prod",
        ARN + "\n",
    ],
)
def test_exemption_arn_must_be_a_stage_arn(arn):
    problem = one_problem({"exemptions": [{"arn": arn, "reason": "r"}]})
    assert problem == f"tracing_sweep_exemptions[0].arn: must be an API Gateway stage ARN such as {ARN}, got {arn!r}"


@pytest.mark.parametrize("partition", ["aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b"])
def test_exemption_arn_in_every_partition(partition):
    assert settings_problems({"exemptions": [{"arn": ARN.replace("arn:aws:", f"arn:{partition}:"), "reason": "r"}]}) == []


def test_exemption_with_arn_and_selectors():
    problem = one_problem({"exemptions": [{"arn": ARN, "api_name": "orders", "region": "us-east-1", "reason": "r"}]})
    assert problem == (
        "tracing_sweep_exemptions[0]: must give either arn or selectors (account_id, region, api_id, api_name, stage_name), not both, "
        "got arn and region, api_name"
    )


def test_exemption_without_selector():
    problem = one_problem({"exemptions": [{"reason": "r", "expires": "2026-01-01"}]})
    assert problem == "tracing_sweep_exemptions[0]: must give arn, function_arn or at least one of account_id, region, api_id, api_name, stage_name, got none"


def test_exemption_selector_values_are_checked():
    problem = one_problem({"exemptions": [{"account_id": "12", "reason": "r"}]})
    assert problem == f"tracing_sweep_exemptions[0].account_id: {ACCOUNT_ID_RULE}, got '12'"


def test_exemption_reason_is_required():
    problem = one_problem({"exemptions": [{"arn": ARN}]})
    assert problem == "tracing_sweep_exemptions[0].reason: is required: a non-empty string saying why the stages are exempt"


@pytest.mark.parametrize("reason, shown", [("", "''"), ("   ", "'   '"), (5, "5 (integer)")])
def test_exemption_reason_must_be_text(reason, shown):
    problem = one_problem({"exemptions": [{"arn": ARN, "reason": reason}]})
    assert problem == f"tracing_sweep_exemptions[0].reason: must be a non-empty string saying why the stages are exempt, got {shown}"


def test_contract_example_expires_message():
    problem = one_problem({"exemptions": [{"arn": ARN, "reason": "r", "expires": "31/12/2026"}]})
    assert problem == "tracing_sweep_exemptions[0].expires: must be a date (YYYY-MM-DD), got '31/12/2026'"


@pytest.mark.parametrize(
    "expires, shown",
    [
        ("2026-02-30", "'2026-02-30'"),
        ("2026-1-5", "'2026-1-5'"),
        (20261231, "20261231 (integer)"),
        (datetime.datetime(2026, 12, 31, 12, 0), "2026-12-31T12:00:00 (a date and time)"),
    ],
)
def test_expires_must_be_a_date(expires, shown):
    problem = one_problem({"exemptions": [{"arn": ARN, "reason": "r", "expires": expires}]})
    assert problem == f"tracing_sweep_exemptions[0].expires: must be a date (YYYY-MM-DD), got {shown}"


# ---- other settings -----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [None, "", "XrayExempt"])
def test_valid_exempt_tags(value):
    assert settings_problems({"exempt_tag": value}) == []


@pytest.mark.parametrize("value, shown", [("  ", "'  '"), (5, "5 (integer)"), (True, "true (boolean)"), (["XrayExempt"], "a list")])
def test_exempt_tag_must_be_a_tag_key(value, shown):
    assert one_problem({"exempt_tag": value}) == f"tracing_sweep_exempt_tag: must be a stage tag key (a string), or empty for none, got {shown}"


@pytest.mark.parametrize("value", [None, 0, 1, 500, "0", "10", "500"])
def test_valid_max_changes(value):
    # -e tracing_sweep_max_changes=500 arrives as the string "500": decimal digits are what the user meant.
    assert settings_problems({"max_changes": value}) == []


@pytest.mark.parametrize(
    "value, shown",
    [(-1, "-1 (integer)"), (True, "true (boolean)"), (False, "false (boolean)"), (1.5, "1.5 (float)"), (10.0, "10.0 (float)"),
     (" 10", "' 10'"), ("10 ", "'10 '"), ("10\n", "'10\\n'"), ("0x10", "'0x10'"), ("10.0", "'10.0'"), ("-1", "'-1'"), ("+10", "'+10'"),
     ("1_000", "'1_000'"), ("", "''"), ("\uff11\uff10", "'\uff11\uff10'"), ("ten", "'ten'")],
)
def test_max_changes_must_be_a_whole_number(value, shown):
    assert one_problem({"max_changes": value}) == f"tracing_sweep_max_changes: must be a whole number >= 0 (or null for no limit), got {shown}"


@pytest.mark.parametrize("value, shown", [("", "''"), (" ", "' '"), (None, "null")])
def test_report_dir_must_be_text(value, shown):
    assert one_problem({"report_dir": value}) == f"tracing_sweep_report_dir: must be a non-empty string (a directory on the controller), got {shown}"


@pytest.mark.parametrize("key", ["endpoint_url", "sts_endpoint_url"])
@pytest.mark.parametrize("value", [None, "", "http://127.0.0.1:5000", "https://apigateway.us-east-1.amazonaws.com"])
def test_valid_endpoint_urls(key, value):
    assert settings_problems({key: value}) == []


@pytest.mark.parametrize("key", ["endpoint_url", "sts_endpoint_url"])
@pytest.mark.parametrize("value, shown", [("ftp://example.com", "'ftp://example.com'"), ("localhost:5000", "'localhost:5000'"), ("http://", "'http://'"),
                                          ("http://a b", "'http://a b'"), (5000, "5000 (integer)"), (" ", "' '"),
                                          ("http://[::1", "'http://[::1'")])
def test_endpoint_url_must_be_http(key, value, shown):
    assert one_problem({key: value}) == f"tracing_sweep_{key}: must be an http:// or https:// URL, or empty for the SDK default, got {shown}"


@pytest.mark.parametrize("value", [9.0, 9, 0.1, 10.5, 250, "9", "9.5", "0.1", ".5"])
def test_valid_max_requests_per_second(value):
    assert settings_problems({"max_requests_per_second": value}) == []


@pytest.mark.parametrize(
    "value, shown",
    [(0, "0 (integer)"), (-1, "-1 (integer)"), (0.0, "0.0 (float)"), (math.nan, "nan (float)"), (math.inf, "inf (float)"),
     ("fast", "'fast'"), (True, "true (boolean)"), (False, "false (boolean)"), (None, "null"), ("0", "'0'"), ("0.0", "'0.0'"), ("-1", "'-1'"),
     (" 9", "' 9'"), ("9.5\n", "'9.5\\n'"), ("nan", "'nan'"), ("inf", "'inf'"), ("1e3", "'1e3'"), ("9,5", "'9,5'"), ("", "''")],
)
def test_max_requests_per_second_must_be_above_zero(value, shown):
    problem = one_problem({"max_requests_per_second": value})
    assert problem.startswith("tracing_sweep_max_requests_per_second: must be a number greater than 0")
    assert "quota is 10 requests/s with a burst of 40 per account and region" in problem
    assert problem.endswith(f"got {shown}")


@pytest.mark.parametrize("value", [1, 4, 16, "1", "4", "16"])
def test_valid_concurrency(value):
    assert settings_problems({"concurrency": value}) == []


@pytest.mark.parametrize(
    "value, shown",
    [(0, "0 (integer)"), (17, "17 (integer)"), (4.0, "4.0 (float)"), ("0", "'0'"), ("17", "'17'"), (" 4", "' 4'"), ("4.0", "'4.0'"),
     ("0x4", "'0x4'"), (True, "true (boolean)"), (None, "null")],
)
def test_concurrency_must_be_1_to_16(value, shown):
    problem = one_problem({"concurrency": value})
    assert problem == f"tracing_sweep_concurrency: must be a whole number from 1 to 16, the requests a target may have waiting at once, got {shown}"


def test_known_and_internal_variables_are_not_reported():
    names = sorted(ROLE_VARIABLES) + ["tracing_sweep__plan", "tracing_sweep__session", "ansible_connection", "my_tracing_sweep_note"]
    assert settings_problems({"variables": names}) == []


def test_misspelt_variable_is_named_with_the_closest_one():
    problem = one_problem({"variables": ["tracing_sweep_exemption", "tracing_sweep_desired"]})
    assert problem.startswith("tracing_sweep_exemption: unknown variable (did you mean tracing_sweep_exemptions?); ")


def test_unknown_variables_are_each_named_once_in_order():
    problems = settings_problems({"variables": ["tracing_sweep_zzz", "tracing_sweep_aaa", "tracing_sweep_zzz"]})
    assert [problem.split(":", 1)[0] for problem in problems] == ["tracing_sweep_aaa", "tracing_sweep_zzz"]


def test_variables_must_be_a_list():
    assert one_problem({"variables": "tracing_sweep_desired"}) == "variables: must be a list of variable names, got 'tracing_sweep_desired'"


def test_every_role_variable_is_known():
    # A variable added to the role but not to ROLE_VARIABLES would be refused as misspelt.
    specs = yaml.safe_load((ROLE_DIR / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))
    defaults = yaml.safe_load((ROLE_DIR / "defaults" / "main.yml").read_text(encoding="utf-8"))
    documented = {name for entry_point in specs["argument_specs"].values() for name in entry_point.get("options", {})}
    assert set(defaults) <= documented
    published = {
        "tracing_sweep_mode", "tracing_sweep_verdict", "tracing_sweep_summary", "tracing_sweep_failed_targets", "tracing_sweep_reports",
        "tracing_sweep_rollback_summary", "tracing_sweep_since_baseline",
    }
    assert documented | {"tracing_sweep_report"} | published == ROLE_VARIABLES


def test_no_role_default_is_a_template():
    # Every target's step reads the role's variables: a template among the defaults is compiled in every target's worker.
    defaults = yaml.safe_load((ROLE_DIR / "defaults" / "main.yml").read_text(encoding="utf-8"))
    assert [name for name, value in defaults.items() if "{{" in str(value) or "{%" in str(value)] == []


# ---- what the argument spec no longer refuses: the settings check says it, one line each ----------------------


def test_the_argument_spec_declares_nothing_ansible_core_could_refuse():
    # ansible-core's check of a role's variables prints the whole spec on every host when it fails: it must never fail.
    # A str option converts any value; raw takes any value. No choices, no required option, no element type.
    specs = yaml.safe_load((ROLE_DIR / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))
    for entry_point, spec in specs["argument_specs"].items():
        for name, option in spec["options"].items():
            assert option.get("type") in ("str", "raw"), (entry_point, name)
            assert not {"choices", "required", "elements", "options", "aliases"} & set(option), (entry_point, name)


def test_the_report_formats_are_the_ones_written():
    assert REPORT_FORMATS == tuple(FILE_NAMES)


@pytest.mark.parametrize("value", [["json", "markdown", "junit", "csv", "html"], ["csv"], [], None, "", "json,csv", "markdown"])
def test_valid_report_formats(value):
    # -e tracing_sweep_report_formats=json,csv gives the string 'json,csv'.
    assert settings_problems({"report_formats": value}) == []


FORMATS_RULE = "must be a list of report formats, each one of json, markdown, junit, csv, html (report.json is always written)"


@pytest.mark.parametrize(
    "value, problems",
    [
        ("pdf", [f"tracing_sweep_report_formats: {FORMATS_RULE}, got 'pdf'"]),
        ("mardown", [f"tracing_sweep_report_formats: {FORMATS_RULE}, got 'mardown' (did you mean markdown?)"]),
        # The report step splits -e's string at each comma, as Ansible does: ' csv' is not csv.
        ("json,mardown, csv", [f"tracing_sweep_report_formats: {FORMATS_RULE}, got 'json,mardown, csv': 'mardown' (did you mean markdown?), "
                               "' csv' (did you mean csv?) are not"]),
        (["json", "pdf", "Markdown"], ["tracing_sweep_report_formats[1]: must be one of json, markdown, junit, csv, html, got 'pdf'",
                                       "tracing_sweep_report_formats[2]: must be one of json, markdown, junit, csv, html, got 'Markdown' "
                                       "(did you mean markdown?)"]),
        ([1], ["tracing_sweep_report_formats[0]: must be one of json, markdown, junit, csv, html, got 1 (integer)"]),
        ({"json": True}, [f"tracing_sweep_report_formats: {FORMATS_RULE}, got a mapping"]),
    ],
)
def test_report_formats_name_the_value_and_the_formats(value, problems):
    assert settings_problems({"report_formats": value}) == problems


@pytest.mark.parametrize("value", [[], None, "", ["xx-newregion-1"], "xx-newregion-1,yy-newregion-2", ["eu-west-1"]])
def test_valid_allow_unknown_regions(value):
    assert settings_problems({"allow_unknown_regions": value}) == []


@pytest.mark.parametrize(
    "value, problem",
    [
        (True, "tracing_sweep_allow_unknown_regions: must be a list of the region names the installed botocore does not know yet (regions newer "
               "than it), e.g. [xx-newregion-1], got true (boolean)"),
        (["xx-newregion-1", "XX"], "tracing_sweep_allow_unknown_regions[1]: must be an AWS region name such as us-east-1, got 'XX'"),
    ],
)
def test_allow_unknown_regions_holds_region_names(value, problem):
    assert one_problem({"allow_unknown_regions": value}) == problem


def test_policy_regions_must_exist_unless_allowed():
    settings = {
        "rules": [{"match": {"region": "eu-wset-1"}, "tracing_enabled": False}],
        "exemptions": [{"region": "xx-newregion-1", "reason": "new region"}],
        "allow_unknown_regions": [],
    }
    problems = settings_problems(settings)
    assert [problem.split(":", 1)[0] for problem in problems] == ["tracing_sweep_rules[0].match.region", "tracing_sweep_exemptions[0].region"]
    assert problems[0].endswith(
        "got 'eu-wset-1', a region no partition of the installed botocore (%s) has (did you mean eu-west-1?); for a region newer than that "
        "botocore, upgrade botocore or list it in tracing_sweep_allow_unknown_regions" % _rules.botocore_version()
    )
    assert settings_problems(dict(settings, allow_unknown_regions=["eu-wset-1", "xx-newregion-1"])) == []
    # The policy's own check of a policy the role checked (no allow_unknown_regions given) checks the shape only.
    assert settings_problems({"rules": settings["rules"], "exemptions": settings["exemptions"]}) == []


@pytest.mark.parametrize(
    "settings, problem",
    [
        ({"entry_point": "rollback"}, "tracing_sweep_rollback_report: is required by the rollback entry point, got null: the path, on the "
                                      "controller, of the report.json the enforcement to undo wrote, e.g. -e "
                                      "tracing_sweep_rollback_report=tracing-sweep-reports/report.json"),
        ({"entry_point": "rollback", "rollback_report": " "}, "tracing_sweep_rollback_report: is required by the rollback entry point, got ' '"),
        ({"entry_point": "rollback", "rollback_report": ["a.json"]},
         "tracing_sweep_rollback_report: must be the path, on the controller, of the report.json the enforcement to undo wrote, got a list"),
        ({"entry_point": "merge", "merge_reports": None}, "tracing_sweep_merge_reports: is required by the merge entry point, got null: a "
                                                          "non-empty list of the slices' reports"),
        ({"entry_point": "merge", "merge_reports": []}, "tracing_sweep_merge_reports: is required by the merge entry point, got an empty list"),
        ({"entry_point": "merge", "merge_reports": {"a": 1}}, "tracing_sweep_merge_reports: must be a non-empty list of the slices' reports, each "
                                                              "the path of a report.json or of the directory that holds one, got a mapping"),
        ({"entry_point": "merge", "merge_reports": ["a", 7]}, "tracing_sweep_merge_reports[1]: must be a non-empty string (the path of a "
                                                              "report.json or of its directory), got 7 (integer)"),
        ({"entry_point": "sweep"}, "entry_point: must be one of main, rollback, merge, got 'sweep'"),
    ],
)
def test_what_an_entry_point_requires_is_one_line(settings, problem):
    assert one_problem(settings).startswith(problem)


@pytest.mark.parametrize(
    "settings",
    [
        {"entry_point": "main"},
        {"entry_point": "main", "rollback_report": None, "merge_reports": None},
        {"entry_point": "rollback", "rollback_report": "reports/report.json"},
        {"entry_point": "merge", "merge_reports": ["slice1", "slice2/report.json"]},
        {"entry_point": "merge", "merge_reports": "slice1,slice2"},
    ],
)
def test_entry_points_with_what_they_require(settings):
    assert settings_problems(settings) == []


@pytest.mark.parametrize(
    "key, rule",
    [
        ("max_changes", "must be a whole number >= 0: the role's change guard has no off switch; give a larger number to allow more changes"),
        ("rules", "must be a list of rules (an empty list for none)"),
        ("exemptions", "must be a list of exemptions (an empty list for none)"),
        ("report_formats", "must be a list of report formats, each one of json, markdown, junit, csv, html (an empty list writes report.json alone)"),
    ],
)
def test_the_roles_variables_are_never_null_where_a_number_or_a_list_is_taken(key, rule):
    # The argument spec's check refused null for them (a YAML key left empty, a list whose entries are all commented out);
    # the filters' and the policy's null ("no limit", "none") is not the role's.
    assert one_problem({"entry_point": "main", key: None}) == f"tracing_sweep_{key}: {rule}, got null"
    assert settings_problems({key: None}) == []


def test_run_problems_say_each_problem_once_and_where_it_is_not_everywhere():
    hosts = ["h%d" % index for index in range(8)]
    everywhere = "tracing_sweep_desired: must be a boolean: true or false (also yes/no, 1/0), got 'flase'"
    some = "tracing_sweep_concurrency: must be a whole number from 1 to 16, the requests a target may have waiting at once, got 17 (integer)"
    records = [[everywhere, some]] * 7 + [[everywhere]]
    assert run_problems(hosts, records) == [everywhere, some + " (hosts h0, h1, h2, h3, h4 and 2 more)"]
    assert run_problems(hosts, [[]] * 7 + [["x"]]) == ["x (host h7)"]
    # One host: said as it is; hosts whose check did not run (no record) count as having none.
    assert run_problems(["only"], [[everywhere]]) == [everywhere]
    assert run_problems(["a", "b"], [None, ["y"]]) == ["y (host b)"]
    assert run_problems([], []) == []


# ---- target host vars ---------------------------------------------------------------------------------


def test_minimal_target():
    assert target_problems({"region": "us-east-1"}) == []


def test_full_target():
    target = {"region": "eu-central-1", "account_id": "111111111111", "role_arn": ROLE, "external_id": "ext-Id_123", "account_name": "payments"}
    assert target_problems(target) == []


@pytest.mark.parametrize("unset", [None, ""])
def test_null_or_empty_values_count_as_not_set(unset):
    assert target_problems({"region": "us-east-1", "account_id": unset, "role_arn": unset, "external_id": unset, "account_name": unset}) == []


def test_target_must_be_a_mapping():
    assert target_problems("us-east-1") == ["target: must be a mapping of region, account_id, role_arn, external_id, account_name, got 'us-east-1'"]


@pytest.mark.parametrize("target", [{}, {"region": None}, {"region": ""}])
def test_region_is_required(target):
    assert target_problems(target) == ["tracing_sweep_region: is required: the AWS region this host (one account x region) covers, e.g. us-east-1"]


@pytest.mark.parametrize("region", ["us-gov-west-1", "cn-north-1", "ap-southeast-2", "us-isob-east-1"])
def test_valid_regions(region):
    assert target_problems({"region": region}) == []


def test_a_region_that_does_not_exist_is_refused_unless_allowed():
    assert target_problems({"region": "eu-wset-1"}) == [
        "tracing_sweep_region: must be an AWS region name such as us-east-1, got 'eu-wset-1', a region no partition of the installed botocore (%s) "
        "has (did you mean eu-west-1?); for a region newer than that botocore, upgrade botocore or list it in tracing_sweep_allow_unknown_regions"
        % _rules.botocore_version()
    ]
    # The inventory sets the opt-out on the hosts of a region newer than botocore; -e gives names separated by commas.
    assert target_problems({"region": "xx-newregion-1", "allow_unknown_regions": ["xx-newregion-1"]}) == []
    assert target_problems({"region": "xx-newregion-1", "allow_unknown_regions": "eu-west-1,xx-newregion-1"}) == []


@pytest.mark.parametrize("region", ["us-east", "US-EAST-1", "us_east_1", " ", "us-east-1\n"])
def test_bad_region(region):
    # A malformed name is shown with the closest region the installed botocore knows.
    hint = " (did you mean us-east-1?)" if region.strip() else ""
    assert target_problems({"region": region}) == [f"tracing_sweep_region: must be an AWS region name such as us-east-1, got {region!r}{hint}"]


def test_unknown_target_variable():
    problems = target_problems({"region": "us-east-1", "profile": "x"})
    assert problems == [
        "tracing_sweep_profile: unknown target variable; a target has tracing_sweep_region, tracing_sweep_account_id, tracing_sweep_role_arn, "
        "tracing_sweep_external_id, tracing_sweep_account_name, tracing_sweep_allow_unknown_regions"
    ]


@pytest.mark.parametrize(
    "account_id, shown",
    [("1234", "'1234'"), ("11111111111a", "'11111111111a'"), ("111111111111\n", "'111111111111\\n'"), (" 111111111111", "' 111111111111'"),
     ("\u0661" * 12, repr("\u0661" * 12)), (True, "true (boolean)"),
     (111111111111, '111111111111 (integer): YAML reads an unquoted id as a number; write it in quotes, "111111111111"')],
)
def test_bad_account_id(account_id, shown):
    problems = target_problems({"region": "us-east-1", "account_id": account_id})
    assert problems == [f"tracing_sweep_account_id: {ACCOUNT_ID_RULE}, got {shown}"]


@pytest.mark.parametrize(
    "role_arn",
    [
        "arn:aws:iam::111111111111:user/tracing",
        "arn:aws:iam::1111:role/tracing",
        "arn:aws:sts::111111111111:assumed-role/tracing/x",
        "arn:aws:iam::111111111111:role/",
        "arn:aws:iam::111111111111:role/has space",
        ROLE + "\n",
        "arn:aws:iam::\u0661\u0661\u0661111111111:role/tracing",
    ],
)
def test_bad_role_arn(role_arn):
    problems = target_problems({"region": "us-east-1", "role_arn": role_arn})
    assert problems == [f"tracing_sweep_role_arn: {ROLE_ARN_RULE}, got {role_arn!r}"]


@pytest.mark.parametrize("role_arn", ["arn:aws-cn:iam::111111111111:role/a", "arn:aws-us-gov:iam::111111111111:role/path/to/r+=,.@-_"])
def test_role_arn_partitions_and_paths(role_arn):
    assert target_problems({"region": "us-east-1", "role_arn": role_arn}) == []


@pytest.mark.parametrize(
    "external_id, shown",
    [("x", "1 character"), ("y" * 1225, "1225 characters"), ("has space", "a value with other characters"),
     ("secret-id\n", "a value with other characters"), (123456, "a value of type int")],
)
def test_bad_external_id_is_not_echoed(external_id, shown):
    problems = target_problems({"region": "us-east-1", "role_arn": ROLE, "external_id": external_id})
    assert problems == [
        f"tracing_sweep_external_id: must be 2 to 1224 characters, each a letter, a digit or one of _+=,.@:/-, got {shown} (not shown: it is secret)"
    ]
    assert str(external_id).strip() not in problems[0].split(", got ")[1]


@pytest.mark.parametrize("role_arn", [None, ""])
def test_external_id_without_role(role_arn):
    problems = target_problems({"region": "us-east-1", "external_id": "secret-id", "role_arn": role_arn})
    assert problems == [
        "tracing_sweep_external_id: is only used when assuming tracing_sweep_role_arn, which is not set; set the role or remove the external id"
    ]


def test_role_in_another_account():
    problems = target_problems({"region": "us-east-1", "account_id": "222222222222", "role_arn": ROLE})
    assert problems == [
        "tracing_sweep_role_arn: must be a role in the account it sweeps, tracing_sweep_account_id 222222222222, got a role in account 111111111111"
    ]


@pytest.mark.parametrize("name, shown", [("  ", "'  '"), (7, "7 (integer)")])
def test_account_name_must_be_text(name, shown):
    problems = target_problems({"region": "us-east-1", "account_name": name})
    assert problems == [f"tracing_sweep_account_name: must be a non-empty string (a label for reports), got {shown}"]


# ---- the account a target names -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "target, account_id",
    [
        ({"region": "us-east-1", "account_id": "222222222222"}, "222222222222"),
        ({"region": "us-east-1", "role_arn": ROLE}, "111111111111"),
        ({"region": "us-east-1", "account_id": "111111111111", "role_arn": ROLE}, "111111111111"),
        ({"region": "us-east-1", "account_id": "", "role_arn": "arn:aws-cn:iam::333333333333:role/r"}, "333333333333"),
        ({"region": "us-east-1"}, None),
        ({"region": "us-east-1", "account_id": None, "role_arn": ""}, None),
        ({"region": "us-east-1", "role_arn": "not an arn"}, None),
    ],
)
def test_target_account_id(target, account_id):
    assert target_account_id(target) == account_id


# ---- settings as the sweep uses them -------------------------------------------------------------------


def test_normalized_settings_read_values_as_e_gives_them():
    settings = {
        "desired": "false",
        "fail_on_error": "yes",
        "fail_on_noncompliant": "0",
        "max_changes": "500",
        "concurrency": "4",
        "max_requests_per_second": "9.5",
        "report_dir": "/tmp/r",
        "rules": [],
        "variables": ["tracing_sweep_desired"],
    }
    assert settings_problems(settings) == []
    normalized = normalized_settings(settings)
    assert normalized == {
        "desired": False,
        "fail_on_error": True,
        "fail_on_noncompliant": False,
        "max_changes": 500,
        "concurrency": 4,
        "max_requests_per_second": 9.5,
        "report_dir": "/tmp/r",
        "rules": [],
    }
    assert all(isinstance(normalized[key], int) and not isinstance(normalized[key], bool) for key in ("max_changes", "concurrency"))
    assert isinstance(normalized["max_requests_per_second"], float)


def test_normalized_settings_keep_typed_values_and_leave_out_absent_keys():
    normalized = normalized_settings({"desired": True, "max_changes": None, "max_requests_per_second": 2, "concurrency": 16})
    assert normalized == {"desired": True, "max_changes": None, "max_requests_per_second": 2.0, "concurrency": 16}
    assert normalized_settings({}) == {}


@pytest.mark.parametrize("value", [["md", "xml"], "json,md,xml", ["markdown", "md"]])
def test_report_formats_take_md_and_xml_for_markdown_and_junit(value):
    assert report_formats_problems(value) == []


# ---- tracing_sweep_lambda_tracing and the function_arn selector ----------------------------------------------

FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:orders"


def test_lambda_tracing_takes_active_or_empty():
    assert settings_problems({"lambda_tracing": "", "whole_path": False}) == []
    assert settings_problems({"lambda_tracing": "active", "whole_path": "true"}) == []
    assert settings_problems({"lambda_tracing": "Active", "whole_path": True}) == [
        "tracing_sweep_lambda_tracing: must be active (set Active tracing on the Lambda functions in the path of stages that should be traced, "
        "in an enforcement) or empty (never change a function), got 'Active'"
    ]


def test_lambda_tracing_needs_the_whole_path():
    problems = settings_problems({"lambda_tracing": "active", "whole_path": False})
    assert len(problems) == 1 and problems[0].startswith(
        "tracing_sweep_lambda_tracing: is active, but tracing_sweep_whole_path is not true")


def test_function_arn_selector():
    assert exemptions_problems([{"function_arn": FUNCTION, "reason": "owned elsewhere"}]) == []
    assert exemptions_problems([{"function_arn": FUNCTION + ":live", "reason": "owned elsewhere"}]) == []
    assert rules_problems([{"match": {"function_arn": FUNCTION + ":7"}, "skip": True}]) == []
    bad = exemptions_problems([{"function_arn": "orders", "reason": "r"}])
    assert len(bad) == 1 and bad[0].startswith("tracing_sweep_exemptions[0].function_arn: must be a Lambda function's ARN")
    mixed = rules_problems([{"match": {"function_arn": FUNCTION, "stage_name": "prod"}, "skip": True}])
    assert mixed == ["tracing_sweep_rules[0].match: function_arn names a Lambda function, not stages, so it cannot be combined with stage_name; "
                     "write a separate entry for the stages"]
    stage = "arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5/stages/prod"
    assert exemptions_problems([{"function_arn": FUNCTION, "arn": stage, "reason": "r"}])[-1].startswith(
        "tracing_sweep_exemptions[0]: function_arn names a Lambda function, not stages, so it cannot be combined with arn")


# ---- a host that stands for an account (tracing_sweep_regions) ---------------------------------------------------------


@pytest.mark.parametrize("regions", [["us-east-1", "eu-west-1"], "us-east-1,eu-west-1"])
def test_an_account_host_has_one_target_per_region_named_as_the_per_region_layout_names_it(regions):
    target = {"account_id": "111111111111", "regions": regions, "region": "", "role_arn": "arn:aws:iam::111111111111:role/r"}
    assert host_targets("prod", target) == ([
        ("prod_us-east-1", {"account_id": "111111111111", "role_arn": "arn:aws:iam::111111111111:role/r", "region": "us-east-1"}),
        ("prod_eu-west-1", {"account_id": "111111111111", "role_arn": "arn:aws:iam::111111111111:role/r", "region": "eu-west-1"}),
    ], [])


@pytest.mark.parametrize("regions", [None, "", []])
def test_a_host_without_regions_is_its_own_target(regions):
    assert host_targets("prod_us-east-1", {"region": "us-east-1", "regions": regions}) == ([("prod_us-east-1", {"region": "us-east-1"})], [])


@pytest.mark.parametrize("target, problem", [
    ({"regions": {"us-east-1": 1}}, "tracing_sweep_regions: must be a list of AWS regions, each listed once, e.g. [us-east-1, eu-west-1], got a mapping"),
    ({"regions": ["us-east-1", "us-east-1"]}, "tracing_sweep_regions[1]: 'us-east-1' is listed twice"),
    ({"regions": ["eu-wset-1"]}, "did you mean eu-west-1?"),
    ({"regions": [7]}, "tracing_sweep_regions[0]: "),
    ({"regions": ["us-east-1"], "region": "us-east-1"}, "tracing_sweep_regions: a host has tracing_sweep_region (one region) or tracing_sweep_regions"),
    ({"regions": ["xx-newregion-1"], "allow_unknown_regions": []}, "tracing_sweep_regions[0]: "),
])
def test_regions_that_break_the_rule_are_problems_and_no_target(target, problem):
    targets, problems = host_targets("prod", target)
    assert targets == [] and any(problem in line for line in problems), problems


def test_a_region_newer_than_botocore_is_accepted_when_allowed():
    targets, problems = host_targets("prod", {"regions": ["xx-newregion-1"], "allow_unknown_regions": ["xx-newregion-1"]})
    assert problems == [] and [name for name, dummy in targets] == ["prod_xx-newregion-1"]
