# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Asking each account for its regions (regions: enabled), with stubbed STS and EC2 clients."""

from __future__ import annotations

import datetime
import threading

import pytest
from botocore.exceptions import ClientError
from botocore.exceptions import EndpointConnectionError
from botocore.exceptions import NoCredentialsError
from botocore.stub import Stubber

from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._inventory import region_discovery as discovery
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._inventory.region_discovery import Account
from ansible_collections.cloudops.apigw_tracing.tests.unit.aws_fakes import make_client

PROD = "111111111111"
DEV = "222222222222"
HUB = "999999999999"
PROD_ROLE = "arn:aws:iam::111111111111:role/TracingAudit"
EXPIRES = datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)
REGIONS = [
    {"RegionName": "us-east-1", "OptInStatus": "opt-in-not-required"},
    {"RegionName": "ap-east-1", "OptInStatus": "not-opted-in"},
]


@pytest.fixture(autouse=True)
def fresh_cache():
    discovery.forget()
    yield
    discovery.forget()


def credentials(account_id):
    return {"AccessKeyId": "ASIA" + account_id, "SecretAccessKey": "s", "SessionToken": "t", "Expiration": EXPIRES}


class StubbedClients:
    """client(service, region, credentials): real botocore clients answered by Stubbers, one per creation, queued in order."""

    def __init__(self):
        self.queued = []
        self.made = []
        self.stubbers = []

    def queue(self, service, *answers):
        self.queued.append((service, answers))

    def __call__(self, service, region, credentials=None):
        expected, answers = self.queued.pop(0)
        assert service == expected
        client = make_client(service, region)
        stubber = Stubber(client)
        for method, answer, params in answers:
            if isinstance(answer, str):
                stubber.add_client_error(method, answer, "%s says no" % answer, expected_params=params)
            else:
                stubber.add_response(method, answer, params)
        stubber.activate()
        self.stubbers.append(stubber)
        self.made.append((service, region, (credentials or {}).get("AccessKeyId")))
        return client

    def check(self):
        assert not self.queued
        for stubber in self.stubbers:
            stubber.assert_no_pending_responses()


def test_through_the_role_with_the_external_id():
    clients = StubbedClients()
    clients.queue("sts", ("assume_role", {"Credentials": credentials(PROD)},
                          {"RoleArn": PROD_ROLE, "RoleSessionName": "cloudops-tracing-inventory", "ExternalId": "ext-1"}))
    clients.queue("ec2", ("describe_regions", {"Regions": REGIONS}, {"AllRegions": True}))
    (answer,) = discovery.discover([Account(PROD, PROD_ROLE, "ext-1")], clients)
    clients.check()
    assert (answer.error, answer.described, answer.where) == (None, REGIONS, "ec2:DescribeRegions in us-east-1 through " + PROD_ROLE)
    # EC2 is asked with the role's credentials, both calls in the partition's first region.
    assert clients.made == [("sts", "us-east-1", None), ("ec2", "us-east-1", "ASIA" + PROD)]
    assert "cn-north-1" in answer.foreign and "us-gov-west-1" in answer.foreign and "us-east-1" not in answer.foreign


def test_partition_of_the_role_picks_the_region():
    clients = StubbedClients()
    role = "arn:aws-cn:iam::111111111111:role/R"
    clients.queue("sts", ("assume_role", {"Credentials": credentials(PROD)}, {"RoleArn": role, "RoleSessionName": "cloudops-tracing-inventory"}))
    clients.queue("ec2", ("describe_regions", {"Regions": [{"RegionName": "cn-north-1", "OptInStatus": "opt-in-not-required"}]}, {"AllRegions": True}))
    (answer,) = discovery.discover([Account(PROD, role, None, discovery.partition_of(role))], clients)
    assert answer.error is None
    assert [made[1] for made in clients.made] == ["cn-northwest-1", "cn-northwest-1"]
    assert "us-east-1" in answer.foreign and "cn-north-1" not in answer.foreign
    assert discovery.partition_of(None, "aws-us-gov") == "aws-us-gov"
    assert discovery.partition_of(None, None) == "aws"


def test_without_a_role_the_controllers_account_must_be_the_one():
    clients = StubbedClients()
    clients.queue("sts", ("get_caller_identity", {"Account": PROD, "Arn": "arn:aws:iam::111111111111:user/ops", "UserId": "AIDA"}, {}))
    clients.queue("ec2", ("describe_regions", {"Regions": REGIONS}, {"AllRegions": True}))
    (answer,) = discovery.discover([Account(PROD)], clients)
    clients.check()
    assert answer.where == "ec2:DescribeRegions in us-east-1 with the controller's credentials (arn:aws:iam::111111111111:user/ops)"
    assert clients.made == [("sts", "us-east-1", None), ("ec2", "us-east-1", None)]


def test_without_a_role_in_another_account_fails_before_listing():
    clients = StubbedClients()
    clients.queue("sts", ("get_caller_identity", {"Account": HUB, "Arn": "arn:aws:iam::999999999999:user/ops", "UserId": "AIDA"}, {}))
    (answer,) = discovery.discover([Account(PROD)], clients)
    clients.check()
    assert answer.described is None
    assert answer.error == (
        "the account has no role_arn, and the controller's credentials are in account 999999999999, not 111111111111: set its role_arn, or correct the id"
    )


def test_a_role_that_cannot_be_assumed_keeps_the_cause():
    clients = StubbedClients()
    clients.queue("sts", ("assume_role", "AccessDenied", None))
    (answer,) = discovery.discover([Account(PROD, PROD_ROLE, "ext-1")], clients)
    clients.check()
    assert answer.error == (
        "could not assume arn:aws:iam::111111111111:role/TracingAudit (sts:AssumeRole in us-east-1 with the external id) to list the "
        "account's regions: AccessDenied: AccessDenied says no"
    )


def test_describe_regions_denied_keeps_the_cause():
    clients = StubbedClients()
    clients.queue("sts", ("assume_role", {"Credentials": credentials(PROD)}, None))
    clients.queue("ec2", ("describe_regions", "UnauthorizedOperation", None))
    (answer,) = discovery.discover([Account(PROD, PROD_ROLE)], clients)
    assert answer.error == (
        "ec2:DescribeRegions in us-east-1 through arn:aws:iam::111111111111:role/TracingAudit failed: UnauthorizedOperation: UnauthorizedOperation says no"
    )


def test_expired_credentials_say_what_to_do():
    clients = StubbedClients()
    clients.queue("sts", ("get_caller_identity", "ExpiredToken", None))
    (answer,) = discovery.discover([Account(PROD)], clients)
    assert answer.error.startswith("could not ask STS which account the controller's credentials are in (sts:GetCallerIdentity in us-east-1): ExpiredToken")
    assert "renew the session" in answer.error


def test_no_credentials_say_how_to_give_them():
    class NoCredentialsSts:
        def get_caller_identity(self):
            raise NoCredentialsError()

    (answer,) = discovery.discover([Account(PROD)], lambda service, region, credentials=None: NoCredentialsSts())
    assert answer.error == (
        "could not ask STS which account the controller's credentials are in (sts:GetCallerIdentity in us-east-1): Unable to locate credentials; "
        "give the controller AWS credentials the usual way (AWS_PROFILE, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, an instance or container role)"
    )


class World:
    """Plain fakes for many accounts at once: roles assumed by account, DescribeRegions answered per account."""

    def __init__(self, regions, denied=(), barrier=None):
        self.regions = regions
        self.denied = set(denied)
        self.barrier = barrier
        self.calls = []
        self.made = []
        self.lock = threading.Lock()

    def client(self, service, region, credentials=None):
        with self.lock:
            self.made.append((service, region, (credentials or {}).get("AccessKeyId")))
        if service == "sts":
            return FakeSts(self)
        if credentials and credentials["AccessKeyId"] == "ASIA-broken":
            raise EndpointConnectionError(endpoint_url="https://ec2.us-east-1.amazonaws.com/")
        return FakeEc2(self, credentials["AccessKeyId"][4:] if credentials else HUB)


class FakeSts:
    def __init__(self, world):
        self.world = world

    def assume_role(self, RoleArn, RoleSessionName, **kwargs):  # pylint: disable=invalid-name,unused-argument
        account_id = RoleArn.split(":")[4]
        with self.world.lock:
            self.world.calls.append(("AssumeRole", account_id))
        if account_id in self.world.denied:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "not trusted"}}, "AssumeRole")
        if RoleArn.endswith("/Broken"):
            return {"Credentials": credentials("-broken")}
        return {"Credentials": credentials(account_id)}


class FakeEc2:
    def __init__(self, world, account_id):
        self.world = world
        self.account_id = account_id

    def describe_regions(self, **kwargs):
        assert kwargs == {"AllRegions": True}
        with self.world.lock:
            self.world.calls.append(("DescribeRegions", self.account_id))
        if self.world.barrier is not None:
            # Every account's call must be under way at once, or this times out: the accounts are asked in parallel.
            self.world.barrier.wait(timeout=10)
        return {"Regions": self.world.regions[self.account_id]}


def role(account_id, name="TracingAudit"):
    return "arn:aws:iam::%s:role/%s" % (account_id, name)


def test_accounts_are_asked_in_parallel_and_answers_keep_their_order():
    ids = ["%012d" % number for number in range(1, 5)]
    world = World({account_id: REGIONS for account_id in ids}, barrier=threading.Barrier(4))
    answers = discovery.discover([Account(account_id, role(account_id)) for account_id in ids], world.client, workers=4)
    assert [answer.account.account_id for answer in answers] == ids
    assert [answer.error for answer in answers] == [None] * 4


def test_one_failing_account_does_not_hide_the_others():
    world = World({PROD: REGIONS}, denied=[DEV])
    accounts = [Account(DEV, role(DEV)), Account(PROD, role(PROD)), Account("333333333333", role("333333333333", "Broken"))]
    answers = discovery.discover(accounts, world.client)
    assert answers[0].error.startswith("could not assume arn:aws:iam::222222222222:role/TracingAudit (sts:AssumeRole in us-east-1) to list")
    assert answers[0].error.endswith("AccessDenied: not trusted")
    assert answers[1].described == REGIONS
    # A client that cannot be made is that account's error too.
    assert answers[2].error == 'could not list the account\'s regions: Could not connect to the endpoint URL: "https://ec2.us-east-1.amazonaws.com/"'


def test_each_account_is_asked_once_per_process():
    world = World({PROD: REGIONS})
    account = Account(PROD, role(PROD))
    first = discovery.discover([account, account], world.client)
    again = discovery.discover([account], world.client)
    assert [answer.described for answer in first + again] == [REGIONS] * 3
    assert world.calls == [("AssumeRole", PROD), ("DescribeRegions", PROD)]
    # Another connection scope (endpoint, profile) asks again; failures are never kept.
    discovery.discover([account], world.client, scope="other")
    assert len(world.calls) == 4
    world.denied.add(DEV)
    discovery.discover([Account(DEV, role(DEV))], world.client)
    discovery.discover([Account(DEV, role(DEV))], world.client)
    assert world.calls[-2:] == [("AssumeRole", DEV), ("AssumeRole", DEV)]


def test_the_controllers_sts_client_is_shared_the_accounts_clients_are_their_own():
    ids = ["%012d" % number for number in range(1, 4)]
    world = World({account_id: REGIONS for account_id in ids})
    discovery.discover([Account(account_id, role(account_id)) for account_id in ids], world.client, workers=3)
    assert sorted(world.made) == [("ec2", "us-east-1", "ASIA" + account_id) for account_id in ids] + [("sts", "us-east-1", None)]
