# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Event-Driven Ansible event source cloudops.apigw_tracing.stage_events: API Gateway stage changes from SQS.

This file owns, for the continuous remediation of issue 19:
  - EVENT_NAMES, the CloudTrail event names the whole feature handles (the EventBridge pattern, the IAM policy and
    the rulebook derive theirs from it);
  - reading the SQS queue an EventBridge rule fills (ReceiveMessage, DeleteMessage; nothing else);
  - turning each message into at most one normalised event per stage (parse_message), or dropping it with a reason;
  - coalescing the stages of one target (account, region) into batches (StageBatcher);
  - retrying an unreachable or denied SQS with exponential backoff (Backoff), never stopping for it.

ansible-rulebook loads this file by path (runpy), so it is self-contained: it imports only the standard library and
botocore, nothing of the collection. The pure logic (parse_message, StageBatcher, Backoff, validate_args) is in plain
functions and classes that the unit tests load from this file.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import re
import time
import urllib.parse

DOCUMENTATION = r"""
---
short_description: Receive API Gateway stage changes (CloudTrail events delivered by EventBridge) from an SQS queue.
description:
  - An ansible-rulebook event source that long-polls an SQS queue that an EventBridge rule fills with the API Gateway
    management events CloudTrail records (C(source=aws.apigateway), C(detail-type=AWS API Call via CloudTrail)).
  - It handles CreateStage, UpdateStage, DeleteStage, CreateDeployment when it names a stage, and TagResource and
    UntagResource on a stage ARN (C(arn:aws:apigateway:REGION::/restapis/API_ID/stages/STAGE_NAME)).
  - It puts one event per stage on the rulebook's queue, with the keys C(stage) (account_id, region, rest_api_id,
    stage_name), C(change) (event_name, event_time, event_id, principal_arn, session_name, own_session) and C(batch)
    (id, position, size, stages).
  - Coalescing. The stages of one target (account and region) are grouped for O(coalesce_seconds) from the first event
    of the group, or until O(max_batch_stages) distinct stages; then each distinct stage's latest change is put, all
    with the same C(batch) (C(position) 1 to C(size), C(stages) listing them in order). Events of different targets
    never share a batch. The batch id is C(ACCOUNT/REGION/N), N counting the batches since the source started.
  - Own session. An event whose session name is in O(ignore_session_names) (the collection's own role session) is put
    at once with C(change.own_session=true) and C(batch=null), and is never part of a batch, so a rulebook can log it
    and run nothing for it.
  - Bad input never stops the source. A message whose body is not JSON, is larger than O(max_body_bytes), is not an
    API Gateway CloudTrail event, names an event not handled, records a call that failed (C(errorCode)), lacks the
    account, region, REST API id or stage name, or names no stage, is logged once (with its message id and the
    reason) and dropped.
  - When a message is deleted. A message is deleted from SQS after every event it produced is on the rulebook's
    queue, or at once when it is dropped. A message whose stage is still in an open group is not deleted yet; if the
    source stops (a cancelled task, a stopped rulebook) before the group is put, nothing of the group is deleted and
    SQS delivers those messages again after the queue's visibility timeout. Keep O(coalesce_seconds) well below that
    timeout. Once deleted, the message is gone even if the remediation the rulebook then runs fails; the scheduled
    sweep (cloudops.apigw_tracing.tracing_sweep) is the backstop for such a stage. A message whose DeleteMessage
    fails comes back after the visibility timeout and gives its event again (remediation is idempotent).
  - An unreachable or denied SQS is retried with exponential backoff (1 second, doubling up to
    O(backoff_max_seconds)); the source logs one warning when SQS starts failing (with the cause) and one when it
    answers again, never a line per retry or per empty poll. It never stops for it.
  - Logs go to the Python logger C(cloudops.apigw_tracing.stage_events) (shown by ansible-rulebook at warning level,
    or with C(-v)).
  - AWS calls. sqs:ReceiveMessage and sqs:DeleteMessage on the queue, with botocore's default credential chain
    (environment, profile, instance or task role). Nothing else.
  - The arguments are checked before any AWS call; a wrong one stops the source with one error naming the argument,
    its value and the rule.
options:
  queue_url:
    description:
      - The URL of the SQS queue, C(https://sqs.REGION.amazonaws.com/ACCOUNT/NAME) (or C(http://) for a local AWS).
    type: str
    required: true
  region:
    description:
      - The queue's region.
      - Default, the region in O(queue_url) (C(sqs.REGION.amazonaws.com)), else the environment's C(AWS_REGION) or
        C(AWS_DEFAULT_REGION).
    type: str
  endpoint_url:
    description:
      - The SQS endpoint to call instead of AWS's (a local AWS, for tests).
    type: str
  wait_seconds:
    description:
      - The long poll of each ReceiveMessage, from 1 to 20 seconds.
    type: int
    default: 20
  coalesce_seconds:
    description:
      - How long the stages of one target are grouped, from the first event of the group, from 0 (no grouping
        in time) to 300 seconds.
    type: float
    default: 3
  max_batch_stages:
    description:
      - The most distinct stages in one batch (1 to 1000); a group this large is put at once.
    type: int
    default: 100
  ignore_session_names:
    description:
      - Role session names whose changes are the collection's own (C(change.own_session=true), never batched).
      - Give the tracing_sweep role's C(tracing_sweep_role_session_name) if you changed it.
    type: list
    elements: str
    default: [cloudops-tracing-sweep]
  max_body_bytes:
    description:
      - The largest message body accepted, in bytes (1 to 1048576); a larger one is dropped.
    type: int
    default: 262144
  backoff_max_seconds:
    description:
      - The longest wait between two attempts to reach a failing SQS, from 1 to 3600 seconds.
    type: float
    default: 60
"""

EXAMPLES = r"""
- name: Remediate API Gateway stages as they change
  hosts: all
  sources:
    - cloudops.apigw_tracing.stage_events:
        queue_url: https://sqs.eu-west-1.amazonaws.com/123456789012/apigw-tracing-events
        coalesce_seconds: 3
  rules:
    - name: Run once per batch
      condition: event.batch is not none and event.batch.position == 1
      action:
        debug:
          msg: "{{ event.batch.size }} stage(s) of {{ event.stage.account_id }}/{{ event.stage.region }}"
"""

LOGGER_NAME = "cloudops.apigw_tracing.stage_events"

# The CloudTrail event names the whole feature handles: single source of truth (EventBridge pattern, IAM, rulebook).
EVENT_NAMES = ("CreateStage", "UpdateStage", "DeleteStage", "CreateDeployment", "TagResource", "UntagResource")
EVENT_SOURCE = "aws.apigateway"
DETAIL_TYPE = "AWS API Call via CloudTrail"
CLOUDTRAIL_EVENT_SOURCE = "apigateway.amazonaws.com"
# The SQS calls this source makes (for the IAM policy): nothing else.
SQS_OPERATIONS = ("ReceiveMessage", "DeleteMessage")

DEFAULTS = {
    "region": None,
    "endpoint_url": None,
    "wait_seconds": 20,
    "coalesce_seconds": 3,
    "max_batch_stages": 100,
    "ignore_session_names": ["cloudops-tracing-sweep"],
    "max_body_bytes": 262144,
    "backoff_max_seconds": 60,
}
ARGUMENTS = ("queue_url",) + tuple(DEFAULTS)
BACKOFF_START_SECONDS = 1.0
# SQS hands out at most 10 messages per ReceiveMessage.
RECEIVE_MAX_MESSAGES = 10

_QUEUE_URL_RE = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?/\d{12}/[A-Za-z0-9_-]{1,80}(\.fifo)?$")
_QUEUE_URL_REGION_RES = (
    re.compile(r"^https?://sqs\.([a-z]{2}(-[a-z]+)+-\d+)\.amazonaws\.com(\.cn)?(:\d+)?/"),
    re.compile(r"^https?://([a-z]{2}(-[a-z]+)+-\d+)\.queue\.amazonaws\.com(\.cn)?(:\d+)?/"),
)
_ENDPOINT_URL_RE = re.compile(r"^https?://[^\s/?#]+(/[^\s]*)?$")
_REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
_ACCOUNT_RE = re.compile(r"^\d{12}$")
_REST_API_ID_RE = re.compile(r"^[A-Za-z0-9]{1,64}$")
_STAGE_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_STAGE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:apigateway:([a-z0-9-]*)::/restapis/([^/]+)/stages/([^/]+)$")
_ASSUMED_ROLE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:sts::\d{12}:assumed-role/[^/]+/(.+)$")


# ---- arguments --------------------------------------------------------------------------------------------------

def _integer(args, name, low, high):
    value = args.get(name, DEFAULTS[name])
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError("stage_events: %s must be an integer from %s to %s, got %r" % (name, low, high, value))
    return value


def _number(args, name, low, high):
    value = args.get(name, DEFAULTS[name])
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ValueError("stage_events: %s must be a number of seconds from %s to %s, got %r" % (name, low, high, value))
    return float(value)


def validate_args(args, environ=None):
    """The source's settings from the rulebook's ``args``, checked; raises ValueError naming the argument and the rule."""
    environ = os.environ if environ is None else environ
    if not isinstance(args, dict):
        raise ValueError("stage_events: the arguments must be a mapping, got %r" % (args,))
    # ansible-rulebook adds arguments of its own named eda_* (eda_feedback_queue): not ours to check.
    unknown = sorted(str(key) for key in args if key not in ARGUMENTS and not str(key).startswith("eda_"))
    if unknown:
        raise ValueError("stage_events: unknown argument(s) %s; the arguments are: %s" % (", ".join(unknown), ", ".join(ARGUMENTS)))
    queue_url = args.get("queue_url")
    if not isinstance(queue_url, str) or not _QUEUE_URL_RE.match(queue_url):
        raise ValueError("stage_events: queue_url must be an SQS queue URL, https://sqs.REGION.amazonaws.com/ACCOUNT_ID/QUEUE_NAME "
                         "(http:// for a local AWS), got %r" % (queue_url,))
    region = args.get("region")
    if region is not None:
        if not isinstance(region, str) or not _REGION_RE.match(region):
            raise ValueError("stage_events: region must be an AWS region name such as eu-west-1, got %r" % (region,))
    else:
        for pattern in _QUEUE_URL_REGION_RES:
            match = pattern.match(queue_url)
            if match:
                region = match.group(1)
                break
        else:
            region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")
            if not region:
                raise ValueError("stage_events: region is not given, queue_url %r names none and AWS_REGION is not set: "
                                 "give region" % (queue_url,))
            if not _REGION_RE.match(region):
                raise ValueError("stage_events: region (from the environment's AWS_REGION) must be an AWS region name, got %r" % (region,))
    endpoint_url = args.get("endpoint_url")
    if endpoint_url is not None and (not isinstance(endpoint_url, str) or not _ENDPOINT_URL_RE.match(endpoint_url)):
        raise ValueError("stage_events: endpoint_url must be an http:// or https:// URL, got %r" % (endpoint_url,))
    names = args.get("ignore_session_names", DEFAULTS["ignore_session_names"])
    if not isinstance(names, (list, tuple)) or not all(isinstance(name, str) and name for name in names):
        raise ValueError("stage_events: ignore_session_names must be a list of non-empty role session names, got %r" % (names,))
    return {
        "queue_url": queue_url,
        "region": region,
        "endpoint_url": endpoint_url,
        "wait_seconds": _integer(args, "wait_seconds", 1, 20),
        "coalesce_seconds": _number(args, "coalesce_seconds", 0, 300),
        "max_batch_stages": _integer(args, "max_batch_stages", 1, 1000),
        "ignore_session_names": tuple(names),
        "max_body_bytes": _integer(args, "max_body_bytes", 1, 1048576),
        "backoff_max_seconds": _number(args, "backoff_max_seconds", 1, 3600),
    }


# ---- one message -> events ----------------------------------------------------------------------------------------

def _text(value):
    """A non-empty string, or None."""
    return value if isinstance(value, str) and value else None


def _first(*values):
    for value in values:
        if _text(value):
            return value
    return None


def _mapping(value):
    return value if isinstance(value, dict) else {}


def _stage_of(event_name, request, response):
    """(rest_api_id, stage_name, reason): where the record names its stage, by event name."""
    if event_name in ("TagResource", "UntagResource"):
        arn = _first(request.get("resourceArn"), request.get("resource_arn"), request.get("resource-arn"), response.get("resourceArn"))
        if not arn:
            return None, None, "%s names no resourceArn" % event_name
        arn = urllib.parse.unquote(arn)
        match = _STAGE_ARN_RE.match(arn)
        if not match:
            return None, None, "%s on %s, which is not a stage" % (event_name, arn)
        return match.group(2), match.group(3), None
    rest_api_id = _first(request.get("restApiId"), response.get("restApiId"))
    if event_name == "CreateStage":
        stage_name = _first(_mapping(request.get("createStageInput")).get("stageName"), request.get("stageName"), response.get("stageName"))
    elif event_name == "CreateDeployment":
        stage_name = _first(_mapping(request.get("createDeploymentInput")).get("stageName"), request.get("stageName"))
        if not stage_name:
            return rest_api_id, None, "CreateDeployment names no stage"
    else:
        stage_name = _first(request.get("stageName"), response.get("stageName"))
    return rest_api_id, stage_name, None


def _who(identity):
    """(principal_arn, session_name) of a CloudTrail userIdentity: the session of an assumed role, else None."""
    identity = _mapping(identity)
    arn = _text(identity.get("arn"))
    session_name = None
    if arn:
        match = _ASSUMED_ROLE_ARN_RE.match(arn)
        if match:
            session_name = match.group(1)
    return arn, session_name


def parse_message(body, max_body_bytes=DEFAULTS["max_body_bytes"], ignore_session_names=tuple(DEFAULTS["ignore_session_names"])):
    """One SQS message body (the EventBridge envelope as JSON) -> (events, reason).

    ``events`` is the list of normalised events the message gives (one per stage: {"stage", "change"}, without
    "batch"); ``reason`` is None, or why the message is dropped (then ``events`` is empty).
    """
    if isinstance(body, str):
        size = len(body.encode("utf-8", "surrogatepass"))
    elif isinstance(body, (bytes, bytearray)):
        size = len(body)
    else:
        return [], "the body is not text"
    if size > max_body_bytes:
        return [], "the body is %d bytes, more than max_body_bytes %d" % (size, max_body_bytes)
    try:
        envelope = json.loads(body)
    except ValueError as error:
        return [], "the body is not JSON (%s)" % error
    if not isinstance(envelope, dict):
        return [], "the body is JSON but not an object"
    if envelope.get("source") != EVENT_SOURCE:
        return [], "source is %r, not %s" % (envelope.get("source"), EVENT_SOURCE)
    if envelope.get("detail-type") != DETAIL_TYPE:
        return [], "detail-type is %r, not %s" % (envelope.get("detail-type"), DETAIL_TYPE)
    detail = envelope.get("detail")
    if not isinstance(detail, dict):
        return [], "detail is missing or not an object"
    if detail.get("eventSource") != CLOUDTRAIL_EVENT_SOURCE:
        return [], "detail.eventSource is %r, not %s" % (detail.get("eventSource"), CLOUDTRAIL_EVENT_SOURCE)
    event_name = detail.get("eventName")
    if event_name not in EVENT_NAMES:
        return [], "eventName %r is not one of %s" % (event_name, ", ".join(EVENT_NAMES))
    if detail.get("errorCode"):
        return [], "%s failed (errorCode %s): it changed nothing" % (event_name, detail.get("errorCode"))
    account_id = _first(detail.get("recipientAccountId"), envelope.get("account"))
    if not account_id or not _ACCOUNT_RE.match(account_id):
        return [], "%s names no account id (detail.recipientAccountId or account, 12 digits), got %r" % (event_name, account_id)
    region = _first(detail.get("awsRegion"), envelope.get("region"))
    if not region or not _REGION_RE.match(region):
        return [], "%s names no region (detail.awsRegion or region), got %r" % (event_name, region)
    request = _mapping(detail.get("requestParameters"))
    response = _mapping(detail.get("responseElements"))
    rest_api_id, stage_name, reason = _stage_of(event_name, request, response)
    if reason:
        return [], reason
    if not rest_api_id or not _REST_API_ID_RE.match(rest_api_id):
        return [], "%s names no REST API id (requestParameters.restApiId), got %r" % (event_name, rest_api_id)
    if not stage_name or not _STAGE_NAME_RE.match(stage_name):
        return [], "%s names no valid stage name (letters, digits, - and _), got %r" % (event_name, stage_name)
    principal_arn, session_name = _who(detail.get("userIdentity"))
    event = {
        "stage": {"account_id": account_id, "region": region, "rest_api_id": rest_api_id, "stage_name": stage_name},
        "change": {
            "event_name": event_name,
            "event_time": _first(detail.get("eventTime"), envelope.get("time")),
            "event_id": _first(detail.get("eventID"), envelope.get("id")),
            "principal_arn": principal_arn,
            "session_name": session_name,
            "own_session": session_name is not None and session_name in ignore_session_names,
        },
    }
    return [event], None


# ---- coalescing ---------------------------------------------------------------------------------------------------

class Batch:
    """A group put on the rulebook's queue: its events (with "batch" filled in) and the SQS messages behind them."""

    def __init__(self, batch_id, events, receipts):
        self.id = batch_id
        self.events = events
        self.receipts = receipts

    def __repr__(self):
        return "Batch(%r, %d events)" % (self.id, len(self.events))


class _Group:
    __slots__ = ("deadline", "stages", "receipts")

    def __init__(self, deadline):
        self.deadline = deadline
        # (rest_api_id, stage_name) -> (sort key, event); dicts keep the order stages were first seen.
        self.stages = {}
        self.receipts = []


class StageBatcher:
    """Groups the events of one target (account, region) for ``coalesce_seconds`` from the group's first event, or until
    ``max_batch_stages`` distinct stages, keeping the latest change of each stage. ``clock`` returns seconds."""

    def __init__(self, coalesce_seconds, max_batch_stages, clock=time.monotonic):
        self.coalesce_seconds = coalesce_seconds
        self.max_batch_stages = max_batch_stages
        self.clock = clock
        self._groups = {}
        self._count = 0
        self._arrivals = 0

    def add(self, event, receipt=None):
        """Add one event (from parse_message, not own_session); returns the batches complete now (a full group)."""
        stage = event["stage"]
        target = (stage["account_id"], stage["region"])
        group = self._groups.get(target)
        if group is None:
            group = self._groups[target] = _Group(self.clock() + self.coalesce_seconds)
        self._arrivals += 1
        key = (stage["rest_api_id"], stage["stage_name"])
        # The latest change of a stage wins: by CloudTrail's event time, then by arrival (SQS does not keep order).
        rank = (event["change"].get("event_time") or "", self._arrivals)
        held = group.stages.get(key)
        if held is None or rank >= held[0]:
            group.stages[key] = (rank, event)
        if receipt is not None:
            group.receipts.append(receipt)
        if len(group.stages) >= self.max_batch_stages:
            return [self._close(target)]
        return []

    def due(self):
        """The batches whose time is up."""
        now = self.clock()
        return [self._close(target) for target, group in list(self._groups.items()) if group.deadline <= now]

    def next_deadline(self):
        """The clock time the next group is due, or None when no group is open."""
        return min((group.deadline for group in self._groups.values()), default=None)

    def pending(self):
        """How many distinct stages are held in open groups."""
        return sum(len(group.stages) for group in self._groups.values())

    def _close(self, target):
        group = self._groups.pop(target)
        self._count += 1
        batch_id = "%s/%s/%d" % (target[0], target[1], self._count)
        stages = [{"rest_api_id": key[0], "stage_name": key[1]} for key in group.stages]
        events = []
        for position, (_rank, event) in enumerate(group.stages.values(), start=1):
            events.append(dict(event, batch={"id": batch_id, "position": position, "size": len(stages), "stages": stages}))
        return Batch(batch_id, events, group.receipts)


# ---- retrying SQS -------------------------------------------------------------------------------------------------

class Backoff:
    """Exponential backoff: ``start`` seconds after the first failure, doubling to at most ``maximum``; reset on success.

    ``failure(cause)`` returns (delay, started), started being True for the first failure of a run of failures;
    ``success()`` returns the number of failures it ends (0 when SQS was not failing).
    """

    def __init__(self, maximum, start=BACKOFF_START_SECONDS):
        self.start = start
        self.maximum = maximum
        self.failures = 0

    def delay(self):
        if not self.failures:
            return 0.0
        return min(self.maximum, self.start * 2 ** min(self.failures - 1, 64))

    def failure(self):
        self.failures += 1
        return self.delay(), self.failures == 1

    def success(self):
        ended, self.failures = self.failures, 0
        return ended


# ---- the source -----------------------------------------------------------------------------------------------------

def _describe_error(error):
    """One line naming an SQS failure: the AWS error code and message, or botocore's own text."""
    response = getattr(error, "response", None)
    if isinstance(response, dict) and isinstance(response.get("Error"), dict):
        code = response["Error"].get("Code") or "error"
        message = response["Error"].get("Message") or ""
        return ("%s: %s" % (code, message)).rstrip(": ")
    return "%s: %s" % (type(error).__name__, error)


def make_client(settings):
    """A botocore SQS client for the settings (blocking: loads botocore's service data)."""
    # Imported here so the pure logic above loads where botocore is not installed (it is in any decision environment).
    import botocore.config  # pylint: disable=import-outside-toplevel
    import botocore.session  # pylint: disable=import-outside-toplevel

    config = botocore.config.Config(
        connect_timeout=10,
        # Longer than the longest poll, so a long poll is never cut short by the client.
        read_timeout=settings["wait_seconds"] + 20,
        retries={"mode": "standard", "max_attempts": 3},
    )
    session = botocore.session.get_session()
    return session.create_client("sqs", region_name=settings["region"], endpoint_url=settings["endpoint_url"], config=config)


class StageEventSource:
    """The long-poll loop: receive, parse, put own-session events at once, batch the others, delete what was put.

    ``clock`` and ``sleep`` (seconds) are the loop's time, injectable for tests.
    """

    def __init__(self, queue, client, settings, clock=time.monotonic, sleep=asyncio.sleep, logger=None):
        self.queue = queue
        self.sleep = sleep
        self.client = client
        self.settings = settings
        self.clock = clock
        self.log = logger or logging.getLogger(LOGGER_NAME)
        self.batcher = StageBatcher(settings["coalesce_seconds"], settings["max_batch_stages"], clock)
        self.backoff = Backoff(settings["backoff_max_seconds"])
        self.retry_at = None
        self.failing_call = None

    # SQS health: one line when it starts failing, one when it answers again.
    def _failed(self, operation, error):
        delay, started = self.backoff.failure()
        if started:
            self.failing_call = operation
            self.log.warning("SQS is failing (%s on %s): %s; retrying with backoff from %.0f s up to %.0f s",
                             operation, self.settings["queue_url"], _describe_error(error), delay, self.settings["backoff_max_seconds"])
        else:
            self.log.debug("SQS %s failed again (%d failures): %s", operation, self.backoff.failures, _describe_error(error))
        self.retry_at = self.clock() + delay

    def _succeeded(self, operation):
        failures = self.backoff.success()
        self.retry_at = None
        if failures:
            self.log.warning("SQS answers again (%s on %s) after %d failed attempt(s)", operation, self.settings["queue_url"], failures)

    async def _call(self, operation, **params):
        """One SQS call in a thread; returns its response, or None when it failed (logged, backoff started)."""
        # Each client method named where it is called: docs/iam's policy test derives the SQS permissions from them.
        if operation == "ReceiveMessage":
            call = functools.partial(self.client.receive_message, QueueUrl=self.settings["queue_url"], **params)
        else:
            call = functools.partial(self.client.delete_message, QueueUrl=self.settings["queue_url"], **params)
        try:
            response = await asyncio.to_thread(call)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # pylint: disable=broad-exception-caught
            # botocore's ClientError (denied, throttled, no such queue) and BotoCoreError (unreachable, timeout,
            # no credentials): every one is retried, none stops the source.
            self._failed(operation, error)
            return None
        self._succeeded(operation)
        return response

    async def _delete(self, receipts):
        for message_id, handle in receipts:
            if await self._call("DeleteMessage", ReceiptHandle=handle) is None:
                self.log.warning("message %s not deleted: SQS will deliver it again after the visibility timeout", message_id)

    async def _put(self, batches):
        for batch in batches:
            for event in batch.events:
                await self.queue.put(event)
            self.log.info("put batch %s: %d stage(s)", batch.id, len(batch.events))
            await self._delete(batch.receipts)

    async def handle(self, message):
        """Parse one received message; put, batch or drop it."""
        message_id = message.get("MessageId", "?")
        receipt = (message_id, message.get("ReceiptHandle"))
        events, reason = parse_message(message.get("Body"), self.settings["max_body_bytes"], self.settings["ignore_session_names"])
        if reason:
            self.log.warning("dropped message %s: %s", message_id, reason)
            await self._delete([receipt])
            return
        own = [event for event in events if event["change"]["own_session"]]
        others = [event for event in events if not event["change"]["own_session"]]
        for event in own:
            await self.queue.put(dict(event, batch=None))
        for event in others:
            # The message is deleted with the batch its (last) event goes into.
            is_last = event is others[-1]
            await self._put(self.batcher.add(event, receipt if is_last else None))
        if not others:
            await self._delete([receipt])

    async def step(self):
        """One turn of the loop: put what is due, then wait for the backoff, a deadline or the next messages."""
        await self._put(self.batcher.due())
        now = self.clock()
        deadline = self.batcher.next_deadline()
        if self.retry_at is not None and now < self.retry_at:
            await self.sleep(min(self.retry_at, deadline if deadline is not None else self.retry_at) - now)
            return
        wait = self.settings["wait_seconds"]
        if deadline is not None:
            remaining = deadline - now
            if remaining < 1:
                await self.sleep(max(remaining, 0))
                return
            wait = min(wait, int(remaining))
        response = await self._call("ReceiveMessage", MaxNumberOfMessages=RECEIVE_MAX_MESSAGES, WaitTimeSeconds=wait)
        for message in (response or {}).get("Messages", []):
            await self.handle(message)

    async def run(self):
        try:
            while True:
                await self.step()
        except asyncio.CancelledError:
            pending = self.batcher.pending()
            if pending:
                self.log.info("stopping: %d stage(s) not yet put stay in SQS, which delivers them again after the visibility timeout", pending)
            raise


async def main(queue, args):
    """Entry point of the event source (ansible-rulebook calls it with its queue and the rulebook's arguments)."""
    settings = validate_args(args)
    client = await asyncio.to_thread(make_client, settings)
    await StageEventSource(queue, client, settings).run()


if __name__ == "__main__":
    # By hand: python stage_events.py QUEUE_URL [ENDPOINT_URL] prints the events.

    class _PrintQueue:
        async def put(self, event):
            print(json.dumps(event))

    import sys  # pylint: disable=import-outside-toplevel

    logging.basicConfig(level=logging.INFO)
    asyncio.run(main(_PrintQueue(), {"queue_url": sys.argv[1], "endpoint_url": sys.argv[2] if len(sys.argv) > 2 else None}))
