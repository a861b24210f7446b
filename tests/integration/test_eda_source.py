# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The event source cloudops.apigw_tracing.stage_events alone, under the real ansible-rulebook, on the local AWS's SQS.

Each test runs one ansible-rulebook process (from the venv of `make eda-deps`, .build/eda-venv) with the small
rulebook tests/integration/rulebooks/print_stage_events.yml: it prints every event (print_event, on stdout) and
shuts down on the test's sentinel. The source's log lines are on stderr (ansible-rulebook logs warnings there).
The tests skip, saying why, without Java 17 or without that venv.
"""

from __future__ import annotations

import json
import os
import re
import runpy

import pytest
import yaml

from aws_proxy import AwsProxy
from eda_run import ACCOUNT
from eda_run import API
from eda_run import cloudtrail
from eda_run import EDA_VENV
from eda_run import envelope
from eda_run import Queue
from eda_run import REGION
from eda_run import RulebookRun
from eda_run import SENTINEL_STAGE
from eda_run import SOURCE_FILE
from eda_run import update_stage
from eda_run import rulebook_command as find_rulebook_command

pytestmark = pytest.mark.xdist_group("eda_source")


@pytest.fixture(scope="module")
def rulebook_command():
    return find_rulebook_command()


@pytest.fixture
def start_rulebook(rulebook_command, aws, collections_path, tmp_path):
    """start_rulebook(queue, endpoint_url=None, **source_args) -> RulebookRun; the process is killed at teardown if still running."""
    runs = []

    def start(queue, endpoint_url=None, **source_args):
        rulebook_vars = {
            "queue_url": queue.url, "endpoint_url": endpoint_url or aws.endpoint_url, "region": REGION,
            "wait_seconds": 1, "coalesce_seconds": 1, "max_batch_stages": 100, "backoff_max_seconds": 60,
            "stop_stage_name": SENTINEL_STAGE,
        }
        rulebook_vars.update(source_args)
        vars_path = tmp_path / ("vars%d.yml" % len(runs))
        vars_path.write_text(yaml.safe_dump(rulebook_vars), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ANSIBLE_"))}
        env.update({
            # ansible-rulebook refuses to start without ansible-galaxy on PATH: the venv's bin first.
            "PATH": "%s%s%s" % (EDA_VENV / "bin", os.pathsep, env.get("PATH", "")),
            "VIRTUAL_ENV": str(EDA_VENV),
            "ANSIBLE_COLLECTIONS_PATH": collections_path,
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": REGION,
            "AWS_EC2_METADATA_DISABLED": "true",
            # A request that misses the local endpoint fails at once instead of reaching real AWS.
            "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9", "NO_PROXY": "127.0.0.1,localhost",
        })
        run = RulebookRun(rulebook_command, vars_path, collections_path, tmp_path, env)
        runs.append(run)
        return run

    yield start
    for run in runs:
        run.kill()


def source_event_names():
    """EVENT_NAMES, the single source of truth of the event names, read from the source file as ansible-rulebook loads it."""
    return runpy.run_path(str(SOURCE_FILE))["EVENT_NAMES"]


def test_event_names_are_the_contracts():
    assert source_event_names() == (
        "CreateStage", "UpdateStage", "DeleteStage", "CreateDeployment", "TagResource", "UntagResource")


def test_cloudtrail_event_through_eventbridge_gives_the_normalised_event(aws, start_rulebook):
    queue = Queue(aws)
    # EventBridge's rule with the contract's pattern, delivering to the queue, as the CloudFormation template sets it up.
    events = aws.client("events", region=REGION)
    pattern = {"source": ["aws.apigateway"], "detail-type": ["AWS API Call via CloudTrail"],
               "detail": {"eventSource": ["apigateway.amazonaws.com"], "eventName": list(source_event_names())}}
    events.put_rule(Name="apigw-tracing", EventPattern=json.dumps(pattern))
    events.put_targets(Rule="apigw-tracing", Targets=[{"Id": "queue", "Arn": queue.arn}])
    create = cloudtrail("CreateStage", {"restApiId": API, "createStageInput": {"stageName": "prod", "deploymentId": "d1"}},
                        response={"stageName": "prod", "deploymentId": "d1"})
    own = update_stage("beta", session="cloudops-tracing-sweep")
    for detail in (create, own):
        answer = events.put_events(Entries=[{"Source": "aws.apigateway", "DetailType": "AWS API Call via CloudTrail",
                                             "Detail": json.dumps(detail)}])
        assert answer["FailedEntryCount"] == 0
    assert queue.left() == 2

    run = start_rulebook(queue)
    run.wait_for("2 events", lambda: len(run.events()) >= 2)
    assert run.finish(queue) == 0, run.describe()

    by_stage = {event["stage"]["stage_name"]: event for event in run.events()}
    assert by_stage["prod"] == {
        "stage": {"account_id": ACCOUNT, "region": REGION, "rest_api_id": API, "stage_name": "prod"},
        "change": {"event_name": "CreateStage", "event_time": "2026-12-05T09:00:00Z", "event_id": "ct-CreateStage-ci-1234",
                   "principal_arn": "arn:aws:sts::123456789012:assumed-role/Deployer/ci-1234", "session_name": "ci-1234",
                   "own_session": False},
        "batch": {"id": "123456789012/us-east-1/1", "position": 1, "size": 1, "stages": [{"rest_api_id": API, "stage_name": "prod"}]},
    }
    assert by_stage["beta"]["change"]["own_session"] is True
    assert by_stage["beta"]["batch"] is None
    assert len(run.events()) == 2
    # Both messages deleted once their events were put (the sentinel may still be there).
    assert aws.calls("DeleteMessage") >= 2
    assert queue.left() <= 1


def test_malformed_messages_are_logged_dropped_and_the_next_good_one_arrives(aws, start_rulebook):
    queue = Queue(aws)
    not_json = queue.send("this is not JSON {")
    other = queue.send(json.dumps({"version": "0", "id": "x", "detail-type": "EC2 Instance State-change Notification",
                                   "source": "aws.ec2", "account": ACCOUNT, "region": REGION, "detail": {}}))
    failed = queue.send(envelope(cloudtrail("CreateStage", {"restApiId": API, "createStageInput": {"stageName": "bad"}},
                                            error_code="BadRequestException")))
    run = start_rulebook(queue)
    run.wait_for("the three drops logged", lambda: len(run.logged("dropped message")) >= 3)
    queue.send(envelope(update_stage("prod")))
    run.wait_for("the good event", lambda: len(run.events()) >= 1)
    assert run.finish(queue) == 0, run.describe()

    assert [event["stage"]["stage_name"] for event in run.events()] == ["prod"]
    dropped = run.logged("dropped message")
    assert len(dropped) == 3, run.describe()
    text = "\n".join(dropped)
    assert "cloudops.apigw_tracing.stage_events - WARNING - dropped message %s: the body is not JSON (" % not_json in text
    assert "dropped message %s: source is 'aws.ec2', not aws.apigateway" % other in text
    assert "dropped message %s: CreateStage failed (errorCode BadRequestException): it changed nothing" % failed in text
    assert queue.left() <= 1


def test_a_burst_of_50_stages_arrives_as_one_batch(aws, start_rulebook):
    queue = Queue(aws)
    names = ["stage-%02d" % n for n in range(50)]
    for name in names:
        queue.send(envelope(cloudtrail("CreateStage", {"restApiId": API, "createStageInput": {"stageName": name}})))
    run = start_rulebook(queue, coalesce_seconds=3)
    run.wait_for("50 events", lambda: len(run.events()) >= 50)
    assert run.finish(queue) == 0, run.describe()

    events = run.events()
    assert sorted(event["stage"]["stage_name"] for event in events) == names
    batches = {event["batch"]["id"] for event in events}
    assert batches == {"123456789012/us-east-1/1"}
    assert sorted(event["batch"]["position"] for event in events) == list(range(1, 51))
    assert {event["batch"]["size"] for event in events} == {50}
    assert sorted(stage["stage_name"] for stage in events[0]["batch"]["stages"]) == names
    assert aws.calls("DeleteMessage") >= 50
    assert queue.left() <= 1


def test_sqs_unreachable_for_a_while_then_back(aws, start_rulebook):
    queue = Queue(aws, visibility_timeout=3)
    proxy = AwsProxy(aws.endpoint_url, quota=None, faults=None).start()
    port = int(proxy.endpoint_url.rsplit(":", 1)[1])
    try:
        run = start_rulebook(queue, endpoint_url=proxy.endpoint_url, backoff_max_seconds=2)
        queue.send(envelope(update_stage("before")))
        run.wait_for("the first event", lambda: len(run.events()) >= 1)

        # SQS unreachable: nothing listens on the endpoint's port any more. A poll the stop cut short may still take a
        # message upstream, its answer lost: SQS delivers that message again after the (here short) visibility timeout.
        proxy.stop()
        run.wait_for("the failure logged", lambda: run.logged("SQS is failing"))
        queue.send(envelope(update_stage("during")))
        assert [event["stage"]["stage_name"] for event in run.events()] == ["before"]

        proxy.start(port=port)
        run.wait_for("the recovery logged and the event sent meanwhile", lambda: run.logged("SQS answers again") and len(run.events()) >= 2)
        assert run.finish(queue) == 0, run.describe()
    finally:
        proxy.stop()

    assert [event["stage"]["stage_name"] for event in run.events()] == ["before", "during"]
    failing = run.logged("SQS is failing")
    assert len(failing) == 1, run.describe()
    assert "SQS is failing (ReceiveMessage on %s): " % queue.url in failing[0]
    assert "Could not connect to the endpoint URL" in failing[0]
    recovered = run.logged("SQS answers again")
    assert len(recovered) == 1, run.describe()
    assert re.search(r"SQS answers again \(ReceiveMessage on \S+\) after \d+ failed attempt\(s\)", recovered[0])
