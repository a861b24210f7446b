# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: accounts
short_description: One host per AWS account and region, the targets of the tracing sweep
version_added: 1.0.0
author:
  - Cloudops Maintainers (@cloudops)
description:
  - Builds one inventory host per AWS account and region from a YAML file, for the C(cloudops.apigw_tracing.tracing_sweep)
    role and the C(cloudops.apigw_tracing.audit) and C(cloudops.apigw_tracing.enforce) playbooks.
  - Accounts come from a static list (O(accounts)), from the active accounts of an AWS Organization (O(organization)),
    or both. A static-only file makes no AWS call at all.
  - The file must be named C(accounts.yml) or C(accounts.yaml), or end with C(.accounts.yml) or C(.accounts.yaml),
    for example C(prod.accounts.yml). Other files are left to other inventory plugins.
  - The host name is C(<label>_<region>), for example C(prod_eu-west-1). The label is the account name with every
    character other than a letter, a digit, C(_) or C(-) replaced by C(_), or the account id when the account has no name.
    Labels must be unique.
  - 'Host variables: C(tracing_sweep_region), C(tracing_sweep_account_id), C(tracing_sweep_role_arn) (when the account has
    a role), C(tracing_sweep_external_id) (when it has an external id), C(tracing_sweep_account_name) (when it has a name),
    C(ansible_connection=local) and C(ansible_python_interpreter={{ ansible_playbook_python }}).'
  - Groups, all children of C(tracing_sweep_targets) - C(account_<label>) (with C(-) replaced by C(_)) and
    C(region_<region>) (for example C(region_eu_west_1)).
  - 'Every rule is checked before any host is added; a file that breaks one fails with a message naming the entry and the
    rule, for example C(accounts[1].id: must be a 12-digit AWS account id in quotes, got 12345).'
notes:
  - With O(organization), the plugin calls C(organizations:ListAccounts) with the controller's credentials (the credential
    options below, environment variables, or the SDK's configuration files), or with the role in O(assume_role_arn).
    That must be the organization's management account or a delegated administrator account.
  - C(organizations:ListAccounts) (and C(sts:AssumeRole) for O(assume_role_arn)) go to the region that serves
    Organizations in the partition, C(us-east-1) for C(aws). When O(endpoint_url) is not set, the SDK's own
    C(AWS_ENDPOINT_URL) and C(AWS_ENDPOINT_URL_ORGANIZATIONS) settings apply.
  - The credential options (O(access_key), O(profile), O(endpoint_url), O(assume_role_arn)...) are only used with
    O(organization).
  - O(accounts), O(organization) and O(regions) may hold Jinja2 templates (for example a lookup of the external id) and
    vaulted values; they are rendered before the rules are checked.
  - The external id is a secret, and it is a host variable, so C(ansible-inventory --list) shows it.
  - With O(cache), only the answer of C(organizations:ListAccounts) is cached; the rest of the file is read every time.
extends_documentation_fragment:
  - inventory_cache
  - constructed
  - amazon.aws.boto3
  - amazon.aws.common.plugins
  - amazon.aws.assume_role.plugins
options:
  plugin:
    description:
      - Marks the file as this plugin's configuration.
    type: str
    required: true
    choices: ['cloudops.apigw_tracing.accounts']
  regions:
    description:
      - Regions to sweep in every account that does not list its own (O(accounts[].regions), O(organization.regions)).
      - Each must look like C(us-east-1); each may be listed once.
    type: list
    elements: str
    default: []
  accounts:
    description:
      - The accounts to sweep.
      - An entry whose O(accounts[].id) is an active account of the organization (O(organization)) overrides that account's
        name, role, external id and regions with the keys it sets, and keeps the others. An entry is always included, even
        when the organization does not list the account, lists it as not active, or O(organization.exclude) names it.
      - Each account may be listed once.
    type: list
    elements: dict
    default: []
    suboptions:
      id:
        description:
          - The 12-digit account id, as a string (quote it in YAML).
        type: str
        required: true
      name:
        description:
          - The account's name, its label in host and group names (see above) and C(tracing_sweep_account_name).
          - Without a name, the account id is the label.
        type: str
      role_arn:
        description:
          - The IAM role to assume in the account, for example C(arn:aws:iam::111111111111:role/TracingAudit).
          - It must be in the account O(accounts[].id) names.
          - Without a role, the sweep uses the controller's credentials in that account.
        type: str
      external_id:
        description:
          - The external id to give when assuming O(accounts[].role_arn), 2 to 1224 characters of letters, digits
            and C(_+=,.@:/-).
          - Needs a role.
        type: str
      regions:
        description:
          - The regions to sweep in this account, instead of O(regions). Not empty.
        type: list
        elements: str
  organization:
    description:
      - Also sweep every active account (C(State) ACTIVE, or C(Status) where the answer has no C(State)) of the AWS
        Organization the controller's credentials can list.
      - The organization's account name is the account's name (label).
    type: dict
    suboptions:
      role_name:
        description:
          - The role to assume in every account of the organization, optionally after a path, for example C(TracingAudit)
            or C(audit/TracingAudit). The role ARN is C(arn:<partition>:iam::<account id>:role/<role_name>).
        type: str
        required: true
      partition:
        description:
          - The partition of the organization and of the role ARNs.
        type: str
        default: aws
        choices: ['aws', 'aws-cn', 'aws-us-gov']
      exclude:
        description:
          - Account ids (12 digits, quoted) of the organization to leave out.
        type: list
        elements: str
      external_id:
        description:
          - The external id to give when assuming the role in every account of the organization.
        type: str
      regions:
        description:
          - The regions to sweep in the organization's accounts, instead of O(regions). Not empty.
        type: list
        elements: str
"""

EXAMPLES = r"""
# prod.accounts.yml - two accounts, listed by hand (no AWS call)
plugin: cloudops.apigw_tracing.accounts
regions: [us-east-1, eu-west-1]
accounts:
  - id: "111111111111"
    name: prod
    role_arn: arn:aws:iam::111111111111:role/TracingAudit
    regions: [eu-west-1]
    external_id: "{{ lookup('ansible.builtin.env', 'TRACING_EXTERNAL_ID') }}"
  - id: "222222222222"    # no role: the controller's credentials
# Hosts: prod_eu-west-1, 222222222222_us-east-1, 222222222222_eu-west-1
# Groups: tracing_sweep_targets > account_prod, account_222222222222, region_us_east_1, region_eu_west_1

---
# org.accounts.yml - every active account of the organization, except one
plugin: cloudops.apigw_tracing.accounts
regions: [us-east-1, eu-west-1]
organization:
  role_name: audit/TracingAudit
  exclude: ["333333333333"]
accounts:
  - id: "111111111111"    # only in eu-west-1, with another role
    regions: [eu-west-1]
    role_arn: arn:aws:iam::111111111111:role/ProdTracingAudit
# Credentials: the AWS_* environment variables, or profile, or access_key/secret_key in this file.
profile: org-management

---
# Extra groups and variables (constructed)
plugin: cloudops.apigw_tracing.accounts
regions: [us-east-1]
accounts:
  - id: "111111111111"
    name: prod
keyed_groups:
  - key: tracing_sweep_account_id
    prefix: id
compose:
  sweep_label: tracing_sweep_account_name | default(tracing_sweep_account_id)
"""

from ansible import constants as C
from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin
from ansible.utils.unsafe_proxy import wrap_var

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.botocore import paginated_query_with_retries
from ansible_collections.amazon.aws.plugins.plugin_utils.botocore import AnsibleBotocoreError
from ansible_collections.amazon.aws.plugins.plugin_utils.inventory import AWSInventoryBase

from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils.accounts_config import FREE_TEXT_VARIABLES
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils.accounts_config import PARENT_GROUP
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils.accounts_config import AccountsConfigError
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils.accounts_config import build_hosts
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils.accounts_config import config_problems
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils.accounts_config import organization_region
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils.accounts_config import resolve_targets
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils.accounts_config import unknown_keys_problems

try:
    from ansible.template import trust_as_template
except ImportError:  # ansible-core < 2.19 templates every plain string already

    def trust_as_template(value):
        return value


try:
    import botocore
except ImportError:
    pass  # the SDK is only needed with organization; require_aws_sdk() says so then

FILE_NAMES = ("accounts.yml", "accounts.yaml")
FILE_SUFFIXES = (".accounts.yml", ".accounts.yaml")
# Only these keys of a ListAccounts item are kept (and cached): the rest (e-mail...) is not needed.
LISTED_KEYS = ("Id", "Name", "State", "Status")


class InventoryModule(AWSInventoryBase):
    NAME = "cloudops.apigw_tracing.accounts"

    class TemplatedOptions(AWSInventoryBase.TemplatedOptions):
        """Renders templates in the credential options and in this plugin's own options.

        amazon.aws's version passes ``disable_lookups=False`` to the templar, which ansible-core 2.19
        deprecates with a warning on every use; lookups are allowed by default anyway.
        """

        TEMPLATABLE_OPTIONS = AWSInventoryBase.TemplatedOptions.TEMPLATABLE_OPTIONS + ("accounts", "organization")

        def get(self, *args):
            value = self.original_options.get(*args)
            if not value or not self.templar or args[0] not in self.TEMPLATABLE_OPTIONS:
                return value
            return self.templar.template(value)

    def verify_file(self, path):
        """Only accounts.yml / accounts.yaml, or names ending in .accounts.yml / .accounts.yaml."""
        if not super().verify_file(path):
            return False
        base = path.replace("\\", "/").rsplit("/", 1)[-1]
        if base in FILE_NAMES or base.endswith(FILE_SUFFIXES):
            return True
        self.display.vvv(
            "Skipping %s: a %s file must be named accounts.yml or accounts.yaml, or end with .accounts.yml or .accounts.yaml" % (path, self.NAME)
        )
        return False

    def parse(self, inventory, loader, path, cache=True):
        # Not AWSInventoryBase.parse(): it requires boto3 and assumes assume_role_arn at once, and this
        # plugin must not touch AWS (nor need the SDK) unless organization is set.
        BaseInventoryPlugin.parse(self, inventory, loader, path, cache=cache)
        raw = self._read_config_data(path)

        regions = self.get_option("regions")
        accounts = self.get_option("accounts")
        organization = self.get_option("organization")

        problems = unknown_keys_problems(raw, self._known_options(), "")
        problems.extend(config_problems(regions, accounts, organization))
        if problems:
            raise self._config_error(path, problems)

        listed = self._organization_accounts(path, cache, organization) if organization is not None else None
        try:
            targets = resolve_targets(regions, accounts, organization, listed)
        except AccountsConfigError as exc:
            raise self._config_error(path, exc.problems) from None
        self._populate(build_hosts(targets))

    # ---- configuration ------------------------------------------------------------------------

    def _known_options(self):
        """Option names and aliases a file may set (ansible-core itself ignores unknown ones)."""
        known = set()
        for name, definition in C.config.get_configuration_definitions(self.plugin_type, self._load_name).items():
            known.add(name)
            known.update(definition.get("aliases") or [])
        return known

    @staticmethod
    def _config_error(path, problems):
        count = "1 problem" if len(problems) == 1 else "%d problems" % len(problems)
        return AnsibleParserError("%s: %s in the accounts inventory:\n%s" % (path, count, "\n".join("- " + problem for problem in problems)))

    # ---- AWS ----------------------------------------------------------------------------------

    def _do_fail(self, message):
        raise AnsibleParserError(message)

    def client(self, *args, **kwargs):
        # Organizations is global and served from one region per partition; STS (assume_role_arn)
        # goes there too, so no region needs to be configured.
        kwargs.setdefault("region", self._home_region)
        return super().client(*args, **kwargs)

    @property
    def _home_region(self):
        organization = self.get_option("organization") or {}
        return organization_region(organization.get("partition"))

    def _assume_role_failed(self, exc):
        role = self.get_option("assume_role_arn")
        self.fail_aws("assume_role_arn: could not assume %s to list the organization's accounts (sts:AssumeRole)" % role, exception=exc)

    def _organization_accounts(self, path, cache, organization):
        """The ListAccounts items (Id, Name, State, Status), from the cache when allowed and present."""
        cached, listed = self.get_cached_result(path, cache)
        if cached:
            return listed
        try:
            self.require_aws_sdk()
        except AnsibleBotocoreError as exc:
            self.fail_aws(exc.message)
        try:
            self._set_frozen_credentials()
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
            # amazon.aws 10 only turns its own errors into a message; AssumeRole's own ones arrive here.
            self._assume_role_failed(exc)
        except AnsibleParserError as exc:
            # amazon.aws 11 fails with its own message while handling AssumeRole's error: give the same message
            # as with 10, which names the option. A failure with no SDK error behind it is passed on as it is.
            if not isinstance(exc.__context__, (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError)):
                raise
            self._assume_role_failed(exc.__context__)
        try:
            answer = paginated_query_with_retries(self.client("organizations"), "list_accounts")
        except is_boto3_error_code("AWSOrganizationsNotInUseException"):
            self.fail_aws("organization: the controller's account is not in an AWS Organization (organizations:ListAccounts)")
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
            self.fail_aws(
                "organization: could not list the accounts of the AWS Organization (organizations:ListAccounts in %s, which needs the "
                "management account or a delegated administrator, partition %s)" % (self._home_region, organization.get("partition") or "aws"),
                exception=exc,
            )
        listed = [{key: account[key] for key in LISTED_KEYS if key in account} for account in answer.get("Accounts", [])]
        self.update_cached_result(path, cache, listed)
        return listed

    # ---- inventory ----------------------------------------------------------------------------

    def _populate(self, hosts):
        strict = self.get_option("strict")
        self.inventory.add_group(PARENT_GROUP)
        for host in hosts:
            self.inventory.add_host(host.name)
            for group in host.groups:
                self.inventory.add_group(group)
                self.inventory.add_child(PARENT_GROUP, group)
                self.inventory.add_child(group, host.name)
            for key, value in host.variables.items():
                if key in FREE_TEXT_VARIABLES:
                    # An account name (from AWS, or a rendered template) is data, never a template.
                    value = wrap_var(value)
                else:
                    # ansible-core 2.19 renders only trusted templates (ansible_python_interpreter must be
                    # rendered) and shows the other strings as __ansible_unsafe; these values hold no '{'.
                    value = trust_as_template(str(value))
                self.inventory.set_variable(host.name, key, value)

            host_vars = self.inventory.get_host(host.name).get_vars()
            self._set_composite_vars(self.get_option("compose"), host_vars, host.name, strict=strict)
            host_vars = self.inventory.get_host(host.name).get_vars()
            self._add_host_to_composed_groups(self.get_option("groups"), host_vars, host.name, strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), host_vars, host.name, strict=strict)
