# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cloudops.apigw_tracing.accounts inventory plugin through the real ansible-inventory.

Static files must make no AWS call at all; organization mode lists the accounts of an AWS
Organization that moto holds (create_organization, create_account, close_account for a
SUSPENDED one) through the local AWS endpoint.

Files that break a rule are refused before any call in test_bad_input_matrix.py (one ansible-inventory run, a file
per kind of bad input); the plugin's exact messages are in tests/unit/plugins/inventory/test_accounts.py.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

PLUGIN = "cloudops.apigw_tracing.accounts"
# One ansible-inventory run takes about a second; this only stops a hung run.
INVENTORY_TIMEOUT = 120
# The account moto's test credentials act in: it creates and manages the organization.
MANAGEMENT = "123456789012"
PROD = "111111111111"
DEV = "222222222222"
PROD_ROLE = "arn:aws:iam::111111111111:role/TracingAudit"

STATIC = {
    "plugin": PLUGIN,
    "regions": ["us-east-1", "eu-west-1"],
    "accounts": [
        {"id": PROD, "name": "prod", "role_arn": PROD_ROLE, "regions": ["eu-west-1"], "external_id": "Ext-Id_1"},
        {"id": DEV},
    ],
}


@pytest.fixture(scope="session")
def ansible_inventory_cmd(ansible_playbook_cmd):
    """The ansible-inventory beside the ansible-playbook in use (the venv's)."""
    path = Path(ansible_playbook_cmd).with_name("ansible-inventory")
    if not path.exists():
        pytest.fail("no ansible-inventory beside %s" % ansible_playbook_cmd)
    return str(path)


class InventoryRun:
    """rc, stdout and stderr of one ansible-inventory run, with the --list JSON decoded."""

    def __init__(self, proc):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr

    @property
    def data(self):
        assert self.rc == 0, self.describe()
        return json.loads(self.stdout, object_hook=_plain)

    @property
    def hostvars(self):
        return self.data["_meta"]["hostvars"]

    def hosts(self, group):
        """Hosts of a group and of its child groups, sorted."""
        data = self.data
        found = set(data.get(group, {}).get("hosts", []))
        for child in data.get(group, {}).get("children", []):
            found.update(self.hosts(child))
        return sorted(found)

    def describe(self):
        return "rc=%s\nSTDOUT:\n%s\nSTDERR:\n%s" % (self.rc, self.stdout, self.stderr)


def _plain(mapping):
    # ansible-core 2.19 shows strings it must not template as {"__ansible_unsafe": "..."}.
    if set(mapping) == {"__ansible_unsafe"}:
        return mapping["__ansible_unsafe"]
    return mapping


@pytest.fixture
def ansible_inventory(aws, playbook_runner, ansible_inventory_cmd, tmp_path):
    """ansible_inventory(config, *args, name="test.accounts.yml", unset=()) -> InventoryRun.

    Writes ``config`` (a dict, or text) to ``tmp_path/name`` and runs ansible-inventory -i on it
    (``--list`` unless ``args`` says otherwise), in the isolated environment of the playbook runs
    (AWS_* pointing at the local AWS), less the variables named in ``unset``. An inventory source
    nothing can parse is an error, not a warning, so a bad file fails the run.
    """

    def run(config, *args, name="test.accounts.yml", unset=()):
        path = tmp_path / name
        path.write_text(config if isinstance(config, str) else yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        run_env = playbook_runner.environment(env={"ANSIBLE_INVENTORY_UNPARSED_FAILED": "true"})
        for variable in unset:
            run_env.pop(variable, None)
        cmd = [ansible_inventory_cmd, "-i", str(path)] + list(args or ["--list"])
        proc = subprocess.run(cmd, cwd=str(tmp_path), env=run_env, capture_output=True, text=True, timeout=INVENTORY_TIMEOUT, check=False)
        return InventoryRun(proc)

    return run


# ---- static files ------------------------------------------------------------------------------


def test_static_file_list(aws, ansible_inventory):
    run = ansible_inventory(STATIC, name="accounts.yml")

    assert run.hostvars == {
        "prod_eu-west-1": {
            "tracing_sweep_region": "eu-west-1",
            "tracing_sweep_account_id": PROD,
            "tracing_sweep_role_arn": PROD_ROLE,
            "tracing_sweep_external_id": "Ext-Id_1",
            "tracing_sweep_account_name": "prod",
            "ansible_connection": "local",
            "ansible_python_interpreter": "{{ ansible_playbook_python }}",
        },
        "222222222222_us-east-1": {
            "tracing_sweep_region": "us-east-1",
            "tracing_sweep_account_id": DEV,
            "ansible_connection": "local",
            "ansible_python_interpreter": "{{ ansible_playbook_python }}",
        },
        "222222222222_eu-west-1": {
            "tracing_sweep_region": "eu-west-1",
            "tracing_sweep_account_id": DEV,
            "ansible_connection": "local",
            "ansible_python_interpreter": "{{ ansible_playbook_python }}",
        },
    }
    assert sorted(run.data["tracing_sweep_targets"]["children"]) == ["account_222222222222", "account_prod", "region_eu_west_1", "region_us_east_1"]
    assert run.hosts("tracing_sweep_targets") == ["222222222222_eu-west-1", "222222222222_us-east-1", "prod_eu-west-1"]
    assert run.hosts("account_prod") == ["prod_eu-west-1"]
    assert run.hosts("region_eu_west_1") == ["222222222222_eu-west-1", "prod_eu-west-1"]
    assert aws.calls() == 0


def test_static_file_graph(aws, ansible_inventory):
    run = ansible_inventory(STATIC, "--graph", name="prod.accounts.yaml")
    assert run.rc == 0, run.describe()
    lines = run.stdout.splitlines()
    for expected in [
        "  |--@tracing_sweep_targets:",
        "  |  |--@account_prod:",
        "  |  |  |--prod_eu-west-1",
        "  |  |--@account_222222222222:",
        "  |  |  |--222222222222_us-east-1",
        "  |  |  |--222222222222_eu-west-1",
        "  |  |--@region_us_east_1:",
        "  |  |--@region_eu_west_1:",
    ]:
        assert expected in lines, run.describe()
    assert aws.calls() == 0


def test_static_file_even_with_credentials_options_makes_no_aws_call(aws, ansible_inventory):
    config = dict(STATIC, assume_role_arn="arn:aws:iam::%s:role/OrgReader" % MANAGEMENT, endpoint_url=aws.endpoint_url)
    run = ansible_inventory(config)
    assert len(run.hostvars) == 3
    assert aws.calls() == 0


def test_a_file_not_named_accounts_yml_is_not_ours(aws, ansible_inventory):
    run = ansible_inventory(STATIC, name="inventory.yml")
    assert run.rc != 0, run.describe()
    assert "could not be verified by inventory plugin '%s'" % PLUGIN in run.stderr
    assert aws.calls() == 0


def test_playbook_runs_on_the_hosts(aws, playbook_runner, tmp_path):
    """The pseudo-hosts run modules locally, with the controller's Python (the interpreter template renders)."""
    inventory = tmp_path / "accounts.yml"
    inventory.write_text(yaml.safe_dump(STATIC), encoding="utf-8")
    playbook = tmp_path / "targets.yml"
    playbook.write_text(
        yaml.safe_dump([{
            "name": "targets",
            "hosts": "tracing_sweep_targets",
            "gather_facts": False,
            "tasks": [
                {"name": "ping", "ansible.builtin.ping": {}},
                {"name": "region", "ansible.builtin.set_fact": {"seen": "{{ tracing_sweep_account_id }} {{ tracing_sweep_region }}"}},
            ],
        }]),
        encoding="utf-8",
    )
    run = playbook_runner.run(str(playbook), env={"ANSIBLE_INVENTORY": str(inventory)})
    assert run.rc == 0, run.describe()
    seen = sorted((e["host"], e["result"]["ansible_facts"]["seen"]) for e in run.entries if e["task"] == "region")
    assert seen == [
        ("222222222222_eu-west-1", "222222222222 eu-west-1"),
        ("222222222222_us-east-1", "222222222222 us-east-1"),
        ("prod_eu-west-1", "111111111111 eu-west-1"),
    ]
    assert sorted(e["status"] for e in run.entries if e["task"] == "ping") == ["ok"] * 3
    assert aws.calls() == 0


# ---- organization ------------------------------------------------------------------------------


@pytest.fixture
def organization(aws):
    """An organization in moto: the management account, two active accounts and a closed one.

    Returns {name: account id}; moto picks the ids of created accounts.
    """
    client = aws.client("organizations")
    client.create_organization(FeatureSet="ALL")
    ids = {"master": MANAGEMENT}
    for name in ("Prod Main", "dev", "closed"):
        status = client.create_account(Email="%s@example.com" % name.replace(" ", "."), AccountName=name)["CreateAccountStatus"]
        ids[name] = status["AccountId"]
    client.close_account(AccountId=ids["closed"])
    states = {item["Name"]: item["State"] for item in client.list_accounts()["Accounts"]}
    assert states == {"master": "ACTIVE", "Prod Main": "ACTIVE", "dev": "ACTIVE", "closed": "SUSPENDED"}
    aws.clear()
    return ids


def test_organization_accounts_times_regions(aws, organization, ansible_inventory):
    config = {
        "plugin": PLUGIN,
        "regions": ["us-east-1", "eu-west-1"],
        "organization": {"role_name": "audit/TracingAudit", "exclude": [MANAGEMENT], "external_id": "org-ext-1"},
        "accounts": [
            {"id": organization["dev"], "regions": ["eu-west-1"], "name": "development"},
            {"id": PROD, "name": "outside", "regions": ["us-west-2"]},
        ],
    }
    # No AWS_REGION: Organizations' region comes from the partition.
    run = ansible_inventory(config, unset=["AWS_REGION", "AWS_DEFAULT_REGION"])

    prod_main = organization["Prod Main"]
    dev = organization["dev"]
    assert sorted(run.hostvars) == ["Prod_Main_eu-west-1", "Prod_Main_us-east-1", "development_eu-west-1", "outside_us-west-2"]
    assert run.hostvars["Prod_Main_us-east-1"] == {
        "tracing_sweep_region": "us-east-1",
        "tracing_sweep_account_id": prod_main,
        "tracing_sweep_role_arn": "arn:aws:iam::%s:role/audit/TracingAudit" % prod_main,
        "tracing_sweep_external_id": "org-ext-1",
        "tracing_sweep_account_name": "Prod Main",
        "ansible_connection": "local",
        "ansible_python_interpreter": "{{ ansible_playbook_python }}",
    }
    assert run.hostvars["development_eu-west-1"]["tracing_sweep_role_arn"] == "arn:aws:iam::%s:role/audit/TracingAudit" % dev
    assert run.hostvars["development_eu-west-1"]["tracing_sweep_account_name"] == "development"
    assert "tracing_sweep_role_arn" not in run.hostvars["outside_us-west-2"]
    assert run.hosts("account_Prod_Main") == ["Prod_Main_eu-west-1", "Prod_Main_us-east-1"]
    assert run.hosts("region_eu_west_1") == ["Prod_Main_eu-west-1", "development_eu-west-1"]

    # One ListAccounts, signed for us-east-1 with the controller's (moto's default account) keys.
    assert [(r.operation, r.region, r.account) for r in aws.requests] == [("ListAccounts", "us-east-1", MANAGEMENT)]


def test_organization_endpoint_url_option(aws, organization, ansible_inventory):
    config = {"plugin": PLUGIN, "regions": ["us-east-1"], "organization": {"role_name": "TracingAudit"}, "endpoint_url": aws.endpoint_url}
    # Without AWS_ENDPOINT_URL, only the option points the plugin at the local AWS.
    run = ansible_inventory(config, unset=["AWS_ENDPOINT_URL"])
    assert sorted(run.hostvars) == ["Prod_Main_us-east-1", "dev_us-east-1", "master_us-east-1"]
    assert aws.calls("ListAccounts") == 1


def test_organization_duplicate_names_fail(aws, organization, ansible_inventory):
    aws.client("organizations").create_account(Email="dev2@example.com", AccountName="dev")
    aws.clear()
    run = ansible_inventory({"plugin": PLUGIN, "regions": ["us-east-1"], "organization": {"role_name": "TracingAudit"}})
    assert run.rc != 0, run.describe()
    assert "both have the label 'dev' (hosts dev_<region>): give one of them another name" in run.stderr
    assert aws.calls("ListAccounts") == 1


def test_organization_through_assume_role_arn(aws, organization, ansible_inventory):
    reader = "arn:aws:iam::%s:role/OrgReader" % MANAGEMENT
    config = {"plugin": PLUGIN, "regions": ["us-east-1"], "organization": {"role_name": "TracingAudit"}, "assume_role_arn": reader}
    run = ansible_inventory(config)
    assert sorted(run.hostvars) == ["Prod_Main_us-east-1", "dev_us-east-1", "master_us-east-1"]
    assume, listing = aws.requests
    assert (assume.operation, assume.region, assume.access_key) == ("AssumeRole", "us-east-1", "testing")
    # ListAccounts is signed with the role's keys, not the controller's.
    assert (listing.operation, listing.account) == ("ListAccounts", MANAGEMENT)
    assert listing.access_key != "testing"


# ---- regions: enabled ----------------------------------------------------------------------------


def enabled_in_moto(aws):
    """The regions moto counts as enabled in an account of the aws partition.

    moto answers DescribeRegions with every partition's regions and the same OptInStatus for every account
    (AllRegions or not); AWS lists the account's partition only. The plugin keeps the opt-in-not-required and
    opted-in ones of the account's partition.
    """
    regions = aws.client("ec2").describe_regions(AllRegions=True)["Regions"]
    aws.clear()
    enabled = sorted(r["RegionName"] for r in regions if r["OptInStatus"] in ("opt-in-not-required", "opted-in"))
    not_enabled = sorted(r["RegionName"] for r in regions if r["OptInStatus"] == "not-opted-in")
    assert "us-east-1" in enabled and "ap-east-1" in not_enabled, regions
    return [name for name in enabled if not name.startswith(("cn-", "us-gov-"))], not_enabled


def test_enabled_regions_of_each_account(aws, ansible_inventory):
    enabled, not_enabled = enabled_in_moto(aws)
    config = {
        "plugin": PLUGIN,
        "regions": "enabled",
        "exclude_regions": ["eu-west-1", "ap-east-1"],
        "accounts": [
            # No role: the controller's own account (moto's default), checked with GetCallerIdentity.
            {"id": MANAGEMENT, "name": "hub"},
            {"id": PROD, "name": "prod", "role_arn": PROD_ROLE, "external_id": "Ext-Id_1", "exclude_regions": []},
            {"id": DEV, "regions": ["eu-west-1"]},
        ],
    }
    # No AWS_REGION: the calls go to the partition's first region.
    run = ansible_inventory(config, unset=["AWS_REGION", "AWS_DEFAULT_REGION"])

    hub = [region for region in enabled if region != "eu-west-1"]
    assert run.hosts("account_hub") == sorted("hub_" + region for region in hub)
    assert run.hosts("account_prod") == sorted("prod_" + region for region in enabled)
    assert run.hosts("account_222222222222") == ["222222222222_eu-west-1"]
    assert not [host for host in run.hostvars if host.endswith(tuple("_" + region for region in not_enabled))]
    assert run.hostvars["prod_us-east-1"]["tracing_sweep_role_arn"] == PROD_ROLE
    assert "accounts inventory: %s (hub): %d enabled regions (1 excluded; excluded but not enabled: ap-east-1)" % (MANAGEMENT, len(hub)) in run.stderr
    assert "accounts inventory: %s (prod): %d enabled regions" % (PROD, len(enabled)) in run.stderr

    # Each account once, in us-east-1: the role assumed with the controller's keys, DescribeRegions with the role's.
    calls = sorted((r.operation, r.region, r.account, r.access_key == "testing") for r in aws.requests)
    assert calls == [
        ("AssumeRole", "us-east-1", MANAGEMENT, True),
        ("DescribeRegions", "us-east-1", PROD, False),
        ("DescribeRegions", "us-east-1", MANAGEMENT, True),
        ("GetCallerIdentity", "us-east-1", MANAGEMENT, True),
    ]
    (assume,) = [r for r in aws.requests if r.operation == "AssumeRole"]
    assert assume.role_arn == PROD_ROLE
    assert [session["external_id"] for session in aws.assumed_sessions()] == ["Ext-Id_1"]


def test_enabled_failures_fail_the_file_with_their_causes(aws, organization, ansible_inventory):
    prod_main, dev = organization["Prod Main"], organization["dev"]
    aws.deny("DescribeRegions", account=prod_main)
    aws.deny("AssumeRole", role_arn="arn:aws:iam::%s:role/TracingAudit" % dev)
    config = {
        "plugin": PLUGIN,
        "organization": {"role_name": "TracingAudit", "regions": "enabled", "exclude": [MANAGEMENT]},
        "accounts": [{"id": PROD, "role_arn": PROD_ROLE, "regions": "enabled", "exclude_regions": ["eu-wset-1"]}],
        # Let through as a region newer than botocore (refused before any call otherwise, see below): the account's answer
        # does not list it either.
        "allow_unknown_regions": ["eu-wset-1"],
    }
    run = ansible_inventory(config)
    assert run.rc != 0, run.describe()
    assert "regions: enabled: 3 of 3 accounts cannot be swept, so the file adds no host:" in run.stderr
    output = " ".join(run.stderr.split())
    for expected in [
        "- account %s (organization account %s ('Prod Main')): ec2:DescribeRegions in us-east-1 through arn:aws:iam::%s:role/TracingAudit "
        "failed: AccessDenied: User: arn:aws:iam::%s:user/local is not authorized to perform: ec2:DescribeRegions"
        % (prod_main, prod_main, prod_main, prod_main),
        "- account %s (organization account %s ('dev')): could not assume arn:aws:iam::%s:role/TracingAudit (sts:AssumeRole in us-east-1) to list "
        "the account's regions: AccessDenied: User: arn:aws:iam::%s:user/local is not authorized to perform: sts:AssumeRole" % (dev, dev, dev, MANAGEMENT),
        "- accounts[0].exclude_regions[0]: eu-wset-1 is not a region of account %s (accounts[0]): ec2:DescribeRegions in us-east-1 through %s "
        "lists no such region (did you mean eu-west-1?)" % (PROD, PROD_ROLE),
    ]:
        assert expected in output, run.describe()
    assert aws.calls("ListAccounts") == 1
    # Every account was asked, the failing ones included.
    assert aws.calls("DescribeRegions") == 2 and aws.calls("AssumeRole") == 3


def test_host_per_account_one_host_per_account_with_its_regions(aws, ansible_inventory):
    """host_per: account - one host per account, named by its label, with the regions its per-region hosts would have."""
    enabled, _not_enabled = enabled_in_moto(aws)
    config = {
        "plugin": PLUGIN,
        "host_per": "account",
        "regions": ["us-east-1", "eu-west-1"],
        "accounts": [
            {"id": PROD, "name": "prod", "role_arn": PROD_ROLE, "regions": ["eu-west-1"], "external_id": "Ext-Id_1"},
            {"id": DEV},
            # No role: the controller's own account (moto's default); every enabled region but one.
            {"id": MANAGEMENT, "name": "hub", "regions": "enabled", "exclude_regions": ["eu-west-1"]},
        ],
    }
    run = ansible_inventory(config)

    assert run.hostvars == {
        "prod": {
            "tracing_sweep_regions": ["eu-west-1"],
            "tracing_sweep_account_id": PROD,
            "tracing_sweep_role_arn": PROD_ROLE,
            "tracing_sweep_external_id": "Ext-Id_1",
            "tracing_sweep_account_name": "prod",
            "ansible_connection": "local",
            "ansible_python_interpreter": "{{ ansible_playbook_python }}",
        },
        DEV: {
            "tracing_sweep_regions": ["us-east-1", "eu-west-1"],
            "tracing_sweep_account_id": DEV,
            "ansible_connection": "local",
            "ansible_python_interpreter": "{{ ansible_playbook_python }}",
        },
        "hub": {
            "tracing_sweep_regions": [region for region in enabled if region != "eu-west-1"],
            "tracing_sweep_account_id": MANAGEMENT,
            "tracing_sweep_account_name": "hub",
            "ansible_connection": "local",
            "ansible_python_interpreter": "{{ ansible_playbook_python }}",
        },
    }
    # Its account group only: an account host is in every one of its regions, so there is no region group.
    assert sorted(run.data["tracing_sweep_targets"]["children"]) == ["account_222222222222", "account_hub", "account_prod"]
    assert run.hosts("tracing_sweep_targets") == [DEV, "hub", "prod"]
    assert run.hosts("account_prod") == ["prod"]
    assert not [group for group in run.data if group.startswith("region_")]
    assert "accounts inventory: %s (hub): %d enabled regions (1 excluded)" % (MANAGEMENT, len(enabled) - 1) in run.stderr
    assert aws.calls("DescribeRegions") == 1


def test_allow_unknown_regions_lets_a_region_newer_than_botocore_through(aws, ansible_inventory):
    run = ansible_inventory({"plugin": PLUGIN, "regions": ["us-east-1", "xx-newregion-1"], "allow_unknown_regions": ["xx-newregion-1"],
                             "accounts": [{"id": PROD, "name": "prod"}]})
    hostvars = run.hostvars
    assert sorted(hostvars) == ["prod_us-east-1", "prod_xx-newregion-1"]
    # The role's own region rule is the same: the host of the new region carries the opt-out, the other host nothing.
    assert hostvars["prod_xx-newregion-1"]["tracing_sweep_allow_unknown_regions"] == ["xx-newregion-1"]
    assert "tracing_sweep_allow_unknown_regions" not in hostvars["prod_us-east-1"]
    assert aws.calls() == 0


@pytest.mark.parametrize(
    "regions, expected",
    [
        ("Enabled", "regions: must be a list of AWS region names or the word enabled (lowercase, on its own, not in a list) for every region "
                    "enabled in the account, got 'Enabled'"),
        ("enabled ", "got 'enabled '"),
        (["enabled"], "regions[0]: 'enabled' is not a region name: to sweep every region enabled in the account, write regions: enabled "
                      "(on its own, not in a list)"),
    ],
)
def test_nearly_enabled_fails_before_any_call(aws, ansible_inventory, regions, expected):
    run = ansible_inventory({"plugin": PLUGIN, "regions": regions, "accounts": [{"id": PROD, "role_arn": PROD_ROLE}]})
    assert run.rc != 0, run.describe()
    assert expected in " ".join(run.stderr.split()), run.describe()
    assert aws.calls() == 0


def test_an_audit_whose_discovery_failed_is_never_compliant(aws, playbook_runner, tmp_path):
    """One account of two cannot be listed: the file adds no host, so the audit sweeps nothing and its verdict is error."""
    aws.deny("DescribeRegions", account=PROD)
    inventory = tmp_path / "enabled.accounts.yml"
    config = {"plugin": PLUGIN, "regions": "enabled", "accounts": [{"id": MANAGEMENT}, {"id": PROD, "role_arn": PROD_ROLE}]}
    inventory.write_text(yaml.safe_dump(config), encoding="utf-8")
    report_dir = tmp_path / "reports"
    run = playbook_runner.run("cloudops.apigw_tracing.audit", inventory=inventory, extra_vars={"tracing_sweep_report_dir": str(report_dir)})
    assert run.rc != 0, run.describe()
    output = " ".join((run.stdout + run.stderr).split())
    assert "account %s (accounts[1]): ec2:DescribeRegions in us-east-1 through %s failed: AccessDenied" % (PROD, PROD_ROLE) in output, run.describe()
    report = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
    assert report["verdict"] == "error" and report["summary"]["targets"] == 0
    # The account that could be listed is not swept alone either.
    assert aws.calls("GetRestApis") == 0
