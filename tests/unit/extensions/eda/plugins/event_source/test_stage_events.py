# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Unit tests of the event source cloudops.apigw_tracing.stage_events: parsing, coalescing, backoff, the loop.

ansible-rulebook loads the source by path, and it is not importable as a Python package, so the tests load it
by path too.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import logging
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[6] / "extensions" / "eda" / "plugins" / "event_source" / "stage_events.py"
_SPEC = importlib.util.spec_from_file_location("cloudops_apigw_tracing_stage_events", SOURCE)
se = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(se)

ACCOUNT = "123456789012"
REGION = "eu-west-1"
API = "a1b2c3d4e5"
ROLE_ARN = "arn:aws:sts::123456789012:assumed-role/Deployer/ci-1234"
QUEUE_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/apigw-tracing-events"


def assumed_role(session="ci-1234", role="Deployer"):
    arn = "arn:aws:sts::%s:assumed-role/%s/%s" % (ACCOUNT, role, session)
    return {
        "type": "AssumedRole", "principalId": "AROAEXAMPLE:%s" % session, "arn": arn, "accountId": ACCOUNT,
        "sessionContext": {"sessionIssuer": {"type": "Role", "arn": "arn:aws:iam::%s:role/%s" % (ACCOUNT, role)}},
    }


def record(event_name, request, response=None, identity=None, **extra):
    """A CloudTrail record of an API Gateway management call."""
    detail = {
        "eventVersion": "1.09", "userIdentity": identity if identity is not None else assumed_role(),
        "eventTime": "2026-12-05T09:00:00Z", "eventSource": "apigateway.amazonaws.com", "eventName": event_name,
        "awsRegion": REGION, "sourceIPAddress": "192.0.2.1", "userAgent": "aws-cli/2",
        "requestParameters": request, "responseElements": response, "eventID": "e-%s" % event_name,
        "readOnly": False, "eventType": "AwsApiCall", "managementEvent": True, "recipientAccountId": ACCOUNT,
    }
    detail.update(extra)
    return detail


def body(detail, **envelope):
    """The EventBridge envelope, as EventBridge puts it on the queue."""
    message = {
        "version": "0", "id": "eb-1", "detail-type": "AWS API Call via CloudTrail", "source": "aws.apigateway",
        "account": ACCOUNT, "time": "2026-12-05T09:00:01Z", "region": REGION, "resources": [], "detail": detail,
    }
    message.update(envelope)
    return json.dumps(message)


def parse(detail, **kwargs):
    return se.parse_message(body(detail), **kwargs)


def one(detail, **kwargs):
    events, reason = parse(detail, **kwargs)
    assert reason is None
    assert len(events) == 1
    return events[0]


def stage_of(event):
    return (event["stage"]["account_id"], event["stage"]["region"], event["stage"]["rest_api_id"], event["stage"]["stage_name"])


# ---- parse_message: the event names --------------------------------------------------------------------------------

def test_create_stage_normalised_from_create_stage_input():
    event = one(record("CreateStage", {"restApiId": API, "createStageInput": {"stageName": "prod", "deploymentId": "d1"}},
                       {"stageName": "prod", "deploymentId": "d1"}))
    assert event == {
        "stage": {"account_id": ACCOUNT, "region": REGION, "rest_api_id": API, "stage_name": "prod"},
        "change": {"event_name": "CreateStage", "event_time": "2026-12-05T09:00:00Z", "event_id": "e-CreateStage",
                   "principal_arn": ROLE_ARN, "session_name": "ci-1234", "own_session": False},
    }


def test_create_stage_stage_name_in_response_only():
    event = one(record("CreateStage", {"restApiId": API}, {"stageName": "beta", "restApiId": API}))
    assert stage_of(event) == (ACCOUNT, REGION, API, "beta")


@pytest.mark.parametrize("event_name", ["UpdateStage", "DeleteStage"])
def test_update_and_delete_stage(event_name):
    event = one(record(event_name, {"restApiId": API, "stageName": "prod", "patchOperations": []}))
    assert stage_of(event) == (ACCOUNT, REGION, API, "prod")
    assert event["change"]["event_name"] == event_name


def test_create_deployment_with_a_stage():
    event = one(record("CreateDeployment", {"restApiId": API, "createDeploymentInput": {"stageName": "dev"}}, {"id": "d2"}))
    assert stage_of(event) == (ACCOUNT, REGION, API, "dev")


def test_create_deployment_without_a_stage_is_dropped():
    events, reason = parse(record("CreateDeployment", {"restApiId": API, "createDeploymentInput": {"description": "x"}}))
    assert events == []
    assert reason == "CreateDeployment names no stage"


@pytest.mark.parametrize("event_name", ["TagResource", "UntagResource"])
def test_tags_on_a_stage(event_name):
    arn = "arn:aws:apigateway:%s::/restapis/%s/stages/prod" % (REGION, API)
    event = one(record(event_name, {"resourceArn": arn, "tags": {"tracing-exempt": "true"}}))
    assert stage_of(event) == (ACCOUNT, REGION, API, "prod")


def test_tag_resource_with_an_url_encoded_arn():
    arn = "arn%3Aaws%3Aapigateway%3Aeu-west-1%3A%3A%2Frestapis%2Fa1b2c3d4e5%2Fstages%2Fprod"
    assert stage_of(one(record("TagResource", {"resourceArn": arn}))) == (ACCOUNT, REGION, API, "prod")


@pytest.mark.parametrize("event_name", ["TagResource", "UntagResource"])
def test_tags_on_a_rest_api_are_dropped(event_name):
    arn = "arn:aws:apigateway:%s::/restapis/%s" % (REGION, API)
    events, reason = parse(record(event_name, {"resourceArn": arn}))
    assert events == []
    assert reason == "%s on %s, which is not a stage" % (event_name, arn)


# ---- parse_message: who did it ---------------------------------------------------------------------------------------

def test_iam_user_has_no_session_name():
    identity = {"type": "IAMUser", "principalId": "AIDAEXAMPLE", "arn": "arn:aws:iam::123456789012:user/alice", "accountId": ACCOUNT}
    change = one(record("UpdateStage", {"restApiId": API, "stageName": "prod"}, identity=identity))["change"]
    assert (change["principal_arn"], change["session_name"], change["own_session"]) == ("arn:aws:iam::123456789012:user/alice", None, False)


def test_root_has_no_session_name():
    identity = {"type": "Root", "principalId": ACCOUNT, "arn": "arn:aws:iam::123456789012:root", "accountId": ACCOUNT}
    change = one(record("UpdateStage", {"restApiId": API, "stageName": "prod"}, identity=identity))["change"]
    assert (change["principal_arn"], change["session_name"]) == ("arn:aws:iam::123456789012:root", None)


def test_a_service_identity_without_arn():
    change = one(record("UpdateStage", {"restApiId": API, "stageName": "prod"}, identity={"type": "AWSService"}))["change"]
    assert (change["principal_arn"], change["session_name"]) == (None, None)


def test_own_session_is_marked():
    detail = record("UpdateStage", {"restApiId": API, "stageName": "prod"}, identity=assumed_role("cloudops-tracing-sweep", "TracingSweep"))
    change = one(detail)["change"]
    assert change["session_name"] == "cloudops-tracing-sweep"
    assert change["own_session"] is True
    assert one(detail, ignore_session_names=("other",))["change"]["own_session"] is False


# ---- parse_message: bad input ----------------------------------------------------------------------------------------

def test_failed_call_is_dropped():
    events, reason = parse(record("CreateStage", {"restApiId": API, "createStageInput": {"stageName": "prod"}},
                                  errorCode="BadRequestException", errorMessage="Invalid deployment"))
    assert events == []
    assert reason == "CreateStage failed (errorCode BadRequestException): it changed nothing"


def test_not_json_is_dropped():
    events, reason = se.parse_message("hello {")
    assert events == []
    assert reason.startswith("the body is not JSON (")


def test_json_not_an_object_is_dropped():
    assert se.parse_message("[1, 2]") == ([], "the body is JSON but not an object")


def test_another_source_is_dropped():
    assert se.parse_message(body({}, source="aws.ec2")) == ([], "source is 'aws.ec2', not aws.apigateway")


def test_another_detail_type_is_dropped():
    events, reason = se.parse_message(body(record("UpdateStage", {}), **{"detail-type": "Scheduled Event"}))
    assert (events, reason) == ([], "detail-type is 'Scheduled Event', not AWS API Call via CloudTrail")


def test_an_event_name_not_handled_is_dropped():
    events, reason = parse(record("GetStage", {"restApiId": API, "stageName": "prod"}))
    assert events == []
    assert reason.startswith("eventName 'GetStage' is not one of CreateStage, UpdateStage")


def test_missing_rest_api_id_is_dropped():
    events, reason = parse(record("UpdateStage", {"stageName": "prod"}))
    assert (events, reason) == ([], "UpdateStage names no REST API id (requestParameters.restApiId), got None")


def test_missing_stage_name_is_dropped():
    events, reason = parse(record("DeleteStage", {"restApiId": API}))
    assert (events, reason) == ([], "DeleteStage names no valid stage name (letters, digits, - and _), got None")


def test_missing_account_is_dropped():
    detail = record("UpdateStage", {"restApiId": API, "stageName": "prod"})
    del detail["recipientAccountId"]
    events, reason = se.parse_message(body(detail, account=None))
    assert (events, reason) == ([], "UpdateStage names no account id (detail.recipientAccountId or account, 12 digits), got None")


def test_account_and_region_from_the_envelope():
    detail = record("UpdateStage", {"restApiId": API, "stageName": "prod"})
    del detail["recipientAccountId"], detail["awsRegion"]
    events, reason = se.parse_message(body(detail, account="210987654321", region="us-east-2"))
    assert reason is None
    assert stage_of(events[0]) == ("210987654321", "us-east-2", API, "prod")


def test_oversized_body_is_dropped():
    text = body(record("UpdateStage", {"restApiId": API, "stageName": "prod"}))
    size = len(text.encode())
    assert se.parse_message(text, max_body_bytes=size)[1] is None
    assert se.parse_message(text, max_body_bytes=size - 1) == ([], "the body is %d bytes, more than max_body_bytes %d" % (size, size - 1))


def test_not_text_is_dropped():
    assert se.parse_message(None) == ([], "the body is not text")


# ---- coalescing ------------------------------------------------------------------------------------------------------

class FakeClock:
    def __init__(self, now=100.0):
        self.now = now

    def __call__(self):
        return self.now


def event(api=API, stage="prod", account=ACCOUNT, region=REGION, name="CreateStage", time="2026-12-05T09:00:00Z"):
    return {
        "stage": {"account_id": account, "region": region, "rest_api_id": api, "stage_name": stage},
        "change": {"event_name": name, "event_time": time, "event_id": "e", "principal_arn": None, "session_name": None, "own_session": False},
    }


def test_batch_waits_for_the_window_from_the_first_event():
    clock = FakeClock()
    batcher = se.StageBatcher(3, 100, clock)
    assert batcher.add(event(stage="a"), "r1") == []
    clock.now += 2
    assert batcher.add(event(stage="b"), "r2") == []
    assert batcher.next_deadline() == 103
    clock.now = 102.9
    assert batcher.due() == []
    clock.now = 103
    (batch,) = batcher.due()
    assert batch.id == "%s/%s/1" % (ACCOUNT, REGION)
    assert batch.receipts == ["r1", "r2"]
    stages = [{"rest_api_id": API, "stage_name": "a"}, {"rest_api_id": API, "stage_name": "b"}]
    assert [e["batch"] for e in batch.events] == [
        {"id": batch.id, "position": 1, "size": 2, "stages": stages},
        {"id": batch.id, "position": 2, "size": 2, "stages": stages},
    ]
    assert [e["stage"]["stage_name"] for e in batch.events] == ["a", "b"]
    assert batcher.next_deadline() is None
    assert batcher.pending() == 0


def test_batch_is_put_when_max_size_is_reached():
    batcher = se.StageBatcher(3, 3, FakeClock())
    assert batcher.add(event(stage="a")) == []
    assert batcher.add(event(stage="b")) == []
    assert batcher.add(event(stage="a", name="UpdateStage")) == []
    (batch,) = batcher.add(event(stage="c"))
    assert [e["batch"]["position"] for e in batch.events] == [1, 2, 3]
    assert batcher.pending() == 0
    # The next event starts a new batch.
    batcher.add(event(stage="d"))
    assert batcher.pending() == 1


def test_distinct_stages_keep_the_latest_change():
    clock = FakeClock()
    batcher = se.StageBatcher(3, 100, clock)
    batcher.add(event(stage="a", name="UpdateStage", time="2026-12-05T09:00:05Z"), "r1")
    # Delivered later, happened earlier: SQS does not keep the order.
    batcher.add(event(stage="a", name="CreateStage", time="2026-12-05T09:00:01Z"), "r2")
    batcher.add(event(stage="b", name="CreateStage", time="2026-12-05T09:00:02Z"), "r3")
    batcher.add(event(stage="b", name="DeleteStage", time="2026-12-05T09:00:02Z"), "r4")
    clock.now += 3
    (batch,) = batcher.due()
    assert [(e["stage"]["stage_name"], e["change"]["event_name"]) for e in batch.events] == [("a", "UpdateStage"), ("b", "DeleteStage")]
    assert batch.events[0]["batch"]["size"] == 2
    # Every message of the batch is deleted with it, those whose change was superseded too.
    assert batch.receipts == ["r1", "r2", "r3", "r4"]


def test_two_targets_never_share_a_batch():
    clock = FakeClock()
    batcher = se.StageBatcher(3, 100, clock)
    batcher.add(event(stage="a"))
    batcher.add(event(stage="a", region="us-east-1"))
    batcher.add(event(stage="a", account="210987654321"))
    clock.now += 3
    batches = batcher.due()
    assert sorted(b.id for b in batches) == ["123456789012/eu-west-1/1", "123456789012/us-east-1/2", "210987654321/eu-west-1/3"]
    for batch in batches:
        assert len(batch.events) == 1
        account, region = batch.id.split("/")[:2]
        assert (batch.events[0]["stage"]["account_id"], batch.events[0]["stage"]["region"]) == (account, region)


# ---- backoff ---------------------------------------------------------------------------------------------------------

def test_backoff_doubles_and_is_capped():
    backoff = se.Backoff(maximum=10)
    assert backoff.failure() == (1, True)
    assert [backoff.failure()[0] for attempt in range(5)] == [2, 4, 8, 10, 10]
    assert backoff.success() == 6
    assert backoff.failure() == (1, True)
    assert backoff.success() == 1
    assert backoff.success() == 0


# ---- arguments -------------------------------------------------------------------------------------------------------

def test_defaults_and_region_from_the_queue_url():
    settings = se.validate_args({"queue_url": QUEUE_URL}, environ={})
    assert settings == {
        "queue_url": QUEUE_URL, "region": "eu-west-1", "endpoint_url": None, "wait_seconds": 20, "coalesce_seconds": 3.0,
        "max_batch_stages": 100, "ignore_session_names": ("cloudops-tracing-sweep",), "max_body_bytes": 262144,
        "backoff_max_seconds": 60.0,
    }


def test_region_from_the_environment_for_a_local_queue():
    args = {"queue_url": "http://127.0.0.1:5000/123456789012/q", "endpoint_url": "http://127.0.0.1:5000"}
    assert se.validate_args(args, environ={"AWS_REGION": "us-east-2"})["region"] == "us-east-2"


def test_eda_arguments_of_ansible_rulebook_are_accepted():
    assert se.validate_args({"queue_url": QUEUE_URL, "eda_feedback_queue": object()}, environ={})["region"] == "eu-west-1"


@pytest.mark.parametrize("args, message", [
    ({}, "stage_events: queue_url must be an SQS queue URL, https://sqs.REGION.amazonaws.com/ACCOUNT_ID/QUEUE_NAME (http:// for a local AWS), got None"),
    ({"queue_url": "ftp://x/123456789012/q"}, "stage_events: queue_url must be an SQS queue URL"),
    ({"queue_url": "https://sqs.eu-west-1.amazonaws.com/q"}, "stage_events: queue_url must be an SQS queue URL"),
    ({"queue_url": "http://127.0.0.1:5000/123456789012/q"},
     "stage_events: region is not given, queue_url 'http://127.0.0.1:5000/123456789012/q' names none and AWS_REGION is not set"),
    ({"queue_url": QUEUE_URL, "region": "Europe"}, "stage_events: region must be an AWS region name such as eu-west-1, got 'Europe'"),
    ({"queue_url": QUEUE_URL, "wait_seconds": 21}, "stage_events: wait_seconds must be an integer from 1 to 20, got 21"),
    ({"queue_url": QUEUE_URL, "wait_seconds": 0}, "stage_events: wait_seconds must be an integer from 1 to 20, got 0"),
    ({"queue_url": QUEUE_URL, "wait_seconds": "5"}, "stage_events: wait_seconds must be an integer from 1 to 20, got '5'"),
    ({"queue_url": QUEUE_URL, "wait_seconds": True}, "stage_events: wait_seconds must be an integer from 1 to 20, got True"),
    ({"queue_url": QUEUE_URL, "coalesce_seconds": -1}, "stage_events: coalesce_seconds must be a number of seconds from 0 to 300, got -1"),
    ({"queue_url": QUEUE_URL, "max_batch_stages": 0}, "stage_events: max_batch_stages must be an integer from 1 to 1000, got 0"),
    ({"queue_url": QUEUE_URL, "ignore_session_names": "cloudops-tracing-sweep"},
     "stage_events: ignore_session_names must be a list of non-empty role session names, got 'cloudops-tracing-sweep'"),
    ({"queue_url": QUEUE_URL, "max_body_bytes": 2 ** 21}, "stage_events: max_body_bytes must be an integer from 1 to 1048576, got 2097152"),
    ({"queue_url": QUEUE_URL, "backoff_max_seconds": 0}, "stage_events: backoff_max_seconds must be a number of seconds from 1 to 3600, got 0"),
    ({"queue_url": QUEUE_URL, "endpoint_url": "localhost:5000"}, "stage_events: endpoint_url must be an http:// or https:// URL, got 'localhost:5000'"),
    ({"queue_url": QUEUE_URL, "wait_second": 5}, "stage_events: unknown argument(s) wait_second; the arguments are: queue_url, region,"),
])
def test_bad_arguments(args, message):
    with pytest.raises(ValueError) as caught:
        se.validate_args(args, environ={})
    assert str(caught.value).startswith(message)


def test_bad_arguments_stop_main_before_any_aws_call(monkeypatch):
    monkeypatch.setattr(se, "make_client", lambda settings: pytest.fail("a client was made"))
    with pytest.raises(ValueError, match="wait_seconds must be an integer from 1 to 20, got 60"):
        asyncio.run(se.main(asyncio.Queue(), {"queue_url": QUEUE_URL, "wait_seconds": 60}))


# ---- the loop, with a scripted SQS -----------------------------------------------------------------------------------

class ScriptedSqs:
    """An SQS client whose ReceiveMessage answers come from a script: a list of messages, or an exception to raise.
    An empty answer advances the fake clock by the poll's wait, as a long poll does."""

    def __init__(self, clock, script):
        self.clock = clock
        self.script = list(script)
        self.deleted = []
        self.receives = []

    def receive_message(self, QueueUrl, MaxNumberOfMessages, WaitTimeSeconds):  # pylint: disable=invalid-name
        self.receives.append(WaitTimeSeconds)
        answer = self.script.pop(0) if self.script else []
        if isinstance(answer, Exception):
            raise answer  # pylint: disable=raising-bad-type
        if not answer:
            self.clock.now += WaitTimeSeconds
        return {"Messages": answer} if answer else {}

    def delete_message(self, QueueUrl, ReceiptHandle):  # pylint: disable=invalid-name
        self.deleted.append(ReceiptHandle)
        return {}


class ListQueue:
    def __init__(self):
        self.events = []

    async def put(self, item):
        self.events.append(item)


def message(n, detail=None, text=None):
    text = text if text is not None else body(detail if detail is not None else record("CreateStage", {"restApiId": API, "stageName": "s%d" % n}))
    return {"MessageId": "m%d" % n, "ReceiptHandle": "h%d" % n, "Body": text}


def run_steps(script, steps, **args):
    clock = FakeClock()
    sqs = ScriptedSqs(clock, script)
    queue = ListQueue()
    slept = []

    async def sleep(seconds):
        slept.append(seconds)
        clock.now += seconds

    settings = se.validate_args(dict({"queue_url": QUEUE_URL, "wait_seconds": 20}, **args), environ={})
    source = se.StageEventSource(queue, sqs, settings, clock=clock, sleep=sleep)

    async def drive():
        for _step in range(steps):
            await source.step()

    asyncio.run(drive())
    return source, sqs, queue, slept


def test_loop_batches_then_deletes(caplog):
    caplog.set_level(logging.INFO, logger=se.LOGGER_NAME)
    source, sqs, queue, _slept = run_steps([[message(1), message(2)], []], steps=3)
    # The poll after the first messages is cut to the group's window (3 s); the one after the batch waits 20 s again.
    assert sqs.receives == [20, 3, 20]
    assert [(e["stage"]["stage_name"], e["batch"]["position"], e["batch"]["size"]) for e in queue.events] == [("s1", 1, 2), ("s2", 2, 2)]
    assert sqs.deleted == ["h1", "h2"]
    assert source.batcher.pending() == 0
    assert [r.getMessage() for r in caplog.records] == ["put batch %s/%s/1: 2 stage(s)" % (ACCOUNT, REGION)]


def test_loop_drops_bad_messages_with_one_line_each(caplog):
    bad = [message(1, text="not json"), message(2, detail=record("GetStage", {})), message(3)]
    _source, sqs, queue, _slept = run_steps([bad], steps=1)
    assert sqs.deleted == ["h1", "h2"]
    assert queue.events == []
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    assert warnings[0].startswith("dropped message m1: the body is not JSON (")
    assert warnings[1].startswith("dropped message m2: eventName 'GetStage' is not one of")


def test_loop_puts_own_session_at_once_without_batch():
    own = record("UpdateStage", {"restApiId": API, "stageName": "prod"}, identity=assumed_role("cloudops-tracing-sweep"))
    source, sqs, queue, _slept = run_steps([[message(1, detail=own)]], steps=1)
    assert len(queue.events) == 1
    assert queue.events[0]["batch"] is None
    assert queue.events[0]["change"]["own_session"] is True
    assert sqs.deleted == ["h1"]
    assert source.batcher.pending() == 0


def test_loop_logs_once_when_sqs_fails_and_once_when_it_recovers(caplog):
    failure = ConnectionError("connection refused")
    _source, sqs, queue, slept = run_steps([failure, failure, failure, [message(1)]], steps=9, backoff_max_seconds=2)
    # Backoff 1, 2, then capped at 2; no poll while backing off.
    assert slept == [1, 2, 2]
    assert sqs.receives == [20, 20, 20, 20, 3, 20]
    assert [e["stage"]["stage_name"] for e in queue.events] == ["s1"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "SQS is failing (ReceiveMessage on %s): ConnectionError: connection refused; retrying with backoff from 1 s up to 2 s" % QUEUE_URL,
        "SQS answers again (ReceiveMessage on %s) after 3 failed attempt(s)" % QUEUE_URL,
    ]


def test_empty_polls_log_nothing(caplog):
    caplog.set_level(logging.DEBUG, logger=se.LOGGER_NAME)
    _source, sqs, _queue, _slept = run_steps([], steps=5)
    assert sqs.receives == [20] * 5
    assert caplog.records == []


def test_cancelled_loop_deletes_nothing_of_an_open_group():
    clock = FakeClock()
    # One message held in a group for 300 s, then SQS fails and the loop waits out the backoff, where it is cancelled.
    sqs = ScriptedSqs(clock, [[message(1)], ConnectionError("connection refused")])
    queue = ListQueue()
    settings = se.validate_args({"queue_url": QUEUE_URL, "coalesce_seconds": 300}, environ={})
    waiting = []

    async def sleep(seconds):
        waiting.append(seconds)
        await asyncio.Event().wait()  # never wakes: the test cancels the loop here

    async def drive():
        source = se.StageEventSource(queue, sqs, settings, clock=clock, sleep=sleep)
        task = asyncio.ensure_future(source.run())
        for _turn in range(1000):
            if waiting:
                break
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return source

    source = asyncio.run(drive())
    assert waiting == [1]
    assert source.batcher.pending() == 1
    assert queue.events == []
    assert sqs.deleted == []


def test_a_failed_delete_is_logged_and_the_loop_goes_on(caplog):
    clock = FakeClock()
    sqs = ScriptedSqs(clock, [[message(1, detail=record("UpdateStage", {"restApiId": API, "stageName": "prod"},
                                                        identity=assumed_role("cloudops-tracing-sweep")))], [message(2)]])
    failures = [ConnectionError("connection reset")]

    def delete_message(QueueUrl, ReceiptHandle):  # pylint: disable=invalid-name,unused-argument
        if failures:
            raise failures.pop()
        sqs.deleted.append(ReceiptHandle)
        return {}

    sqs.delete_message = delete_message
    queue = ListQueue()

    async def sleep(seconds):
        clock.now += seconds

    settings = se.validate_args({"queue_url": QUEUE_URL, "coalesce_seconds": 0}, environ={})
    source = se.StageEventSource(queue, sqs, settings, clock=clock, sleep=sleep)

    async def drive():
        for _step in range(4):
            await source.step()

    asyncio.run(drive())
    # The own-session event was put, its message not deleted (SQS gives it again later); the next message went through.
    assert [e["stage"]["stage_name"] for e in queue.events] == ["prod", "s2"]
    assert sqs.deleted == ["h2"]
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == [
        "SQS is failing (DeleteMessage on %s): ConnectionError: connection reset; retrying with backoff from 1 s up to 60 s" % QUEUE_URL,
        "message m1 not deleted: SQS will deliver it again after the visibility timeout",
        "SQS answers again (ReceiveMessage on %s) after 1 failed attempt(s)" % QUEUE_URL,
    ]
