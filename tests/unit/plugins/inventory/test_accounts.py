# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The accounts inventory plugin as Ansible loads it, with a botocore Stubber in place of AWS.

Every boto3 client the plugin creates goes through amazon.aws's boto3_conn, which these tests
replace: without the ``aws`` fixture any client creation fails the test, so a static file is
proven to make no AWS call; with it, the clients are real botocore clients whose answers come
from a Stubber, and the connection arguments (region, endpoint, credentials) are recorded.
"""

from __future__ import annotations

import datetime

import boto3
import botocore.exceptions
import pytest
import yaml
from botocore.stub import Stubber

from ansible.errors import AnsibleError
from ansible.errors import AnsibleParserError
from ansible.inventory.data import InventoryData
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import inventory_loader

from ansible_collections.cloudops.apigw_tracing.plugins.module_utils import _rules

try:
    from ansible.template import is_trusted_as_template
except ImportError:  # ansible-core < 2.19 has no template trust
    is_trusted_as_template = None

PLUGIN = "cloudops.apigw_tracing.accounts"
BOTO3_CONN = "ansible_collections.amazon.aws.plugins.plugin_utils.base.boto3_conn"
PROD = "111111111111"
DEV = "222222222222"
SANDBOX = "333333333333"
CLOSED = "444444444444"
PROD_ROLE = "arn:aws:iam::111111111111:role/TracingAudit"
JOINED = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)

STATIC = {
    "regions": ["us-east-1", "eu-west-1"],
    "accounts": [
        {"id": PROD, "name": "prod", "role_arn": PROD_ROLE, "regions": ["eu-west-1"], "external_id": "Ext-Id_1"},
        {"id": DEV},
    ],
}


@pytest.fixture(name="write")
def write_fixture(tmp_path):
    """write(config, name) -> path of an inventory file with ``plugin`` set."""

    def write(config, name="test.accounts.yml"):
        path = tmp_path / name
        path.write_text(yaml.safe_dump(dict({"plugin": PLUGIN}, **config), sort_keys=False), encoding="utf-8")
        return str(path)

    return write


@pytest.fixture(autouse=True)
def no_aws(monkeypatch):
    """Any AWS client fails the test, unless the ``aws`` fixture replaces this."""

    def refuse(*args, **kwargs):
        pytest.fail("the plugin created an AWS client: %r %r" % (args, kwargs))

    monkeypatch.setattr(BOTO3_CONN, refuse)


class FakeAws:
    """Stubbed botocore clients for the plugin, one per service, and the arguments of each creation."""

    def __init__(self):
        self.connections = []
        self.clients = {}
        self.stubbers = {}

    def stubber(self, service):
        if service not in self.stubbers:
            client = boto3.client(service, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
            self.clients[service] = client
            self.stubbers[service] = Stubber(client)
            self.stubbers[service].activate()
        return self.stubbers[service]

    def connect(self, plugin, conn_type, resource=None, region=None, endpoint=None, **params):  # pylint: disable=unused-argument
        self.connections.append(dict(params, service=resource, region=region, endpoint=endpoint))
        self.stubber(resource)
        return self.clients[resource]

    def list_accounts(self, *pages):
        """Queue ListAccounts pages; each page is a list of (id, name, state) or of item dicts."""
        stubber = self.stubber("organizations")
        for number, page in enumerate(pages):
            response = {"Accounts": [account(*item) if isinstance(item, tuple) else item for item in page]}
            if number + 1 < len(pages):
                response["NextToken"] = "page-%d" % (number + 2)
            expected = {"NextToken": "page-%d" % (number + 1)} if number else {}
            stubber.add_response("list_accounts", response, expected)


def account(account_id, name, state="ACTIVE"):
    return {
        "Id": account_id,
        "Arn": "arn:aws:organizations::999999999999:account/o-abc123defg/%s" % account_id,
        "Email": "%s@example.com" % account_id,
        "Name": name,
        "Status": state if state in ("ACTIVE", "SUSPENDED", "PENDING_CLOSURE") else "SUSPENDED",
        "State": state,
        "JoinedMethod": "CREATED",
        "JoinedTimestamp": JOINED,
    }


@pytest.fixture(name="aws")
def aws_fixture(monkeypatch):
    fake = FakeAws()
    monkeypatch.setattr(BOTO3_CONN, fake.connect)
    yield fake
    for stubber in fake.stubbers.values():
        stubber.assert_no_pending_responses()
        stubber.deactivate()


def parse(path, cache=False):
    """Run the plugin's parse() on a fresh inventory, then save its cache as Ansible does; returns the InventoryData."""
    plugin = inventory_loader.get(PLUGIN)
    assert plugin is not None, "the plugin did not load"
    inventory = InventoryData()
    plugin.parse(inventory, DataLoader(), path, cache=cache)
    try:
        plugin.update_cache_if_changed()
    except AttributeError:  # no cache configured; InventoryManager ignores this too
        pass
    return inventory


def parse_error(path):
    with pytest.raises(AnsibleParserError) as raised:
        parse(path)
    return str(raised.value)


def host_vars(inventory, name):
    """The variables the plugin set (InventoryData adds inventory_file and inventory_dir)."""
    return {k: v for k, v in inventory.get_host(name).vars.items() if k not in ("inventory_file", "inventory_dir")}


def hosts_of(inventory, group):
    return sorted(host.name for host in inventory.groups[group].get_hosts())


def children_of(inventory, group):
    return sorted(child.name for child in inventory.groups[group].child_groups)


# ---- static file -------------------------------------------------------------------------------


def test_static_file_through_the_inventory_manager(write):
    manager = InventoryManager(loader=DataLoader(), sources=[write(STATIC, "accounts.yml")])

    assert sorted(host.name for host in manager.get_hosts()) == ["222222222222_eu-west-1", "222222222222_us-east-1", "prod_eu-west-1"]
    assert sorted(host.name for host in manager.get_hosts("tracing_sweep_targets")) == ["222222222222_eu-west-1", "222222222222_us-east-1", "prod_eu-west-1"]
    assert sorted(host.name for host in manager.get_hosts("account_222222222222")) == ["222222222222_eu-west-1", "222222222222_us-east-1"]
    assert sorted(host.name for host in manager.get_hosts("region_eu_west_1")) == ["222222222222_eu-west-1", "prod_eu-west-1"]
    assert sorted(group.name for group in manager.groups["tracing_sweep_targets"].child_groups) == [
        "account_222222222222", "account_prod", "region_eu_west_1", "region_us_east_1",
    ]
    assert manager.get_host("prod_eu-west-1").vars == {
        "tracing_sweep_region": "eu-west-1",
        "tracing_sweep_account_id": PROD,
        "tracing_sweep_role_arn": PROD_ROLE,
        "tracing_sweep_external_id": "Ext-Id_1",
        "tracing_sweep_account_name": "prod",
        "ansible_connection": "local",
        "ansible_python_interpreter": "{{ ansible_playbook_python }}",
        "inventory_file": manager.get_host("prod_eu-west-1").vars["inventory_file"],
        "inventory_dir": manager.get_host("prod_eu-west-1").vars["inventory_dir"],
    }
    unnamed = manager.get_host("222222222222_us-east-1").vars
    for optional in ("tracing_sweep_role_arn", "tracing_sweep_external_id", "tracing_sweep_account_name"):
        assert optional not in unnamed


@pytest.mark.skipif(is_trusted_as_template is None, reason="ansible-core < 2.19 has no template trust")
def test_only_the_interpreter_and_checked_values_are_trusted_templates(write):
    config = {"regions": ["us-east-1"], "accounts": [{"id": PROD, "name": "{{ '{{' }} lookup('pipe', 'id') }}"}]}
    manager = InventoryManager(loader=DataLoader(), sources=[write(config)])
    variables = manager.get_host("___lookup__pipe____id______us-east-1").vars
    assert is_trusted_as_template(variables["ansible_python_interpreter"])
    assert is_trusted_as_template(variables["tracing_sweep_region"])
    # The rendered name reads like a template; it must stay data.
    assert variables["tracing_sweep_account_name"] == "{{ lookup('pipe', 'id') }}"
    assert not is_trusted_as_template(variables["tracing_sweep_account_name"])


def test_static_file_with_credentials_and_assume_role_makes_no_aws_call(write):
    # The autouse no_aws fixture fails the test on any client creation.
    config = dict(STATIC, assume_role_arn="arn:aws:iam::999999999999:role/OrgReader", profile="nowhere", endpoint_url="http://127.0.0.1:9")
    inventory = parse(write(config))
    assert len(inventory.hosts) == 3


def test_templates_and_lookups_in_the_plugin_options(write, monkeypatch):
    monkeypatch.setenv("ACCOUNTS_TEST_EXTERNAL_ID", "from-env-1")
    config = {
        # Not one template for the whole list: Ansible splits a string given for a list option at commas.
        "regions": ["{{ 'us-east-1' }}", "eu-west-1"],
        "accounts": [{"id": PROD, "role_arn": PROD_ROLE, "external_id": "{{ lookup('ansible.builtin.env', 'ACCOUNTS_TEST_EXTERNAL_ID') }}"}],
    }
    inventory = parse(write(config))
    assert host_vars(inventory, "111111111111_eu-west-1")["tracing_sweep_external_id"] == "from-env-1"


def test_region_string_is_split_like_any_list_option(write):
    inventory = parse(write({"regions": "us-east-1, eu-west-1", "accounts": [{"id": PROD}]}))
    assert sorted(inventory.hosts) == ["111111111111_eu-west-1", "111111111111_us-east-1"]


@pytest.mark.parametrize(
    "name, accepted",
    [
        ("accounts.yml", True),
        ("accounts.yaml", True),
        ("prod.accounts.yml", True),
        ("team.prod.accounts.yaml", True),
        ("myaccounts.yml", False),
        ("prod_accounts.yml", False),
        ("accounts.json", False),
        ("accounts.yml.bak", False),
        ("prod.aws_ec2.yml", False),
        ("inventory.yml", False),
    ],
)
def test_verify_file_names(tmp_path, name, accepted):
    path = tmp_path / name
    path.write_text("plugin: %s\n" % PLUGIN, encoding="utf-8")
    assert inventory_loader.get(PLUGIN).verify_file(str(path)) is accepted


def test_verify_file_needs_an_existing_file(tmp_path):
    assert inventory_loader.get(PLUGIN).verify_file(str(tmp_path / "accounts.yml")) is False


# ---- bad configuration -------------------------------------------------------------------------


def test_bad_file_names_every_problem_and_calls_nothing(write):
    config = {
        "regions": ["us-east-1"],
        "acounts": [],
        "accounts": [
            {"id": PROD, "role_arn": "arn:aws:iam::222222222222:role/R"},
            {"id": 12345, "rgions": ["eu-west-1"]},
        ],
        "organization": {"partition": "aws"},
    }
    path = write(config)
    message = parse_error(path)
    assert message.startswith("%s: 5 problems in the accounts inventory:\n- " % path)
    lines = message.split("\n")[1:]
    assert lines == [
        "- unknown option 'acounts' (did you mean accounts?): ansible-doc -t inventory cloudops.apigw_tracing.accounts lists the options",
        "- accounts[0].role_arn: must be a role in the account it sweeps, accounts[0].id 111111111111, got a role in account 222222222222",
        "- accounts[1]: unknown key 'rgions' (did you mean regions?): allowed keys are exclude_regions, external_id, id, name, regions, role_arn",
        # An unquoted number too short to be an id may be an octal reading of one that started with 0: no id is suggested.
        "- accounts[1].id: must be a 12-digit AWS account id, as a string (in quotes), got 12345 (integer): YAML reads an unquoted id as a number, "
        "and one that starts with 0 as an octal number, which changes its digits; write the id in quotes, exactly as AWS shows it",
        "- organization.role_name: is required: the role to assume in every account, e.g. TracingAudit or audit/TracingAudit",
    ]


def test_unquoted_account_ids_as_yaml_reads_them(tmp_path):
    """YAML reads 011111111111 unquoted as the octal number 1227133513: the message never suggests an id made from it."""
    path = tmp_path / "test.accounts.yml"
    path.write_text(
        "plugin: %s\nregions: [us-east-1]\naccounts:\n  - id: 011111111111\n  - id: 123456789012\n  - id: 012345678901\n" % PLUGIN, encoding="utf-8"
    )
    message = parse_error(str(path))
    lines = message.split("\n")[1:]
    assert lines == [
        "- accounts[0].id: must be a 12-digit AWS account id, as a string (in quotes), got 1227133513 (integer): YAML reads an unquoted id as a "
        "number, and one that starts with 0 as an octal number, which changes its digits; write the id in quotes, exactly as AWS shows it",
        '- accounts[1].id: must be a 12-digit AWS account id, as a string (in quotes), got 123456789012 (integer): YAML reads an unquoted id as a '
        'number; write it in quotes, "123456789012"',
    ]
    # Not the octal number padded to 12 digits, nor the digits written: neither is an id AWS showed.
    assert "001227133513" not in message and '"011111111111"' not in message


def test_type_names_in_messages_are_yaml_names(write):
    # Ansible's loader hands in its own str subclass; messages say "string".
    assert parse_error(write({"regions": ["us-east-1"], "accounts": [PROD]})).endswith(
        "- accounts[0]: must be a mapping with at least an id, got a string"
    )


def test_one_problem_is_singular(write):
    assert ": 1 problem in the accounts inventory:\n- no accounts:" in parse_error(write({"regions": ["us-east-1"]}))


def test_option_aliases_are_known(write):
    config = dict(STATIC, aws_profile="nowhere", iam_role_arn="arn:aws:iam::999999999999:role/R")
    assert len(parse(write(config)).hosts) == 3


def test_duplicate_labels_fail_after_the_rules(write):
    config = {"regions": ["us-east-1"], "accounts": [{"id": PROD, "name": "prod"}, {"id": DEV, "name": "prod"}]}
    assert parse_error(write(config)).endswith(
        "- accounts[0] and accounts[1] both have the label 'prod' (hosts prod_<region>): give one of them another name"
    )


def test_not_this_plugins_file(write):
    path = write({"regions": ["us-east-1"], "accounts": [{"id": PROD}]})
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("plugin: amazon.aws.aws_ec2\n")
    assert "Incorrect plugin name in file: amazon.aws.aws_ec2" in parse_error(path)


# ---- organization ------------------------------------------------------------------------------


def test_organization_pages_filters_and_merges(write, aws):
    aws.list_accounts(
        [(PROD, "prod"), (DEV, "Dev Team"), (CLOSED, "closed", "SUSPENDED")],
        [(SANDBOX, "sandbox"), ("555555555555", "closing", "PENDING_CLOSURE"), ("666666666666", "excluded")],
    )
    config = {
        "regions": ["us-east-1", "eu-west-1"],
        "organization": {"role_name": "audit/TracingAudit", "exclude": ["666666666666"], "external_id": "org-ext-1"},
        "accounts": [{"id": PROD, "regions": ["eu-west-1"], "role_arn": PROD_ROLE}],
    }
    inventory = parse(write(config))

    assert sorted(inventory.hosts) == [
        "Dev_Team_eu-west-1", "Dev_Team_us-east-1", "prod_eu-west-1", "sandbox_eu-west-1", "sandbox_us-east-1",
    ]
    assert host_vars(inventory, "prod_eu-west-1") == {
        "tracing_sweep_region": "eu-west-1",
        "tracing_sweep_account_id": PROD,
        "tracing_sweep_role_arn": PROD_ROLE,
        "tracing_sweep_external_id": "org-ext-1",
        "tracing_sweep_account_name": "prod",
        "ansible_connection": "local",
        "ansible_python_interpreter": "{{ ansible_playbook_python }}",
    }
    dev = host_vars(inventory, "Dev_Team_us-east-1")
    assert dev["tracing_sweep_role_arn"] == "arn:aws:iam::222222222222:role/audit/TracingAudit"
    assert dev["tracing_sweep_account_name"] == "Dev Team"
    assert hosts_of(inventory, "account_Dev_Team") == ["Dev_Team_eu-west-1", "Dev_Team_us-east-1"]
    assert children_of(inventory, "tracing_sweep_targets") == [
        "account_Dev_Team", "account_prod", "account_sandbox", "region_eu_west_1", "region_us_east_1",
    ]
    # One client, the controller's credentials (none given: the SDK finds them), Organizations' region.
    assert aws.connections == [
        {"service": "organizations", "region": "us-east-1", "endpoint": None, "aws_access_key_id": None,
         "aws_secret_access_key": None, "aws_session_token": None, "verify": None},
    ]


def test_organization_account_without_state_uses_status(write, aws):
    older = account(DEV, "dev")
    del older["State"]
    gone = account(CLOSED, "gone", "SUSPENDED")
    del gone["State"]
    aws.list_accounts([older, gone])
    inventory = parse(write({"regions": ["us-east-1"], "organization": {"role_name": "R"}}))
    assert sorted(inventory.hosts) == ["dev_us-east-1"]


def test_organization_credentials_endpoint_and_partition(write, aws):
    aws.list_accounts([(PROD, "prod")])
    config = {
        "organization": {"role_name": "R", "partition": "aws-cn", "regions": ["cn-north-1"]},
        "access_key": "AKIDEXAMPLE",
        "secret_key": "secret",
        "endpoint_url": "http://127.0.0.1:9",
    }
    inventory = parse(write(config))
    assert host_vars(inventory, "prod_cn-north-1")["tracing_sweep_role_arn"] == "arn:aws-cn:iam::111111111111:role/R"
    assert aws.connections == [
        {"service": "organizations", "region": "cn-northwest-1", "endpoint": "http://127.0.0.1:9", "aws_access_key_id": "AKIDEXAMPLE",
         "aws_secret_access_key": "secret", "aws_session_token": None, "verify": None},
    ]


def test_organization_through_an_assumed_role(write, aws):
    aws.stubber("sts").add_response(
        "assume_role",
        {"Credentials": {"AccessKeyId": "ASIAASSUMEDEXAMPLE", "SecretAccessKey": "s3cr3t", "SessionToken": "token", "Expiration": JOINED}},
        {"RoleArn": "arn:aws:iam::999999999999:role/OrgReader", "RoleSessionName": "ansible_aws_%s_dynamic_inventory" % PLUGIN},
    )
    aws.list_accounts([(PROD, "prod")])
    config = {"regions": ["us-east-1"], "organization": {"role_name": "R"}, "assume_role_arn": "arn:aws:iam::999999999999:role/OrgReader"}
    parse(write(config))
    assert [(c["service"], c["region"], c["aws_access_key_id"]) for c in aws.connections] == [
        ("sts", "us-east-1", None),
        ("organizations", "us-east-1", "ASIAASSUMEDEXAMPLE"),
    ]
    assert aws.connections[1]["aws_session_token"] == "token"


def test_organization_assumed_role_refused(write, aws):
    aws.stubber("sts").add_client_error("assume_role", "AccessDenied", "not allowed to assume")
    config = {"regions": ["us-east-1"], "organization": {"role_name": "R"}, "assume_role_arn": "arn:aws:iam::999999999999:role/OrgReader"}
    with pytest.raises(AnsibleParserError) as raised:
        parse(write(config))
    assert str(raised.value).startswith(
        "assume_role_arn: could not assume arn:aws:iam::999999999999:role/OrgReader to list the organization's accounts (sts:AssumeRole): "
    )
    assert "not allowed to assume" in str(raised.value)


def test_organization_access_denied(write, aws):
    aws.stubber("organizations").add_client_error("list_accounts", "AccessDeniedException", "not the management account")
    with pytest.raises(AnsibleError) as raised:
        parse(write({"regions": ["us-east-1"], "organization": {"role_name": "R"}}))
    message = str(raised.value)
    assert "organization: could not list the accounts of the AWS Organization (organizations:ListAccounts in us-east-1" in message
    assert "management account or a delegated administrator" in message
    assert "not the management account" in message


def test_organization_not_in_use(write, aws):
    aws.stubber("organizations").add_client_error("list_accounts", "AWSOrganizationsNotInUseException", "no organization")
    with pytest.raises(AnsibleError, match="the controller's account is not in an AWS Organization"):
        parse(write({"regions": ["us-east-1"], "organization": {"role_name": "R"}}))


def test_organization_duplicate_names_fail_naming_both(write, aws):
    aws.list_accounts([(PROD, "team"), (DEV, "team")])
    message = parse_error(write({"regions": ["us-east-1"], "organization": {"role_name": "R"}}))
    assert message.endswith(
        "- organization account 111111111111 ('team') and organization account 222222222222 ('team') both have the label 'team' "
        "(hosts team_<region>): give one of them another name"
    )


def test_organization_bad_config_fails_before_any_call(write):
    # The autouse no_aws fixture fails the test on any client creation.
    assert "organization.role_name: is required" in parse_error(write({"regions": ["us-east-1"], "organization": {"exclude": []}}))


def test_organization_listing_is_cached_when_asked(write, aws, tmp_path):
    aws.list_accounts([(PROD, "prod")])
    config = {
        "regions": ["us-east-1"],
        "organization": {"role_name": "R"},
        "cache": True,
        "cache_plugin": "ansible.builtin.jsonfile",
        "cache_connection": str(tmp_path / "cache"),
    }
    path = write(config)
    assert sorted(parse(path, cache=True).hosts) == ["prod_us-east-1"]
    # Served from the cache: no response is queued, so a call would fail.
    assert sorted(parse(path, cache=True).hosts) == ["prod_us-east-1"]
    # --flush-cache (cache=False) lists again.
    aws.list_accounts([(PROD, "prod"), (DEV, "dev")])
    assert sorted(parse(path, cache=False).hosts) == ["dev_us-east-1", "prod_us-east-1"]
    assert len(aws.connections) == 2


# ---- constructed -------------------------------------------------------------------------------


def test_compose_groups_and_keyed_groups(write):
    config = dict(
        STATIC,
        compose={"sweep_label": "tracing_sweep_account_name | default(tracing_sweep_account_id)"},
        groups={"assumes_role": "tracing_sweep_role_arn is defined"},
        keyed_groups=[{"key": "tracing_sweep_account_id", "prefix": "id"}],
    )
    inventory = parse(write(config))
    assert host_vars(inventory, "prod_eu-west-1")["sweep_label"] == "prod"
    assert host_vars(inventory, "222222222222_us-east-1")["sweep_label"] == DEV
    assert hosts_of(inventory, "assumes_role") == ["prod_eu-west-1"]
    assert hosts_of(inventory, "id_222222222222") == ["222222222222_eu-west-1", "222222222222_us-east-1"]


def test_strict_compose_errors(write):
    config = dict(STATIC, strict=True, compose={"broken": "no_such_variable.attribute"})
    with pytest.raises(AnsibleError):
        parse(write(config))
    config["strict"] = False
    assert "broken" not in host_vars(parse(write(config)), "prod_eu-west-1")


# ---- regions: enabled ------------------------------------------------------------------------------

CLIENT_FACTORY = "ansible_collections.cloudops.apigw_tracing.plugins.module_utils._aws.client_factory"


def described(*enabled, not_enabled=()):
    return {"Regions": [{"RegionName": name, "OptInStatus": "opt-in-not-required"} for name in enabled]
            + [{"RegionName": name, "OptInStatus": "not-opted-in"} for name in not_enabled]}


class Accounts:
    """The accounts the plugin asks for their regions: stubbed STS and EC2 per account, and the factory's arguments."""

    def __init__(self, regions, denied=(), caller=PROD):
        self.regions = regions
        self.denied = set(denied)
        self.caller = caller
        self.factories = []
        self.calls = []

    def factory(self, endpoint_url=None, connect_kwargs=None):
        self.factories.append((endpoint_url, dict(connect_kwargs or {})))
        return self.client

    def client(self, service, region, credentials=None):
        if service == "sts":
            self.calls.append(("sts", region))
            return _Sts(self)
        account_id = credentials["AccessKeyId"][4:] if credentials else self.caller
        self.calls.append(("ec2", region, account_id))
        # A real EC2 client, answered by a Stubber: the request is checked against the service model.
        client = boto3.client(service, region_name=region, aws_access_key_id="testing", aws_secret_access_key="testing")
        stubber = Stubber(client)
        if self.regions.get(account_id) == "denied":
            stubber.add_client_error("describe_regions", "UnauthorizedOperation", "You are not authorized to perform this operation.")
        else:
            stubber.add_response("describe_regions", self.regions[account_id], {"AllRegions": True})
        stubber.activate()
        return client


class _Sts:
    """The controller's STS: who it is, and the account roles it may assume."""

    def __init__(self, accounts):
        self.accounts = accounts

    def get_caller_identity(self):
        return {"Account": self.accounts.caller, "Arn": "arn:aws:iam::%s:user/ops" % self.accounts.caller}

    def assume_role(self, RoleArn, **kwargs):  # pylint: disable=invalid-name,unused-argument
        account_id = RoleArn.split(":")[4]
        if account_id in self.accounts.denied:
            raise botocore.exceptions.ClientError({"Error": {"Code": "AccessDenied", "Message": "not trusted"}}, "AssumeRole")
        return {"Credentials": {"AccessKeyId": "ASIA" + account_id, "SecretAccessKey": "s", "SessionToken": "t"}}


@pytest.fixture(name="accounts")
def accounts_fixture(monkeypatch):
    from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._inventory import (  # pylint: disable=import-outside-toplevel
        region_discovery as _region_discovery,
    )

    _region_discovery.forget()
    world = Accounts({})
    monkeypatch.setattr(CLIENT_FACTORY, world.factory)
    yield world
    _region_discovery.forget()


def test_enabled_regions_of_each_account(write, accounts, capsys):
    accounts.regions = {
        PROD: described("us-east-1", "eu-west-1", "us-west-2", not_enabled=["ap-east-1"]),
        DEV: described("us-east-1", "eu-west-1", not_enabled=["us-west-2", "ap-east-1"]),
    }
    config = {
        "regions": "enabled",
        "exclude_regions": ["us-west-2", "ap-east-1"],
        "accounts": [{"id": PROD, "name": "prod", "role_arn": PROD_ROLE}, {"id": DEV, "role_arn": "arn:aws:iam::222222222222:role/R", "regions": "enabled"}],
        "endpoint_url": "http://127.0.0.1:9",
    }
    inventory = parse(write(config))
    assert sorted(inventory.hosts) == ["222222222222_eu-west-1", "222222222222_us-east-1", "prod_eu-west-1", "prod_us-east-1"]
    assert host_vars(inventory, "prod_eu-west-1")["tracing_sweep_role_arn"] == PROD_ROLE
    assert hosts_of(inventory, "region_us_east_1") == ["222222222222_us-east-1", "prod_us-east-1"]
    # One factory for the file, with the file's endpoint; both accounts asked in us-east-1 through their roles.
    assert [endpoint for endpoint, _kwargs in accounts.factories] == ["http://127.0.0.1:9"]
    assert sorted(call for call in accounts.calls if call[0] == "ec2") == [("ec2", "us-east-1", PROD), ("ec2", "us-east-1", DEV)]
    err = capsys.readouterr().err
    assert "accounts inventory: 111111111111 (prod): 2 enabled regions (1 excluded; excluded but not enabled: ap-east-1)" in err
    assert "accounts inventory: 222222222222: 2 enabled regions (excluded but not enabled: ap-east-1, us-west-2)" in err


def test_enabled_without_a_role_uses_the_controllers_account(write, accounts):
    accounts.regions = {PROD: described("eu-west-1")}
    inventory = parse(write({"regions": "enabled", "accounts": [{"id": PROD}]}))
    assert sorted(inventory.hosts) == ["111111111111_eu-west-1"]
    accounts.caller = DEV
    message = parse_error(write({"regions": "enabled", "accounts": [{"id": SANDBOX}]}))
    assert message.endswith(
        "regions: enabled: 1 of 1 account cannot be swept, so the file adds no host:\n- account 333333333333 (accounts[0]): the account has no role_arn, "
        "and the controller's credentials are in account 222222222222, not 333333333333: set its role_arn, or correct the id"
    )


def test_enabled_failures_fail_the_file_naming_every_account(write, accounts):
    accounts.regions = {PROD: described("us-east-1"), DEV: "denied", SANDBOX: described(not_enabled=["ap-east-1"]), CLOSED: described("us-east-1")}
    accounts.denied = {CLOSED}
    entries = [{"id": account_id, "role_arn": "arn:aws:iam::%s:role/R" % account_id} for account_id in (PROD, DEV, SANDBOX, CLOSED)]
    config = {"regions": "enabled", "accounts": entries}
    path = write(config)
    message = parse_error(path)
    assert message.split("\n") == [
        "%s: regions: enabled: 3 of 4 accounts cannot be swept, so the file adds no host:" % path,
        "- account 222222222222 (accounts[1]): ec2:DescribeRegions in us-east-1 through arn:aws:iam::222222222222:role/R failed: UnauthorizedOperation: "
        "You are not authorized to perform this operation.",
        "- account 333333333333 (accounts[2]): ec2:DescribeRegions in us-east-1 through arn:aws:iam::333333333333:role/R lists no enabled region "
        "(OptInStatus opt-in-not-required or opted-in): nothing to sweep; check the account and the credentials",
        "- account 444444444444 (accounts[3]): could not assume arn:aws:iam::444444444444:role/R (sts:AssumeRole in us-east-1) to list the account's "
        "regions: AccessDenied: not trusted",
    ]


def test_enabled_exclusion_typo_names_the_field_and_the_closest_region(write, accounts):
    # A region botocore does not know is refused before any AWS call (below), unless allow_unknown_regions lets it through:
    # then the account's own answer, which does not list it either, refuses it.
    accounts.regions = {PROD: described("us-east-1", "eu-west-1")}
    message = parse_error(write({"regions": "enabled", "allow_unknown_regions": ["eu-wset-1"],
                                 "accounts": [{"id": PROD, "role_arn": PROD_ROLE, "exclude_regions": ["eu-wset-1"]}]}))
    assert message.endswith(
        "- accounts[0].exclude_regions[0]: eu-wset-1 is not a region of account 111111111111 (accounts[0]): ec2:DescribeRegions in us-east-1 "
        "through arn:aws:iam::111111111111:role/TracingAudit lists no such region (did you mean eu-west-1?)"
    )


@pytest.mark.parametrize(
    "text, expected",
    [
        ("regions: Enabled", "- regions: must be a list of AWS region names or the word enabled (lowercase, on its own, not in a list) for every "
                             "region enabled in the account, got 'Enabled'"),
        ("regions: 'enabled '", "got 'enabled '"),
        ("regions: [enabled]", "- regions[0]: 'enabled' is not a region name: to sweep every region enabled in the account, write regions: enabled"),
        ("regions: enabled, us-east-1", "- regions[0]: 'enabled' is not a region name"),
        ("regions: enabled\nexclude_regions: eu-west-1 ", None),
    ],
)
def test_nearly_enabled_fails_before_any_call(tmp_path, text, expected):
    # The autouse no_aws fixture fails the test on any client creation; no accounts fixture: discovery would fail too.
    path = tmp_path / "test.accounts.yml"
    path.write_text("plugin: %s\n%s\naccounts:\n  - id: '111111111111'\n    regions: [eu-west-1]\n" % (PLUGIN, text), encoding="utf-8")
    if expected is None:
        # Every account has a list: nothing to ask; the top-level exclusion beside enabled is fine.
        assert sorted(parse(str(path)).hosts) == ["111111111111_eu-west-1"]
    else:
        assert expected in parse_error(str(path))


@pytest.mark.parametrize(
    "config",
    [
        {"organization": {"role_name": "TracingAudit", "regions": "enabled", "exclude_regions": ["eu-west-1"]}},
        {"regions": "enabled", "exclude_regions": ["eu-west-1"], "organization": {"role_name": "TracingAudit"}},
        {"regions": "enabled", "organization": {"role_name": "TracingAudit", "exclude_regions": ["eu-west-1"]}},
    ],
    ids=["organization", "top-level", "top-level-regions-organization-exclusions"],
)
def test_enabled_with_the_organization(write, aws, accounts, config):
    aws.list_accounts([(PROD, "prod"), (DEV, "dev")])
    accounts.regions = {PROD: described("us-east-1", "eu-west-1"), DEV: described("us-east-1", not_enabled=["eu-west-1"])}
    inventory = parse(write(config))
    assert sorted(inventory.hosts) == ["dev_us-east-1", "prod_us-east-1"]
    # The organization's accounts are asked through the organization's role.
    assert host_vars(inventory, "dev_us-east-1")["tracing_sweep_role_arn"] == "arn:aws:iam::222222222222:role/TracingAudit"


def test_enabled_exclusion_typo_shared_by_many_accounts_is_one_line(write, aws, accounts):
    ids = ["%012d" % number for number in range(100000000001, 100000000013)]
    aws.list_accounts([(account_id, "a%s" % account_id) for account_id in ids])
    accounts.regions = {account_id: described("us-east-1", "eu-west-1") for account_id in ids}
    message = parse_error(write({"regions": "enabled", "exclude_regions": ["eu-west-1", "eu-wset-1"], "allow_unknown_regions": ["eu-wset-1"],
                                 "organization": {"role_name": "R"}}))
    assert message.split("\n")[1:] == [
        "- exclude_regions[1]: eu-wset-1 is not a region of the partition of 12 accounts (%s and 2 more): ec2:DescribeRegions lists no such "
        "region for any of them (did you mean eu-west-1?)" % ", ".join(ids[:10])
    ]
    assert ": 12 of 12 accounts cannot be swept" in message


# ---- regions that do not exist, and the opt-out for regions newer than botocore --------------------------

UNKNOWN = "must be an AWS region name such as us-east-1, got 'eu-wset-1', a region no partition of the installed botocore"
OPT_OUT = "(did you mean eu-west-1?); for a region newer than that botocore, upgrade botocore or list it in allow_unknown_regions"


@pytest.mark.parametrize(
    "config, path",
    [
        ({"regions": ["eu-wset-1"], "accounts": [{"id": PROD}]}, "regions[0]"),
        ({"regions": ["us-east-1"], "accounts": [{"id": PROD, "regions": ["eu-west-1", "eu-wset-1"]}]}, "accounts[0].regions[1]"),
        ({"regions": "enabled", "exclude_regions": ["eu-wset-1"], "accounts": [{"id": PROD, "role_arn": PROD_ROLE}]}, "exclude_regions[0]"),
        ({"regions": "enabled", "accounts": [{"id": PROD, "role_arn": PROD_ROLE, "exclude_regions": ["eu-wset-1"]}]}, "accounts[0].exclude_regions[0]"),
        ({"organization": {"role_name": "R", "regions": ["eu-wset-1"]}}, "organization.regions[0]"),
        ({"regions": "enabled", "organization": {"role_name": "R", "exclude_regions": ["eu-wset-1"]}}, "organization.exclude_regions[0]"),
    ],
    ids=["top-level", "account", "exclusion", "account-exclusion", "organization", "organization-exclusion"],
)
def test_a_region_that_does_not_exist_is_refused_before_any_call(write, config, path):
    # The autouse no_aws fixture fails the test on any client creation: neither ListAccounts nor DescribeRegions is asked.
    message = parse_error(write(config))
    assert message.endswith(": 1 problem in the accounts inventory:\n- %s: %s (%s) has %s" % (path, UNKNOWN, _rules.botocore_version(), OPT_OUT)), message


def test_a_region_newer_than_botocore_is_swept_when_allowed_and_the_role_is_told(write):
    inventory = parse(write({"regions": ["us-east-1", "xx-newregion-1"], "allow_unknown_regions": ["xx-newregion-1"], "accounts": [{"id": PROD}]}))
    assert sorted(inventory.hosts) == ["111111111111_us-east-1", "111111111111_xx-newregion-1"]
    # The role's own region rule is the same: the host of the new region carries the opt-out, the other host nothing.
    assert host_vars(inventory, "111111111111_xx-newregion-1")["tracing_sweep_allow_unknown_regions"] == ["xx-newregion-1"]
    assert "tracing_sweep_allow_unknown_regions" not in host_vars(inventory, "111111111111_us-east-1")


def test_a_region_aws_lists_but_botocore_does_not_know_is_swept_and_the_role_is_told(write, accounts):
    accounts.regions = {PROD: described("us-east-1", "xx-newregion-1")}
    inventory = parse(write({"regions": "enabled", "accounts": [{"id": PROD, "role_arn": PROD_ROLE}]}))
    assert host_vars(inventory, "111111111111_xx-newregion-1")["tracing_sweep_allow_unknown_regions"] == ["xx-newregion-1"]


@pytest.mark.parametrize(
    "allowed, expected",
    [
        (["xx-newregion-1", "XX-NEWREGION-2"], "- allow_unknown_regions[1]: must be an AWS region name such as us-east-1, got 'XX-NEWREGION-2'"),
        (["xx-newregion-1", "xx-newregion-1"], "- allow_unknown_regions[1]: region xx-newregion-1 is already listed at allow_unknown_regions[0]"),
    ],
)
def test_allow_unknown_regions_holds_region_names(write, allowed, expected):
    assert expected in parse_error(write({"regions": ["us-east-1"], "allow_unknown_regions": allowed, "accounts": [{"id": PROD}]}))


# ---- host_per: account -------------------------------------------------------------------------------


def test_host_per_account_static_file(write):
    manager = InventoryManager(loader=DataLoader(), sources=[write(dict(STATIC, host_per="account"), "accounts.yml")])

    assert sorted(host.name for host in manager.get_hosts()) == ["222222222222", "prod"]
    assert sorted(host.name for host in manager.get_hosts("tracing_sweep_targets")) == ["222222222222", "prod"]
    assert [host.name for host in manager.get_hosts("account_prod")] == ["prod"]
    # An account host is in every one of its regions: no region group at all.
    assert sorted(group.name for group in manager.groups["tracing_sweep_targets"].child_groups) == ["account_222222222222", "account_prod"]
    assert not [name for name in manager.groups if name.startswith("region_")]
    prod = manager.get_host("prod").vars
    assert prod == {
        "tracing_sweep_regions": ["eu-west-1"],
        "tracing_sweep_account_id": PROD,
        "tracing_sweep_role_arn": PROD_ROLE,
        "tracing_sweep_external_id": "Ext-Id_1",
        "tracing_sweep_account_name": "prod",
        "ansible_connection": "local",
        "ansible_python_interpreter": "{{ ansible_playbook_python }}",
        "inventory_file": prod["inventory_file"],
        "inventory_dir": prod["inventory_dir"],
    }
    unnamed = manager.get_host("222222222222").vars
    assert unnamed["tracing_sweep_regions"] == ["us-east-1", "eu-west-1"]
    for absent in ("tracing_sweep_region", "tracing_sweep_role_arn", "tracing_sweep_external_id", "tracing_sweep_account_name",
                   "tracing_sweep_allow_unknown_regions"):
        assert absent not in unnamed


def test_host_per_region_is_the_default(write):
    assert sorted(parse(write(dict(STATIC, host_per="region"))).hosts) == sorted(parse(write(STATIC)).hosts) == [
        "222222222222_eu-west-1", "222222222222_us-east-1", "prod_eu-west-1",
    ]


@pytest.mark.skipif(is_trusted_as_template is None, reason="ansible-core < 2.19 has no template trust")
def test_host_per_account_regions_are_plain_values(write):
    variables = parse(write(dict(STATIC, host_per="account"))).get_host("222222222222").vars
    assert all(is_trusted_as_template(region) for region in variables["tracing_sweep_regions"])
    assert is_trusted_as_template(variables["ansible_python_interpreter"])


def test_host_per_account_with_enabled_regions(write, accounts):
    """The account host lists exactly the regions the per-region hosts would be made for, in their order."""
    accounts.regions = {
        PROD: described("us-west-2", "eu-west-1", "us-east-1", "ap-east-1", not_enabled=["me-south-1"]),
        DEV: described("us-east-1", "eu-west-1"),
    }
    config = {
        "regions": "enabled",
        "exclude_regions": ["ap-east-1", "me-south-1"],
        "accounts": [{"id": PROD, "name": "prod", "role_arn": PROD_ROLE}, {"id": DEV, "regions": ["eu-west-1", "us-east-1"]}],
    }
    per_region = parse(write(config))
    inventory = parse(write(dict(config, host_per="account")))

    assert sorted(inventory.hosts) == ["222222222222", "prod"]
    assert host_vars(inventory, "prod")["tracing_sweep_regions"] == ["eu-west-1", "us-east-1", "us-west-2"]
    assert host_vars(inventory, "222222222222")["tracing_sweep_regions"] == ["eu-west-1", "us-east-1"]
    assert host_vars(inventory, "prod")["tracing_sweep_role_arn"] == PROD_ROLE
    # The same targets, by name and in order, as the per-region hosts.
    targets = ["%s_%s" % (name, region) for name in ("prod", "222222222222") for region in host_vars(inventory, name)["tracing_sweep_regions"]]
    assert targets == list(per_region.hosts)
    assert children_of(inventory, "tracing_sweep_targets") == ["account_222222222222", "account_prod"]


def test_host_per_account_regions_botocore_does_not_know(write, accounts):
    accounts.regions = {PROD: described("us-east-1", "xx-newregion-1")}
    config = {
        "host_per": "account",
        "allow_unknown_regions": ["xx-newregion-2"],
        "accounts": [
            {"id": PROD, "name": "prod", "role_arn": PROD_ROLE, "regions": "enabled"},
            {"id": DEV, "regions": ["us-east-1", "xx-newregion-2"]},
            {"id": SANDBOX, "regions": ["eu-west-1"]},
        ],
    }
    inventory = parse(write(config))
    assert host_vars(inventory, "prod")["tracing_sweep_regions"] == ["us-east-1", "xx-newregion-1"]
    assert host_vars(inventory, "prod")["tracing_sweep_allow_unknown_regions"] == ["xx-newregion-1"]
    assert host_vars(inventory, DEV)["tracing_sweep_allow_unknown_regions"] == ["xx-newregion-2"]
    assert "tracing_sweep_allow_unknown_regions" not in host_vars(inventory, SANDBOX)


def test_host_per_account_constructed(write):
    config = dict(
        STATIC,
        host_per="account",
        compose={"region_count": "tracing_sweep_regions | length"},
        groups={"in_us_east_1": "'us-east-1' in tracing_sweep_regions"},
        keyed_groups=[{"key": "tracing_sweep_regions", "prefix": "swept"}],
    )
    inventory = parse(write(config))
    assert host_vars(inventory, DEV)["region_count"] == 2
    assert hosts_of(inventory, "in_us_east_1") == [DEV]
    assert hosts_of(inventory, "swept_eu_west_1") == [DEV, "prod"]
    assert hosts_of(inventory, "swept_us_east_1") == [DEV]


@pytest.mark.parametrize(
    "value, shown",
    [("accounts", "'accounts' (did you mean account?)"), (["account"], "a list"), ("Region", "'Region' (did you mean region?)")],
)
def test_bad_host_per_fails_the_file_with_its_other_problems_before_any_call(write, value, shown):
    # The autouse no_aws fixture fails the test on any client creation; organization would need ListAccounts.
    config = {"host_per": value, "regions": "enabled", "accounts": [{"id": PROD, "rgions": []}], "organization": {"role_name": "R"}}
    path = write(config)
    message = parse_error(path)
    assert message.split("\n") == [
        "%s: 2 problems in the accounts inventory:" % path,
        "- host_per: must be region (one host per account and region, the default) or account (one host per account, its regions in "
        "tracing_sweep_regions), got " + shown,
        "- accounts[0]: unknown key 'rgions' (did you mean regions?): allowed keys are exclude_regions, external_id, id, name, regions, role_arn",
    ]


def test_host_per_account_label_that_is_a_group_fails_before_any_host(write):
    config = {
        "host_per": "account",
        "regions": ["us-east-1"],
        "accounts": [{"id": PROD, "name": "tracing_sweep_targets"}, {"id": DEV, "name": "dev"}, {"id": SANDBOX, "name": "account_dev"}],
    }
    path = write(config)
    inventory = InventoryData()
    with pytest.raises(AnsibleParserError) as raised:
        inventory_loader.get(PLUGIN).parse(inventory, DataLoader(), path, cache=False)
    assert str(raised.value).split("\n")[1:] == [
        "- accounts[0]: the label 'tracing_sweep_targets' names its host with host_per: account, and tracing_sweep_targets is also the group "
        "of every target: a host must not have a group's name; give the account another name",
        "- accounts[2]: the label 'account_dev' names its host with host_per: account, and account_dev is also the group of accounts[1]: "
        "a host must not have a group's name; give the account another name",
    ]
    assert not inventory.hosts
    # The groups option's names are groups too; one host per region never has a group's name.
    config = dict(config, accounts=[{"id": PROD, "name": "prod"}], groups={"prod": "true"})
    assert "- accounts[0]: the label 'prod' names its host with host_per: account, and prod is also a group of the groups option" in parse_error(write(config))
    assert sorted(parse(write(dict(config, host_per="region"))).hosts) == ["prod_us-east-1"]
