# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The whole request path (module_utils/request_path.py): parsing Lambda URIs, resolving stage variables, reading
each API and each function once (botocore Stubbers: pages, calls and their parameters asserted)."""

from __future__ import annotations

import threading

import pytest
from botocore.stub import Stubber

from ansible_collections.cloudops.apigw_tracing.plugins.module_utils import _aws as aws
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils import request_path as rp
from ansible_collections.cloudops.apigw_tracing.tests.unit.aws_fakes import make_client

ACCOUNT = "111122223333"
OTHER = "444455556666"
REGION = "us-east-1"


def uri(function):
    return f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{function}/invocations"


def fn(name, account=ACCOUNT):
    return f"arn:aws:lambda:{REGION}:{account}:function:{name}"


def method(kind, target_uri=None, authorizer_id=None, connection_type=None):
    integration = {"type": kind}
    if target_uri:
        integration["uri"] = target_uri
    if connection_type:
        integration["connectionType"] = connection_type
    out = {"httpMethod": "GET", "methodIntegration": integration}
    if authorizer_id:
        out.update(authorizationType="CUSTOM", authorizerId=authorizer_id)
    return out


def stage(name, traced=True, variables=None, api="a1b2c3d4e5"):
    return {"rest_api_id": api, "stage_name": name, "tracing_enabled": traced, "variables": variables or {}}


@pytest.fixture(name="clients")
def clients_fixture():
    apigw = make_client()
    lam = make_client("lambda")
    with Stubber(apigw) as apigw_stub, Stubber(lam) as lambda_stub:
        yield apigw, apigw_stub, lam, lambda_stub
        apigw_stub.assert_no_pending_responses()
        lambda_stub.assert_no_pending_responses()


@pytest.mark.parametrize(
    "text, expected",
    [
        (uri(fn("orders")), (fn("orders"), "aws", REGION)),
        (uri(fn("orders") + ":live"), (fn("orders") + ":live", "aws", REGION)),
        (uri("orders"), ("orders", "aws", REGION)),
        ("arn:aws-cn:apigateway:cn-north-1:lambda:path/2015-03-31/functions/f/invocations", ("f", "aws-cn", "cn-north-1")),
        ("arn:aws:apigateway:us-east-1:dynamodb:action/PutItem", None),
        ("https://example.com/orders", None),
        (None, None),
    ],
)
def test_lambda_invocation_uris(text, expected):
    assert rp.lambda_function(text) == expected


def test_stage_variables_are_resolved_and_missing_ones_named():
    assert rp.resolve_stage_variables(fn("orders") + ":${stageVariables.alias}", {"alias": "live"}) == (fn("orders") + ":live", [])
    assert rp.resolve_stage_variables("${stageVariables.fn}", {}) == ("${stageVariables.fn}", ["fn"])


@pytest.mark.parametrize(
    "function, expected",
    [
        (fn("orders"), fn("orders")),
        (fn("orders") + ":7", fn("orders") + ":7"),
        ("orders", fn("orders")),
        ("orders:live", fn("orders") + ":live"),
        (f"{OTHER}:function:orders", fn("orders", OTHER)),
        ("arn:aws:s3:::bucket", None),
        ("a:b:c:d", None),
    ],
)
def test_function_arns_keep_their_qualifier(function, expected):
    assert rp.function_arn(function, "aws", REGION, ACCOUNT) == expected


def _api(apigw_stub, resources, authorizers=(), api="a1b2c3d4e5"):
    apigw_stub.add_response("get_resources", {"items": list(resources)}, {"restApiId": api, "embed": ["methods"], "limit": 500})
    apigw_stub.add_response("get_authorizers", {"items": list(authorizers)}, {"restApiId": api, "limit": 500})


def test_resources_are_paged_and_every_hop_is_listed(clients):
    apigw, apigw_stub, lam, lambda_stub = clients
    apigw_stub.add_response(
        "get_resources", {"items": [{"id": "r1", "path": "/orders", "resourceMethods": {"GET": method("AWS_PROXY", uri(fn("orders")), "au1")}}],
                          "position": "p2"},
        {"restApiId": "a1b2c3d4e5", "embed": ["methods"], "limit": 500},
    )
    apigw_stub.add_response(
        "get_resources",
        {"items": [
            {"id": "r2", "path": "/legacy", "resourceMethods": {"POST": method("AWS", uri("billing:live"))}},
            {"id": "r3", "path": "/health", "resourceMethods": {"GET": method("MOCK")}},
            {"id": "r4", "path": "/proxy", "resourceMethods": {"ANY": method("HTTP_PROXY", "http://example.com", connection_type="VPC_LINK")}},
            {"id": "r5", "path": "/table", "resourceMethods": {"PUT": method("AWS", "arn:aws:apigateway:us-east-1:dynamodb:action/PutItem")}},
        ]},
        {"restApiId": "a1b2c3d4e5", "embed": ["methods"], "limit": 500, "position": "p2"},
    )
    apigw_stub.add_response("get_authorizers", {"items": [{"id": "au1", "name": "tokens", "type": "TOKEN", "authorizerUri": uri(fn("auth"))}]},
                            {"restApiId": "a1b2c3d4e5", "limit": 500})
    # Each distinct function once, in ARN order, with its qualifier.
    lambda_stub.add_response("get_function_configuration", {"TracingConfig": {"Mode": "PassThrough"}, "Role": "arn:aws:iam::111122223333:role/a"},
                             {"FunctionName": fn("auth")})
    lambda_stub.add_response("get_function_configuration", {"TracingConfig": {"Mode": "Active"}, "Role": "arn:aws:iam::111122223333:role/b"},
                             {"FunctionName": fn("billing") + ":live"})
    lambda_stub.add_response("get_function_configuration", {"TracingConfig": {"Mode": "Active"}, "Role": "arn:aws:iam::111122223333:role/o"},
                             {"FunctionName": fn("orders")})

    hops = rp.whole_paths(apigw, lam, [stage("prod"), stage("dev", traced=False)], ACCOUNT)

    prod = hops[("a1b2c3d4e5", "prod")]
    assert [(hop["kind"], hop["resource_path"], hop["integration_type"], hop["function_arn"], hop["tracing"]) for hop in prod] == [
        ("gateway", None, None, None, "traced"),
        ("integration", "/health", "MOCK", None, "not_applicable"),
        ("integration", "/legacy", "AWS", fn("billing") + ":live", "traced"),
        ("integration", "/orders", "AWS_PROXY", fn("orders"), "traced"),
        ("integration", "/proxy", "HTTP_PROXY", None, "not_applicable"),
        ("integration", "/table", "AWS", None, "not_applicable"),
        ("authorizer", None, "TOKEN", fn("auth"), "not_traced"),
    ]
    assert "VPC link" in prod[4]["note"] and "dynamodb" in prod[5]["note"] and "PassThrough" in prod[6]["note"]
    assert prod[6]["name"] == "tokens" and prod[6]["role_arn"] == "arn:aws:iam::111122223333:role/a"
    assert rp.whole_path_traced(prod) is False
    assert hops[("a1b2c3d4e5", "dev")][0]["tracing"] == "not_traced"


def test_a_stage_variable_resolves_per_stage_and_a_shared_function_is_read_once(clients):
    apigw, apigw_stub, lam, lambda_stub = clients
    resources = [{"id": "r1", "path": "/", "resourceMethods": {"GET": method("AWS_PROXY", uri(fn("orders") + ":${stageVariables.alias}"))}}]
    _api(apigw_stub, resources)
    _api(apigw_stub, [{"id": "r1", "path": "/", "resourceMethods": {"GET": method("AWS_PROXY", uri(fn("orders") + ":live"))}}], api="b1b2c3d4e5")
    lambda_stub.add_response("get_function_configuration", {"TracingConfig": {"Mode": "Active"}}, {"FunctionName": fn("orders") + ":beta"})
    lambda_stub.add_response("get_function_configuration", {"TracingConfig": {"Mode": "PassThrough"}}, {"FunctionName": fn("orders") + ":live"})

    stages = [stage("prod", variables={"alias": "live"}), stage("beta", variables={"alias": "beta"}), stage("ci"),
              stage("v1", api="b1b2c3d4e5")]
    hops = rp.whole_paths(apigw, lam, stages, ACCOUNT)

    assert [hops[("a1b2c3d4e5", name)][1]["function_arn"] for name in ("prod", "beta")] == [fn("orders") + ":live", fn("orders") + ":beta"]
    assert [hops[("a1b2c3d4e5", name)][1]["tracing"] for name in ("prod", "beta")] == ["not_traced", "traced"]
    unresolved = hops[("a1b2c3d4e5", "ci")][1]
    assert unresolved["tracing"] == "error" and "stage variable alias not set on stage ci" in unresolved["note"]
    # The function behind prod is behind b1b2c3d4e5/v1 too: read once (the Stubber refuses a second call).
    assert hops[("b1b2c3d4e5", "v1")][1]["tracing"] == "not_traced"


def test_a_function_of_another_account_or_unreadable_is_an_error_of_its_hop(clients):
    apigw, apigw_stub, lam, lambda_stub = clients
    _api(apigw_stub, [
        {"id": "r1", "path": "/a", "resourceMethods": {"GET": method("AWS_PROXY", uri(fn("theirs", OTHER)))}},
        {"id": "r2", "path": "/b", "resourceMethods": {"GET": method("AWS_PROXY", uri(fn("gone")))}},
    ])
    lambda_stub.add_client_error("get_function_configuration", "ResourceNotFoundException", "Function not found", 404,
                                 expected_params={"FunctionName": fn("gone")})

    hops = rp.whole_paths(apigw, lam, [stage("prod")], ACCOUNT)[("a1b2c3d4e5", "prod")]

    assert [hop["tracing"] for hop in hops] == ["traced", "error", "error"]
    assert f"in account {OTHER}, not in the target's account {ACCOUNT}" in hops[1]["note"]
    assert hops[2]["note"] == "GetFunctionConfiguration failed: ResourceNotFoundException: Function not found"


def test_an_api_that_cannot_be_read_is_an_error_hop_of_its_stages(clients):
    apigw, apigw_stub, lam, dummy = clients
    apigw_stub.add_client_error("get_resources", "AccessDeniedException", "not authorized", 403)

    hops = rp.whole_paths(apigw, lam, [stage("prod")], ACCOUNT)[("a1b2c3d4e5", "prod")]

    assert [hop["tracing"] for hop in hops] == ["traced", "error"]
    assert "AccessDeniedException: not authorized" in hops[1]["note"]


def test_an_unused_or_cognito_authorizer(clients):
    apigw, apigw_stub, lam, dummy = clients
    _api(apigw_stub, [{"id": "r1", "path": "/", "resourceMethods": {"GET": method("MOCK", authorizer_id="c1")}}],
         [{"id": "c1", "name": "users", "type": "COGNITO_USER_POOLS"}, {"id": "u1", "name": "unused", "type": "TOKEN", "authorizerUri": uri("x")}])

    hops = rp.whole_paths(apigw, lam, [stage("prod")], ACCOUNT)[("a1b2c3d4e5", "prod")]

    assert [(hop["kind"], hop["name"], hop["tracing"]) for hop in hops] == [
        ("gateway", None, "traced"), ("integration", None, "not_applicable"), ("authorizer", "users", "not_applicable")]
    assert rp.whole_path_traced(hops) is True


def test_an_authorizer_that_cannot_be_known_is_an_error_hop_never_dropped(clients):
    apigw, apigw_stub, lam, dummy = clients
    _api(apigw_stub, [{"id": "r1", "path": "/", "resourceMethods": {"GET": method("MOCK", authorizer_id="gone"),
                                                                    "POST": method("MOCK", authorizer_id="odd")}}],
         [{"id": "odd", "name": "odd", "type": "REQUEST", "authorizerUri": "https://example.com/auth"}])

    hops = rp.whole_paths(apigw, lam, [stage("prod")], ACCOUNT)[("a1b2c3d4e5", "prod")]

    authorizers = {hop["name"]: hop for hop in hops if hop["kind"] == "authorizer"}
    assert authorizers["gone"]["tracing"] == "error" and "not among the REST API's authorizers" in authorizers["gone"]["note"]
    assert authorizers["odd"]["tracing"] == "error" and "REQUEST authorizer whose URI is not a Lambda invocation URI" in authorizers["odd"]["note"]
    assert rp.whole_path_traced(hops) is False


def test_lambda_is_paced_under_its_own_quota():
    pace = aws.PACES["lambda"]["GetFunctionConfiguration"]
    assert pace.rate < pace.aws_rate == 15 and pace.burst <= pace.aws_burst
    assert aws.client_config("lambda").retries == {"mode": "standard", "max_attempts": 5}


class _FakeApigw:
    """GetResources and GetAuthorizers (every page at once) of REST APIs whose one method reaches function f<N % 3>,
    N being the API id's last two digits; thread-safe (each paginate call answers its own API)."""

    class _Pages:
        def __init__(self, items):
            self.items = items

        def build_full_result(self):
            return {"items": self.items}

    class _Paginator:
        def __init__(self, operation):
            self.operation = operation

        def paginate(self, restApiId, **kwargs):  # pylint: disable=invalid-name,unused-argument
            if self.operation != "get_resources":
                return _FakeApigw._Pages([])
            target = uri(fn("f%d" % (int(restApiId[-2:]) % 3)))
            return _FakeApigw._Pages([{"id": "r1", "path": "/", "resourceMethods": {"GET": method("AWS_PROXY", target)}}])

    def get_paginator(self, operation):
        return self._Paginator(operation)


class _FakeLambda:
    def __init__(self):
        self.read = []

    def get_function_configuration(self, FunctionName):  # pylint: disable=invalid-name
        self.read.append(FunctionName)
        return {"TracingConfig": {"Mode": "Active" if FunctionName.endswith("f0") else "PassThrough"}, "Role": "arn:aws:iam::%s:role/r" % ACCOUNT}


def test_with_concurrency_the_functions_are_read_while_the_apis_are_and_the_hops_are_the_same():
    """Concurrency above 1 overlaps the two reads (a function is read once its first API is read): each distinct
    function is still read once, and every stage gets the hops the sequential read gives it, in the stages' order."""
    stages = [stage(name, api="api00000%02d" % number) for number in range(12) for name in ("prod", "dev")]
    runs = {}
    for concurrency in (1, 4):
        lam = _FakeLambda()
        runs[concurrency] = (rp.whole_paths(_FakeApigw(), lam, stages, ACCOUNT, concurrency=concurrency), lam.read)
    (in_turn, read_in_turn), (overlapped, read_overlapped) = runs[1], runs[4]
    assert list(overlapped) == list(in_turn) and overlapped == in_turn
    assert sorted(read_overlapped) == read_in_turn == [fn("f0"), fn("f1"), fn("f2")]
    assert [hop["tracing"] for hop in overlapped[("api0000001", "prod")]] == ["traced", "not_traced"]
    assert [hop["tracing"] for hop in overlapped[("api0000003", "dev")]] == ["traced", "traced"]


class _UpdatingClient:
    """update_function_configuration answers ResourceConflictException ``conflicts`` times, then ``mode``."""

    def __init__(self, conflicts, mode="Active"):
        self.conflicts = conflicts
        self.mode = mode
        self.calls = []

    def update_function_configuration(self, **kwargs):
        from botocore.exceptions import ClientError  # pylint: disable=import-outside-toplevel
        self.calls.append(kwargs)
        if len(self.calls) <= self.conflicts:
            raise ClientError({"Error": {"Code": "ResourceConflictException", "Message": "An update is in progress"}}, "UpdateFunctionConfiguration")
        return {"TracingConfig": {"Mode": self.mode}}


def test_set_tracing_mode_retries_a_function_being_updated_then_says_why():
    from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.request_path import set_tracing_mode  # pylint: disable=import-outside-toplevel
    waits = []
    client = _UpdatingClient(conflicts=2)
    assert set_tracing_mode(client, "arn:aws:lambda:us-east-1:123456789012:function:f", sleep=waits.append) == {
        "mode_after": "Active", "changed": True, "error": None}
    assert waits == [0.5, 1.0]
    assert client.calls[0] == {"FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:f", "TracingConfig": {"Mode": "Active"}}

    waits = []
    outcome = set_tracing_mode(_UpdatingClient(conflicts=99), "f", sleep=waits.append)
    assert len(waits) == 5 and outcome["changed"] is False
    assert outcome["error"] == ("UpdateFunctionConfiguration failed after 6 attempts (the function was still being updated): "
                                "ResourceConflictException: An update is in progress")


def test_set_tracing_mode_checks_the_answer():
    from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.request_path import set_tracing_mode  # pylint: disable=import-outside-toplevel
    outcome = set_tracing_mode(_UpdatingClient(conflicts=0, mode="PassThrough"), "f", sleep=None)
    assert outcome == {"mode_after": "PassThrough", "changed": False,
                       "error": "UpdateFunctionConfiguration answered TracingConfig.Mode PassThrough, not Active"}


# ---- whether a function's execution role may write to X-Ray ----------------------------------------------------

ROLE = "arn:aws:iam::%s:role/lambda-exec" % ACCOUNT
XRAY = {"PolicySourceArn": ROLE, "ActionNames": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]}


def simulated(*decisions):
    return {"EvaluationResults": [{"EvalActionName": action, "EvalDecision": decision}
                                  for action, decision in zip(XRAY["ActionNames"], decisions)]}


@pytest.mark.parametrize("decisions, state, said", [
    (("allowed", "allowed"), rp.ROLE_CAN_WRITE, None),
    (("implicitDeny", "allowed"), rp.ROLE_CANNOT_WRITE, "xray:PutTraceSegments not allowed"),
    (("explicitDeny", "implicitDeny"), rp.ROLE_CANNOT_WRITE, "xray:PutTraceSegments and xray:PutTelemetryRecords not allowed"),
])
def test_check_role_says_whether_the_role_may_write_to_xray(decisions, state, said):
    iam = make_client("iam")
    with Stubber(iam) as stub:
        stub.add_response("simulate_principal_policy", simulated(*decisions), XRAY)
        found = rp.check_role(iam, ROLE)
        stub.assert_no_pending_responses()
    assert found["state"] == state
    if said is None:
        assert found["note"] is None
    else:
        assert said in found["note"] and "AWSXRayDaemonWriteAccess" in found["note"] and ROLE in found["note"]


def test_a_refused_simulation_is_said_never_raised():
    iam = make_client("iam")
    with Stubber(iam) as stub:
        stub.add_client_error("simulate_principal_policy", "AccessDenied", "not authorized", 403, expected_params=XRAY)
        found = rp.check_role(iam, ROLE)
    note = "could not check the role's X-Ray permission: iam:SimulatePrincipalPolicy of %s failed: AccessDenied: not authorized" % ROLE
    assert found == {"state": rp.ROLE_UNKNOWN, "note": note}


def test_roles_are_checked_once_each_and_only_for_functions_that_trace_or_are_set_to():
    hop = {"kind": "integration", "role_arn": ROLE, "note": "TracingConfig.Mode is Active"}
    hops = {"a/prod": [dict(hop, function_arn=fn("on"), tracing="traced"), dict(hop, function_arn=fn("off"), tracing="not_traced")],
            "a/beta": [dict(hop, function_arn=fn("on"), tracing="traced"), dict(hop, function_arn=fn("later"), tracing="not_traced")]}
    functions = rp.functions_to_check(hops, [{"function_arn": fn("later"), "decision": "change"}])
    assert functions == {fn("on"): ROLE, fn("later"): ROLE}
    iam = make_client("iam")
    with Stubber(iam) as stub:
        stub.add_response("simulate_principal_policy", simulated("implicitDeny", "implicitDeny"), XRAY)
        roles = rp.check_roles(iam, functions.values())
        stub.assert_no_pending_responses()
    marked = rp.with_role_checks(hops, roles, functions)
    on, off = marked["a/prod"]
    assert on["role_xray"] == rp.ROLE_CANNOT_WRITE and "AWSXRayDaemonWriteAccess" in on["note"] and "role_xray" not in off
    assert rp.hop_breaks_trace(on) and not rp.whole_path_traced(marked["a/prod"][:1])


def test_the_path_of_an_api_and_its_functions_are_read_while_other_apis_stages_are_still_being_read(monkeypatch):
    """describe_stages hands each API's stages to the PathReader as soon as they are read: the last API's GetStages
    waits (up to 5 s) until the first API's function has been read, which a read of the paths after every stage
    never lets happen. The hops are those of a read after the stages."""
    from ansible_collections.cloudops.apigw_tracing.plugins.module_utils import discovery

    ids = ["api00000%02d" % number for number in range(6)]
    function_read = threading.Event()
    waited = []

    class Meta:
        partition = "aws"
        region_name = "us-east-1"

    class Apigw(_FakeApigw):
        meta = Meta()

        def get_stages(self, restApiId):  # pylint: disable=invalid-name
            if restApiId == ids[-1]:
                waited.append(function_read.wait(5))
            return {"item": [{"stageName": "prod", "tracingEnabled": True}]}

    class Lambda(_FakeLambda):
        def get_function_configuration(self, FunctionName):  # pylint: disable=invalid-name
            function_read.set()
            return super().get_function_configuration(FunctionName)

    monkeypatch.setattr(discovery, "list_rest_apis", lambda client: [{"id": api_id, "name": api_id} for api_id in ids])
    with rp.PathReader(Apigw(), Lambda(), ACCOUNT, concurrency=2) as reader:
        found = discovery.describe_stages(Apigw(), concurrency=2, each_api=reader.read)
        hops = reader.finish(found.stages)
    assert waited == [True]
    assert hops == rp.whole_paths(Apigw(), _FakeLambda(), found.stages, ACCOUNT, concurrency=1)
    assert [hop["tracing"] for hop in hops[(ids[1], "prod")]] == ["traced", "not_traced"]


@pytest.mark.parametrize("aliases, served, said", [
    # ListAliases with FunctionVersion; an alias that routes part of its traffic to the version serves it too, one on
    # another version (as moto answers, ignoring FunctionVersion) does not.
    ([{"Name": "live", "FunctionVersion": "3"}, {"Name": "canary", "FunctionVersion": "4", "RoutingConfig": {"AdditionalVersionWeights": {"3": 0.1}}},
      {"Name": "next", "FunctionVersion": "4"}], ["canary", "live"], "served by aliases canary, live"),
    ([], [], "no alias serves it: the integration names the version itself"),
])
def test_a_published_version_says_which_aliases_serve_it(clients, aliases, served, said):
    apigw, apigw_stub, lam, lambda_stub = clients
    _api(apigw_stub, [{"id": "r1", "path": "/", "resourceMethods": {"GET": method("AWS_PROXY", uri(fn("orders") + ":3"))}}])
    lambda_stub.add_response("get_function_configuration", {"TracingConfig": {"Mode": "PassThrough"}}, {"FunctionName": fn("orders") + ":3"})
    lambda_stub.add_response("list_aliases", {"Aliases": aliases}, {"FunctionName": fn("orders"), "FunctionVersion": "3"})

    [dummy, hop] = rp.whole_paths(apigw, lam, [stage("prod")], ACCOUNT)[("a1b2c3d4e5", "prod")]

    assert hop["aliases"] == served and hop["tracing"] == "not_traced"
    assert "published version, whose configuration cannot change" in hop["note"] and said in hop["note"]


def test_a_version_whose_aliases_cannot_be_listed_is_still_read_and_says_so(clients):
    apigw, apigw_stub, lam, lambda_stub = clients
    _api(apigw_stub, [{"id": "r1", "path": "/", "resourceMethods": {"GET": method("AWS_PROXY", uri(fn("orders") + ":${stageVariables.v}"))}}])
    denied = ("AccessDeniedException", "not authorized to perform: lambda:ListAliases", 403)
    lambda_stub.add_response("get_function_configuration", {"TracingConfig": {"Mode": "Active"}}, {"FunctionName": fn("orders") + ":3"})
    lambda_stub.add_client_error("list_aliases", *denied)
    lambda_stub.add_response("get_function_configuration", {"TracingConfig": {"Mode": "PassThrough"}}, {"FunctionName": fn("orders") + ":4"})
    lambda_stub.add_client_error("list_aliases", *denied)

    hops = rp.whole_paths(apigw, lam, [stage("prod", variables={"v": "3"}), stage("beta", variables={"v": "4"})], ACCOUNT)

    traced, untraced = hops[("a1b2c3d4e5", "prod")][1], hops[("a1b2c3d4e5", "beta")][1]
    assert traced["tracing"] == "traced" and "aliases" not in traced
    assert untraced["tracing"] == "not_traced" and "aliases" not in untraced and "its aliases could not be listed" in untraced["note"]


@pytest.mark.parametrize("concurrency", [1, 2])
def test_a_lambda_client_that_cannot_be_made_is_an_error_of_its_hops_only(concurrency):
    from botocore.exceptions import InvalidRegionError  # pylint: disable=import-outside-toplevel

    def make(region, service, config):  # pylint: disable=unused-argument
        raise InvalidRegionError(region_name=region)

    stages = [stage("prod", api="api0000001")]
    with rp.PathReader(_FakeApigw(), rp.LambdaClients(make, REGION), ACCOUNT, concurrency=concurrency) as reader:
        reader.read(stages)
        [dummy, hop] = reader.finish(stages)[("api0000001", "prod")]
    assert hop["tracing"] == "error" and hop["note"].startswith("the Lambda client of the function's region could not be made: InvalidRegionError"), hop
