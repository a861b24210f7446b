# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one set of identifier rules (full matches of ASCII patterns), the message shape and the values users type."""

from __future__ import annotations

import datetime
import math
import re

import pytest

from ansible_collections.cloudops.apigw_tracing.plugins.module_utils import _rules
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import account_id_problem
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import bool_problem
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import date_problem
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import describe
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import external_id_problem
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import is_list
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import is_text
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import matches
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import parse_bool
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import parse_date
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import parse_positive_number
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import parse_whole_number
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import problem
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import region_name_problem
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import region_problem
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import rest_api_id_problem
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import role_arn_account
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import role_arn_problem
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import role_name_problem
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import stage_arn_problem
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import stage_name_problem
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import whole_number_problem

ACCOUNT = "111111111111"
ROLE = "arn:aws:iam::111111111111:role/TracingAudit"
STAGE_ARN = "arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5/stages/prod"
ARABIC_INDIC_ONE = "\u0661"
FULLWIDTH_ONE = "\uff11"
TWELVE_DIGITS = re.compile(r"(?<![0-9])[0-9]{12}(?![0-9])")


# ---- how values are shown -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, shown",
    [
        (None, "null"),
        (True, "true (boolean)"),
        (False, "false (boolean)"),
        ("a1b2c3d4e5\n", "'a1b2c3d4e5\\n'"),
        ("tab\there", "'tab\\there'"),
        ("", "''"),
        (5, "5 (integer)"),
        (-1, "-1 (integer)"),
        (1.5, "1.5 (float)"),
        (math.nan, "nan (float)"),
        (datetime.date(2026, 1, 2), "2026-01-02 (date)"),
        (datetime.datetime(2026, 1, 2, 3, 4), "2026-01-02T03:04:00 (a date and time)"),
        ({"a": 1}, "a mapping"),
        ([1], "a list"),
        ((1,), "a list"),
        (b"x", "a value of type bytes"),
        (object(), "a value of type object"),
    ],
)
def test_describe_makes_hidden_characters_and_types_visible(value, shown):
    assert describe(value) == shown


def test_problem_has_one_shape():
    assert problem("stages[2].rest_api_id", "must be a REST API id", "x\n") == "stages[2].rest_api_id: must be a REST API id, got 'x\\n'"
    assert problem("concurrency", "must be a whole number", 5) == "concurrency: must be a whole number, got 5 (integer)"


def test_is_list_and_is_text():
    assert is_list([]) and is_list(()) and not is_list("abc") and not is_list(b"abc") and not is_list({"a": 1})
    assert is_text("x") and not is_text("  ") and not is_text("") and not is_text(5)


def test_matches_is_a_full_match_of_a_string_only():
    assert matches(_rules.ACCOUNT_ID_PATTERN, ACCOUNT)
    assert not matches(_rules.ACCOUNT_ID_PATTERN, ACCOUNT + "\n")
    assert not matches(_rules.ACCOUNT_ID_PATTERN, ACCOUNT + "1")
    assert not matches(_rules.ACCOUNT_ID_PATTERN, int(ACCOUNT))
    assert not matches(_rules.ACCOUNT_ID_PATTERN, None)


# ---- identifiers: full matches of ASCII patterns ------------------------------------------------------

# (check, valid values, invalid values): every invalid value is refused with '<path>: <rule>, got <value>'.
IDENTIFIERS = [
    (
        # The shape of a region name; region_problem adds that botocore knows it (tested below).
        region_name_problem,
        _rules.REGION_RULE,
        ["us-east-1", "eu-west-3", "us-gov-west-1", "cn-northwest-1", "ap-southeast-10", "us-isob-east-1"],
        ["US-EAST-1", "us-east", "useast1", "us_east_1", "us-east-1\n", " us-east-1", "us-east-" + ARABIC_INDIC_ONE, "", None, 1],
    ),
    (
        rest_api_id_problem,
        _rules.REST_API_ID_RULE,
        ["a1b2c3d4e5", "0123456789", "zzzzzzzzzz"],
        ["A1B2C3D4E5", "a1b2c3d4e", "a1b2c3d4e5f", "a1b2c3d4e5\n", "a1b2c3d4" + ARABIC_INDIC_ONE * 2, "a1b2c3d4\u00e95", "", None],
    ),
    (
        stage_name_problem,
        _rules.STAGE_NAME_RULE,
        ["prod", "v1", "Prod_2-x", "a" * 128],
        ["", "a" * 129, "prod stage", "prod/x", "prod.1", "prod\n", "pr\u00f6d", "\u0661", None],
    ),
    (
        stage_arn_problem,
        _rules.STAGE_ARN_RULE,
        [STAGE_ARN, STAGE_ARN.replace("arn:aws:", "arn:aws-cn:"), STAGE_ARN.replace("arn:aws:", "arn:aws-iso-b:")],
        [STAGE_ARN + "\n", STAGE_ARN + "/x", STAGE_ARN.replace("arn:aws:", "arn:azure:"), STAGE_ARN.replace("/prod", "/*"), "", None],
    ),
    (
        role_name_problem,
        _rules.ROLE_NAME_RULE,
        ["TracingAudit", "audit/TracingAudit", "a/b/c+=,.@-_", "x" * 64],
        ["/TracingAudit", "audit/", "bad name", "x" * 65, "R\n", "r\u00e9le", ROLE, "", None, 7],
    ),
]


@pytest.mark.parametrize("check, rule, valid, invalid", IDENTIFIERS, ids=lambda value: getattr(value, "__name__", None))
def test_identifier_rules(check, rule, valid, invalid):
    for value in valid:
        assert check(value, "the.path") is None, value
    for value in invalid:
        assert check(value, "the.path") == f"the.path: {rule}, got {describe(value)}", value


def test_default_paths_name_the_field():
    assert region_problem("x").startswith("region: ")
    assert region_name_problem("x").startswith("region: ")
    assert rest_api_id_problem("x").startswith("rest_api_id: ")
    assert stage_name_problem("").startswith("stage_name: ")
    assert stage_arn_problem("x").startswith("arn: ")
    assert role_name_problem("").startswith("role_name: ")
    assert account_id_problem("x").startswith("account_id: ")
    assert role_arn_problem("x").startswith("role_arn: ")
    assert external_id_problem("x").startswith("external_id: ")
    assert date_problem("x").startswith("expires: ")


# ---- regions: the shape, and a region the installed botocore knows ---------------------------------------

BOTOCORE = _rules.botocore_version()


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-3", "us-gov-west-1", "cn-northwest-1", "us-isob-east-1", "il-central-1"])
def test_regions_botocore_knows_pass(region):
    assert region_problem(region, "regions[0]") is None


def test_a_region_no_partition_has_is_refused_with_the_closest_one_and_the_opt_out():
    assert region_problem("eu-wset-1", "regions[0]", opt_out="allow_unknown_regions") == (
        "regions[0]: must be an AWS region name such as us-east-1, got 'eu-wset-1', a region no partition of the installed botocore "
        "(%s) has (did you mean eu-west-1?); for a region newer than that botocore, upgrade botocore or list it in allow_unknown_regions" % BOTOCORE
    )
    # Without an opt-out to name, the message says what can be done.
    assert region_problem("eu-wset-1").endswith("(did you mean eu-west-1?); for a region newer than that botocore, upgrade botocore")


@pytest.mark.parametrize("allowed", [["xx-newregion-1"], ("eu-west-1", "xx-newregion-1"), "eu-west-1, xx-newregion-1"])
def test_the_opt_out_lets_a_region_newer_than_botocore_through(allowed):
    assert region_problem("xx-newregion-1", "tracing_sweep_region", allowed=allowed) is None
    assert region_problem("xx-newregion-2", "tracing_sweep_region", allowed=allowed).startswith(
        "tracing_sweep_region: must be an AWS region name such as us-east-1, got 'xx-newregion-2', a region no partition"
    )


def test_the_opt_out_never_excuses_a_malformed_name():
    assert region_problem("EU-WEST-1", "r", allowed=["EU-WEST-1"]) == (
        "r: must be an AWS region name such as us-east-1, got 'EU-WEST-1' (did you mean eu-west-1?)"
    )


@pytest.mark.parametrize(
    "value, hint",
    [("EU-WEST-1", "eu-west-1"), ("us_east_1", "us-east-1"), (" us-east-1", "us-east-1"), ("us-east-1\n", "us-east-1"), ("useast1", "us-east-1")],
)
def test_a_malformed_region_names_the_closest_one(value, hint):
    assert region_problem(value, "r") == "r: %s, got %s (did you mean %s?)" % (_rules.REGION_RULE, describe(value), hint)


@pytest.mark.parametrize("value", [None, 1, "", "x"])
def test_a_value_close_to_no_region_gets_no_hint(value):
    assert region_problem(value, "r") == "r: %s, got %s" % (_rules.REGION_RULE, describe(value))


def test_without_botocore_only_the_shape_is_checked(monkeypatch):
    monkeypatch.setattr(_rules, "partition_regions", lambda: None)
    assert region_problem("eu-wset-1", "r") is None
    assert region_problem("EU-WEST-1", "r") == "r: %s, got 'EU-WEST-1'" % _rules.REGION_RULE


def test_the_partitions_regions_come_from_botocore_and_are_region_names():
    partitions = _rules.partition_regions()
    assert {"aws", "aws-cn", "aws-us-gov"} <= set(partitions)
    assert "us-east-1" in partitions["aws"] and "cn-north-1" in partitions["aws-cn"] and "us-gov-west-1" in partitions["aws-us-gov"]
    # Pseudo-regions of the endpoint data (aws-global) are no region names.
    assert all(region_name_problem(region) is None for regions in partitions.values() for region in regions)
    assert _rules.known_regions() == frozenset().union(*partitions.values())


# ---- account ids --------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [ACCOUNT, "000000000001", "999999999999"])
def test_valid_account_ids(value):
    assert account_id_problem(value, "id") is None


@pytest.mark.parametrize(
    "value",
    ["12345", "1111111111112", "11111111111a", ACCOUNT + "\n", " " + ACCOUNT, ARABIC_INDIC_ONE * 12, FULLWIDTH_ONE * 12, "", None, True, 1.5, [ACCOUNT]],
)
def test_invalid_account_ids(value):
    assert account_id_problem(value, "id") == f"id: {_rules.ACCOUNT_ID_RULE}, got {describe(value)}"


def test_an_unquoted_id_read_as_a_number_is_quoted_back_unchanged():
    assert account_id_problem(123456789012, "accounts[0].id") == (
        f'accounts[0].id: {_rules.ACCOUNT_ID_RULE}, got 123456789012 (integer): YAML reads an unquoted id as a number; write it in quotes, "123456789012"'
    )


@pytest.mark.parametrize(
    "value",
    [
        0o11111111111,  # YAML 1.1 reads an unquoted 011111111111 as this octal number
        0o12345670123,  # and 012345670123 as this one
        0o777777777777,  # the largest 12-digit octal id, still far below 10**11
        99999999999,  # an 11-digit number: a lost leading 0 (decimal or octal), or a digit missing
        12345,
        0,
    ],
)
def test_an_id_that_may_have_been_read_as_octal_never_gets_another_id_suggested(value):
    message = account_id_problem(value, "id")
    assert message.startswith(f"id: {_rules.ACCOUNT_ID_RULE}, got {value} (integer): ")
    assert "octal" in message and "exactly as AWS shows it" in message
    # Neither the number padded to 12 digits, nor any other 12-digit id, nor a quoted suggestion.
    assert TWELVE_DIGITS.search(message) is None
    assert '"' not in message


def test_a_boolean_is_no_account_id_even_if_it_is_an_int():
    assert account_id_problem(True, "id") == f"id: {_rules.ACCOUNT_ID_RULE}, got true (boolean)"


# ---- role ARNs -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, account",
    [
        (ROLE, ACCOUNT),
        ("arn:aws-cn:iam::222222222222:role/path/to/Role", "222222222222"),
        ("arn:aws-us-gov:iam::333333333333:role/a+=,.@_-b", "333333333333"),
        ("arn:aws-iso-b:iam::444444444444:role/" + "r" * 512, "444444444444"),
    ],
)
def test_role_arn_account(value, account):
    assert role_arn_account(value) == account
    assert role_arn_problem(value, "role_arn") is None


@pytest.mark.parametrize(
    "value",
    [
        ROLE + "\n",
        "arn:aws:iam::111111111111:user/TracingAudit",
        "arn:aws:iam::1111111111:role/TracingAudit",
        "arn:aws:iam::" + ARABIC_INDIC_ONE * 12 + ":role/TracingAudit",
        "arn:aws:sts::111111111111:assumed-role/TracingAudit/x",
        "arn:azure:iam::111111111111:role/TracingAudit",
        "arn:aws:iam::111111111111:role/",
        "arn:aws:iam::111111111111:role/bad name",
        "arn:aws:iam::111111111111:role/r\u00e9le",
        "arn:aws:iam::111111111111:role/" + "r" * 513,
        "",
        None,
        ["x"],
    ],
)
def test_invalid_role_arns(value):
    assert role_arn_account(value) is None
    assert role_arn_problem(value, "role_arn") == f"role_arn: {_rules.ROLE_ARN_RULE}, got {describe(value)}"


def test_a_role_must_be_in_the_account_it_sweeps():
    assert role_arn_problem(ROLE, "r", account_id=ACCOUNT, account_path="a") is None
    assert role_arn_problem(ROLE, "r", account_id="222222222222", account_path="a") == (
        "r: must be a role in the account it sweeps, a 222222222222, got a role in account 111111111111"
    )
    # An account id that is itself malformed is reported on its own: the role is checked for its shape only.
    assert role_arn_problem(ROLE, "r", account_id="2222", account_path="a") is None
    assert role_arn_problem(ROLE, "r", account_id=222222222222, account_path="a") is None


# ---- external ids: a secret, never shown ---------------------------------------------------------------


@pytest.mark.parametrize("value", ["ab", "x" * 1224, "Aa0_+=,.@:/-"])
def test_valid_external_ids(value):
    assert external_id_problem(value, "external_id") is None


@pytest.mark.parametrize(
    "value, shown",
    [
        ("x", "1 character"),
        ("", "0 characters"),
        ("s" * 1225, "1225 characters"),
        ("my secret", "a value with other characters"),
        ("my-secret\n", "a value with other characters"),
        ("caf\u00e9-secret", "a value with other characters"),
        ("s3cr3t" + ARABIC_INDIC_ONE, "a value with other characters"),
        (12345678, "a value of type int"),
        (["ab", "cd"], "a value of type list"),
        (None, "a value of type NoneType"),
    ],
)
def test_an_external_id_is_never_echoed(value, shown):
    message = external_id_problem(value, "external_id")
    assert message == f"external_id: {_rules.EXTERNAL_ID_RULE}, got {shown} (not shown: it is secret)"
    if isinstance(value, str) and len(value) > 1:
        assert value.strip() not in message
        assert repr(value) not in message
    if isinstance(value, int):
        assert str(value) not in message


# ---- dates ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["2026-12-31", datetime.date(2026, 12, 31)])
def test_parse_date(value):
    assert parse_date(value) == datetime.date(2026, 12, 31)
    assert parse_date(value).__class__ is datetime.date


def test_parse_date_returns_a_plain_date_for_a_date_subclass():
    class TaggedDate(datetime.date):
        pass

    parsed = parse_date(TaggedDate(2026, 1, 2))
    assert parsed.__class__ is datetime.date
    assert parsed == datetime.date(2026, 1, 2)


@pytest.mark.parametrize(
    "value",
    ["2026-02-30", "2026-13-01", "2026-12-31\n", " 2026-12-31", "2026-1-5", "2026/12/31", "", "\u0662026-12-31", datetime.datetime(2026, 1, 1), 20261231,
     None],
)
def test_bad_dates(value):
    with pytest.raises(ValueError):
        parse_date(value)
    assert date_problem(value, "p") == f"p: {_rules.DATE_RULE}, got {describe(value)}"


# ---- booleans ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, parsed",
    [
        (True, True), (False, False), (1, True), (0, False),
        ("true", True), ("TRUE", True), ("True", True), ("yes", True), ("Yes", True), ("1", True),
        ("false", False), ("FALSE", False), ("no", False), ("NO", False), ("0", False),
    ],
)
def test_parse_bool_accepts_booleans_0_1_and_their_words(value, parsed):
    assert parse_bool(value) is parsed
    assert bool_problem(value, "p") is None


@pytest.mark.parametrize("value", ["ture", "flase", "enabled", "on", "off", "y", "n", "", " true", "true\n", "2", 2, -1, 1.0, 0.0, None, [True]])
def test_parse_bool_refuses_anything_else(value):
    # A misspelling is a mistake, never false.
    with pytest.raises(ValueError):
        parse_bool(value)
    assert bool_problem(value, "tracing_sweep_desired") == f"tracing_sweep_desired: {_rules.BOOL_RULE}, got {describe(value)}"


# ---- whole numbers -------------------------------------------------------------------------------------


@pytest.mark.parametrize("value, parsed", [(0, 0), (500, 500), (-3, -3), ("0", 0), ("500", 500), ("007", 7), ("123456789012345", 123456789012345)])
def test_parse_whole_number(value, parsed):
    assert parse_whole_number(value) == parsed
    assert isinstance(parse_whole_number(value), int) and not isinstance(parse_whole_number(value), bool)


@pytest.mark.parametrize(
    "value",
    [True, False, 1.0, 1.5, None, "", " 10", "10 ", "10\n", "0x10", "10.0", "-1", "+1", "1_000", "1e3", FULLWIDTH_ONE * 2, ARABIC_INDIC_ONE, "ten", [1]],
)
def test_parse_whole_number_refuses_ambiguous_values(value):
    with pytest.raises(ValueError):
        parse_whole_number(value)


def test_whole_number_problem_bounds_and_wording():
    assert whole_number_problem("16", "c", minimum=1, maximum=16) is None
    assert whole_number_problem(0, "c", minimum=1, maximum=16) == "c: must be a whole number >= 1 and <= 16, got 0 (integer)"
    assert whole_number_problem("17", "c", minimum=1, maximum=16) == "c: must be a whole number >= 1 and <= 16, got '17'"
    assert whole_number_problem(-1, "m", minimum=0) == "m: must be a whole number >= 0, got -1 (integer)"
    assert whole_number_problem("x", "n") == "n: must be a whole number, got 'x'"
    assert whole_number_problem(True, "m", minimum=0, rule="must be a count") == "m: must be a count, got true (boolean)"


# ---- positive rates ------------------------------------------------------------------------------------


@pytest.mark.parametrize("value, parsed", [(9.5, 9.5), (10, 10.0), (0.1, 0.1), ("9.5", 9.5), ("10", 10.0), (".5", 0.5), ("0.25", 0.25)])
def test_parse_positive_number(value, parsed):
    assert parse_positive_number(value) == parsed
    assert isinstance(parse_positive_number(value), float)


@pytest.mark.parametrize(
    "value",
    [True, False, 0, 0.0, -1, -0.5, math.nan, math.inf, -math.inf, None, "", "0", "0.0", "-1", " 9", "9.5\n", "9,5", "nan", "inf", "1e3",
     "1e-3", "9.", "\u0669.\u0665", [9.5]],
)
def test_parse_positive_number_refuses_booleans_nan_infinity_and_what_is_not_above_zero(value):
    with pytest.raises(ValueError):
        parse_positive_number(value)
