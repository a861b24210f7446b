# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Rules, merging and host building of the accounts inventory, without AWS or Ansible."""

from __future__ import annotations

import pytest

from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._inventory.accounts_config import AccountsConfigError
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._inventory.accounts_config import account_group
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._inventory.accounts_config import account_label
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._inventory.accounts_config import build_hosts
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._inventory.accounts_config import check_config
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._inventory.accounts_config import config_problems
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._inventory.accounts_config import organization_region
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._inventory.accounts_config import organization_targets
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._inventory.accounts_config import region_group
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._inventory.accounts_config import resolve_targets
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._inventory.accounts_config import unknown_keys_problems

PROD = "111111111111"
DEV = "222222222222"
SANDBOX = "333333333333"
PROD_ROLE = "arn:aws:iam::111111111111:role/TracingAudit"
REGIONS = ["us-east-1", "eu-west-1"]
REGION_RULE = "must be an AWS region name such as us-east-1"
ACCOUNT_ID_RULE = "must be a 12-digit AWS account id, as a string (in quotes)"
ROLE_ARN_RULE = "must be an IAM role ARN such as arn:aws:iam::111111111111:role/TracingAudit (partition aws, aws-cn, aws-us-gov, aws-iso, aws-iso-b)"
ENABLED_RULE = "the word enabled (lowercase, on its own, not in a list) for every region enabled in the account"
EXTERNAL_ID_RULE = "must be 2 to 1224 characters, each a letter, a digit or one of _+=,.@:/-"
OCTAL_HINT = (
    "YAML reads an unquoted id as a number, and one that starts with 0 as an octal number, which changes its digits; "
    "write the id in quotes, exactly as AWS shows it"
)


def problems_of(regions=None, accounts=None, organization=None, exclude_regions=None):
    return config_problems(regions, accounts, organization, exclude_regions)


def one_problem(**config):
    problems = problems_of(**config)
    assert len(problems) == 1, problems
    return problems[0]


def listed(account_id, name, state="ACTIVE", status=None):
    item = {"Id": account_id, "Name": name, "State": state}
    if status is not None:
        item["Status"] = status
    return item


# ---- a valid configuration ---------------------------------------------------------------------


def test_spec_example_is_valid():
    accounts = [
        {"id": PROD, "name": "prod", "role_arn": PROD_ROLE, "regions": ["eu-west-1"], "external_id": "Ext-Id_1"},
        {"id": DEV},
    ]
    assert problems_of(REGIONS, accounts) == []
    check_config(REGIONS, accounts)


@pytest.mark.parametrize(
    "role_arn",
    [
        "arn:aws:iam::111111111111:role/TracingAudit",
        "arn:aws-cn:iam::111111111111:role/path/to/Role",
        "arn:aws-us-gov:iam::111111111111:role/a+=,.@_-b",
        "arn:aws-iso:iam::111111111111:role/R",
        "arn:aws-iso-b:iam::111111111111:role/R",
        "arn:aws:iam::111111111111:role/" + "r" * 512,
    ],
)
def test_valid_role_arns(role_arn):
    assert problems_of(REGIONS, [{"id": PROD, "role_arn": role_arn}]) == []


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-3", "us-gov-west-1", "cn-northwest-1", "il-central-1"])
def test_valid_regions(region):
    assert problems_of([region], [{"id": PROD}]) == []


@pytest.mark.parametrize("external_id", ["ab", "x" * 1224, "Aa0_+=,.@:/-"])
def test_valid_external_ids(external_id):
    assert problems_of(REGIONS, [{"id": PROD, "role_arn": PROD_ROLE, "external_id": external_id}]) == []


# ---- top level ---------------------------------------------------------------------------------


def test_no_accounts_and_no_organization():
    assert one_problem(regions=REGIONS) == (
        "no accounts: list them in accounts, or set organization to list the accounts of an AWS Organization"
    )
    assert "no accounts" in one_problem(regions=REGIONS, accounts=[])


def test_accounts_must_be_a_list():
    assert one_problem(regions=REGIONS, accounts="111111111111", organization={"role_name": "R"}) == "accounts: must be a list of accounts, got a string"


def test_unknown_top_level_option_suggests_the_closest():
    problems = unknown_keys_problems({"plugin": 1, "acounts": [], "zzz": 1}, {"plugin", "accounts", "regions"}, "")
    assert problems == [
        "unknown option 'acounts' (did you mean accounts?): ansible-doc -t inventory cloudops.apigw_tracing.accounts lists the options",
        "unknown option 'zzz': ansible-doc -t inventory cloudops.apigw_tracing.accounts lists the options",
    ]


@pytest.mark.parametrize(
    "regions, expected",
    [
        # A malformed name is shown with the closest region the installed botocore knows.
        (["us-east-1", "US-EAST-1"], f"regions[1]: {REGION_RULE}, got 'US-EAST-1' (did you mean us-east-1?)"),
        (["useast1"], f"regions[0]: {REGION_RULE}, got 'useast1' (did you mean us-east-1?)"),
        (["us-east"], f"regions[0]: {REGION_RULE}, got 'us-east' (did you mean us-east-1?)"),
        (["us-east-1 "], f"regions[0]: {REGION_RULE}, got 'us-east-1 ' (did you mean us-east-1?)"),
        (["us-east-1\n"], f"regions[0]: {REGION_RULE}, got 'us-east-1\\n' (did you mean us-east-1?)"),
        ([1], f"regions[0]: {REGION_RULE}, got 1 (integer)"),
        ([None], f"regions[0]: {REGION_RULE}, got null"),
        (["us-east-1", "us-east-1"], "regions[1]: region us-east-1 is already listed at regions[0]: list each region once"),
        ("us-east-1", f"regions: must be a list of AWS region names or {ENABLED_RULE}, got a string"),
    ],
)
def test_malformed_top_level_regions(regions, expected):
    assert one_problem(regions=regions, accounts=[{"id": PROD, "regions": ["us-east-1"]}]) == expected


def test_non_ascii_digits_and_letters_are_rejected():
    # Python's \d and \w match these; AWS does not.
    assert "regions[0]" in one_problem(regions=["us-east-\u0661"], accounts=[{"id": PROD, "regions": ["us-east-1"]}])
    assert "accounts[0].id" in one_problem(regions=REGIONS, accounts=[{"id": "\u0661" * 12}])
    assert "accounts[0].role_arn" in one_problem(regions=REGIONS, accounts=[{"id": PROD, "role_arn": PROD_ROLE + "\u00e9"}])


def test_empty_region_list_everywhere():
    assert one_problem(regions=[], accounts=[{"id": PROD}]) == "accounts[0]: no regions: set regions at the top level or in this entry"
    assert one_problem(accounts=[{"id": PROD}]) == "accounts[0]: no regions: set regions at the top level or in this entry"


def test_entry_regions_replace_missing_top_level_regions():
    assert problems_of(None, [{"id": PROD, "regions": ["eu-west-1"]}]) == []


# ---- account entries ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        # A number too short to be an id may be an octal reading of one that started with 0: no id is suggested.
        (12345, f"accounts[0].id: {ACCOUNT_ID_RULE}, got 12345 (integer): {OCTAL_HINT}"),
        # 011111111111 unquoted: YAML 1.1 reads the octal number 1227133513, another account's digits.
        (0o11111111111, f"accounts[0].id: {ACCOUNT_ID_RULE}, got 1227133513 (integer): {OCTAL_HINT}"),
        (
            111111111111,
            f'accounts[0].id: {ACCOUNT_ID_RULE}, got 111111111111 (integer): YAML reads an unquoted id as a number; write it in quotes, "111111111111"',
        ),
        ("12345", f"accounts[0].id: {ACCOUNT_ID_RULE}, got '12345'"),
        ("1111111111112", f"accounts[0].id: {ACCOUNT_ID_RULE}, got '1111111111112'"),
        ("11111111111a", f"accounts[0].id: {ACCOUNT_ID_RULE}, got '11111111111a'"),
        ("111111111111\n", f"accounts[0].id: {ACCOUNT_ID_RULE}, got '111111111111\\n'"),
        (True, f"accounts[0].id: {ACCOUNT_ID_RULE}, got true (boolean)"),
        (None, f"accounts[0].id: {ACCOUNT_ID_RULE}, got null"),
        (1.5, f"accounts[0].id: {ACCOUNT_ID_RULE}, got 1.5 (float)"),
    ],
)
def test_malformed_account_ids(value, expected):
    assert one_problem(regions=REGIONS, accounts=[{"id": value}]) == expected


def test_issue_example_message():
    problems = problems_of(REGIONS, [{"id": PROD}, {"id": 12345}])
    assert problems[0].startswith(f"accounts[1].id: {ACCOUNT_ID_RULE}, got 12345 (integer)")


def test_missing_id():
    assert one_problem(regions=REGIONS, accounts=[{"name": "prod"}]) == "accounts[0]: id is required: the 12-digit AWS account id, in quotes"


def test_entry_must_be_a_mapping():
    assert one_problem(regions=REGIONS, accounts=["111111111111"]) == "accounts[0]: must be a mapping with at least an id, got a string"


def test_unknown_account_key():
    assert one_problem(regions=REGIONS, accounts=[{"id": PROD, "role": PROD_ROLE}]) == (
        "accounts[0]: unknown key 'role' (did you mean role_arn?): allowed keys are exclude_regions, external_id, id, name, regions, role_arn"
    )


@pytest.mark.parametrize(
    "role_arn",
    [
        "arn:aws:iam::111111111111:user/TracingAudit",
        "arn:aws:iam::1111111111:role/TracingAudit",
        "arn:aws:sts::111111111111:role/TracingAudit",
        "arn:azure:iam::111111111111:role/TracingAudit",
        "arn:aws:iam::111111111111:role/",
        "arn:aws:iam::111111111111:role/bad name",
        "arn:aws:iam::111111111111:role/" + "r" * 513,
        "arn:aws:iam:us-east-1:111111111111:role/TracingAudit",
        "TracingAudit",
        "",
        PROD_ROLE + "\n",
    ],
)
def test_malformed_role_arns(role_arn):
    problem = one_problem(regions=REGIONS, accounts=[{"id": PROD, "role_arn": role_arn}])
    assert problem == f"accounts[0].role_arn: {ROLE_ARN_RULE}, got {role_arn!r}"


def test_role_arn_not_a_string():
    assert one_problem(regions=REGIONS, accounts=[{"id": PROD, "role_arn": ["x"]}]) == f"accounts[0].role_arn: {ROLE_ARN_RULE}, got a list"


def test_role_arn_in_another_account():
    assert one_problem(regions=REGIONS, accounts=[{"id": PROD, "role_arn": "arn:aws:iam::222222222222:role/TracingAudit"}]) == (
        "accounts[0].role_arn: must be a role in the account it sweeps, accounts[0].id 111111111111, got a role in account 222222222222"
    )


def test_role_arn_checked_for_shape_only_when_the_id_is_bad():
    problems = problems_of(REGIONS, [{"id": "bad", "role_arn": PROD_ROLE}])
    assert problems == [f"accounts[0].id: {ACCOUNT_ID_RULE}, got 'bad'"]


@pytest.mark.parametrize(
    "external_id, detail",
    [
        ("x", "got 1 character"),
        ("x" * 1225, "got 1225 characters"),
        ("", "got 0 characters"),
        ("has space", "got a value with other characters"),
        ("caf\u00e9-id", "got a value with other characters"),
        ("ext-id\n", "got a value with other characters"),
        (12345678, "got a value of type int"),
        (["a", "b"], "got a value of type list"),
    ],
)
def test_bad_external_ids_never_echo_the_value(external_id, detail):
    problem = one_problem(regions=REGIONS, accounts=[{"id": PROD, "role_arn": PROD_ROLE, "external_id": external_id}])
    assert problem == f"accounts[0].external_id: {EXTERNAL_ID_RULE}, {detail} (not shown: it is secret)"
    if isinstance(external_id, str) and len(external_id) > 1:
        assert external_id.strip() not in problem
    if isinstance(external_id, int):
        assert str(external_id) not in problem


def test_external_id_without_role():
    assert one_problem(regions=REGIONS, accounts=[{"id": PROD, "external_id": "abcdef"}]) == (
        "accounts[0].external_id: is set but the account has no role_arn: an external id only applies when assuming a role"
    )


@pytest.mark.parametrize("name", ["", "   ", 42, ["prod"]])
def test_bad_names(name):
    assert one_problem(regions=REGIONS, accounts=[{"id": PROD, "name": name}]).startswith("accounts[0].name: must be a non-empty string")


def test_entry_regions_rules():
    assert one_problem(regions=REGIONS, accounts=[{"id": PROD, "regions": ["eu-west-1", "eu_west_1"]}]) == (
        f"accounts[0].regions[1]: {REGION_RULE}, got 'eu_west_1' (did you mean eu-west-1?)"
    )
    assert one_problem(regions=REGIONS, accounts=[{"id": PROD, "regions": []}]) == (
        "accounts[0].regions: is empty: list at least one region, or leave it out to use the top-level regions"
    )
    assert one_problem(regions=REGIONS, accounts=[{"id": PROD, "regions": "eu-west-1"}]) == (
        f"accounts[0].regions: must be a list of AWS region names or {ENABLED_RULE}, got a string"
    )


def test_duplicate_account_ids():
    assert one_problem(regions=REGIONS, accounts=[{"id": PROD}, {"id": DEV}, {"id": PROD, "name": "again"}]) == (
        "accounts[2].id: account 111111111111 is already listed at accounts[0]: list each account once"
    )


def test_every_problem_is_reported_at_once():
    problems = problems_of(["bad"], [{"id": 1, "role_arn": "x", "extra": 1}, {"id": PROD, "external_id": "e"}])
    assert len(problems) == 6, problems


# ---- organization ------------------------------------------------------------------------------


def test_valid_organization():
    organization = {"role_name": "audit/TracingAudit", "partition": "aws-us-gov", "exclude": [SANDBOX], "external_id": "ext-id", "regions": ["us-gov-west-1"]}
    assert problems_of(None, None, organization) == []
    assert problems_of(REGIONS, [], {"role_name": "TracingAudit"}) == []


def test_organization_without_role_name():
    assert one_problem(regions=REGIONS, organization={}) == (
        "organization.role_name: is required: the role to assume in every account, e.g. TracingAudit or audit/TracingAudit"
    )


@pytest.mark.parametrize("role_name", ["/TracingAudit", "audit/", "bad name", "x" * 65, "arn:aws:iam::111111111111:role/R", 7])
def test_organization_bad_role_name(role_name):
    assert one_problem(regions=REGIONS, organization={"role_name": role_name}).startswith(
        "organization.role_name: must be an IAM role name, optionally after a path, such as TracingAudit or audit/TracingAudit, got "
    )


def test_organization_role_path_too_long_for_an_arn():
    role_name = "/".join(["p" * 60] * 9)
    assert one_problem(regions=REGIONS, organization={"role_name": role_name}) == (
        "organization.role_name: is too long for a role ARN (at most 512 characters of name and path)"
    )


def test_organization_unknown_key_and_partition():
    problems = problems_of(REGIONS, None, {"role_name": "R", "partiton": "aws", "partition": "aws-iso"})
    assert problems == [
        "organization: unknown key 'partiton' (did you mean partition?): allowed keys are exclude, exclude_regions, external_id, partition, regions, role_name",
        "organization.partition: must be one of aws, aws-cn, aws-us-gov, got 'aws-iso'",
    ]


def test_organization_must_be_a_mapping():
    assert one_problem(regions=REGIONS, organization="TracingAudit") == "organization: must be a mapping with at least role_name, got a string"


def test_organization_exclude_and_external_id():
    assert problems_of(REGIONS, None, {"role_name": "R", "exclude": [333333333333, "12"], "external_id": "x"}) == [
        f'organization.exclude[0]: {ACCOUNT_ID_RULE}, got 333333333333 (integer): YAML reads an unquoted id as a number; write it in quotes, "333333333333"',
        f"organization.exclude[1]: {ACCOUNT_ID_RULE}, got '12'",
        f"organization.external_id: {EXTERNAL_ID_RULE}, got 1 character (not shown: it is secret)",
    ]
    assert one_problem(regions=REGIONS, organization={"role_name": "R", "exclude": SANDBOX}) == (
        "organization.exclude: must be a list of 12-digit AWS account ids in quotes, got a string"
    )


def test_organization_regions():
    assert one_problem(organization={"role_name": "R"}) == (
        "organization: no regions for the organization's accounts: set regions at the top level or organization.regions"
    )
    assert one_problem(regions=REGIONS, organization={"role_name": "R", "regions": []}) == (
        "organization.regions: is empty: list at least one region, or leave it out to use the top-level regions"
    )
    assert one_problem(regions=REGIONS, organization={"role_name": "R", "regions": ["mars-1"]}) == (
        f"organization.regions[0]: {REGION_RULE}, got 'mars-1'"
    )


def test_with_organization_static_entries_may_lack_regions_and_roles():
    # Their organization entry may provide both; resolve_targets decides.
    assert problems_of(None, [{"id": PROD, "external_id": "abcdef"}], {"role_name": "R", "regions": ["eu-west-1"]}) == []


def test_organization_region_per_partition():
    assert organization_region(None) == "us-east-1"
    assert organization_region("aws") == "us-east-1"
    assert organization_region("aws-cn") == "cn-northwest-1"
    assert organization_region("aws-us-gov") == "us-gov-west-1"


# ---- organization targets and merging ----------------------------------------------------------


def test_only_active_not_excluded_accounts_sorted_by_id():
    answer = [
        listed(SANDBOX, "sandbox"),
        listed(DEV, "dev"),
        listed("444444444444", "closed", state="SUSPENDED"),
        listed("555555555555", "closing", state="PENDING_CLOSURE"),
        {"Id": "666666666666", "Name": "old-api", "Status": "ACTIVE"},
        {"Id": "777777777777", "Name": "old-api-suspended", "Status": "SUSPENDED"},
        listed("888888888888", "state-wins", state="SUSPENDED", status="ACTIVE"),
        listed(PROD, "prod"),
    ]
    targets = organization_targets({"role_name": "audit/Tracing", "exclude": [SANDBOX]}, answer, REGIONS)
    assert [t.account_id for t in targets] == [PROD, DEV, "666666666666"]
    assert targets[0].role_arn == "arn:aws:iam::111111111111:role/audit/Tracing"
    assert targets[0].regions == REGIONS
    assert targets[0].name == "prod"
    assert targets[0].source == "organization account 111111111111 ('prod')"


def test_organization_partition_external_id_and_regions():
    targets = organization_targets({"role_name": "R", "partition": "aws-cn", "external_id": "ext-1", "regions": ["cn-north-1"]}, [listed(PROD, "p")], REGIONS)
    assert targets[0].role_arn == "arn:aws-cn:iam::111111111111:role/R"
    assert targets[0].external_id == "ext-1"
    assert targets[0].regions == ["cn-north-1"]


def test_static_entry_overrides_and_extends_its_organization_account():
    organization = {"role_name": "R", "external_id": "org-ext"}
    accounts = [
        {"id": PROD, "name": "production", "regions": ["eu-west-1"]},
        {"id": DEV, "role_arn": "arn:aws:iam::222222222222:role/Other", "external_id": "dev-ext"},
        {"id": "999999999999", "name": "outside", "regions": ["us-west-2"]},
        {"id": SANDBOX, "name": "kept"},
    ]
    answer = [listed(PROD, "prod"), listed(DEV, "dev"), listed("444444444444", "extra"), listed(SANDBOX, "sandbox", state="SUSPENDED")]
    targets = resolve_targets(REGIONS, accounts, organization, answer)
    summary = [(t.account_id, t.name, t.role_arn, t.external_id, t.regions) for t in targets]
    assert summary == [
        (PROD, "production", "arn:aws:iam::111111111111:role/R", "org-ext", ["eu-west-1"]),
        (DEV, "dev", "arn:aws:iam::222222222222:role/Other", "dev-ext", REGIONS),
        ("999999999999", "outside", None, None, ["us-west-2"]),
        # Suspended in the organization: the static entry alone, controller credentials.
        (SANDBOX, "kept", None, None, REGIONS),
        ("444444444444", "extra", "arn:aws:iam::444444444444:role/R", "org-ext", REGIONS),
    ]
    assert targets[0].source == "accounts[0] over organization account 111111111111 ('prod')"


def test_excluded_account_listed_statically_is_kept_as_written():
    targets = resolve_targets(REGIONS, [{"id": SANDBOX}], {"role_name": "R", "exclude": [SANDBOX]}, [listed(SANDBOX, "sandbox")])
    assert [(t.account_id, t.name, t.role_arn) for t in targets] == [(SANDBOX, None, None)]


def test_static_entry_outside_the_organization_needs_regions_and_a_role_for_its_external_id():
    organization = {"role_name": "R", "regions": ["eu-west-1"]}
    with pytest.raises(AccountsConfigError) as raised:
        resolve_targets(None, [{"id": PROD, "external_id": "abcdef"}], organization, [listed(DEV, "dev")])
    assert raised.value.problems == [
        "accounts[0].external_id: is set but the account has no role_arn: an external id only applies when assuming a role",
        "accounts[0]: no regions: set regions at the top level or in this entry",
    ]
    # Inside the organization, the organization's role and regions apply.
    targets = resolve_targets(None, [{"id": PROD, "external_id": "abcdef"}], organization, [listed(PROD, "prod")])
    assert (targets[0].role_arn, targets[0].regions) == ("arn:aws:iam::111111111111:role/R", ["eu-west-1"])


def test_duplicate_labels_name_both_entries():
    with pytest.raises(AccountsConfigError) as raised:
        resolve_targets(REGIONS, [{"id": PROD, "name": "prod"}, {"id": DEV, "name": "prod"}])
    assert raised.value.problems == ["accounts[0] and accounts[1] both have the label 'prod' (hosts prod_<region>): give one of them another name"]


def test_duplicate_labels_after_sanitizing_and_from_the_organization():
    with pytest.raises(AccountsConfigError) as raised:
        resolve_targets(REGIONS, [{"id": PROD, "name": "prod env"}], {"role_name": "R"}, [listed(DEV, "prod_env"), listed(SANDBOX, "prod/env")])
    rest = " both have the label 'prod_env' (hosts prod_env_<region>): give one of them another name"
    assert raised.value.problems == [
        "accounts[0] and organization account 222222222222 ('prod_env')" + rest,
        "accounts[0] and organization account 333333333333 ('prod/env')" + rest,
    ]


def test_label_equal_to_another_accounts_id():
    with pytest.raises(AccountsConfigError) as raised:
        resolve_targets(REGIONS, [{"id": PROD}, {"id": DEV, "name": PROD}])
    assert "both have the label '111111111111'" in raised.value.problems[0]


def test_labels_that_share_an_account_group():
    with pytest.raises(AccountsConfigError) as raised:
        resolve_targets(REGIONS, [{"id": PROD, "name": "prod-a"}, {"id": DEV, "name": "prod_a"}])
    assert raised.value.problems == [
        "accounts[0] and accounts[1] both map to the group account_prod_a (labels 'prod-a' and 'prod_a'): give one of them another name"
    ]


def test_check_config_raises_with_every_problem():
    with pytest.raises(AccountsConfigError) as raised:
        check_config(["x"], [{"id": 1}])
    assert len(raised.value.problems) == 2
    assert str(raised.value) == "\n".join(raised.value.problems)


# ---- names and hosts ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, label, group",
    [
        ("prod", "prod", "account_prod"),
        ("Prod Main", "Prod_Main", "account_Prod_Main"),
        ("prod-eu", "prod-eu", "account_prod_eu"),
        ("caf\u00e9/{{x}}", "caf____x__", "account_caf____x__"),
        (None, PROD, "account_111111111111"),
        ("", PROD, "account_111111111111"),
    ],
)
def test_labels_and_groups(name, label, group):
    assert account_label(name, PROD) == label
    assert account_group(label) == group


def test_region_group():
    assert region_group("us-gov-west-1") == "region_us_gov_west_1"


def test_hosts_of_the_spec_example():
    targets = resolve_targets(
        REGIONS,
        [
            {"id": PROD, "name": "prod", "role_arn": PROD_ROLE, "regions": ["eu-west-1"], "external_id": "Ext-Id_1"},
            {"id": DEV},
        ],
    )
    hosts = build_hosts(targets)
    assert [(h.name, h.groups) for h in hosts] == [
        ("prod_eu-west-1", ["account_prod", "region_eu_west_1"]),
        ("222222222222_us-east-1", ["account_222222222222", "region_us_east_1"]),
        ("222222222222_eu-west-1", ["account_222222222222", "region_eu_west_1"]),
    ]
    assert hosts[0].variables == {
        "tracing_sweep_region": "eu-west-1",
        "tracing_sweep_account_id": PROD,
        "tracing_sweep_role_arn": PROD_ROLE,
        "tracing_sweep_external_id": "Ext-Id_1",
        "tracing_sweep_account_name": "prod",
        "ansible_connection": "local",
        "ansible_python_interpreter": "{{ ansible_playbook_python }}",
    }
    # Optional variables are absent, not empty.
    assert hosts[1].variables == {
        "tracing_sweep_region": "us-east-1",
        "tracing_sweep_account_id": DEV,
        "ansible_connection": "local",
        "ansible_python_interpreter": "{{ ansible_playbook_python }}",
    }


def test_one_bad_entry_among_thousands_is_the_only_one_named():
    accounts = [{"id": "%012d" % (100000000000 + index), "name": "acct-%d" % index} for index in range(3000)]
    accounts[2345] = {"id": "12345678901", "name": "short-id"}
    assert problems_of(regions=REGIONS, accounts=accounts) == [
        f"accounts[2345].id: {ACCOUNT_ID_RULE}, got '12345678901'"
    ]


# ---- regions: enabled ------------------------------------------------------------------------------

from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._inventory.accounts_config import ENABLED  # noqa: E402
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._inventory.accounts_config import Target  # noqa: E402
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._inventory.accounts_config import choose_regions  # noqa: E402
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._inventory.accounts_config import with_regions  # noqa: E402

WHERE = "ec2:DescribeRegions in us-east-1 through " + PROD_ROLE


def test_enabled_at_every_level_is_valid():
    assert problems_of(ENABLED, [{"id": PROD}], None, ["eu-west-1"]) == []
    assert problems_of(None, [{"id": PROD, "regions": ENABLED, "exclude_regions": ["eu-west-1"]}]) == []
    assert problems_of(None, None, {"role_name": "R", "regions": ENABLED, "exclude_regions": []}) == []
    assert problems_of(ENABLED, None, {"role_name": "R"}) == []


@pytest.mark.parametrize("value", ["Enabled", "ENABLED", "enabled ", " enabled", "enabled\n", "'enabled'"])
def test_nearly_enabled_is_refused_naming_the_rule(value):
    assert one_problem(regions=value, accounts=[{"id": PROD}]) == "regions: must be a list of AWS region names or %s, got %r" % (ENABLED_RULE, value)
    assert one_problem(accounts=[{"id": PROD, "regions": value}]).startswith("accounts[0].regions: must be a list of AWS region names or the word enabled")
    assert one_problem(organization={"role_name": "R", "regions": value}).startswith("organization.regions: must be a list of AWS region names or the word")


def test_enabled_in_a_list_is_refused_with_the_way_to_write_it():
    expected = "regions[0]: 'enabled' is not a region name: to sweep every region enabled in the account, write regions: enabled (on its own, not in a list)"
    assert one_problem(regions=[ENABLED], accounts=[{"id": PROD}]) == expected
    assert one_problem(accounts=[{"id": PROD, "regions": ["eu-west-1", "Enabled"]}]) == (
        "accounts[0].regions[1]: 'Enabled' is not a region name: to sweep every region enabled in the account, "
        "write regions: enabled (on its own, not in a list)"
    )


@pytest.mark.parametrize(
    "exclude, expected",
    [
        (["eu-west-1", "eu-west-1"], "exclude_regions[1]: region eu-west-1 is already listed at exclude_regions[0]: list each region once"),
        (["eu-west-1 "], f"exclude_regions[0]: {REGION_RULE}, got 'eu-west-1 ' (did you mean eu-west-1?)"),
        ([ENABLED], f"exclude_regions[0]: {REGION_RULE}, got 'enabled'"),
        ("eu-west-1", "exclude_regions: must be a list of AWS region names, got a string"),
        (ENABLED, "exclude_regions: must be a list of AWS region names, got a string"),
    ],
)
def test_malformed_exclude_regions(exclude, expected):
    assert one_problem(regions=ENABLED, accounts=[{"id": PROD}], exclude_regions=exclude) == expected


def test_exclude_regions_beside_a_list_is_refused():
    rule = "only applies with regions: enabled, and %s is a list, whose regions are swept as listed: leave the regions out of that list instead"
    assert one_problem(regions=REGIONS, accounts=[{"id": PROD}], exclude_regions=["eu-west-1"]) == "exclude_regions: " + rule % "regions"
    assert one_problem(accounts=[{"id": PROD, "regions": REGIONS, "exclude_regions": ["eu-west-1"]}]) == (
        "accounts[0].exclude_regions: " + rule % "accounts[0].regions"
    )
    assert one_problem(regions=REGIONS, organization={"role_name": "R", "exclude_regions": ["eu-west-1"]}) == (
        "organization.exclude_regions: " + rule % "the top-level regions"
    )
    # An empty list excludes nothing: no contradiction.
    assert problems_of(REGIONS, [{"id": PROD}], None, []) == []


def test_account_exclude_under_a_top_level_list_fails_when_resolved():
    with pytest.raises(AccountsConfigError) as raised:
        resolve_targets(REGIONS, [{"id": PROD, "exclude_regions": ["eu-west-1"]}])
    assert raised.value.problems == [
        "accounts[0].exclude_regions: only applies with regions: enabled, and accounts[0] sweeps the regions listed in the top-level regions as listed: "
        "leave the regions out of that list instead"
    ]


def test_enabled_and_exclusions_are_inherited_the_most_specific_first():
    organization = {"role_name": "R", "exclude_regions": ["ap-east-1"]}
    listed_accounts = [listed(PROD, "prod"), listed(DEV, "dev"), listed(SANDBOX, "sandbox")]
    accounts = [
        {"id": DEV, "exclude_regions": []},
        {"id": SANDBOX, "regions": ["eu-west-1"]},
        {"id": "444444444444", "exclude_regions": ["us-west-1"]},
        {"id": "555555555555"},
    ]
    targets = {t.account_id: t for t in resolve_targets(ENABLED, accounts, organization, listed_accounts, ["me-south-1"])}
    assert (targets[PROD].regions, targets[PROD].exclude_regions, targets[PROD].exclude_path) == (ENABLED, ["ap-east-1"], "organization.exclude_regions")
    assert (targets[DEV].regions, targets[DEV].exclude_regions, targets[DEV].exclude_path) == (ENABLED, [], "accounts[0].exclude_regions")
    # A list is swept as listed: the organization's exclusions (less specific) do not apply to it.
    assert targets[SANDBOX].regions == ["eu-west-1"]
    assert (targets["444444444444"].exclude_regions, targets["444444444444"].exclude_path) == (["us-west-1"], "accounts[2].exclude_regions")
    assert (targets["555555555555"].exclude_regions, targets["555555555555"].exclude_path) == (["me-south-1"], "exclude_regions")


def test_enabled_targets_make_no_hosts_until_resolved():
    (target,) = resolve_targets(ENABLED, [{"id": PROD}])
    with pytest.raises(ValueError, match="must be resolved"):
        build_hosts([target])
    assert [host.name for host in build_hosts([with_regions(target, ["eu-west-1", "us-east-1"])])] == ["111111111111_eu-west-1", "111111111111_us-east-1"]


def region(name, status="opt-in-not-required"):
    return {"RegionName": name, "OptInStatus": status, "Endpoint": "ec2.%s.amazonaws.com" % name}


# As AWS answers DescribeRegions with AllRegions: every region of the partition, opt-in ones with their status.
DESCRIBED = [
    region("us-east-1"), region("eu-west-1"), region("us-west-2"), region("ap-east-1", "not-opted-in"),
    region("me-south-1", "opted-in"), region("af-south-1", "not-opted-in"),
]


def enabled_target(exclude=(), path="exclude_regions"):
    return Target(account_id=PROD, regions=ENABLED, source="accounts[0]", name="prod", role_arn=PROD_ROLE, exclude_regions=list(exclude), exclude_path=path)


def test_choose_keeps_the_enabled_regions_only():
    choice = choose_regions(enabled_target(), DESCRIBED, WHERE)
    assert choice.problems == []
    assert choice.regions == ["eu-west-1", "me-south-1", "us-east-1", "us-west-2"]


def test_choose_excludes_and_tells_excluded_from_not_enabled():
    choice = choose_regions(enabled_target(["us-west-2", "ap-east-1"]), DESCRIBED, WHERE)
    assert (choice.regions, choice.excluded, choice.excluded_not_enabled, choice.problems) == (
        ["eu-west-1", "me-south-1", "us-east-1"], ["us-west-2"], ["ap-east-1"], [],
    )


def test_choose_refuses_an_exclusion_the_partition_does_not_have():
    choice = choose_regions(enabled_target(["eu-west-1", "eu-wset-1"], "accounts[0].exclude_regions"), DESCRIBED, WHERE)
    assert choice.regions == []
    assert choice.problems == [
        "accounts[0].exclude_regions[1]: eu-wset-1 is not a region of account 111111111111 (accounts[0]): "
        "%s lists no such region (did you mean eu-west-1?)" % WHERE
    ]


def test_choose_leaves_out_regions_of_other_partitions():
    described = DESCRIBED + [region("cn-north-1"), region("us-gov-west-1")]
    assert choose_regions(enabled_target(), described, WHERE, frozenset(["cn-north-1", "us-gov-west-1"])).regions == [
        "eu-west-1", "me-south-1", "us-east-1", "us-west-2",
    ]
    # Excluding one of them is excluding a region this partition does not have.
    assert "cn-north-1 is not a region of" in choose_regions(enabled_target(["cn-north-1"]), described, WHERE, frozenset(["cn-north-1"])).problems[0]


def test_choose_fails_loudly_with_no_region_to_sweep():
    (problem,) = choose_regions(enabled_target(), [], WHERE).problems
    assert problem == (
        "account 111111111111 (accounts[0]): %s lists no enabled region (OptInStatus opt-in-not-required or opted-in): nothing to sweep; "
        "check the account and the credentials" % WHERE
    )
    (problem,) = choose_regions(enabled_target(), [region("ap-east-1", "not-opted-in")], WHERE).problems
    assert "lists no enabled region" in problem
    (problem,) = choose_regions(enabled_target(["us-east-1"]), [region("us-east-1"), region("ap-east-1", "not-opted-in")], WHERE).problems
    assert problem == (
        "account 111111111111 (accounts[0]): every region enabled in the account is excluded by exclude_regions: nothing to sweep; "
        "exclude fewer regions, or leave the account out"
    )


def test_choose_refuses_an_answer_that_is_not_a_region_name():
    (problem,) = choose_regions(enabled_target(), [region("us-east-1"), {"RegionName": "us_east_1", "OptInStatus": "opted-in"}], WHERE).problems
    assert problem.startswith("account 111111111111 (accounts[0]): %s answered a region that is not a region name (RegionName: " % WHERE)


# ---- host_per: account ---------------------------------------------------------------------------


def test_account_hosts_of_the_spec_example():
    """One host per account, named by its label, with its regions in the order the per-region hosts have; no region group."""
    targets = resolve_targets(
        REGIONS,
        [
            {"id": PROD, "name": "prod", "role_arn": PROD_ROLE, "regions": ["eu-west-1"], "external_id": "Ext-Id_1"},
            {"id": DEV},
        ],
        host_per="account",
    )
    hosts = build_hosts(targets, "account")
    assert [(h.name, h.groups) for h in hosts] == [("prod", ["account_prod"]), ("222222222222", ["account_222222222222"])]
    assert hosts[0].variables == {
        "tracing_sweep_regions": ["eu-west-1"],
        "tracing_sweep_account_id": PROD,
        "tracing_sweep_role_arn": PROD_ROLE,
        "tracing_sweep_external_id": "Ext-Id_1",
        "tracing_sweep_account_name": "prod",
        "ansible_connection": "local",
        "ansible_python_interpreter": "{{ ansible_playbook_python }}",
    }
    assert hosts[1].variables == {
        "tracing_sweep_regions": ["us-east-1", "eu-west-1"],
        "tracing_sweep_account_id": DEV,
        "ansible_connection": "local",
        "ansible_python_interpreter": "{{ ansible_playbook_python }}",
    }
    # The targets the role sweeps are the per-region hosts, by name and in order.
    per_region = [host.name for host in build_hosts(targets)]
    assert ["%s_%s" % (host.name, region) for host in hosts for region in host.variables["tracing_sweep_regions"]] == per_region


def test_account_host_lists_the_regions_botocore_does_not_know():
    (target,) = resolve_targets(["us-east-1", "xx-newregion-1", "eu-west-1", "xx-newregion-2"], [{"id": PROD}], host_per="account")
    (host,) = build_hosts([target], "account")
    assert host.variables["tracing_sweep_regions"] == ["us-east-1", "xx-newregion-1", "eu-west-1", "xx-newregion-2"]
    assert host.variables["tracing_sweep_allow_unknown_regions"] == ["xx-newregion-1", "xx-newregion-2"]
    (target,) = resolve_targets(["us-east-1"], [{"id": PROD}], host_per="account")
    assert "tracing_sweep_allow_unknown_regions" not in build_hosts([target], "account")[0].variables


def test_account_hosts_of_enabled_regions_once_resolved():
    (target,) = resolve_targets(ENABLED, [{"id": PROD}], host_per="account")
    with pytest.raises(ValueError, match="must be resolved"):
        build_hosts([target], "account")
    (host,) = build_hosts([with_regions(target, ["eu-west-1", "us-east-1"])], "account")
    assert (host.name, host.variables["tracing_sweep_regions"]) == (PROD, ["eu-west-1", "us-east-1"])


HOST_PER_RULE = (
    "host_per: must be region (one host per account and region, the default) or account (one host per account, its regions in "
    "tracing_sweep_regions), got "
)


@pytest.mark.parametrize(
    "value, shown",
    [
        ("accounts", "'accounts' (did you mean account?)"),
        ("Account", "'Account' (did you mean account?)"),
        ("region ", "'region ' (did you mean region?)"),
        ("host", "'host'"),
        ("", "''"),
        (["account"], "a list"),
        (1, "1 (integer)"),
        (True, "true (boolean)"),
    ],
)
def test_host_per_must_be_region_or_account(value, shown):
    problems = config_problems(REGIONS, [{"id": PROD}], host_per=value)
    assert problems == [HOST_PER_RULE + shown]


@pytest.mark.parametrize("value", [None, "region", "account"])
def test_host_per_values(value):
    assert config_problems(REGIONS, [{"id": PROD}], host_per=value) == []


def test_host_per_is_reported_with_every_other_problem():
    problems = config_problems(["eu-wset-1"], [{"id": 1}], host_per="acount")
    assert problems[0] == HOST_PER_RULE + "'acount' (did you mean account?)"
    assert len(problems) == 3


@pytest.mark.parametrize(
    "name, group",
    [
        ("tracing_sweep_targets", "the group of every target"),
        ("all", "Ansible's group all"),
        ("ungrouped", "Ansible's group ungrouped"),
    ],
)
def test_account_host_label_that_is_a_group_of_every_inventory(name, group):
    accounts = [{"id": PROD, "name": name}]
    with pytest.raises(AccountsConfigError) as raised:
        resolve_targets(REGIONS, accounts, host_per="account")
    assert raised.value.problems == [
        "accounts[0]: the label %r names its host with host_per: account, and %s is also %s: a host must not have a group's name; "
        "give the account another name" % (name, name, group)
    ]
    # One host per region has names with a region in them, never a group's name.
    assert resolve_targets(REGIONS, accounts)[0].label == name


def test_account_host_label_that_is_another_accounts_group():
    with pytest.raises(AccountsConfigError) as raised:
        resolve_targets(REGIONS, [{"id": PROD, "name": "account_dev"}], {"role_name": "R"}, [listed(DEV, "dev")], host_per="account")
    assert raised.value.problems == [
        "accounts[0]: the label 'account_dev' names its host with host_per: account, and account_dev is also the group of organization "
        "account 222222222222 ('dev'): a host must not have a group's name; give the account another name"
    ]
    # Its own group is account_account_dev: no clash with itself.
    assert resolve_targets(REGIONS, [{"id": PROD, "name": "account_dev"}], host_per="account")[0].label == "account_dev"


def test_account_host_label_that_is_a_group_of_the_groups_option():
    with pytest.raises(AccountsConfigError) as raised:
        resolve_targets(REGIONS, [{"id": PROD, "name": "prod"}, {"id": DEV, "name": "dev"}], host_per="account", other_groups=["prod"])
    assert raised.value.problems == [
        "accounts[0]: the label 'prod' names its host with host_per: account, and prod is also a group of the groups option: "
        "a host must not have a group's name; give the account another name"
    ]


def test_account_hosts_with_one_label_name_the_host():
    with pytest.raises(AccountsConfigError) as raised:
        resolve_targets(REGIONS, [{"id": PROD, "name": "prod"}, {"id": DEV, "name": "prod"}], host_per="account")
    assert raised.value.problems == ["accounts[0] and accounts[1] both have the label 'prod' (host prod): give one of them another name"]
