# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The sweep engine's steps for one target: plan, the run-wide guard, converge. AWS is absent, a botocore Stubber on
the clients the engine makes, or (where retries matter) a fake HTTP layer under them."""

from __future__ import annotations

import pytest
from botocore.exceptions import ConnectionClosedError
from botocore.exceptions import EndpointConnectionError
from botocore.exceptions import ProfileNotFound
from botocore.stub import Stubber

from ansible_collections.cloudops.apigw_tracing.plugins.module_utils import _aws as aws
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils import apigateway
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._aws import RequestPacer
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._aws import RequestStats
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.apigateway import BOTOCORE_RETRIES
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.apigateway import MAX_ATTEMPTS
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.apigateway import apigateway_config
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._engine import pipeline as engine
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.rows import MISSING_REASON
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._policy.decide import plan_target
from ansible_collections.cloudops.apigw_tracing.tests.unit.aws_fakes import TESTING_CREDENTIALS
from ansible_collections.cloudops.apigw_tracing.tests.unit.aws_fakes import FakeHttp
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import ACCOUNT
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import OTHER_ACCOUNT
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import REGION
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import TODAY
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import stage
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import stage_arn

API = "a1b2c3d4e5"
ROLE = "arn:aws:iam::111111111111:role/TracingAudit"
CALLER = "arn:aws:sts::111111111111:assumed-role/TracingAudit/cloudops-tracing-sweep"
CONNECTION = engine.Connection(region=REGION, concurrency=1)
NO_REQUESTS = dict.fromkeys(RequestStats.FIELDS, 0)
SETTINGS = {"desired": True, "rules": [], "exemptions": [], "exempt_tag": "XrayExempt"}


def claim(host, account_id=ACCOUNT, region=REGION, planned_changes=1, status="ok"):
    return {"host": host, "status": status, "account_id": account_id, "region": region, "planned_changes": planned_changes}


def planned_target(host="east", stages=None, account_id=ACCOUNT, region=REGION, account_name="shop"):
    """What the plan step returns for a target that was read: prod (off, will be enabled) and dev (already on)."""
    stages = [stage(name="prod", enabled=False), stage(name="dev", enabled=True)] if stages is None else stages
    plan = plan_target(stages, {"account_id": account_id, "region": region}, today=TODAY)
    record = {
        "host": host,
        "account_id": account_id,
        "account_name": account_name,
        "region": region,
        "caller_arn": CALLER,
        "status": "ok",
        "error": None,
        "planned_changes": len(plan["changes"]),
        "exemptions": plan["exemptions"],
        "rows": None,
    }
    return {"target": record, "plan": plan, "apis": 1, "requests": dict(NO_REQUESTS, sent=2), "seconds": 0.1, "claim": claim(host)}


def actions(result):
    return {row["stage_name"]: (row["action"], row["reason"]) for row in result["target"]["rows"]}


ASSUMED = {"AccessKeyId": "ASIAEXAMPLEEXAMPLE01", "SecretAccessKey": "secret", "SessionToken": "token"}


@pytest.fixture(name="no_aws")
def no_aws_fixture(monkeypatch):
    """Any attempt to reach AWS fails the test."""

    def refuse(*args, **kwargs):
        pytest.fail("the step tried to reach AWS")

    monkeypatch.setattr(aws, "client", refuse)
    monkeypatch.setattr(engine, "reach_account", refuse)
    monkeypatch.setattr(engine, "apigateway", refuse)


class MadeClients(list):
    """aws.client() replaced: each call recorded as {service, region, endpoint_url, config, credentials}."""

    def record(self, service, region, endpoint_url=None, config=None, credentials=None):
        self.append({"service": service, "region": region, "endpoint_url": endpoint_url, "config": config, "credentials": credentials})


AWS_CLIENT = aws.client


def real_client(service, region, endpoint_url=None, config=None, credentials=None):
    """What aws.client makes, from the shared session; test credentials stand in for the controller's
    own, which a unit test must not look up (the environment, a profile, an instance role)."""
    return AWS_CLIENT(service, region, endpoint_url, config, credentials or TESTING_CREDENTIALS)


@pytest.fixture(name="reached")
def reached_fixture(monkeypatch, no_sleep):  # pylint: disable=unused-argument
    """The account reached without STS, with the controller's credentials; the API Gateway client the engine makes
    is a real one whose calls a Stubber answers. Yields the stubber; stubber.made lists the clients made."""
    raw = real_client("apigateway", REGION, None, apigateway_config(CONNECTION.concurrency))
    made = MadeClients()

    def client(service, region, endpoint_url=None, config=None, credentials=None):
        assert service == "apigateway"
        made.record(service, region, endpoint_url, config, credentials)
        return raw

    monkeypatch.setattr(engine, "reach_account", lambda target, connection: aws.Reach(ACCOUNT, CALLER, None))
    monkeypatch.setattr(aws, "client", client)
    with Stubber(raw) as stubber:
        stubber.made = made
        yield stubber
        stubber.assert_no_pending_responses()


@pytest.fixture(name="over_http")
def over_http_fixture(monkeypatch, no_sleep):
    """The account reached through an assumed role (no STS call); every API Gateway client the engine makes is
    real (aws.client, the shared session) and its HTTP attempts are answered by one FakeHttp. Yields it,
    with .made (the clients made) and .waits (botocore's retry waits)."""
    http = FakeHttp()
    made = MadeClients()
    http.pacer_sleeps = []

    def client(service, region, endpoint_url=None, config=None, credentials=None):
        assert service == "apigateway"
        made.record(service, region, endpoint_url, config, credentials)
        return http.attach(real_client(service, region, endpoint_url, config, credentials))

    # The engine's pace (9.5 requests/s): a 429 empties the bucket, and the pacer's waits are recorded, not slept.
    monkeypatch.setattr(apigateway, "RequestPacer", lambda rate: RequestPacer(rate, sleep=http.pacer_sleeps.append))

    monkeypatch.setattr(engine, "reach_account", lambda target, connection: aws.Reach(ACCOUNT, CALLER, ASSUMED))
    monkeypatch.setattr(aws, "client", client)
    http.made = made
    http.waits = no_sleep
    yield http
    assert http.pending == 0, f"{http.pending} HTTP answers were not used"


# ---- guard: duplicates and the max-changes guard ---------------------------------------------------------


@pytest.mark.parametrize("order", [["b-east", "a-east", "c-west"], ["c-west", "a-east", "b-east"], ["a-east", "c-west", "b-east"]])
def test_the_later_host_by_name_is_the_duplicate_whatever_the_order(order):
    claims = {
        "a-east": claim("a-east", planned_changes=2),
        "b-east": claim("b-east", planned_changes=5),
        "c-west": claim("c-west", account_id=OTHER_ACCOUNT, region="us-west-2", planned_changes=1),
    }
    guard = engine.guard_claims([claims[host] for host in order], max_changes=None, check_mode=False)
    assert guard["duplicates"] == {"b-east": "a-east"}
    # The duplicate's changes are not counted: its stages are swept once, by a-east.
    assert guard["planned_changes"] == 3


def test_same_account_in_another_region_is_no_duplicate():
    guard = engine.guard_claims([claim("a"), claim("b", region="eu-west-1")], max_changes=None, check_mode=False)
    assert guard["duplicates"] == {}
    assert guard["planned_changes"] == 2


def test_failed_targets_own_nothing_and_plan_nothing():
    guard = engine.guard_claims([claim("a", status="error", planned_changes=9), claim("b", planned_changes=1), None, {}], max_changes=None, check_mode=False)
    assert guard == {"planned_changes": 1, "max_changes": None, "over_limit": False, "refused": False, "duplicates": {}}


def test_a_target_of_unknown_account_is_counted_but_never_a_duplicate():
    guard = engine.guard_claims([claim("a", account_id=None), claim("b", account_id=None)], max_changes=None, check_mode=False)
    assert guard["duplicates"] == {}
    assert guard["planned_changes"] == 2


@pytest.mark.parametrize(
    "max_changes, check_mode, over, refused",
    [
        (3, False, True, True),
        (3, True, True, False),  # an audit is never refused; its report says an enforcement would be
        (4, False, False, False),  # as many as allowed is allowed
        (0, False, True, True),
        (None, False, False, False),  # no limit
    ],
)
def test_the_guard_refuses_only_outside_check_mode(max_changes, check_mode, over, refused):
    guard = engine.guard_claims([claim("a", planned_changes=3), claim("b", region="eu-west-1", planned_changes=1)], max_changes, check_mode)
    assert guard == {"planned_changes": 4, "max_changes": max_changes, "over_limit": over, "refused": refused, "duplicates": {}}


def test_a_duplicates_changes_never_make_the_guard_refuse():
    claims = [claim("a", planned_changes=2), claim("b", planned_changes=50)]
    guard = engine.guard_claims(claims, max_changes=2, check_mode=False)
    assert (guard["planned_changes"], guard["over_limit"], guard["refused"], guard["duplicates"]) == (2, False, False, {"b": "a"})


# ---- converge without AWS --------------------------------------------------------------------------------


def test_a_duplicate_target_is_failed_and_not_converged(no_aws):
    planned = planned_target(host="b-east")
    guard = engine.guard_claims([claim("a-east"), claim("b-east")], max_changes=None, check_mode=False)

    result = engine.converge_target(planned, guard, {"region": REGION}, CONNECTION, check_mode=False)

    record = result["target"]
    assert record["status"] == "error"
    assert record["error"] == (
        f"duplicate target: account {ACCOUNT} in {REGION} is also swept by host a-east in this run; "
        "it was swept once, there, so that its stages are counted once: remove one of them from the inventory"
    )
    assert (record["rows"], record["planned_changes"], record["exemptions"]) == ([], 0, [])
    assert (result["changed"], result["diff"]) == (False, {})
    assert record["requests"] == result["requests"] == dict(NO_REQUESTS, sent=2)


def test_the_owner_of_a_duplicated_place_is_converged(no_aws):
    guard = engine.guard_claims([claim("a-east"), claim("b-east")], max_changes=None, check_mode=True)
    result = engine.converge_target(planned_target(host="a-east"), guard, {"region": REGION}, CONNECTION, check_mode=True)
    assert result["target"]["status"] == "ok"
    assert actions(result)["prod"][0] == "would_enable"


def test_a_refused_enforcement_makes_no_call_and_refuses_every_change(no_aws):
    guard = engine.guard_claims([claim("east", planned_changes=1), claim("west", region="us-west-2", planned_changes=1)], max_changes=1, check_mode=False)
    assert guard["refused"] is True

    result = engine.converge_target(planned_target(), guard, {"region": REGION}, CONNECTION, check_mode=False)

    assert result["target"]["status"] == "ok"
    assert actions(result) == {
        "prod": ("refused", "refused: 2 changes planned in this run, more than tracing_sweep_max_changes=1; nothing was changed"),
        "dev": ("none", "default: tracing_sweep_desired=true"),
    }
    assert [row["tracing_enabled_after"] for row in result["target"]["rows"]] == [False, True]
    assert (result["changed"], result["diff"]) == (False, {})


def test_an_audit_over_the_limit_still_says_what_would_change(no_aws):
    guard = engine.guard_claims([claim("east", planned_changes=5)], max_changes=1, check_mode=True)
    result = engine.converge_target(planned_target(), guard, {"region": REGION}, CONNECTION, check_mode=True)
    assert actions(result)["prod"] == ("would_enable", "default: tracing_sweep_desired=true")
    assert result["changed"] is True


def test_check_mode_says_what_would_change_without_a_call(no_aws):
    result = engine.converge_target(planned_target(), {}, {"region": REGION}, CONNECTION, check_mode=True)

    assert actions(result) == {"prod": ("would_enable", "default: tracing_sweep_desired=true"), "dev": ("none", "default: tracing_sweep_desired=true")}
    assert result["changed"] is True
    assert result["diff"] == {
        "prepared": f"{ACCOUNT} (shop) {REGION}: X-Ray tracing of 1 stage would change\n  {API}/prod: tracing_enabled false -> true\n"
    }
    assert result["target"]["requests"] == dict(NO_REQUESTS, sent=2)


def test_nothing_to_change_makes_no_call(no_aws):
    planned = planned_target(stages=[stage(name="dev", enabled=True)])
    result = engine.converge_target(planned, {"refused": False}, {"region": REGION}, CONNECTION, check_mode=False)
    assert actions(result) == {"dev": ("none", "default: tracing_sweep_desired=true")}
    assert (result["changed"], result["diff"]) == (False, {})


def test_a_target_that_failed_its_plan_passes_through(no_aws):
    record = {"host": "h", "account_id": None, "account_name": None, "region": REGION, "caller_arn": None, "status": "error",
              "error": "Could not assume role", "planned_changes": 0, "exemptions": [], "rows": []}
    planned = {"target": record, "plan": None, "requests": dict(NO_REQUESTS, sent=1)}
    result = engine.converge_target(planned, {}, {"region": REGION}, CONNECTION, check_mode=False)
    assert result == {"target": dict(record, requests=dict(NO_REQUESTS, sent=1)), "changed": False, "diff": {}, "requests": dict(NO_REQUESTS, sent=1)}


# ---- converge with a stubbed API Gateway -----------------------------------------------------------------


def patch(stage_name, value="true"):
    return {"restApiId": API, "stageName": stage_name, "patchOperations": [{"op": "replace", "path": "/tracingEnabled", "value": value}]}


def test_enforce_makes_the_planned_change_and_records_it(reached):
    reached.add_response("get_stage", {"stageName": "prod"}, {"restApiId": API, "stageName": "prod"})
    reached.add_response("update_stage", {"stageName": "prod", "tracingEnabled": True}, patch("prod"))

    result = engine.converge_target(planned_target(), {"refused": False}, {"region": REGION}, CONNECTION, check_mode=False)

    assert result["target"]["status"] == "ok"
    assert actions(result)["prod"] == ("enabled", "default: tracing_sweep_desired=true")
    assert result["changed"] is True
    assert result["diff"] == {"prepared": f"{ACCOUNT} (shop) {REGION}: X-Ray tracing of 1 stage changed\n  {API}/prod: tracing_enabled false -> true\n"}


def test_a_stage_deleted_before_its_change_is_skipped_not_an_error(reached):
    reached.add_response("get_stage", {"stageName": "prod"}, {"restApiId": API, "stageName": "prod"})
    reached.add_client_error("update_stage", "NotFoundException", "Invalid stage identifier specified", 404, expected_params=patch("prod"))

    result = engine.converge_target(planned_target(), {"refused": False}, {"region": REGION}, CONNECTION, check_mode=False)

    assert result["target"]["status"] == "ok"
    assert actions(result)["prod"] == ("skipped", MISSING_REASON)
    assert (result["changed"], result["diff"]) == (False, {})


def test_a_failed_change_is_an_error_row_and_the_other_changes_are_made(reached):
    stages = [stage(name="prod", enabled=False), stage(name="qa", enabled=False), stage(name="dev", enabled=True)]
    reached.add_response("get_stages", {"item": [{"stageName": "prod"}, {"stageName": "qa"}]}, {"restApiId": API})
    reached.add_client_error("update_stage", "AccessDeniedException", "not authorized", 403, expected_params=patch("prod"))
    reached.add_response("update_stage", {"stageName": "qa", "tracingEnabled": True}, patch("qa"))

    result = engine.converge_target(planned_target(stages=stages), {"refused": False}, {"region": REGION}, CONNECTION, check_mode=False)

    assert result["target"]["status"] == "ok"
    action, reason = actions(result)["prod"]
    assert action == "error"
    assert reason.startswith(f"Turning tracing on for stage {API}/prod failed: AccessDeniedException: not authorized. The caller needs apigateway:PATCH")
    assert actions(result)["qa"] == ("enabled", "default: tracing_sweep_desired=true")
    assert result["changed"] is True


def test_when_every_change_fails_each_row_still_names_its_cause(reached):
    reached.add_response("get_stage", {"stageName": "prod"}, {"restApiId": API, "stageName": "prod"})
    reached.add_client_error("update_stage", "AccessDeniedException", "not authorized", 403)

    result = engine.converge_target(planned_target(), {"refused": False}, {"region": REGION}, CONNECTION, check_mode=False)

    # The target's own status is not asserted here: the engine marks a target whose every change failed as failed
    # too ("1 of 1 stages could not be converged"), which counts the one failure twice (see the report of this change).
    action, reason = actions(result)["prod"]
    assert action == "error"
    assert reason.startswith(f"Turning tracing on for stage {API}/prod failed: AccessDeniedException: not authorized")
    assert result["changed"] is False


def test_an_account_that_cannot_be_reached_again_fails_the_target(monkeypatch):
    def unreachable(target, connection):
        raise engine.TargetError("Could not assume role arn:aws:iam::111111111111:role/TracingAudit in us-east-1 (sts:AssumeRole): AccessDenied: no")

    monkeypatch.setattr(engine, "reach_account", unreachable)
    result = engine.converge_target(planned_target(), {"refused": False}, {"region": REGION, "role_arn": ROLE}, CONNECTION, check_mode=False)

    message = "the changes were not made: Could not assume role arn:aws:iam::111111111111:role/TracingAudit in us-east-1 (sts:AssumeRole): AccessDenied: no"
    assert (result["target"]["status"], result["target"]["error"]) == ("error", message)
    assert actions(result)["prod"] == ("error", "the change was not made: " + message)
    assert result["changed"] is False


# ---- plan --------------------------------------------------------------------------------------------------


def test_invalid_target_variables_fail_the_plan_before_any_call(no_aws):
    planned = engine.sweep_target("bad", {"region": "US-EAST-1", "account_id": "1234", "account_name": ""}, SETTINGS, CONNECTION)
    record = planned["target"]
    assert record["status"] == "error"
    assert record["error"].startswith("Invalid target variables, nothing was done on this target: tracing_sweep_region: must be an AWS region name")
    assert "tracing_sweep_account_id: must be a 12-digit AWS account id" in record["error"]
    # Only well-formed ids and regions are kept: the error names the bad ones.
    assert (record["account_id"], record["region"], record["account_name"]) == (None, None, None)
    assert planned["plan"] is None
    assert planned["claim"] == {"host": "bad", "status": "error", "account_id": None, "region": None, "planned_changes": 0}


def test_an_unreachable_account_fails_the_plan_with_its_cause(monkeypatch):
    def unreachable(target, connection):
        raise engine.TargetError("Could not ask STS which account ... : NoCredentialsError")

    monkeypatch.setattr(engine, "reach_account", unreachable)
    planned = engine.sweep_target("h", {"region": REGION, "account_id": ACCOUNT}, SETTINGS, CONNECTION)
    assert (planned["target"]["status"], planned["target"]["error"]) == ("error", "Could not ask STS which account ... : NoCredentialsError")
    assert planned["target"]["account_id"] == ACCOUNT


def test_plan_reads_the_stages_and_decides(reached):
    reached.add_response("get_rest_apis", {"items": [{"id": API, "name": "orders"}]}, {"limit": 500})
    reached.add_response("get_stages", {"item": [{"stageName": "prod"}, {"stageName": "dev", "tracingEnabled": True, "tags": {"XrayExempt": "x"}}]},
                         {"restApiId": API})

    planned = engine.sweep_target("east", {"region": REGION, "account_name": "shop", "account_id": "", "role_arn": None}, SETTINGS, CONNECTION)

    record = planned["target"]
    assert {key: record[key] for key in ("host", "account_id", "account_name", "region", "caller_arn", "status", "error", "planned_changes")} == {
        "host": "east", "account_id": ACCOUNT, "account_name": "shop", "region": REGION, "caller_arn": CALLER, "status": "ok", "error": None,
        "planned_changes": 1,
    }
    assert planned["plan"]["changes"] == [{"rest_api_id": API, "stage_name": "prod", "tracing_enabled": True, "observed_tracing_enabled": False}]
    assert [(item["stage_name"], item["decision"]) for item in planned["plan"]["stages"]] == [("prod", "enforce"), ("dev", "exempt")]
    assert planned["apis"] == 1
    assert planned["claim"] == {"host": "east", "status": "ok", "account_id": ACCOUNT, "region": REGION, "planned_changes": 1}


def test_a_region_whose_apis_cannot_be_listed_fails_the_plan(reached):
    reached.add_client_error("get_rest_apis", "AccessDeniedException", "not authorized", 403)

    planned = engine.sweep_target("east", {"region": REGION}, SETTINGS, CONNECTION)

    assert planned["target"]["status"] == "error"
    assert planned["target"]["error"].startswith(f"Reading the REST APIs of {REGION} failed: AccessDeniedException: not authorized")
    assert planned["plan"] is None
    assert planned["target"]["caller_arn"] == CALLER


# ---- retries and request counts, over fake HTTP ---------------------------------------------------------------

HTTP_CONNECTION = engine.Connection(region=REGION, endpoint_url="http://localhost:4566", concurrency=2)


def counts(**given):
    return dict(NO_REQUESTS, **given)


def test_the_api_gateway_client_is_made_with_the_reached_credentials_and_the_retry_layer(over_http):
    over_http.add({"item": []})

    planned = engine.sweep_target("east", {"region": REGION}, SETTINGS, HTTP_CONNECTION)

    assert planned["target"]["status"] == "ok"
    [made] = over_http.made
    assert (made["service"], made["region"], made["endpoint_url"], made["credentials"]) == ("apigateway", REGION, "http://localhost:4566", ASSUMED)
    assert made["config"].retries == BOTOCORE_RETRIES
    assert made["config"].max_pool_connections == 10
    assert over_http.requests == [("GET", "/restapis", {"limit": "500"})]


def test_the_plan_counts_every_attempt_retries_included(over_http):
    over_http.add_error("TooManyRequestsException", 429, "Too Many Requests").add({"item": [{"id": API, "name": "orders"}]})
    over_http.add_exception(ConnectionClosedError(endpoint_url="http://localhost:4566"))
    over_http.add_error("ServiceUnavailableException", 503).add({"item": [{"stageName": "prod"}]})

    planned = engine.sweep_target("east", {"region": REGION}, SETTINGS, HTTP_CONNECTION)

    assert planned["target"]["status"] == "ok"
    assert planned["plan"]["changes"] == [{"rest_api_id": API, "stage_name": "prod", "tracing_enabled": True, "observed_tracing_enabled": False}]
    assert planned["requests"] == counts(sent=5, throttled=1, server_errors=1, connection_errors=1)
    assert len(over_http.waits) == 3
    # After the 429 the pacer slowed to its steady rate: each later attempt waited for its token.
    assert len(over_http.pacer_sleeps) == 4


def test_a_listing_still_throttled_after_every_attempt_fails_the_plan_with_its_counts(over_http):
    over_http.repeat(MAX_ATTEMPTS, over_http.add_error, "TooManyRequestsException", 429, "Too Many Requests")

    planned = engine.sweep_target("east", {"region": REGION}, SETTINGS, HTTP_CONNECTION)

    assert planned["target"]["status"] == "error"
    assert planned["target"]["error"].startswith(f"Reading the REST APIs of {REGION} failed: TooManyRequestsException: Too Many Requests")
    assert planned["requests"] == counts(sent=MAX_ATTEMPTS, throttled=MAX_ATTEMPTS)
    assert len(over_http.waits) == MAX_ATTEMPTS - 1


def test_an_endpoint_that_refuses_every_attempt_fails_the_plan_with_the_sdks_words(over_http):
    over_http.repeat(MAX_ATTEMPTS, over_http.add_exception, EndpointConnectionError(endpoint_url="http://localhost:4566/restapis"))

    planned = engine.sweep_target("east", {"region": REGION}, SETTINGS, HTTP_CONNECTION)

    assert planned["target"]["error"] == f'Reading the REST APIs of {REGION} failed: Could not connect to the endpoint URL: "http://localhost:4566/restapis"'
    assert planned["requests"] == counts(sent=MAX_ATTEMPTS, connection_errors=MAX_ATTEMPTS)


def test_converge_retries_a_conflict_and_adds_its_attempts_to_the_plans(over_http):
    over_http.add({"stageName": "prod"})
    over_http.add_error("ConflictException", 409, "Unable to complete operation due to concurrent modification. Please try again later.")
    over_http.add({"stageName": "prod", "tracingEnabled": True})

    result = engine.converge_target(planned_target(), {"refused": False}, {"region": REGION, "role_arn": ROLE}, HTTP_CONNECTION, check_mode=False)

    assert result["target"]["status"] == "ok"
    assert actions(result)["prod"] == ("enabled", "default: tracing_sweep_desired=true")
    assert [method for method, dummy_path, dummy_query in over_http.requests] == ["GET", "PATCH", "PATCH"]
    # The plan's 2 requests, then this step's 3.
    assert result["requests"] == result["target"]["requests"] == counts(sent=5)
    assert over_http.made[0]["credentials"] == ASSUMED


def test_a_conflict_that_outlasts_every_attempt_is_an_error_row(over_http):
    over_http.add({"stageName": "prod"})
    over_http.repeat(MAX_ATTEMPTS, over_http.add_error, "ConflictException", 409, "concurrent modification")

    result = engine.converge_target(planned_target(), {"refused": False}, {"region": REGION}, HTTP_CONNECTION, check_mode=False)

    action, reason = actions(result)["prod"]
    assert action == "error"
    assert reason.startswith(f"Turning tracing on for stage {API}/prod failed: ConflictException: concurrent modification")
    assert result["requests"] == counts(sent=2 + 1 + MAX_ATTEMPTS)


# ---- reaching an account -----------------------------------------------------------------------------------


@pytest.fixture(name="sts")
def sts_fixture(monkeypatch):
    """aws.client gives a real STS client whose calls a Stubber answers; stubber.made lists the clients made."""
    raw = real_client("sts", REGION)
    made = MadeClients()

    def client(service, region, endpoint_url=None, config=None, credentials=None):
        assert service == "sts"
        made.record(service, region, endpoint_url, config, credentials)
        return raw

    monkeypatch.setattr(aws, "client", client)
    with Stubber(raw) as stubber:
        stubber.made = made
        yield stubber
        stubber.assert_no_pending_responses()


def identity(account=ACCOUNT):
    return {"Account": account, "Arn": f"arn:aws:iam::{account}:user/controller", "UserId": "AIDAEXAMPLEEXAMPLE1"}


def test_the_controllers_credentials_in_the_named_account(sts):
    sts.add_response("get_caller_identity", identity())
    reach = engine.reach_account({"region": REGION, "account_id": ACCOUNT}, CONNECTION)
    assert (reach.account_id, reach.caller_arn) == (ACCOUNT, f"arn:aws:iam::{ACCOUNT}:user/controller")


def test_the_controllers_credentials_in_another_account_are_refused(sts):
    sts.add_response("get_caller_identity", identity(OTHER_ACCOUNT))
    with pytest.raises(engine.TargetError) as raised:
        engine.reach_account({"region": REGION, "account_id": ACCOUNT}, CONNECTION)
    assert str(raised.value) == (
        f"tracing_sweep_account_id is {ACCOUNT}, but the controller's credentials belong to account {OTHER_ACCOUNT}; "
        f"set tracing_sweep_role_arn to reach {ACCOUNT}, or correct the inventory"
    )


def test_an_assumed_role_with_its_external_id(sts):
    credentials = {"AccessKeyId": "ASIAEXAMPLEEXAMPLE01", "SecretAccessKey": "secret", "SessionToken": "token", "Expiration": "2026-03-15T13:00:00Z"}
    sts.add_response(
        "assume_role",
        {"Credentials": credentials, "AssumedRoleUser": {"AssumedRoleId": "AROAEXAMPLE:cloudops-tracing-sweep", "Arn": CALLER}},
        {"RoleArn": ROLE, "RoleSessionName": "cloudops-tracing-sweep", "ExternalId": "ext-id-1"},
    )
    reach = engine.reach_account({"region": REGION, "role_arn": ROLE, "external_id": "ext-id-1"}, CONNECTION)
    assert (reach.account_id, reach.caller_arn) == (ACCOUNT, CALLER)
    # The account's clients are made of the assumed role's credentials; STS itself with the controller's own.
    assert reach.credentials == credentials
    [made] = sts.made
    assert (made["service"], made["region"], made["credentials"]) == ("sts", REGION, None)


def test_a_refused_assume_role_names_the_role_and_never_the_external_id(sts):
    sts.add_client_error("assume_role", "AccessDenied", "User is not authorized to perform: sts:AssumeRole", 403)
    with pytest.raises(engine.TargetError) as raised:
        engine.reach_account({"region": REGION, "role_arn": ROLE, "external_id": "very-secret-id"}, CONNECTION)
    assert str(raised.value) == (
        f"Could not assume role {ROLE} in {REGION} (sts:AssumeRole with the external id): AccessDenied: User is not authorized to perform: sts:AssumeRole"
    )
    assert "very-secret-id" not in str(raised.value)


def test_sts_refusing_the_controllers_credentials(sts):
    sts.add_client_error("get_caller_identity", "ExpiredToken", "The security token included in the request is expired", 403)
    with pytest.raises(engine.TargetError) as raised:
        engine.reach_account({"region": REGION}, CONNECTION)
    assert str(raised.value) == (
        f"Could not ask STS which account the controller's credentials belong to (sts:GetCallerIdentity in {REGION}): "
        "ExpiredToken: The security token included in the request is expired. The credentials have expired: renew the session "
        "(or the assumed role's) and run again"
    )


def test_sts_is_asked_with_its_own_retries_and_endpoint(sts):
    sts.add_response("get_caller_identity", identity())
    connection = engine.Connection(region=REGION, sts_endpoint_url="http://localhost:4566")

    reach = engine.reach_account({"region": REGION}, connection)

    assert reach.credentials is None  # the controller's own, for API Gateway too
    [made] = sts.made
    assert (made["service"], made["region"], made["endpoint_url"], made["credentials"]) == ("sts", REGION, "http://localhost:4566", None)
    assert made["config"].retries == {"mode": "standard", "max_attempts": 4}
    assert (made["config"].connect_timeout, made["config"].read_timeout) == (10, 30)


@pytest.mark.parametrize("sts_endpoint_url, expected", [
    ("", "http://127.0.0.1:4566"), (None, "http://127.0.0.1:4566"), ("http://127.0.0.1:9", "http://127.0.0.1:9"),
])
def test_an_empty_sts_endpoint_is_the_endpoint_of_every_other_call(sts_endpoint_url, expected):
    """The role's default for tracing_sweep_sts_endpoint_url is empty (no template for every target to compile)."""
    settings = {"endpoint_url": "http://127.0.0.1:4566", "sts_endpoint_url": sts_endpoint_url}
    assert engine.connection_of(settings, {"region": REGION}).sts_endpoint_url == expected
    assert engine.connection_of({"sts_endpoint_url": ""}, {"region": REGION}).sts_endpoint_url is None


def test_a_controller_configuration_botocore_cannot_use_is_a_target_error(monkeypatch):
    def broken(*args, **kwargs):
        raise ProfileNotFound(profile="nosuch")

    monkeypatch.setattr(aws, "client", broken)
    with pytest.raises(engine.TargetError) as raised:
        engine.reach_account({"region": REGION}, CONNECTION)
    assert str(raised.value) == f"Could not use the controller's AWS credentials in {REGION}: The config profile (nosuch) could not be found"


def test_without_botocore_the_target_says_what_to_install(monkeypatch):
    monkeypatch.setattr(aws, "HAS_BOTOCORE", False)
    monkeypatch.setattr(aws, "client", lambda *args, **kwargs: pytest.fail("no client without botocore"))
    with pytest.raises(engine.TargetError) as raised:
        engine.reach_account({"region": REGION}, CONNECTION)
    assert str(raised.value) == engine.NO_BOTOCORE


def test_a_client_the_converge_cannot_make_fails_the_target_not_the_step(monkeypatch):
    def broken(*args, **kwargs):
        raise ProfileNotFound(profile="nosuch")

    monkeypatch.setattr(engine, "reach_account", lambda target, connection: aws.Reach(ACCOUNT, CALLER, None))
    monkeypatch.setattr(aws, "client", broken)

    result = engine.converge_target(planned_target(), {"refused": False}, {"region": REGION}, CONNECTION, check_mode=False)

    assert (result["target"]["status"], result["target"]["error"]) == ("error", "the changes were not made: The config profile (nosuch) could not be found")


# ---- progress lines -----------------------------------------------------------------------------------------


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_a_read_says_how_it_goes_only_once_it_takes_long():
    clock = Clock()
    lines = []
    progress = engine.ReadProgress("prod_eu-west-1", 9.5, lines.append, clock=clock)

    progress(10, 1000)
    clock.now += 9.9
    progress(100, 1000)
    assert lines == []
    clock.now += 0.1
    progress(400, 1000)
    clock.now += 5
    progress(450, 1000)
    assert lines == ["prod_eu-west-1: 400/1000 REST APIs read, about 63 s left at 9.5 requests/s"]
    clock.now += 5
    progress(500, 1000)
    clock.now += 100
    progress(1000, 1000)  # the last API: the finished line says the rest
    assert lines[1:] == ["prod_eu-west-1: 500/1000 REST APIs read, about 53 s left at 9.5 requests/s"]


def test_the_plan_step_passes_its_progress_to_the_read(reached):
    reached.add_response("get_rest_apis", {"items": [{"id": API, "name": "orders"}]}, {"limit": 500})
    reached.add_response("get_stages", {"item": []}, {"restApiId": API})
    lines = []

    planned = engine.sweep_target("east", {"region": REGION}, SETTINGS, CONNECTION, say=lines.append)

    assert planned["target"]["status"] == "ok"
    assert lines == []  # a read of a second says nothing


def rows(*actions_):
    return [{"action": action} for action in actions_]


@pytest.mark.parametrize(
    "record, check_mode, line",
    [
        ({"host": "east", "status": "ok", "rows": rows("enabled", "none", "error")}, False, "east: 3 stages, 1 changed, 1 error, 2.5 s"),
        ({"host": "east", "status": "ok", "rows": rows("would_enable", "would_disable")}, True, "east: 2 stages, 2 would change, 0 errors, 2.5 s"),
        ({"host": "east", "status": "ok", "rows": rows("disabled")}, False, "east: 1 stage, 1 changed, 0 errors, 2.5 s"),
        ({"host": "east", "status": "ok", "rows": []}, True, "east: 0 stages, 0 would change, 0 errors, 2.5 s"),
        ({"host": "east", "status": "error", "error": "Could not assume role", "rows": []}, False, "east: failed after 2.5 s: Could not assume role"),
    ],
)
def test_the_line_of_a_finished_target(record, check_mode, line):
    assert engine.finished_line(record, 2.46, check_mode) == line


# ---- what a target's record says ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target, expected",
    [
        ({"region": REGION, "account_id": ACCOUNT, "account_name": "shop"}, (ACCOUNT, "shop", REGION)),
        ({"region": REGION, "role_arn": "arn:aws:iam::222222222222:role/R"}, (OTHER_ACCOUNT, None, REGION)),
        ({"region": "US-EAST-1", "account_id": "1234", "account_name": "  "}, (None, None, None)),
        ({"region": REGION + "\n", "account_id": ACCOUNT + "\n"}, (None, None, None)),
        ({}, (None, None, None)),
    ],
)
def test_identity_keeps_only_well_formed_ids(target, expected):
    identity_ = engine.identity_of("h", target)
    assert (identity_["account_id"], identity_["account_name"], identity_["region"]) == expected
    assert (identity_["host"], identity_["caller_arn"]) == ("h", None)


def test_clean_target_drops_unset_variables():
    assert engine.clean_target({"region": REGION, "account_id": "", "role_arn": None, "account_name": "shop"}) == {"region": REGION, "account_name": "shop"}
    assert engine.clean_target(None) == {}


def test_heading_shows_names_safely():
    assert engine.heading({"account_id": ACCOUNT, "account_name": "shop\x1b[2J", "region": REGION}) == f"{ACCOUNT} (shop\\x1b[2J) {REGION}"
    assert engine.heading({"account_id": None, "region": REGION}) == f"unknown account {REGION}"


def test_stage_arn_of_the_samples_matches_the_engine_rows(no_aws):
    result = engine.converge_target(planned_target(), {}, {"region": REGION}, CONNECTION, check_mode=True)
    assert [row["arn"] for row in result["target"]["rows"]] == [stage_arn(API, "prod"), stage_arn(API, "dev")]


def test_what_every_targets_worker_needs_is_read_once_before_the_workers_are_forked():
    """ansible-core forks a worker per target from the process that imported the engine: a worker must find
    botocore's models, the paginators' model and the regions botocore knows already read (each costs milliseconds of
    JSON per target otherwise)."""
    import os  # pylint: disable=import-outside-toplevel

    import botocore.loaders  # pylint: disable=import-outside-toplevel

    from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import known_regions  # pylint: disable=import-outside-toplevel

    reading, writing = os.pipe()
    child = os.fork()
    if child == 0:  # the worker: count the files botocore reads while a target's clients are made and used
        read = []
        original = botocore.loaders.JSONFileLoader.load_file
        botocore.loaders.JSONFileLoader.load_file = lambda self, path: read.append(path) or original(self, path)
        try:
            aws.client("sts", "eu-west-3", "http://127.0.0.1:1", aws.client_config("sts"), TESTING_CREDENTIALS)
            apigw = aws.client("apigateway", "eu-west-3", "http://127.0.0.1:1", apigateway_config(4), TESTING_CREDENTIALS)
            apigw.get_paginator("get_rest_apis")
            assert "eu-west-3" in known_regions()
            os.write(writing, ("\n".join(read) or "none").encode())
        finally:
            os._exit(0)  # pylint: disable=protected-access
    os.close(writing)
    os.waitpid(child, 0)
    with os.fdopen(reading) as answer:
        assert answer.read() == "none"
