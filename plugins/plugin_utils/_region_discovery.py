# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Private to this collection: not an API, may change in any release.

"""The regions of each account, for the accounts inventory's ``regions: enabled``.

For each account: assume its role (or, without one, check that the controller's credentials are in that account,
as the sweep does), then one ec2:DescribeRegions with AllRegions, whose answer lists every region of the partition
with its OptInStatus (accounts_config.choose_regions keeps the enabled ones). Both calls go to one region per
partition (PARTITION_REGIONS): DescribeRegions answers the same from any region, and these regions are enabled in
every account. Accounts are asked in parallel, on up to WORKERS threads, and each account once per process: a
second inventory file, or a second parse of the same one, reuses the answer.

Nothing here raises for one account: each account gets its answer or the reason it has none (DiscoveryError's
message, with the cause AWS gave), and the caller decides. The clients come from ``client(service, region,
credentials)`` (session_client_factory's, or a test's fake).
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass

try:
    import boto3
    import botocore
    import botocore.exceptions
    from botocore.config import Config
except ImportError:
    pass  # only needed with regions: enabled; the inventory plugin checks the SDK first

from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import ROLE_ARN_PATTERN
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import partition_regions
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.errors import credentials_hint
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.errors import error_code
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.errors import error_message
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
# botocore's standard retries (throttling, transient errors), 4 attempts in all, as the sweep's STS calls.
CLIENT_CONFIG = {"retries": {"mode": "standard", "max_attempts": 4}, "connect_timeout": 10, "read_timeout": 30}

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


def describe_cause(exception):
    """'<code>: <message>' for an AWS error, the SDK's own words otherwise (a refused connection, no credentials)."""
    if isinstance(exception, botocore.exceptions.ClientError):
        code = error_code(exception)
        return "%s: %s%s" % (code, error_message(exception), credentials_hint(code))
    return str(exception) or type(exception).__name__


def session_client_factory(endpoint_url=None, connect_kwargs=None):
    """``client(service, region, credentials=None)`` on one boto3 session, made now (in the calling thread).

    ``endpoint_url`` and ``connect_kwargs`` are the inventory's connection settings, as amazon.aws reads them
    (profile_name, access keys, verify, aws_config). ``credentials`` (an AssumeRole answer's) replace the keys.
    Clients are made one at a time (a session is not thread-safe), the calls on them run in parallel.
    """
    params = dict(connect_kwargs or {})
    profile = params.pop("profile_name", None)
    config = Config(**CLIENT_CONFIG)
    for key in ("aws_config", "config"):
        extra = params.pop(key, None)
        if extra is not None:
            config = config.merge(extra)
    session = boto3.session.Session(profile_name=profile)
    lock = threading.Lock()

    def client(service, region, credentials=None):
        keys = dict(params)
        if credentials is not None:
            keys.update(
                aws_access_key_id=credentials["AccessKeyId"],
                aws_secret_access_key=credentials["SecretAccessKey"],
                aws_session_token=credentials["SessionToken"],
            )
        with lock:
            return session.client(service, region_name=region, endpoint_url=endpoint_url or None, config=config, **keys)

    return client


def describe_account(account, client):
    """(DescribeRegions ``Regions`` items, how they were obtained) for one account; raises DiscoveryError."""
    exceptions = botocore.exceptions
    region = account.region
    sts = client("sts", region)
    if account.role_arn:
        kwargs = {"RoleArn": account.role_arn, "RoleSessionName": ROLE_SESSION_NAME}
        if account.external_id:
            kwargs["ExternalId"] = account.external_id
        try:
            credentials = sts.assume_role(**kwargs)["Credentials"]
        except (exceptions.BotoCoreError, exceptions.ClientError) as error:
            raise DiscoveryError(
                "could not assume %s (sts:AssumeRole in %s%s) to list the account's regions: %s"
                % (account.role_arn, region, " with the external id" if account.external_id else "", describe_cause(error))
            ) from None
        acting = "through %s" % account.role_arn
    else:
        try:
            identity = sts.get_caller_identity()
        except (exceptions.BotoCoreError, exceptions.ClientError) as error:
            raise DiscoveryError(
                "could not ask STS which account the controller's credentials are in (sts:GetCallerIdentity in %s): %s"
                % (region, describe_cause(error))
            ) from None
        if identity.get("Account") != account.account_id:
            # Never list one account's regions as another's (a profile chosen by mistake).
            raise DiscoveryError(
                "the account has no role_arn, and the controller's credentials are in account %s, not %s: set its role_arn, or correct the id"
                % (identity.get("Account"), account.account_id)
            )
        credentials = None
        acting = "with the controller's credentials (%s)" % identity.get("Arn")
    where = "ec2:DescribeRegions in %s %s" % (region, acting)
    ec2 = client("ec2", region, credentials)
    try:
        answer = ec2.describe_regions(AllRegions=True)
    except (exceptions.BotoCoreError, exceptions.ClientError) as error:
        raise DiscoveryError("%s failed: %s" % (where, describe_cause(error))) from None
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
        return Answer(account, error="could not list the account's regions: %s" % describe_cause(error))
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
