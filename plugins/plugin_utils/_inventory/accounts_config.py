# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Private to this collection: not an API, may change in any release.

"""Configuration rules and host building of the cloudops.apigw_tracing.accounts inventory plugin.

Pure Python, no AWS and no Ansible: the plugin hands in the option values (and, in organization
mode, the accounts ListAccounts returned) and gets back problem messages or the hosts to add.
Every problem names the entry and the rule, e.g.
``accounts[1].id: must be a 12-digit AWS account id in quotes, got 12345``.

One host is one account x region (``host_per: region``, the default). Its name is ``<label>_<region>``, the
label being the account name with every character outside [A-Za-z0-9_-] replaced by '_', or the account id
when the account has no name. Regions contain no '_', so distinct (label, region) pairs always give
distinct host names: checking that labels are unique is enough. Such a name always holds a '-' (the
region's), which no group name the plugin makes holds, so it never names a group too.

With ``host_per: account`` one host is one account, named ``<label>``, with the list of its regions
(``tracing_sweep_regions``); the role sweeps each as the target ``<label>_<region>``, the name the
per-region host would have. A label may be a group's name (``tracing_sweep_targets``, another
account's ``account_<label>``): ``account_host_problems`` refuses it.

``regions`` (top level, per account, or for the organization) is a list of region names or the word
``enabled``: every region enabled in the account, which the plugin asks each account for
(ec2:DescribeRegions, plugin_utils/_inventory/region_discovery.py). ``exclude_regions`` (at the same three places)
takes regions out of ``enabled``; the regions of a list are swept as listed. ``choose_regions`` turns one
account's DescribeRegions answer into the regions to sweep.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from dataclasses import field

from ansible_collections.cloudops.apigw_tracing.plugins.module_utils import _rules

# The rules for ids, ARNs, regions, external ids and role names are the collection's own (module_utils/_rules.py),
# the same for the modules, this inventory and the role.
ROLE_NAME_RULE = _rules.ROLE_NAME_RULE

# Organizations is a global service, served from one region of each partition.
ORGANIZATIONS_REGIONS = {"aws": "us-east-1", "aws-cn": "cn-northwest-1", "aws-us-gov": "us-gov-west-1"}
DEFAULT_PARTITION = "aws"

ACCOUNT_KEYS = ("exclude_regions", "external_id", "id", "name", "regions", "role_arn")
ORGANIZATION_KEYS = ("exclude", "exclude_regions", "external_id", "partition", "regions", "role_name")

# ``regions: enabled``: every region enabled in the account, exactly this word (a string, not in a list).
ENABLED = "enabled"
# The OptInStatus of the regions DescribeRegions counts as enabled in an account; the other one AWS
# gives is not-opted-in (an opt-in region the account has not enabled).
ENABLED_OPT_IN_STATUSES = ("opt-in-not-required", "opted-in")
ENABLED_RULE = "the word enabled (lowercase, on its own, not in a list) for every region enabled in the account"

# The account's state in ListAccounts answers. AWS retires ``Status`` on 2026-09-09 in favour of
# ``State``; read ``State`` when the answer has it.
ACTIVE = "ACTIVE"

# The option that lets through regions newer than the installed botocore, which knows every other region.
ALLOW_UNKNOWN_REGIONS = "allow_unknown_regions"
NEW_REGION_EXAMPLE = "xx-newregion-1"
# The role variable the hosts of such a region get, so that the role's own region rule lets them through too.
ALLOW_UNKNOWN_REGIONS_VARIABLE = "tracing_sweep_allow_unknown_regions"

PARENT_GROUP = "tracing_sweep_targets"
PLUGIN_NAME = "cloudops.apigw_tracing.accounts"

# ``host_per``: one host per account and region (the default), or one per account that lists its regions.
HOST_PER = "host_per"
HOST_PER_REGION = "region"
HOST_PER_ACCOUNT = "account"
HOST_PER_CHOICES = (HOST_PER_REGION, HOST_PER_ACCOUNT)
HOST_PER_RULE = (
    "must be region (one host per account and region, the default) or account (one host per account, "
    "its regions in tracing_sweep_regions)"
)
# The host variables of the two layouts: one region, or the account's regions.
REGION_VARIABLE = "tracing_sweep_region"
REGIONS_VARIABLE = "tracing_sweep_regions"
# Groups every Ansible inventory has: no host may be named like them either.
ANSIBLE_GROUPS = ("all", "ungrouped")


class AccountsConfigError(ValueError):
    """The configuration breaks one or more rules; ``problems`` lists them, one message each."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass
class Target:
    """One account to sweep, in every one of its regions.

    ``source`` names the configuration entry (or entries) it came from, for messages. ``regions`` is a
    list, or ENABLED until ``choose_regions`` has the account's answer; ``exclude_regions`` applies to
    ENABLED only, and ``exclude_path`` names the option it came from.
    """

    account_id: str
    regions: list
    source: str
    name: str | None = None
    role_arn: str | None = None
    external_id: str | None = None
    exclude_regions: list = field(default_factory=list)
    exclude_path: str = "exclude_regions"

    @property
    def label(self):
        return account_label(self.name, self.account_id)


@dataclass
class Host:
    """One inventory host: its name, its variables and the groups it belongs to."""

    name: str
    variables: dict = field(default_factory=dict)
    groups: list = field(default_factory=list)


# ---- names -------------------------------------------------------------------------------------


def account_label(name, account_id):
    """The label of an account in host and group names: its name made safe, else its id."""
    if name:
        return re.sub(r"[^A-Za-z0-9_-]", "_", name)
    return account_id


def account_group(label):
    """``account_<label>`` with only the characters Ansible accepts in a group name."""
    return "account_" + re.sub(r"[^A-Za-z0-9_]", "_", label)


def region_group(region):
    return "region_" + region.replace("-", "_")


def host_name(label, region):
    return "%s_%s" % (label, region)


def organization_region(partition):
    """The region that serves Organizations in a partition (``aws`` when None)."""
    return ORGANIZATIONS_REGIONS[partition or DEFAULT_PARTITION]


# ---- single values -----------------------------------------------------------------------------


def _shown(value):
    """A value as a message shows it: strings quoted, the rest as YAML would write them."""
    if isinstance(value, str):
        return repr(str(value))
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _is_str(value):
    return isinstance(value, str)


def account_id_problem(value, path):
    return _rules.account_id_problem(value, path)


def role_arn_problem(value, path, account_id=None):
    """Shape of a role ARN and, when ``account_id`` is a valid id, that the ARN is in that account."""
    return _rules.role_arn_problem(value, path, account_id=account_id, account_path=path.rsplit(".", 1)[0] + ".id")


def region_problem(value, path, allowed=()):
    """A region name the installed botocore knows, or one ``allowed`` (the file's allow_unknown_regions) lists."""
    return _rules.region_problem(value, path, allowed=allowed, opt_out=ALLOW_UNKNOWN_REGIONS)


def external_id_problem(value, path):
    return _rules.external_id_problem(value, path)


def _type_name(value):
    """A YAML-ish type name (Ansible's loader hands in str, int... subclasses with its own names)."""
    if value is None:
        return "null"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, (list, tuple)):
        return "list"
    if isinstance(value, dict):
        return "mapping"
    return type(value).__name__


def _looks_enabled(value):
    return isinstance(value, str) and value.strip().strip("'\"").strip().lower() == ENABLED


def is_enabled(value):
    """Whether a regions value is ``enabled``, the word exactly."""
    return isinstance(value, str) and value == ENABLED


def regions_problems(value, path, allow_enabled=True, allowed=()):
    """A list of distinct region names, or (``allow_enabled``) the word enabled. None means not given and is fine here.

    Each name must be a region of a partition the installed botocore knows, unless ``allowed`` lists it."""
    if value is None:
        return []
    if allow_enabled and isinstance(value, str):
        if value == ENABLED:
            return []
        if _looks_enabled(value):
            return ["%s: must be a list of AWS region names or %s, got %s" % (path, ENABLED_RULE, _rules.describe(value))]
    if not isinstance(value, (list, tuple)):
        if allow_enabled:
            return ["%s: must be a list of AWS region names or %s, got a %s" % (path, ENABLED_RULE, _type_name(value))]
        return ["%s: must be a list of AWS region names, got a %s" % (path, _type_name(value))]
    problems = []
    first_seen = {}
    for index, region in enumerate(value):
        item_path = "%s[%d]" % (path, index)
        problem = region_problem(region, item_path, allowed)
        if problem and allow_enabled and _looks_enabled(region):
            problems.append(
                "%s: %s is not a region name: to sweep every region enabled in the account, write %s: enabled (on its own, not in a list)"
                % (item_path, _rules.describe(region), path.rsplit(".", 1)[-1])
            )
        elif problem:
            problems.append(problem)
        elif region in first_seen:
            problems.append("%s: region %s is already listed at %s[%d]: list each region once" % (item_path, region, path, first_seen[region]))
        else:
            first_seen[region] = index
    return problems


def unknown_keys_problems(mapping, allowed, path):
    """One message per key of ``mapping`` that is not in ``allowed``, with the closest allowed key."""
    problems = []
    for key in mapping:
        if key in allowed:
            continue
        hint = difflib.get_close_matches(str(key), list(allowed), n=1)
        suggestion = " (did you mean %s?)" % hint[0] if hint else ""
        if path:
            problems.append("%s: unknown key %s%s: allowed keys are %s" % (path, _shown(key), suggestion, ", ".join(sorted(allowed))))
        else:
            # The top level also takes every credential, cache and constructed option: too many to list.
            problems.append("unknown option %s%s: ansible-doc -t inventory %s lists the options" % (_shown(key), suggestion, PLUGIN_NAME))
    return problems


def host_per_problem(value, path=HOST_PER):
    """``host_per`` is exactly region or account; None when it is."""
    if isinstance(value, str) and value in HOST_PER_CHOICES:
        return None
    hint = difflib.get_close_matches(value.strip().lower(), HOST_PER_CHOICES, n=1, cutoff=0.6) if isinstance(value, str) else []
    return _rules.problem(path, HOST_PER_RULE, value) + (" (did you mean %s?)" % hint[0] if hint else "")


# ---- the whole configuration -------------------------------------------------------------------


def _account_entry_problems(entry, index, organization_set, allowed=()):
    path = "accounts[%d]" % index
    if not isinstance(entry, dict):
        return ["%s: must be a mapping with at least an id, got a %s" % (path, _type_name(entry))]
    problems = unknown_keys_problems(entry, ACCOUNT_KEYS, path)
    if "id" not in entry:
        problems.append("%s: id is required: the 12-digit AWS account id, in quotes" % path)
        account_id = None
    else:
        problem = account_id_problem(entry["id"], path + ".id")
        problems.extend([problem] if problem else [])
        account_id = None if problem else entry["id"]

    name = entry.get("name")
    if name is not None and not (_is_str(name) and name.strip()):
        problems.append("%s.name: must be a non-empty string (the account's label in host and group names), got %s" % (path, _shown(name)))

    role_arn = entry.get("role_arn")
    if role_arn is not None:
        problem = role_arn_problem(role_arn, path + ".role_arn", account_id)
        problems.extend([problem] if problem else [])

    external_id = entry.get("external_id")
    if external_id is not None:
        problem = external_id_problem(external_id, path + ".external_id")
        problems.extend([problem] if problem else [])
        if role_arn is None and not organization_set:
            problems.append(_external_id_without_role(path))

    if "regions" in entry:
        problems.extend(regions_problems(entry["regions"], path + ".regions", allowed=allowed))
        if isinstance(entry["regions"], (list, tuple)) and not entry["regions"]:
            problems.append("%s.regions: is empty: list at least one region, or leave it out to use the top-level regions" % path)
    problems.extend(_exclude_problems(entry, path + ".", allowed))
    return problems


def _exclude_problems(mapping, prefix, allowed=()):
    """exclude_regions of a mapping (the top level, an account entry, the organization): distinct region names,
    and only beside regions: enabled when the mapping sets its own regions."""
    exclude = mapping.get("exclude_regions")
    if exclude is None:
        return []
    path = prefix + "exclude_regions"
    problems = regions_problems(exclude, path, allow_enabled=False, allowed=allowed)
    regions = mapping.get("regions")
    if not problems and exclude and isinstance(regions, (list, tuple)):
        problems.append(_exclude_with_list(path, prefix + "regions"))
    return problems


def _exclude_with_list(path, regions_path):
    return (
        "%s: only applies with regions: enabled, and %s is a list, whose regions are swept as listed: "
        "leave the regions out of that list instead" % (path, regions_path)
    )


def _external_id_without_role(path):
    return "%s.external_id: is set but the account has no role_arn: an external id only applies when assuming a role" % path


def _organization_problems(organization, top_regions, allowed=()):
    path = "organization"
    if not isinstance(organization, dict):
        return ["%s: must be a mapping with at least role_name, got a %s" % (path, _type_name(organization))]
    problems = unknown_keys_problems(organization, ORGANIZATION_KEYS, path)
    role_name = organization.get("role_name")
    partition = organization.get("partition", DEFAULT_PARTITION)
    if partition not in ORGANIZATIONS_REGIONS:
        problems.append("%s.partition: must be one of %s, got %s" % (path, ", ".join(ORGANIZATIONS_REGIONS), _shown(partition)))
        partition = DEFAULT_PARTITION
    if role_name is None:
        problems.append("%s.role_name: is required: the role to assume in every account, e.g. TracingAudit or audit/TracingAudit" % path)
    elif not _rules.matches(_rules.ROLE_NAME_PATTERN, role_name):
        problems.append(_rules.problem(path + ".role_name", ROLE_NAME_RULE, role_name))
    else:
        problem = role_arn_problem(organization_role_arn(partition, "0" * 12, role_name), path + ".role_name")
        if problem:
            problems.append("%s.role_name: is too long for a role ARN (at most 512 characters of name and path)" % path)

    exclude = organization.get("exclude")
    if exclude is not None:
        if not isinstance(exclude, (list, tuple)):
            problems.append("%s.exclude: must be a list of 12-digit AWS account ids in quotes, got a %s" % (path, _type_name(exclude)))
        else:
            for index, account_id in enumerate(exclude):
                problem = account_id_problem(account_id, "%s.exclude[%d]" % (path, index))
                problems.extend([problem] if problem else [])

    external_id = organization.get("external_id")
    if external_id is not None:
        problem = external_id_problem(external_id, path + ".external_id")
        problems.extend([problem] if problem else [])

    regions = organization.get("regions")
    problems.extend(regions_problems(regions, path + ".regions", allowed=allowed))
    problems.extend(_exclude_problems(organization, path + ".", allowed))
    if organization.get("exclude_regions") and regions is None and isinstance(top_regions, (list, tuple)) and top_regions:
        problems.append(_exclude_with_list(path + ".exclude_regions", "the top-level regions"))
    if regions is None and not top_regions:
        problems.append("%s: no regions for the organization's accounts: set regions at the top level or organization.regions" % path)
    elif isinstance(regions, (list, tuple)) and not regions:
        problems.append("%s.regions: is empty: list at least one region, or leave it out to use the top-level regions" % path)
    return problems


def allow_unknown_regions_problems(value, path=ALLOW_UNKNOWN_REGIONS):
    """The opt-out for regions newer than the installed botocore: a list of distinct region names (their shape only)."""
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        return [
            "%s: must be a list of the region names the installed botocore does not know yet (regions newer than it), e.g. [%s], got %s"
            % (path, NEW_REGION_EXAMPLE, _rules.describe(value))
        ]
    problems = []
    first_seen = {}
    for index, region in enumerate(value):
        item_path = "%s[%d]" % (path, index)
        problem = _rules.region_name_problem(region, item_path)
        if problem:
            problems.append(problem)
        elif region in first_seen:
            problems.append("%s: region %s is already listed at %s[%d]: list each region once" % (item_path, region, path, first_seen[region]))
        else:
            first_seen[region] = index
    return problems


def config_problems(regions=None, accounts=None, organization=None, exclude_regions=None, allow_unknown_regions=None, host_per=None):
    """Every rule that can be checked before asking AWS anything; [] when the configuration is fine.

    ``regions``, ``accounts`` and ``organization`` are the plugin's option values (None or empty when
    not set); ``host_per`` is the value the file wrote (None when it did not). With an organization,
    rules that depend on what ListAccounts returns (an account's regions and external id may come
    from its organization entry, labels from the account names) are checked by ``resolve_targets``. Every region named must be one the installed botocore knows,
    unless ``allow_unknown_regions`` lists it.
    """
    problems = [] if host_per is None else [problem for problem in [host_per_problem(host_per)] if problem]
    allow_problems = allow_unknown_regions_problems(allow_unknown_regions)
    problems.extend(allow_problems)
    allowed = tuple(allow_unknown_regions) if isinstance(allow_unknown_regions, (list, tuple)) and not allow_problems else ()
    region_problems = regions_problems(regions, "regions", allowed=allowed)
    problems.extend(region_problems)
    top_regions = regions if (isinstance(regions, (list, tuple)) or is_enabled(regions)) and not region_problems else []
    problems.extend(_exclude_problems({"regions": regions, "exclude_regions": exclude_regions}, "", allowed))

    if accounts is None:
        accounts = []
    if not isinstance(accounts, (list, tuple)):
        problems.append("accounts: must be a list of accounts, got a %s" % _type_name(accounts))
        accounts = []
    if not accounts and organization is None:
        problems.append("no accounts: list them in accounts, or set organization to list the accounts of an AWS Organization")

    first_seen = {}
    for index, entry in enumerate(accounts):
        entry_problems = _account_entry_problems(entry, index, organization is not None, allowed)
        problems.extend(entry_problems)
        if not isinstance(entry, dict):
            continue
        account_id = entry.get("id")
        if _rules.matches(_rules.ACCOUNT_ID_PATTERN, account_id):
            if account_id in first_seen:
                problems.append(
                    "accounts[%d].id: account %s is already listed at accounts[%d]: list each account once" % (index, account_id, first_seen[account_id])
                )
            else:
                first_seen[account_id] = index
        if organization is None and entry.get("regions") is None and not top_regions and not region_problems:
            problems.append("accounts[%d]: no regions: set regions at the top level or in this entry" % index)

    if organization is not None:
        problems.extend(_organization_problems(organization, top_regions, allowed))
    return problems


def check_config(regions=None, accounts=None, organization=None, exclude_regions=None, allow_unknown_regions=None, host_per=None):
    """``config_problems`` that raises AccountsConfigError when there is any."""
    problems = config_problems(regions, accounts, organization, exclude_regions, allow_unknown_regions, host_per)
    if problems:
        raise AccountsConfigError(problems)


# ---- targets -----------------------------------------------------------------------------------


def organization_role_arn(partition, account_id, role_name):
    return "arn:%s:iam::%s:role/%s" % (partition or DEFAULT_PARTITION, account_id, role_name)


def account_state(account):
    """``State`` of a ListAccounts entry, or its older ``Status`` when ``State`` is absent."""
    return account.get("State") or account.get("Status")


def _copied(regions):
    return regions if is_enabled(regions) else list(regions or [])


# Where regions and exclude_regions come from, least specific first: the most specific one that is set applies.
TOP_LEVEL, ORGANIZATION_LEVEL, ACCOUNT_LEVEL = 0, 1, 2


def _region_settings(levels):
    """(regions, regions level, exclude_regions, exclude path, exclude level) from [(level, prefix, mapping)], least specific first."""
    regions, regions_level, exclude, exclude_path, exclude_level = [], TOP_LEVEL, [], "exclude_regions", TOP_LEVEL
    for level, prefix, mapping in levels:
        if mapping.get("regions") is not None:
            regions, regions_level = _copied(mapping["regions"]), level
        if mapping.get("exclude_regions") is not None:
            exclude, exclude_path, exclude_level = list(mapping["exclude_regions"]), prefix + "exclude_regions", level
    return regions, regions_level, exclude, exclude_path, exclude_level


def organization_targets(organization, listed, regions, exclude_regions=None):
    """Targets for the ACTIVE, not excluded accounts of a ListAccounts answer, in account id order.

    ``organization`` is the validated option, ``listed`` the ``Accounts`` items, ``regions`` and
    ``exclude_regions`` the top-level ones (used when the organization does not set its own).
    """
    partition = organization.get("partition") or DEFAULT_PARTITION
    excluded = set(organization.get("exclude") or [])
    org_regions, _level, org_exclude, org_exclude_path, _level = _region_settings(
        [(TOP_LEVEL, "", {"regions": regions, "exclude_regions": exclude_regions}), (ORGANIZATION_LEVEL, "organization.", organization)]
    )
    targets = []
    for account in sorted(listed, key=lambda item: item["Id"]):
        if account_state(account) != ACTIVE or account["Id"] in excluded:
            continue
        name = account.get("Name") or None
        targets.append(
            Target(
                account_id=account["Id"],
                name=name,
                role_arn=organization_role_arn(partition, account["Id"], organization["role_name"]),
                external_id=organization.get("external_id"),
                regions=_copied(org_regions),
                exclude_regions=list(org_exclude),
                exclude_path=org_exclude_path,
                source="organization account %s%s" % (account["Id"], " (%s)" % _shown(name) if name else ""),
            )
        )
    return targets


def _merge(base, entry, index):
    """A static entry over its organization target: the entry's keys win, the others stay."""
    return Target(
        account_id=base.account_id,
        name=entry["name"] if entry.get("name") is not None else base.name,
        role_arn=entry["role_arn"] if entry.get("role_arn") is not None else base.role_arn,
        external_id=entry["external_id"] if entry.get("external_id") is not None else base.external_id,
        regions=_copied(entry["regions"]) if entry.get("regions") is not None else base.regions,
        exclude_regions=list(entry["exclude_regions"]) if entry.get("exclude_regions") is not None else base.exclude_regions,
        exclude_path="accounts[%d].exclude_regions" % index if entry.get("exclude_regions") is not None else base.exclude_path,
        source="accounts[%d] over %s" % (index, base.source),
    )


def _exclude_level_problem(target, regions_level, exclude_level):
    """exclude_regions set as specifically as (or more than) a list of regions: it would not apply, say so."""
    if target.exclude_regions and not is_enabled(target.regions) and exclude_level >= regions_level:
        where = {TOP_LEVEL: "the top-level regions", ORGANIZATION_LEVEL: "organization.regions", ACCOUNT_LEVEL: "its own regions"}[regions_level]
        return (
            "%s: only applies with regions: enabled, and %s sweeps the regions listed in %s as listed: "
            "leave the regions out of that list instead" % (target.exclude_path, target.source, where)
        )
    return None


def resolve_targets(regions=None, accounts=None, organization=None, listed=None, exclude_regions=None, host_per=HOST_PER_REGION, other_groups=()):
    """The targets of a configuration that passed ``check_config``, static entries first.

    ``listed`` is the ListAccounts answer (organization mode only). A static entry whose id is an
    active, not excluded organization account overrides that account's name, role_arn,
    external_id and regions; the other organization accounts follow, in account id order.
    Raises AccountsConfigError when the targets break a rule only the merged data can show:
    an account without regions, an external id without a role, two accounts with one label, and
    with ``host_per`` account a label that is the name of a group (``other_groups``: the names of
    the groups option, which the plugin makes too).
    """
    top = (TOP_LEVEL, "", {"regions": regions, "exclude_regions": exclude_regions})
    org_targets = organization_targets(organization, listed or [], regions, exclude_regions) if organization is not None else []
    by_id = {target.account_id: target for target in org_targets}

    targets = []
    problems = []
    for index, entry in enumerate(accounts or []):
        base = by_id.pop(entry["id"], None)
        levels = [top] + ([(ORGANIZATION_LEVEL, "organization.", organization)] if base is not None else [])
        levels.append((ACCOUNT_LEVEL, "accounts[%d]." % index, entry))
        _regions, regions_level, _exclude, _path, exclude_level = _region_settings(levels)
        if base is not None:
            target = _merge(base, entry, index)
        else:
            target = Target(
                account_id=entry["id"],
                name=entry.get("name"),
                role_arn=entry.get("role_arn"),
                external_id=entry.get("external_id"),
                regions=_regions,
                exclude_regions=_exclude,
                exclude_path=_path,
                source="accounts[%d]" % index,
            )
            if target.external_id is not None and target.role_arn is None:
                problems.append(_external_id_without_role("accounts[%d]" % index))
        if not target.regions:
            problems.append("%s: no regions: set regions at the top level or in this entry" % target.source)
        # The same mapping setting both is reported by config_problems already.
        if not (exclude_level == regions_level == ACCOUNT_LEVEL):
            problem = _exclude_level_problem(target, regions_level, exclude_level)
            problems.extend([problem] if problem else [])
        targets.append(target)
    # The organization's own exclude_regions beside a top-level list is reported by config_problems.
    targets.extend(target for target in org_targets if target.account_id in by_id)

    problems.extend(label_problems(targets, host_per))
    if host_per == HOST_PER_ACCOUNT:
        problems.extend(account_host_problems(targets, other_groups))
    if problems:
        raise AccountsConfigError(problems)
    return targets


def label_problems(targets, host_per=HOST_PER_REGION):
    """Two targets must not share a label (host names) nor an account group."""
    problems = []
    labels = {}
    groups = {}
    for target in targets:
        label = target.label
        if label in labels:
            hosts = "host %s" % label if host_per == HOST_PER_ACCOUNT else "hosts %s" % host_name(label, "<region>")
            problems.append(
                "%s and %s both have the label %s (%s): give one of them another name" % (labels[label].source, target.source, _shown(label), hosts)
            )
            continue
        labels[label] = target
        group = account_group(label)
        if group in groups:
            problems.append(
                "%s and %s both map to the group %s (labels %s and %s): give one of them another name"
                % (groups[group].source, target.source, group, _shown(groups[group].label), _shown(label))
            )
            continue
        groups[group] = target
    return problems


def account_host_problems(targets, other_groups=()):
    """With host_per: account the label is the host's name, and no host may share a group's name.

    The groups are those the plugin makes (tracing_sweep_targets, every account's account_<label>, the names
    of the groups option in ``other_groups``) and Ansible's own (all, ungrouped). Without the rule, Ansible
    only warns, and a pattern or --limit naming the group would select the host too.
    """
    groups = {PARENT_GROUP: "the group of every target"}
    groups.update((group, "Ansible's group %s" % group) for group in ANSIBLE_GROUPS)
    for group in other_groups:
        groups.setdefault(group, "a group of the groups option")
    for target in targets:
        groups.setdefault(account_group(target.label), "the group of %s" % target.source)
    problems = []
    for target in targets:
        label = target.label
        if label in groups:
            problems.append(
                "%s: the label %s names its host with host_per: account, and %s is also %s: a host must not have a group's name; "
                "give the account another name" % (target.source, _shown(label), label, groups[label])
            )
    return problems


# ---- regions: enabled ----------------------------------------------------------------------------


def account_description(target):
    """'account 111111111111 (accounts[0])', for messages about one target."""
    return "account %s (%s)" % (target.account_id, target.source)


@dataclass
class RegionChoice:
    """The regions to sweep in one account with regions: enabled, from its DescribeRegions answer.

    ``regions``: enabled and not excluded, sorted; ``excluded``: enabled but excluded; ``excluded_not_enabled``:
    excluded regions the account has not enabled; ``problems``: why the account cannot be swept (empty when it can).
    ``unknown``: (exclude path, index, region, closest region or None) of each excluded region the answer does not
    list; when there is any, ``problems`` holds exactly their messages.
    """

    regions: list = field(default_factory=list)
    excluded: list = field(default_factory=list)
    excluded_not_enabled: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    unknown: list = field(default_factory=list)


def choose_regions(target, described, where, foreign=()):
    """The RegionChoice of ``target`` (regions: enabled) from the ``Regions`` items of DescribeRegions with AllRegions.

    ``where`` says how the answer was obtained ('ec2:DescribeRegions in us-east-1 through <role>'), for messages.
    Regions named in ``foreign`` (known to be of another partition than the account's) are left out.
    A region counts as enabled when its OptInStatus is in ENABLED_OPT_IN_STATUSES. An excluded region that the
    answer does not list at all is a typo, or a region of another partition: a problem, with the closest name.
    No region left to sweep is a problem too: an account must never yield no host without a word.
    """
    choice = RegionChoice()
    who = account_description(target)
    known = []
    enabled = []
    for item in described:
        name = item.get("RegionName") if isinstance(item, dict) else None
        # AWS's own answer: a region it lists exists, even when it is newer than the installed botocore.
        problem = _rules.region_name_problem(name, "RegionName")
        if problem:
            choice.problems.append("%s: %s answered a region that is not a region name (%s)" % (who, where, problem))
            continue
        if name in foreign:
            continue
        known.append(name)
        if item.get("OptInStatus") in ENABLED_OPT_IN_STATUSES:
            enabled.append(name)
    if choice.problems:
        return choice
    excluded = set()
    for index, region in enumerate(target.exclude_regions):
        if region in known:
            excluded.add(region)
            continue
        hint = difflib.get_close_matches(region, known, n=1)
        choice.unknown.append((target.exclude_path, index, region, hint[0] if hint else None))
        choice.problems.append(
            "%s[%d]: %s is not a region of %s: %s lists no such region%s"
            % (target.exclude_path, index, region, who, where, " (did you mean %s?)" % hint[0] if hint else "")
        )
    if choice.problems:
        return choice
    choice.regions = sorted(region for region in set(enabled) if region not in excluded)
    choice.excluded = sorted(region for region in set(enabled) if region in excluded)
    choice.excluded_not_enabled = sorted(excluded - set(enabled))
    if not enabled:
        choice.problems.append(
            "%s: %s lists no enabled region (OptInStatus %s): nothing to sweep; check the account and the credentials"
            % (who, where, " or ".join(ENABLED_OPT_IN_STATUSES))
        )
    elif not choice.regions:
        choice.problems.append(
            "%s: every region enabled in the account is excluded by %s: nothing to sweep; exclude fewer regions, or leave the account out"
            % (who, target.exclude_path)
        )
    return choice


# At most this many accounts are named in one message about an exclusion they all share.
ACCOUNTS_SHOWN = 10


def unknown_exclusion_problems(unknown):
    """One message per excluded region no answer lists, from {(path, index, region, hint): [targets]}, in the order given.

    An exclusion set once for many accounts (the top level, the organization) would otherwise give one message per
    account; the message names the accounts (the first ACCOUNTS_SHOWN) whose answer does not list the region.
    """
    problems = []
    for (path, index, region, hint), targets in unknown.items():
        ids = ", ".join(target.account_id for target in targets[:ACCOUNTS_SHOWN])
        if len(targets) > ACCOUNTS_SHOWN:
            ids += " and %d more" % (len(targets) - ACCOUNTS_SHOWN)
        problems.append(
            "%s[%d]: %s is not a region of the partition of %d accounts (%s): ec2:DescribeRegions lists no such region for any of them%s"
            % (path, index, region, len(targets), ids, " (did you mean %s?)" % hint if hint else "")
        )
    return problems


def with_regions(target, regions):
    """A copy of ``target`` with a list of regions in place of ENABLED."""
    return Target(
        account_id=target.account_id,
        regions=list(regions),
        source=target.source,
        name=target.name,
        role_arn=target.role_arn,
        external_id=target.external_id,
        exclude_regions=list(target.exclude_regions),
        exclude_path=target.exclude_path,
    )


# ---- hosts -------------------------------------------------------------------------------------


# Host variables whose value may hold any character. The others are constants or passed patterns
# without '{' (ids, regions, ARNs, external ids), so they can never be taken for a template.
FREE_TEXT_VARIABLES = ("tracing_sweep_account_name",)


def build_hosts(targets, host_per=HOST_PER_REGION):
    """One Host per target x region, in target then region order; with ``host_per`` account, one Host per target.

    The variables follow the sweep role's target contract. ``ansible_python_interpreter`` is a
    template on purpose; the values in FREE_TEXT_VARIABLES must never be rendered as one. A region the
    installed botocore does not know got here through allow_unknown_regions, or from AWS's own answer
    (regions: enabled): its hosts say so to the role (ALLOW_UNKNOWN_REGIONS_VARIABLE), whose region rule is the same.
    An account host has the list of its regions (REGIONS_VARIABLE), in the order of the per-region hosts, and
    only its account group: it is in every one of its regions, so in no region group.
    """
    known = _rules.known_regions()
    hosts = []
    for target in targets:
        if is_enabled(target.regions):
            raise ValueError("%s: regions: enabled must be resolved to the account's regions first" % account_description(target))
        label = target.label
        if host_per == HOST_PER_ACCOUNT:
            unknown = [region for region in target.regions if known is not None and region not in known]
            variables = _host_variables(target, REGIONS_VARIABLE, list(target.regions), unknown)
            hosts.append(Host(name=label, variables=variables, groups=[account_group(label)]))
            continue
        for region in target.regions:
            unknown = [region] if known is not None and region not in known else []
            variables = _host_variables(target, REGION_VARIABLE, region, unknown)
            hosts.append(Host(name=host_name(label, region), variables=variables, groups=[account_group(label), region_group(region)]))
    return hosts


def _host_variables(target, region_key, region_value, unknown):
    """The variables of one host of ``target``: its region (or regions) first, the account's, the connection's last."""
    variables = {
        region_key: region_value,
        "tracing_sweep_account_id": target.account_id,
    }
    if target.role_arn:
        variables["tracing_sweep_role_arn"] = target.role_arn
    if target.external_id:
        variables["tracing_sweep_external_id"] = target.external_id
    if target.name:
        variables["tracing_sweep_account_name"] = target.name
    if unknown:
        variables[ALLOW_UNKNOWN_REGIONS_VARIABLE] = unknown
    variables["ansible_connection"] = "local"
    variables["ansible_python_interpreter"] = "{{ ansible_playbook_python }}"
    return variables
