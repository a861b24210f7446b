# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small multi-account, multi-region API Gateway estate for `make demo` and the sweep's tests.

Three accounts x two regions on a LocalAws: two accounts reached by assuming a role, one (moto's
default account) with the caller's own credentials. The stages mix every case the sweep decides:
tracing on, explicitly off, never set (key absent), exempt by tag, exempt by an exemption that has
not expired, matched by an expired exemption, and skipped by a rule (see POLICY).
"""

from __future__ import annotations

import yaml

from local_aws import seed

# moto's own account: what the test credentials act in without assuming a role.
CALLER_ACCOUNT = "123456789012"
ROLE_NAME = "TracingAudit"
REGIONS = ["us-east-1", "eu-west-1"]
# Passed when assuming the prod account's role; the tests prove it never shows up in output or reports.
PROD_EXTERNAL_ID = "xid-7Qm2-prod-4d1e9b"

ACCOUNTS = [
    {"id": "111111111111", "name": "prod", "role": True, "external_id": PROD_EXTERNAL_ID},
    {"id": "222222222222", "name": "staging", "role": True},
    {"id": CALLER_ACCOUNT, "name": "tooling", "role": False},
]

# (account id, region) -> REST APIs, in the shape local_aws.seed() takes. Ids are fixed so that
# ARNs (and so exemptions by ARN and the reports) are the same on every run.
ESTATE = {
    ("111111111111", "us-east-1"): [
        {"name": "orders", "id": "ord1111use", "stages": {"prod": {"tracing": True}, "staging": {}}},
        {"name": "payments", "id": "pay1111use", "stages": {"prod": {"tracing": False, "explicit": True}, "v2": {"tracing": True}}},
    ],
    ("111111111111", "eu-west-1"): [
        {"name": "orders", "id": "ord1111euw", "stages": {
            "prod": {},
            "canary": {"tags": {"XrayExempt": "load-test baseline, CHG-2231"}},
        }},
    ],
    ("222222222222", "us-east-1"): [
        {"name": "internal-reports", "id": "irp2222use", "stages": {"dev": {}}},
        {"name": "catalog", "id": "cat2222use", "stages": {"prod": {"tracing": True}, "dev": {}}},
    ],
    ("222222222222", "eu-west-1"): [
        {"name": "catalog", "id": "cat2222euw", "stages": {"prod": {}}},
    ],
    (CALLER_ACCOUNT, "us-east-1"): [
        {"name": "legacy-soap", "id": "leg0000use", "stages": {"v1": {}}},
    ],
    (CALLER_ACCOUNT, "eu-west-1"): [],
}

POLICY = {
    "tracing_sweep_desired": True,
    "tracing_sweep_exempt_tag": "XrayExempt",
    "tracing_sweep_rules": [
        {"name": "internal APIs are not traced", "match": {"api_name": "internal-*"}, "skip": True},
    ],
    "tracing_sweep_exemptions": [
        {
            "arn": "arn:aws:apigateway:us-east-1::/restapis/leg0000use/stages/v1",
            "reason": "SOAP bridge times out with the X-Ray header, CHG-1187",
            "expires": "2099-12-31",
        },
        {
            "account_id": "222222222222",
            "api_name": "catalog",
            "stage_name": "dev",
            "reason": "cost review pending",
            "expires": "2025-06-30",
        },
    ],
}

# What the sweep must find under POLICY: (account, region, api id, stage) -> (tracing before, action in an audit).
AUDIT_TRUTH = {
    ("111111111111", "us-east-1", "ord1111use", "prod"): (True, "none"),
    ("111111111111", "us-east-1", "ord1111use", "staging"): (False, "would_enable"),
    ("111111111111", "us-east-1", "pay1111use", "prod"): (False, "would_enable"),
    ("111111111111", "us-east-1", "pay1111use", "v2"): (True, "none"),
    ("111111111111", "eu-west-1", "ord1111euw", "prod"): (False, "would_enable"),
    ("111111111111", "eu-west-1", "ord1111euw", "canary"): (False, "exempt"),
    ("222222222222", "us-east-1", "irp2222use", "dev"): (False, "skipped"),
    ("222222222222", "us-east-1", "cat2222use", "prod"): (True, "none"),
    ("222222222222", "us-east-1", "cat2222use", "dev"): (False, "would_enable"),
    ("222222222222", "eu-west-1", "cat2222euw", "prod"): (False, "would_enable"),
    (CALLER_ACCOUNT, "us-east-1", "leg0000use", "v1"): (False, "exempt"),
}


def role_arn(account_id):
    return "arn:aws:iam::%s:role/%s" % (account_id, ROLE_NAME)


def seed_estate(aws):
    """Create ESTATE on a LocalAws, each account's APIs in that account."""
    for (account_id, region), apis in ESTATE.items():
        account = None if account_id == CALLER_ACCOUNT else account_id
        seed(aws.client("apigateway", region, account=account), apis)


def tracing_state(aws):
    """(account, region, api id, stage) -> tracingEnabled as the server holds it (absent reads as False)."""
    state = {}
    for account_id, region in ESTATE:
        client = aws.client("apigateway", region, account=None if account_id == CALLER_ACCOUNT else account_id)
        for api in client.get_rest_apis(limit=500)["items"]:
            for stage in client.get_stages(restApiId=api["id"])["item"]:
                state[(account_id, region, api["id"], stage["stageName"])] = bool(stage.get("tracingEnabled", False))
    return state


def host_name(account, region):
    return "%s_%s" % (account["name"], region)


def accounts_inventory():
    """The estate as a cloudops.apigw_tracing.accounts inventory file (a dict to dump as YAML)."""
    entries = []
    for account in ACCOUNTS:
        entry = {"id": account["id"], "name": account["name"]}
        if account["role"]:
            entry["role_arn"] = role_arn(account["id"])
        if account.get("external_id"):
            entry["external_id"] = account["external_id"]
        entries.append(entry)
    return {"plugin": "cloudops.apigw_tracing.accounts", "regions": list(REGIONS), "accounts": entries}


def static_inventory():
    """The estate as a hand-written YAML inventory that sets the role's host variables itself."""
    hosts = {}
    for account in ACCOUNTS:
        for region in REGIONS:
            host_vars = {"tracing_sweep_region": region, "tracing_sweep_account_name": account["name"]}
            if account["role"]:
                host_vars["tracing_sweep_role_arn"] = role_arn(account["id"])
                host_vars["tracing_sweep_account_id"] = account["id"]
            if account.get("external_id"):
                host_vars["tracing_sweep_external_id"] = account["external_id"]
            hosts[host_name(account, region)] = host_vars
    return {
        "all": {
            "vars": {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"},
            "hosts": hosts,
        }
    }


def write_yaml(path, data):
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return str(path)
