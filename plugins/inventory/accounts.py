# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: accounts
short_description: One host per AWS account and region, or per account, the targets of the tracing sweep
version_added: 1.0.0
author:
  - Cloudops Maintainers (@cloudops)
description:
  - Builds one inventory host per AWS account and region (or, with O(host_per=account), one per account) from a YAML file,
    for the C(cloudops.apigw_tracing.tracing_sweep) role and the C(cloudops.apigw_tracing.audit) and
    C(cloudops.apigw_tracing.enforce) playbooks.
  - Accounts come from a static list (O(accounts)), from the active accounts of an AWS Organization (O(organization)),
    or both. A static-only file with lists of regions makes no AWS call at all.
  - The regions are listed (O(regions), O(accounts[].regions), O(organization.regions)), or C(enabled) - every region
    enabled in the account, which the plugin asks each account for (see the notes), less O(exclude_regions).
  - The file must be named C(accounts.yml) or C(accounts.yaml), or end with C(.accounts.yml) or C(.accounts.yaml),
    for example C(prod.accounts.yml). Other files are left to other inventory plugins.
  - The host name is C(<label>_<region>), for example C(prod_eu-west-1); with O(host_per=account) it is C(<label>),
    for example C(prod). The label is the account name with every character other than a letter, a digit, C(_) or C(-)
    replaced by C(_), or the account id when the account has no name. Labels must be unique.
  - 'Host variables: C(tracing_sweep_region), C(tracing_sweep_account_id), C(tracing_sweep_role_arn) (when the account has
    a role), C(tracing_sweep_external_id) (when it has an external id), C(tracing_sweep_account_name) (when it has a name),
    C(tracing_sweep_allow_unknown_regions) (a list of the host region, when the installed botocore does not know it; see
    O(allow_unknown_regions)), C(ansible_connection=local) and C(ansible_python_interpreter={{ ansible_playbook_python }}).'
  - With O(host_per=account), the same variables, except that C(tracing_sweep_regions), the list of the account's regions
    (in the order of the per-region hosts), takes the place of C(tracing_sweep_region), and that
    C(tracing_sweep_allow_unknown_regions) lists those of them the installed botocore does not know (when there is any).
  - Groups, all children of C(tracing_sweep_targets) - C(account_<label>) (with C(-) replaced by C(_)) and
    C(region_<region>) (for example C(region_eu_west_1)). With O(host_per=account), C(account_<label>) only - an account
    host is in every one of its regions, so the plugin makes no region group.
  - 'Every rule is checked before any host is added; a file that breaks one fails with a message naming the entry and the
    rule, for example C(accounts[1].id: must be a 12-digit AWS account id in quotes, got 12345).'
  - Every region the file names (O(regions), O(exclude_regions), and the same options of O(accounts) and O(organization))
    must be a region of a partition the installed botocore knows, from the endpoint data it ships; a typo such as
    C(eu-wset-1) fails the file before any AWS call, with the closest region (C(did you mean eu-west-1?)). A region newer than
    the installed botocore is listed in O(allow_unknown_regions), or botocore is upgraded.
notes:
  - With O(organization), the plugin calls C(organizations:ListAccounts) with the controller's credentials (the credential
    options below, environment variables, or the SDK's configuration files), or with the role in O(assume_role_arn).
    That must be the organization's management account or a delegated administrator account.
  - C(organizations:ListAccounts) (and C(sts:AssumeRole) for O(assume_role_arn)) go to the region that serves
    Organizations in the partition, C(us-east-1) for C(aws). When O(endpoint_url) is not set, the SDK's own
    C(AWS_ENDPOINT_URL) and C(AWS_ENDPOINT_URL_ORGANIZATIONS) settings apply.
  - The credential options (O(access_key), O(profile), O(endpoint_url), O(assume_role_arn)...) are only used with
    O(organization) and O(regions=enabled) (which does not use O(assume_role_arn)).
  - O(accounts), O(organization) and O(regions) may hold Jinja2 templates (for example a lookup of the external id) and
    vaulted values; they are rendered before the rules are checked.
  - The external id is a secret, and it is a host variable, so C(ansible-inventory --list) shows it.
  - With O(cache), only the answer of C(organizations:ListAccounts) is cached; the rest of the file is read every time.
  - With O(regions=enabled), the plugin asks each such account for its regions, in parallel (8 at a time), once per
    process, before it adds any host. It assumes the account's role (C(sts:AssumeRole), with the external id when
    there is one) with the controller's credentials (the credential options below but O(assume_role_arn), environment
    variables, or the SDK's configuration files), or, for an account without a role, checks that those credentials are
    in that account (C(sts:GetCallerIdentity)). Then it calls C(ec2:DescribeRegions) with C(AllRegions) through
    that role and keeps the regions whose C(OptInStatus) is C(opt-in-not-required) or C(opted-in).
  - Both calls go to the first region of the account's partition, C(us-east-1) for C(aws), C(cn-northwest-1) for
    C(aws-cn), C(us-gov-west-1) for C(aws-us-gov); the partition is the role ARN's, else O(organization.partition),
    else C(aws). O(endpoint_url) and the SDK's C(AWS_ENDPOINT_URL) settings apply, as for Organizations.
  - The account's role needs C(ec2:DescribeRegions) (in the shipped audit and enforce policies).
  - 'An account that cannot be swept with O(regions=enabled) fails the whole file, after every account was asked, with
    one line per account naming the call and the cause AWS gave, for example
    "account 111111111111 (accounts[0]): could not assume ... (sts:AssumeRole in us-east-1) ...: AccessDenied: ...".
    No host is added, as with a file that breaks a rule. So do an account whose answer has no enabled region, one whose every enabled region is excluded, and an
    O(exclude_regions) entry that the answer does not list at all (a typo, or a region of another partition; the
    message suggests the closest name; one line for all the accounts it applies to). Excluding a region the account
    has not enabled is fine.'
  - 'Each account asked prints one line on standard error, with how many regions it got, for example
    "accounts inventory: 111111111111 (prod): 17 enabled regions (2 excluded)".'
  - With O(cache), the regions of O(regions=enabled) are not cached; they are asked again in every process.
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
      - Each must be a region the installed botocore knows, such as C(us-east-1), or one O(allow_unknown_regions) lists; each
        may be listed once.
      - Or the word C(enabled), on its own and not in a list, for every region enabled in each account (see the notes).
        Nothing close to it is read as it (C(Enabled), C(enabled ), C([enabled]) are errors), and it must be written as
        it is, not rendered from a template.
    type: list
    elements: str
    default: []
  host_per:
    description:
      - What one inventory host stands for.
      - V(region), one host per account and region, named C(<label>_<region>), with C(tracing_sweep_region).
      - V(account), one host per account, named C(<label>), with C(tracing_sweep_regions), the list of its regions (after
        O(regions=enabled) and the exclusions, exactly the regions the per-region hosts would have). The
        C(cloudops.apigw_tracing.tracing_sweep) role sweeps each region of such a host as the target C(<label>_<region>),
        the name of the per-region host, so reports, run history and Security Hub findings name the same targets with either value.
      - V(account) is for an estate with many regions per account, most of them empty - Ansible's cost is per host, so one
        host per account sweeps faster than one per region. C(--limit) and AWX job slicing then select accounts, not
        regions; the hosts are in no C(region_<region>) group.
      - With V(account), a label must not be the name of a group - C(tracing_sweep_targets), another account's
        C(account_<label>), a name of the O(groups) option, C(all) or C(ungrouped); such a label fails the file before
        any host is added.
    type: str
    default: region
    choices: ['region', 'account']
    version_added: 1.2.0
  allow_unknown_regions:
    description:
      - Regions to accept although the installed botocore does not know them, because they are newer than it, for example
        C([xx-newregion-1]). Every other region the file names must be one of the regions botocore's endpoint data lists for
        its partitions, so that a typo is refused before any AWS call instead of being swept (each call retried, then failed).
      - Each must look like C(us-east-1); each may be listed once. A region listed here that botocore knows is accepted as usual.
      - The hosts of such a region get the host variable C(tracing_sweep_allow_unknown_regions), so that the
        C(cloudops.apigw_tracing.tracing_sweep) role accepts their region too. So do the hosts of a region that
        O(regions=enabled) found (AWS listed it) and that the installed botocore does not know.
    type: list
    elements: str
    default: []
    version_added: 1.1.0
  exclude_regions:
    description:
      - Regions not to sweep where the regions are C(enabled), in every account that does not set its own
        (O(accounts[].exclude_regions), O(organization.exclude_regions)).
      - Each must be a region the installed botocore knows (or one O(allow_unknown_regions) lists) and a region of the
        account's partition; each may be listed once.
      - Only with O(regions=enabled) - a list of regions is swept as listed, so an O(exclude_regions) beside a list set
        at the same place or a less specific one is an error.
    type: list
    elements: str
    version_added: 1.1.0
  accounts:
    description:
      - The accounts to sweep.
      - An entry whose O(accounts[].id) is an active account of the organization (O(organization)) overrides that account's
        name, role, external id, regions and excluded regions with the keys it sets, and keeps the others. An entry is always included, even
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
          - Or C(enabled), for every region enabled in the account.
        type: raw
      exclude_regions:
        description:
          - Regions not to sweep in this account where its regions are C(enabled), instead of O(exclude_regions) and
            O(organization.exclude_regions). An empty list excludes nothing.
        type: list
        elements: str
        version_added: 1.1.0
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
          - Or C(enabled), for every region enabled in each account.
        type: raw
      exclude_regions:
        description:
          - Regions not to sweep in the organization's accounts where their regions are C(enabled), instead of
            O(exclude_regions).
        type: list
        elements: str
        version_added: 1.1.0
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
# enabled.accounts.yml - every region enabled in each account, but two
plugin: cloudops.apigw_tracing.accounts
regions: enabled
exclude_regions: [ap-east-1, me-south-1]
organization:
  role_name: TracingAudit
accounts:
  - id: "111111111111"    # its own exclusions instead of the top-level ones
    exclude_regions: []
  - id: "222222222222"    # a list is swept as listed
    regions: [eu-west-1]
# Standard error - accounts inventory: 111111111111 (prod): 17 enabled regions

---
# account.accounts.yml - one host per account, its regions inside it
plugin: cloudops.apigw_tracing.accounts
host_per: account
regions: enabled
accounts:
  - id: "111111111111"
    name: prod
    role_arn: arn:aws:iam::111111111111:role/TracingAudit
# Host: prod, with tracing_sweep_regions [eu-west-1, us-east-1, ...] (its enabled regions)
# Groups: tracing_sweep_targets > account_prod
# The role sweeps the targets prod_eu-west-1, prod_us-east-1, ...

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

from ansible_collections.amazon.aws.plugins.plugin_utils.botocore import get_aws_connection_info

from ansible_collections.cloudops.apigw_tracing.plugins.module_utils import _aws
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._inventory import region_discovery as _region_discovery
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._inventory.accounts_config import ENABLED
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._inventory.accounts_config import FREE_TEXT_VARIABLES
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._inventory.accounts_config import HOST_PER
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._inventory.accounts_config import PARENT_GROUP
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._inventory.accounts_config import AccountsConfigError
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._inventory.accounts_config import account_description
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._inventory.accounts_config import build_hosts
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._inventory.accounts_config import choose_regions
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._inventory.accounts_config import config_problems
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._inventory.accounts_config import host_per_problem
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._inventory.accounts_config import is_enabled
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._inventory.accounts_config import organization_region
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._inventory.accounts_config import resolve_targets
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._inventory.accounts_config import unknown_exclusion_problems
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._inventory.accounts_config import unknown_keys_problems
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._inventory.accounts_config import with_regions

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

    def set_options(self, task_keys=None, var_options=None, direct=None):
        # A host_per that is not one of its choices is refused by parse() with the file's other problems, in one message
        # that names the file; ansible-core would refuse it first, on its own, if it were handed in.
        if isinstance(direct, dict) and direct.get(HOST_PER) is not None and host_per_problem(direct[HOST_PER]):
            direct = {key: value for key, value in direct.items() if key != HOST_PER}
        super().set_options(task_keys=task_keys, var_options=var_options, direct=direct)

    def parse(self, inventory, loader, path, cache=True):
        # Not AWSInventoryBase.parse(): it requires boto3 and assumes assume_role_arn at once, and this
        # plugin must not touch AWS (nor need the SDK) unless organization is set.
        BaseInventoryPlugin.parse(self, inventory, loader, path, cache=cache)
        raw = self._read_config_data(path)

        regions = self._regions_as_written(raw)
        exclude_regions = self.get_option("exclude_regions")
        accounts = self.get_option("accounts")
        organization = self.get_option("organization")
        allow_unknown_regions = self.get_option("allow_unknown_regions")

        problems = unknown_keys_problems(raw, self._known_options(), "")
        host_per_written = raw.get(HOST_PER) if isinstance(raw, dict) else None
        problems.extend(config_problems(regions, accounts, organization, exclude_regions, allow_unknown_regions, host_per_written))
        if problems:
            raise self._config_error(path, problems)
        host_per = self.get_option(HOST_PER)

        listed = self._organization_accounts(path, cache, organization) if organization is not None else None
        try:
            targets = resolve_targets(regions, accounts, organization, listed, exclude_regions, host_per, self._composed_group_names())
        except AccountsConfigError as exc:
            raise self._config_error(path, exc.problems) from None
        if any(is_enabled(target.regions) for target in targets):
            targets = self._enabled_regions(path, targets, organization)
        self._populate(build_hosts(targets, host_per))

    # ---- configuration ------------------------------------------------------------------------

    def _known_options(self):
        """Option names and aliases a file may set (ansible-core itself ignores unknown ones)."""
        known = set()
        for name, definition in C.config.get_configuration_definitions(self.plugin_type, self._load_name).items():
            known.add(name)
            known.update(definition.get("aliases") or [])
        return known

    def _regions_as_written(self, raw):
        """The top-level regions: the word enabled, or a string that is nearly it, as written; else the option's list.

        Ansible reads a string given for a list option as a comma-separated list, which would turn
        ``regions: "Enabled "`` into ['Enabled']: the file's own value tells the word from a list.
        """
        written = raw.get("regions") if isinstance(raw, dict) else None
        if isinstance(written, str) and (written == ENABLED or written.strip().strip("'\"").strip().lower() == ENABLED):
            return str(written)
        return self.get_option("regions")

    def _composed_group_names(self):
        """The groups the groups option makes, named as constructed names them (the keyed_groups depend on values)."""
        groups = self.get_option("groups")
        return [self._sanitize_group_name(name) for name in groups] if isinstance(groups, dict) else []

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

    def _enabled_regions(self, path, targets, organization):
        """The targets with regions: enabled given the regions enabled in their accounts (ec2:DescribeRegions).

        Every account is asked (in parallel) before anything fails, so that one run names every account that
        cannot be swept; any such account fails the whole file, as a bad entry does: a sweep must never leave
        an account out without a word.
        """
        try:
            self.require_aws_sdk()
        except AnsibleBotocoreError as exc:
            self.fail_aws("regions: enabled needs the AWS SDK: %s" % exc.message)
        _region, endpoint_url, connect_kwargs = get_aws_connection_info(self)
        try:
            client = _aws.client_factory(endpoint_url, connect_kwargs)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
            self.fail_aws("regions: enabled: could not use the controller's AWS credentials to list the accounts' regions", exception=exc)
        default_partition = (organization or {}).get("partition")
        asked = [target for target in targets if is_enabled(target.regions)]
        accounts = [
            _region_discovery.Account(
                account_id=target.account_id,
                role_arn=target.role_arn,
                external_id=target.external_id,
                partition=_region_discovery.partition_of(target.role_arn, default_partition),
            )
            for target in asked
        ]
        scope = (endpoint_url, connect_kwargs.get("profile_name"), connect_kwargs.get("aws_access_key_id"))
        answers = dict(zip((id(target) for target in asked), _region_discovery.discover(accounts, client, scope=scope)))

        problems = []
        unknown = {}
        failed = 0
        resolved = []
        for target in targets:
            if not is_enabled(target.regions):
                resolved.append(target)
                continue
            answer = answers[id(target)]
            if answer.error:
                failed += 1
                problems.append("%s: %s" % (account_description(target), answer.error))
                continue
            choice = choose_regions(target, answer.described, answer.where, answer.foreign)
            if choice.problems:
                failed += 1
                if choice.unknown:
                    for key in choice.unknown:
                        unknown.setdefault(key, []).append((target, choice))
                else:
                    problems.extend(choice.problems)
                continue
            self.display.display("accounts inventory: %s" % self._regions_line(target, choice), stderr=True)
            resolved.append(with_regions(target, choice.regions))
        # An exclusion no answer lists: one message per account, or one for all the accounts it applies to.
        for key, found in unknown.items():
            if len(found) == 1:
                target, choice = found[0]
                problems.append(choice.problems[choice.unknown.index(key)])
            else:
                problems.extend(unknown_exclusion_problems({key: [target for target, _choice in found]}))
        if problems:
            raise AnsibleParserError(
                "%s: regions: enabled: %d of %d account%s cannot be swept, so the file adds no host:\n%s"
                % (path, failed, len(asked), "" if len(asked) == 1 else "s", "\n".join("- " + problem for problem in problems))
            )
        return resolved

    @staticmethod
    def _regions_line(target, choice):
        """'111111111111 (prod): 17 enabled regions (2 excluded)', and at -vv which ones."""
        label = "%s (%s)" % (target.account_id, target.name) if target.name else target.account_id
        count = "%d enabled region%s" % (len(choice.regions), "" if len(choice.regions) == 1 else "s")
        extra = []
        if choice.excluded:
            extra.append("%d excluded" % len(choice.excluded))
        if choice.excluded_not_enabled:
            extra.append("excluded but not enabled: %s" % ", ".join(choice.excluded_not_enabled))
        return "%s: %s%s" % (label, count, " (%s)" % "; ".join(extra) if extra else "")

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
                elif isinstance(value, list):
                    # Region names (tracing_sweep_allow_unknown_regions): no '{' either.
                    value = [trust_as_template(str(item)) for item in value]
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
