# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Running the real ansible-rulebook in a test: its venv (`make eda-deps`), Java, one process read as it runs, the
local AWS's SQS queue, and CloudTrail records as EventBridge delivers them (test_eda_source.py, test_eda_remediation.py)."""

from __future__ import annotations

import ast
import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from eda_world import java_problem  # the same check as make demo-events

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
RULEBOOK = HERE / "rulebooks" / "print_stage_events.yml"
EDA_VENV = Path(os.environ.get("APIGW_IT_EDA_VENV") or REPO / ".build" / "eda-venv")
SOURCE_FILE = REPO / "extensions" / "eda" / "plugins" / "event_source" / "stage_events.py"
ACCOUNT = "123456789012"
REGION = "us-east-1"
API = "a1b2c3d4e5"
SENTINEL_STAGE = "stop-here"
# Only stops a hung run; no test measures time.
GUARD_SECONDS = 180


def rulebook_command():
    """The venv's ansible-rulebook; skips the test, saying why, without Java 17+ or without the venv."""
    problem = java_problem()
    if problem:
        pytest.skip(problem)
    command = EDA_VENV / "bin" / "ansible-rulebook"
    if not command.exists():
        pytest.skip("no ansible-rulebook at %s: run `make eda-deps`" % command)
    return command


def cloudtrail(event_name, request, session="ci-1234", error_code=None, response=None):
    """The CloudTrail record of an API Gateway management call, as EventBridge's `detail`."""
    detail = {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "AssumedRole", "principalId": "AROAEXAMPLE:%s" % session,
            "arn": "arn:aws:sts::%s:assumed-role/Deployer/%s" % (ACCOUNT, session), "accountId": ACCOUNT,
            "sessionContext": {"sessionIssuer": {"type": "Role", "arn": "arn:aws:iam::%s:role/Deployer" % ACCOUNT}},
        },
        "eventTime": "2026-12-05T09:00:00Z", "eventSource": "apigateway.amazonaws.com", "eventName": event_name,
        "awsRegion": REGION, "sourceIPAddress": "192.0.2.1", "userAgent": "aws-cli/2", "requestParameters": request,
        "responseElements": response, "eventID": "ct-%s-%s" % (event_name, session), "readOnly": False,
        "eventType": "AwsApiCall", "managementEvent": True, "recipientAccountId": ACCOUNT,
    }
    if error_code:
        detail["errorCode"] = error_code
    return detail


def envelope(detail):
    """What EventBridge puts on the queue for a CloudTrail record."""
    return json.dumps({
        "version": "0", "id": "eb-%s" % detail["eventID"], "detail-type": "AWS API Call via CloudTrail", "source": "aws.apigateway",
        "account": ACCOUNT, "time": "2026-12-05T09:00:01Z", "region": REGION, "resources": [], "detail": detail,
    })


def update_stage(stage, session="ci-1234"):
    return cloudtrail("UpdateStage", {"restApiId": API, "stageName": stage, "patchOperations": []}, session=session)


class RulebookRun:
    """One ansible-rulebook process; its stdout (events) and stderr (log lines) read as they come."""

    def __init__(self, command, vars_path, collections, workdir, env, rulebook=RULEBOOK, args=()):
        del collections  # the environment carries ANSIBLE_COLLECTIONS_PATH
        self.stdout = []
        self.stderr = []
        self._changed = threading.Condition()
        self.proc = subprocess.Popen(  # pylint: disable=consider-using-with
            [str(command), "--rulebook", str(rulebook), "--vars", str(vars_path)] + list(args),
            cwd=str(workdir), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1,
        )
        self._readers = [threading.Thread(target=self._read, args=(stream, lines), daemon=True)
                         for stream, lines in ((self.proc.stdout, self.stdout), (self.proc.stderr, self.stderr))]
        for reader in self._readers:
            reader.start()

    def _read(self, stream, lines):
        for line in stream:
            with self._changed:
                lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def events(self):
        """The events print_event printed (Python reprs of dicts, one a line), without ansible-rulebook's meta."""
        found = []
        for line in list(self.stdout):
            if line.startswith("{'"):
                event = ast.literal_eval(line)
                event.pop("meta", None)
                found.append(event)
        return found

    def logged(self, text):
        return [line for line in list(self.stderr) if text in line]

    def wait_for(self, what, predicate):
        """Wait until predicate() holds; fails the test (with the output) if the process ends first or hangs."""
        end = time.monotonic() + GUARD_SECONDS
        with self._changed:
            while not predicate():
                if self.proc.poll() is not None and all(not reader.is_alive() for reader in self._readers):
                    pytest.fail("ansible-rulebook ended (rc=%s) before %s\n%s" % (self.proc.returncode, what, self.describe()))
                if time.monotonic() > end:
                    pytest.fail("no %s after %d s\n%s" % (what, GUARD_SECONDS, self.describe()))
                self._changed.wait(timeout=1)

    def finish(self, queue):
        """Put the sentinel on the queue and wait for the rulebook to shut down on it; returns the exit code."""
        queue.send(envelope(update_stage(SENTINEL_STAGE, session="cloudops-tracing-sweep")))
        try:
            return self.proc.wait(timeout=GUARD_SECONDS)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail("ansible-rulebook did not shut down on the sentinel\n%s" % self.describe())
        finally:
            for reader in self._readers:
                reader.join(timeout=10)
        return None

    def kill(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)

    def describe(self):
        return "STDOUT:\n%s\nSTDERR:\n%s" % ("\n".join(self.stdout), "\n".join(self.stderr))


class Queue:
    """The test's SQS queue on the local AWS (reached directly, never through the proxy)."""

    def __init__(self, aws, name="apigw-tracing-events", visibility_timeout=30):
        self.sqs = aws.client("sqs", region=REGION)
        self.url = self.sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": str(visibility_timeout)})["QueueUrl"]
        self.arn = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    def send(self, text):
        """Send one message; returns its MessageId."""
        return self.sqs.send_message(QueueUrl=self.url, MessageBody=text)["MessageId"]

    def left(self):
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])
