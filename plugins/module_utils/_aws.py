# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Private to this collection: not an API, may change in any release.

"""The one way this collection reaches AWS: clients, accounts, pacing and the causes of errors.

It owns four things, used by the modules (on the target), the sweep engine, the findings publisher, the run
history and the accounts inventory (on the controller):

  the client factory  botocore clients of one session: the process's shared one (client), or one made of the
                      connection settings an amazon.aws plugin reads (client_factory); each service's retries
                      and timeouts (client_config)
  reaching an account assume the account's role, or check that the controller's own credentials are in it
                      (reach_account): the account id, the identity acting there, the credentials to act with
  pacing by service   a token bucket per service, or per operation where AWS's quotas are per operation, that
                      every HTTP attempt (retries included) waits for, and the count of how AWS answered
                      (PACES, pace_client, pace_service)
  the error causes    '<code>: <message><hint>' for what AWS or the SDK raises (describe_cause, error_code)

It may import botocore and the collection's module_utils/_rules.py, nothing of Ansible and nothing of
plugin_utils: a module ships it to the target. Importing it makes no client and loads no service model: a
controller-side caller warms the shared session itself (shared_session()).
"""

from __future__ import annotations

import copy
import threading
import time
from dataclasses import dataclass

try:
    import botocore.session
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError
    from botocore.exceptions import ClientError
    from botocore.exceptions import NoCredentialsError
except ImportError:
    HAS_BOTOCORE = False
    # What a call to AWS raises when AWS (or the way to it) says no: nothing, without the SDK.
    AWS_ERRORS = ()
    SDK_ERRORS = ()
else:
    HAS_BOTOCORE = True
    # What a call to AWS raises when AWS (or the way to it) says no: an answer (ClientError), or no answer.
    AWS_ERRORS = (BotoCoreError, ClientError)
    # What the SDK raises before or instead of an answer: no credentials, an unknown profile, a refused connection.
    SDK_ERRORS = (BotoCoreError,)

from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import role_arn_account


# ---- the error causes ----------------------------------------------------------------------------------

# AWS refuses the credentials themselves with these (API Gateway's JSON codes, and STS's).
EXPIRED_CREDENTIAL_CODES = ("ExpiredTokenException", "ExpiredToken", "RequestExpired")
INVALID_CREDENTIAL_CODES = ("UnrecognizedClientException", "InvalidClientTokenId", "InvalidSignatureException", "SignatureDoesNotMatch")
NO_CREDENTIALS_HINT = (
    "; give the controller AWS credentials the usual way (AWS_PROFILE, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
    "an instance or container role)"
)


def error_code(exception):
    """The AWS error code of a botocore exception; the exception's class name when it has none."""
    response = getattr(exception, "response", None) or {}
    return response.get("Error", {}).get("Code") or type(exception).__name__


def error_message(exception):
    response = getattr(exception, "response", None) or {}
    return response.get("Error", {}).get("Message") or str(exception)


def credentials_hint(code):
    """What to do when AWS refused the credentials themselves (not a permission): empty for other codes."""
    if code in EXPIRED_CREDENTIAL_CODES:
        return ". The credentials have expired: renew the session (or the assumed role's) and run again"
    if code in INVALID_CREDENTIAL_CODES:
        return ". AWS does not recognise the credentials: check the access key, secret key and session token"
    return ""


def describe_cause(exception):
    """'<code>: <message><hint>' for an AWS error, the SDK's own words for anything else (a connection refused),
    with how to give credentials when there are none."""
    if HAS_BOTOCORE and isinstance(exception, NoCredentialsError):
        return str(exception) + NO_CREDENTIALS_HINT
    if HAS_BOTOCORE and isinstance(exception, ClientError):
        code = error_code(exception)
        return f"{code}: {error_message(exception)}{credentials_hint(code)}"
    return str(exception) or type(exception).__name__


# ---- pacing by service ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pace:
    """AWS's quota of some calls per account and region (rate per second, burst), and the pace this collection
    keeps below it, since other callers in the account and region share the quota."""

    rate: float
    burst: int
    aws_rate: float
    aws_burst: int

    @property
    def burst_seconds(self):
        """How many seconds of the steady rate AWS's burst holds."""
        return self.aws_burst / self.aws_rate


# API Gateway management calls of one account and region share a token bucket of 10 requests per second with a
# burst of 40, whatever the operation; past it they are answered 429 TooManyRequestsException. The rate is the
# modules' and the role's max_requests_per_second default; a user may set another.
API_GATEWAY_PACE = Pace(rate=9.5, burst=40, aws_rate=10, aws_burst=40)
AWS_BURST = API_GATEWAY_PACE.aws_burst
DEFAULT_MAX_REQUESTS_PER_SECOND = API_GATEWAY_PACE.rate

# Lambda's control-plane reads of the whole-path read (module_utils/request_path.py): one bucket for all of them.
LAMBDA_READS = Pace(rate=12.0, burst=12, aws_rate=15, aws_burst=15)

# botocore service name -> {operation name, or None for every operation of the service: its pace}. Operations given
# the same Pace share one bucket.
PACES = {
    "apigateway": {None: API_GATEWAY_PACE},
    # Security Hub's quotas are per operation: BatchImportFindings 10/s (burst 30), GetFindings 3/s (burst 6).
    "securityhub": {
        "BatchImportFindings": Pace(rate=5.0, burst=10, aws_rate=10, aws_burst=30),
        "GetFindings": Pace(rate=2.0, burst=4, aws_rate=3, aws_burst=6),
    },
    # Lambda's control plane (the whole-path read, module_utils/request_path.py): GetFunctionConfiguration counts
    # in the "Control plane API request rate (excludes invocation, GetFunction, and GetPolicy requests)" of 15
    # requests per second per account and region (AWS Lambda Developer Guide, "Lambda quotas", API requests).
    # AWS documents no burst for it: one second of the rate is taken as the burst.
    # UpdateFunctionConfiguration (tracing_sweep_lambda_tracing) counts in the same quota; the enforcement writes after
    # the reads are done, and its own bucket keeps both together under the 15 requests per second.
    # ListAliases (the aliases that serve a published version in a path) counts there too, and shares the reads' bucket.
    "lambda": {
        "GetFunctionConfiguration": LAMBDA_READS,
        "ListAliases": LAMBDA_READS,
        "UpdateFunctionConfiguration": Pace(rate=3.0, burst=3, aws_rate=15, aws_burst=15),
    },
    # IAM (whether a function's execution role may write to X-Ray, module_utils/request_path.py): AWS documents no
    # request rate for SimulatePrincipalPolicy. The IAM User Guide ("IAM and AWS STS quotas") lists quotas on IAM
    # objects, not on requests, and IAM answers Throttling past a rate it does not publish; IAM is global, so the
    # account's calls from every region share it. aws_rate/aws_burst below are an assumption (5 per second), not a
    # documented figure; the pace stays well under it, since the check makes one call per distinct role of a target.
    "iam": {
        "SimulatePrincipalPolicy": Pace(rate=2.0, burst=2, aws_rate=5, aws_burst=5),
    },
}


class RequestPacer:
    """A thread-safe token bucket: wait() returns once a request may be sent.

    Retrying AWS's 429 answers works but wastes time on backoff, so a client paces itself with a bucket of its own,
    a little slower than AWS's. When AWS says 429 anyway (another caller shares the quota, or an earlier run spent
    it), throttled() empties the bucket, so the client slows to its steady rate instead of bursting again.
    """

    def __init__(self, rate, burst=AWS_BURST, clock=time.monotonic, sleep=time.sleep, burst_seconds=API_GATEWAY_PACE.burst_seconds):
        if rate <= 0:
            raise ValueError(f"rate must be above 0, got {rate!r}")
        self.rate = float(rate)
        # A slow pace gets a proportionally small burst (AWS's burst is burst_seconds of its rate): a user who lowered
        # the rate to leave room for other callers does not want 40 requests at once either.
        self.burst = max(1.0, min(float(burst), self.rate * burst_seconds))
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = self.burst
        self._updated = clock()

    def _refill(self, now):
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now

    def wait(self):
        """Take a token, sleeping until there is one. Tokens are handed out in turn, never twice."""
        with self._lock:
            self._refill(self._clock())
            self._tokens -= 1.0
            # A negative balance is this caller's place in the queue: it sleeps until its token is due.
            delay = 0.0 if self._tokens >= 0 else -self._tokens / self.rate
        if delay > 0:
            self._sleep(delay)

    def throttled(self):
        """AWS answered 429: whatever burst we thought was left is not there."""
        with self._lock:
            self._refill(self._clock())
            self._tokens = min(self._tokens, 0.0)


class RequestStats:
    """How the HTTP attempts of one client were answered; retried answers are counted too."""

    FIELDS = ("sent", "throttled", "server_errors", "connection_errors")

    def __init__(self):
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(self.FIELDS, 0)

    def add(self, field):
        with self._lock:
            self._counts[field] += 1

    def as_dict(self):
        with self._lock:
            return dict(self._counts)


def _answer_kind(response_dict, exception):
    if exception is not None:
        return "connection_errors"
    status = (response_dict or {}).get("status_code") or 0
    if status == 429:
        return "throttled"
    if status >= 500:
        return "server_errors"
    return None


def event_id(client):
    """The client's service as botocore's event names spell it (API Gateway's is api-gateway)."""
    return client.meta.service_model.service_id.hyphenize()


def pace_client(client, pacer, stats, operation=None):
    """Make every HTTP attempt of the (botocore) client's service, or of one ``operation`` of it, wait for the pacer
    (None: no pacing), and count the answers in ``stats``."""
    events = f"{event_id(client)}.{operation}" if operation else event_id(client)
    suffix = f"-{operation}" if operation else ""

    def before_send(**kwargs):  # pylint: disable=unused-argument
        if pacer is not None:
            pacer.wait()
        stats.add("sent")
        # None lets botocore send the request itself (a value here would replace the HTTP call).

    def response_received(response_dict=None, exception=None, **kwargs):  # pylint: disable=unused-argument
        kind = _answer_kind(response_dict, exception)
        if kind is None:
            return
        stats.add(kind)
        if kind == "throttled" and pacer is not None:
            pacer.throttled()

    client.meta.events.register(f"before-send.{events}", before_send, unique_id="cloudops-apigw-tracing-pace" + suffix)
    client.meta.events.register(f"response-received.{events}", response_received, unique_id="cloudops-apigw-tracing-count" + suffix)
    return client


def pace_service(client, clock=time.monotonic, sleep=time.sleep):
    """(client, stats): every HTTP attempt of the client paced as PACES says for its service, and counted."""
    stats = RequestStats()
    pacers = {}
    for operation, pace in PACES[client.meta.service_model.service_name].items():
        if id(pace) not in pacers:
            pacers[id(pace)] = RequestPacer(pace.rate, burst=pace.burst, clock=clock, sleep=sleep, burst_seconds=pace.burst_seconds)
        pace_client(client, pacers[id(pace)], stats, operation)
    return client, stats


# ---- the client factory --------------------------------------------------------------------------------

# botocore's standard retries (throttling backs off, transient errors are retried) for the services outside API
# Gateway's quota, whose own retry layer is module_utils/apigateway.py's.
CLIENT_CONFIGS = {
    "sts": {"retries": {"mode": "standard", "max_attempts": 4}, "connect_timeout": 10, "read_timeout": 30},
    "ec2": {"retries": {"mode": "standard", "max_attempts": 4}, "connect_timeout": 10, "read_timeout": 30},
    "securityhub": {"retries": {"mode": "standard", "max_attempts": 5}, "connect_timeout": 10, "read_timeout": 30},
    # The run history: a few small reads before the report is written, the files of the set after it.
    "s3": {"retries": {"mode": "standard", "max_attempts": 4}, "connect_timeout": 10, "read_timeout": 60},
    # The functions behind the stages (tracing_sweep_whole_path): one GetFunctionConfiguration per distinct function.
    "lambda": {"retries": {"mode": "standard", "max_attempts": 5}, "connect_timeout": 10, "read_timeout": 30},
    # The execution roles of those functions: one SimulatePrincipalPolicy per distinct role.
    "iam": {"retries": {"mode": "standard", "max_attempts": 5}, "connect_timeout": 10, "read_timeout": 30},
}
# The services whose models the shared session loads when it is made.
WARM_SERVICES = ("sts", "apigateway")

_SESSION = None
# A botocore session is not thread-safe: clients are made one at a time (the targets of a host that stands for an
# account are swept on threads), the calls on them run in parallel.
_CLIENT_LOCK = threading.Lock()


def client_config(service):
    """The botocore Config of a client of ``service`` (CLIENT_CONFIGS): a copy, since botocore rewrites the retries
    of the Config a client is made with."""
    return Config(**copy.deepcopy(CLIENT_CONFIGS[service]))


def shared_session():
    """This process's botocore session, with the service models of WARM_SERVICES loaded once.

    ansible-core loads each task's action class in its main process before it forks the worker that runs the
    task: a session made when the action's code is imported (the sweep engine calls this then) is inherited by
    every worker, whose clients are then made in milliseconds instead of loading botocore and its JSON models in
    each worker.
    """
    global _SESSION  # pylint: disable=global-statement
    if _SESSION is None:
        session = botocore.session.get_session()
        for service in WARM_SERVICES:
            session.get_service_model(service)
            # A first client loads what every client needs besides the model (endpoint rules, partitions,
            # defaults) into the session's caches: about 60 ms of CPU that each worker would otherwise spend.
            # Explicit placeholder keys: no credential lookup, and the client never sends a request.
            warm = session.create_client(service, region_name="us-east-1", aws_access_key_id="warm-up", aws_secret_access_key="warm-up")
            # And its paginators' model (a paginator reads it once per loader, keyed by the model's API version).
            warm.can_paginate(next(iter(warm.meta.method_to_api_mapping)))
        # The legacy retry handler's data, which a client in that retry mode (API Gateway's: apigateway_config) reads.
        session.get_component("data_loader").load_data("_retry")
        _SESSION = session
    return _SESSION


def client(service, region, endpoint_url=None, config=None, credentials=None, session=None, **connect):
    """A botocore client of ``session`` (None: shared_session()).

    credentials: an AssumeRole answer's, or None for the session's own (the environment, a profile, an instance
    role) or the keys in ``connect`` (create_client's aws_access_key_id, verify...). An empty endpoint is AWS's.
    """
    keys = dict(connect)
    if credentials is not None:
        keys.update(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )
    session = session or shared_session()
    with _CLIENT_LOCK:
        return session.create_client(service, region_name=region, endpoint_url=endpoint_url or None, config=config, **keys)


def client_factory(endpoint_url=None, connect_kwargs=None):
    """``make(service, region, credentials=None)`` on one botocore session, made now (in the calling thread).

    ``endpoint_url`` and ``connect_kwargs`` are a plugin's connection settings as amazon.aws reads them
    (get_aws_connection_info: profile_name, access keys, verify, aws_config); aws_config is merged over the
    service's own client_config. ``credentials`` (an AssumeRole answer's) replace the keys. An unknown profile
    is refused here. Clients are made one at a time (client()), the calls on them run in parallel.
    """
    params = dict(connect_kwargs or {})
    profile = params.pop("profile_name", None)
    extras = [extra for extra in (params.pop("aws_config", None), params.pop("config", None)) if extra is not None]
    session = botocore.session.Session(profile=profile)
    session.get_scoped_config()  # raises ProfileNotFound for a profile the configuration does not have

    def make(service, region, credentials=None):
        config = client_config(service)
        for extra in extras:
            config = config.merge(extra)
        return client(service, region, endpoint_url, config, credentials, session=session, **params)

    return make


# ---- reaching an account -------------------------------------------------------------------------------

# The steps of reaching an account, as ReachError.step names them.
MAKE_CLIENT = "client"
ASSUME_ROLE = "AssumeRole"
CALLER_IDENTITY = "GetCallerIdentity"
OTHER_ACCOUNT = "other account"


@dataclass
class Reach:
    """An account reached: its id, the identity the caller acts as there, and the credentials to act with
    (None: the controller's own)."""

    account_id: str | None
    caller_arn: str | None
    credentials: dict | None = None


class ReachError(Exception):
    """The account was not reached: at which step (MAKE_CLIENT, ASSUME_ROLE, CALLER_IDENTITY, OTHER_ACCOUNT) and why
    (the cause in words; for OTHER_ACCOUNT, ``found`` is the account the controller's credentials are in)."""

    def __init__(self, step, cause=None, found=None):
        super().__init__(cause or f"the controller's credentials are in account {found}")
        self.step = step
        self.cause = cause
        self.found = found

    def words(self, templates, **context):
        """The caller's own sentence for this step: ``templates[step]`` formatted with ``context`` and cause, found,
        external (' with the external id' when ``context['external_id']`` is set)."""
        external = " with the external id" if context.get("external_id") else ""
        values = dict(context, cause=self.cause, found=self.found, external=external)
        values.pop("external_id", None)  # a secret: never in a message
        return templates[self.step].format(**values)


def reach_account(client, region, role_arn=None, external_id=None, session_name=None, account_id=None):
    """Reach an account: assume ``role_arn`` (with ``external_id``), or without a role check that the controller's
    own credentials are in ``account_id`` (when given). Raises ReachError.

    client(service, region): the STS client of the controller's own credentials (its endpoint, its config).
    The Reach's account_id is ``account_id``, else the role's account, else the controller's.
    """
    try:
        sts = client("sts", region)
    except SDK_ERRORS as error:
        # An unknown AWS_PROFILE, a malformed config file.
        raise ReachError(MAKE_CLIENT, describe_cause(error)) from None
    if role_arn:
        kwargs = {"RoleArn": role_arn, "RoleSessionName": session_name}
        if external_id:
            kwargs["ExternalId"] = external_id
        try:
            answer = sts.assume_role(**kwargs)
        except AWS_ERRORS as error:
            raise ReachError(ASSUME_ROLE, describe_cause(error)) from None
        return Reach(account_id or role_arn_account(role_arn), (answer.get("AssumedRoleUser") or {}).get("Arn"), answer["Credentials"])
    try:
        identity = sts.get_caller_identity()
    except AWS_ERRORS as error:
        raise ReachError(CALLER_IDENTITY, describe_cause(error)) from None
    found = identity.get("Account")
    if account_id and found != account_id:
        # Never act in one account as if it were another (a profile or an AWX credential chosen by mistake).
        raise ReachError(OTHER_ACCOUNT, found=found)
    return Reach(found, identity.get("Arn"), None)
