# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Private to this collection: not an API, may change in any release.

"""The regions of each account, for the accounts inventory's ``regions: enabled``.

For each account: assume its role (or, without one, check that the controller's credentials are in that account,
as the sweep does), then one ec2:DescribeRegions with AllRegions, whose answer lists every region of the partition
with its OptInStatus (_inventory.accounts_config.choose_regions keeps the enabled ones). Both calls go to one region per
partition (PARTITION_REGIONS): DescribeRegions answers the same from any region, and these regions are enabled in
every account. Accounts are asked in parallel, on up to WORKERS threads, and each account once per process: a
second inventory file, or a second parse of the same one, reuses the answer.

Nothing here raises for one account: each account gets its answer or the reason it has none (DiscoveryError's
message, with the cause AWS gave), and the caller decides. The clients come from ``client(service, region,
credentials)`` (module_utils/_aws.py's client_factory, or a test's fake); reaching the account and the causes of
errors are module_utils/_aws.py's too.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass

from ansible_collections.cloudops.apigw_tracing.plugins.module_utils import _aws as aws
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import ROLE_ARN_PATTERN
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import partition_regions
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.parallel import ordered_map

# The region each partition's accounts are asked in: the first region of the partition, enabled in every account.
PARTITION_REGIONS = {
    "aws": "us-east-1",
    "aws-cn": "cn-northwest-1",
    "aws-us-gov": "us-gov-west-1",
    "aws-iso": "us-iso-east-1",
    "aws-iso-b": "us-isob-east-1",
}
DEFAULT_PARTITION = "aws"
ROLE_SESSION_NAME = "cloudops-tracing-inventory"
# Threads asking accounts at once: each waits on two small calls, so a few keep a large organization quick.
WORKERS = 8
# What the inventory says when it cannot reach an account (module_utils/_aws.py's reach_account steps).
REACH_WORDS = {
    aws.MAKE_CLIENT: "could not list the account's regions: {cause}",
    aws.ASSUME_ROLE: "could not assume {role_arn} (sts:AssumeRole in {region}{external}) to list the account's regions: {cause}",
    aws.CALLER_IDENTITY: "could not ask STS which account the controller's credentials are in (sts:GetCallerIdentity in {region}): {cause}",
    aws.OTHER_ACCOUNT: (
        "the account has no role_arn, and the controller's credentials are in account {found}, not {account_id}: set its role_arn, or correct the id"
    ),
}

_CACHE = {}
_CACHE_LOCK = threading.Lock()


class DiscoveryError(Exception):
    """The account's regions could not be listed; the message says which call failed and why."""


@dataclass(frozen=True)
class Account:
    """What asking one account takes: its id, its role (None: the controller's credentials) and external id."""

    account_id: str
    role_arn: str | None = None
    external_id: str | None = None
    partition: str = DEFAULT_PARTITION

    @property
    def region(self):
        return PARTITION_REGIONS.get(self.partition, PARTITION_REGIONS[DEFAULT_PARTITION])


@dataclass
class Answer:
    """One account's answer: the DescribeRegions ``Regions`` items and how they were obtained, or the error."""

    account: Account
    described: list | None = None
    where: str = ""
    error: str | None = None
    foreign: frozenset = frozenset()


def partition_of(role_arn, default=DEFAULT_PARTITION):
    """The partition of a role ARN; ``default`` without one."""
    found = ROLE_ARN_PATTERN.fullmatch(role_arn) if isinstance(role_arn, str) else None
    return found.group(1) if found else (default or DEFAULT_PARTITION)


@functools.lru_cache(maxsize=None)
def foreign_regions(partition):
    """The regions the SDK's endpoint data places in another partition than ``partition``.

    AWS answers DescribeRegions with the regions of the account's own partition only; a local stand-in may
    answer every partition's. A region the SDK does not know (a new one) is never counted as foreign. The
    partitions' regions are the same data the configuration's region rule reads (module_utils/_rules.py).
    """
    partitions = partition_regions() or {}
    own = partitions.get(partition, frozenset())
    others = frozenset().union(*(regions for name, regions in partitions.items() if name != partition))
    return frozenset(others - own)


def describe_account(account, client):
    """(DescribeRegions ``Regions`` items, how they were obtained) for one account; raises DiscoveryError."""
    region = account.region
    try:
        reach = aws.reach_account(client, region, account.role_arn, account.external_id, ROLE_SESSION_NAME, account.account_id)
    except aws.ReachError as error:
        context = {"region": region, "role_arn": account.role_arn, "account_id": account.account_id, "external_id": account.external_id}
        raise DiscoveryError(error.words(REACH_WORDS, **context)) from None
    if account.role_arn:
        acting = "through %s" % account.role_arn
    else:
        acting = "with the controller's credentials (%s)" % reach.caller_arn
    where = "ec2:DescribeRegions in %s %s" % (region, acting)
    ec2 = client("ec2", region, reach.credentials)
    try:
        answer = ec2.describe_regions(AllRegions=True)
    except aws.AWS_ERRORS as error:
        raise DiscoveryError("%s failed: %s" % (where, aws.describe_cause(error))) from None
    return list(answer.get("Regions") or []), where


def _cache_key(account, scope):
    return (scope, account.account_id, account.role_arn, account.external_id, account.partition)


def _ask(account, client, scope):
    key = _cache_key(account, scope)
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
    if cached is not None:
        return Answer(account, described=list(cached[0]), where=cached[1])
    try:
        described, where = describe_account(account, client)
    except DiscoveryError as error:
        return Answer(account, error=str(error))
    except Exception as error:  # pylint: disable=broad-exception-caught
        # A client that could not be made (an unknown profile, a bad endpoint): this account's error, not the run's.
        return Answer(account, error="could not list the account's regions: %s" % aws.describe_cause(error))
    with _CACHE_LOCK:
        _CACHE[key] = (list(described), where)
    return Answer(account, described=described, where=where)


def _sharing(make):
    """``make`` with one client per service and region for the controller's own credentials: botocore clients are
    thread-safe, and every account's STS call uses the same one. Clients with an account's credentials are its own."""
    made = {}
    lock = threading.Lock()

    def shared(service, region, credentials=None):
        if credentials is not None:
            return make(service, region, credentials)
        with lock:
            if (service, region) not in made:
                made[(service, region)] = make(service, region)
            return made[(service, region)]

    return shared


def discover(accounts, client, scope=None, workers=WORKERS):
    """[Answer] for ``accounts`` (Account), in their order, asked in parallel; each distinct account once.

    ``scope`` names the controller's connection settings (endpoint, profile...): answers are reused only within it.
    """
    distinct = list(dict.fromkeys(accounts))
    client = _sharing(client)
    answers = dict(zip(distinct, ordered_map(lambda account: _ask(account, client, scope), distinct, workers)))
    foreign = {partition: foreign_regions(partition) for partition in {account.partition for account in distinct}}
    for account, answer in answers.items():
        answer.foreign = foreign[account.partition]
    return [answers[account] for account in accounts]


def forget():
    """Drop every answer kept so far (tests; a long-lived process that wants fresh answers)."""
    with _CACHE_LOCK:
        _CACHE.clear()
