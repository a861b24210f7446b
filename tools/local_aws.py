#!/usr/bin/env python
# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A local AWS stand-in for the integration tests and the demo.

It serves moto's WSGI application over real HTTP on 127.0.0.1 (never any other address) on a
port the kernel picks, in a daemon thread, and records every request it answers, so that a test
can assert not only on the outcome but on the API calls that produced it ("one GetStages per
API, no PATCH in check mode, nothing at all on bad input").

Deliberate differences from plain moto: GET /restapis is paged like real API Gateway
(``limit`` defaults to 25 and is capped at 500, ``position`` continues), because moto returns
every API in one page and code that forgets to follow ``position`` would otherwise pass; and Security
Hub's GetFindings and BatchImportFindings answer InvalidAccessException ("Account ... is not subscribed
to AWS Security Hub", HTTP 401) in an account and region that has not called EnableSecurityHub, as AWS
does (moto answers them anyway); and Lambda's UpdateFunctionConfiguration changes the function's TracingConfig
and answers the new one, as AWS does (moto 5.2.5 keeps the TracingConfig the function was created with and
answers that). ``conflict()`` makes UpdateFunctionConfiguration answer ResourceConflictException (HTTP 409, "The
operation cannot be performed at this time. An update is in progress for resource: ...") a number of times, as
AWS does while a function is being updated. IAM's SimulatePrincipalPolicy, which moto 5.2.5 does not implement (it
answers an error), is modelled for a role from its inline and attached managed policies' Action statements (the
whole-path check of whether a function's execution role may write to X-Ray). ListAliases takes a function's ARN,
as AWS does (moto 5.2.5 takes only its name).

Typical use::

    from local_aws import LocalAws, seed

    with LocalAws() as aws:
        apigw = aws.client("apigateway")
        ids = seed(apigw, [{"name": "orders", "stages": {"prod": {"tracing": True}, "dev": {}}}])
        ...  # point AWS_ENDPOINT_URL (or endpoint_url) at aws.endpoint_url
        assert aws.calls("UpdateStage") == 0

``python tools/local_aws.py`` starts a server and prints its endpoint until Ctrl-C.
"""

from __future__ import annotations

import base64
import fnmatch
import io
import json
import logging
import re
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

ACCESS_KEY = "testing"
SECRET_KEY = "testing"
DEFAULT_REGION = "us-east-1"

# Real API Gateway paging for GetRestApis.
REST_APIS_DEFAULT_PAGE = 25
REST_APIS_MAX_PAGE = 500

_CREDENTIAL_RE = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/,\s]+)/([^/,\s]+)/aws4_request")

# Operation names for the API Gateway (v1, REST API) calls this collection makes or seeds with.
_APIGW_ROUTES = [
    ("GET", re.compile(r"^/restapis/?$"), "GetRestApis"),
    ("POST", re.compile(r"^/restapis/?$"), "CreateRestApi"),
    ("GET", re.compile(r"^/restapis/[^/]+/?$"), "GetRestApi"),
    ("GET", re.compile(r"^/restapis/[^/]+/stages/?$"), "GetStages"),
    ("POST", re.compile(r"^/restapis/[^/]+/stages/?$"), "CreateStage"),
    ("GET", re.compile(r"^/restapis/[^/]+/stages/[^/]+/?$"), "GetStage"),
    ("PATCH", re.compile(r"^/restapis/[^/]+/stages/[^/]+/?$"), "UpdateStage"),
    # The whole request path (tracing_sweep_whole_path).
    ("GET", re.compile(r"^/restapis/[^/]+/resources/?$"), "GetResources"),
    ("GET", re.compile(r"^/restapis/[^/]+/authorizers/?$"), "GetAuthorizers"),
]

# Lambda (REST-JSON): the call the whole-path read makes, named by path.
_LAMBDA_ROUTES = [
    ("GET", re.compile(r"^/2015-03-31/functions/[^/]+/configuration/?$"), "GetFunctionConfiguration"),
    # tracing_sweep_lambda_tracing: Active tracing set on a function, and put back by the rollback.
    ("PUT", re.compile(r"^/2015-03-31/functions/[^/]+/configuration/?$"), "UpdateFunctionConfiguration"),
    # The aliases that serve a published version in a request path.
    ("GET", re.compile(r"^/2015-03-31/functions/[^/]+/aliases/?$"), "ListAliases"),
]

# Security Hub (REST-JSON, no X-Amz-Target): the calls this collection makes, named by path.
_SECURITY_HUB_ROUTES = [
    ("POST", re.compile(r"^/findings/?$"), "GetFindings"),
    ("POST", re.compile(r"^/findings/import/?$"), "BatchImportFindings"),
]

# Bodies larger than this are not inspected for a query-protocol Action name.
_MAX_FORM_BODY = 1024 * 1024


@dataclass
class RecordedRequest:
    """One request the server answered.

    ``operation`` is the AWS operation name where it can be told (API Gateway REST paths above,
    ``X-Amz-Target`` for JSON services, ``Action`` for query services such as STS), otherwise
    ``"<METHOD> <path>"``. ``region`` and ``service`` come from the SigV4 credential scope of the
    Authorization header; ``account`` is the moto account that the access key belongs to. Any of
    them is None when the request was unsigned.
    """

    method: str
    path: str
    query: dict = field(default_factory=dict)
    operation: str = ""
    service: str | None = None
    region: str | None = None
    access_key: str | None = None
    account: str | None = None
    status: int | None = None
    # RoleArn of an STS AssumeRole request (other form fields, such as ExternalId, are not kept).
    role_arn: str | None = None
    # time.monotonic() on receipt: the clock is system-wide, so a test can match requests to the
    # time window of an ansible task run by another process.
    received_at: float = 0.0


def operation_name(method, path, service=None, target=None, action=None):
    """Name the AWS operation behind an HTTP request (see RecordedRequest.operation)."""
    if target:
        return target.rsplit(".", 1)[-1]
    if action:
        return action
    if service in (None, "apigateway"):
        for route_method, pattern, name in _APIGW_ROUTES:
            if method == route_method and pattern.match(path):
                return name
    routes = {"securityhub": _SECURITY_HUB_ROUTES, "lambda": _LAMBDA_ROUTES}.get(service)
    if routes:
        for route_method, pattern, name in routes:
            if method == route_method and pattern.match(path):
                return name
    return "%s %s" % (method, path)


def security_hub_enabled(account, region):
    """Whether Security Hub is enabled (EnableSecurityHub) in moto's account and region."""
    from moto.securityhub.models import securityhub_backends  # pylint: disable=import-outside-toplevel

    try:
        return bool(securityhub_backends[account][region].enabled)
    except KeyError:
        return False


def _account_for(access_key):
    """The moto account an access key acts in (assumed-role keys map to their account)."""
    if not access_key:
        return None
    try:
        from moto.iam.models import get_account_id_from  # pylint: disable=import-outside-toplevel
    except ImportError:  # pragma: no cover - moto moved it; the account is a nicety
        return None
    return get_account_id_from(access_key)


def _encode_position(offset):
    return base64.urlsafe_b64encode(("local-aws:%d" % offset).encode()).decode()


def _decode_position(position):
    try:
        text = base64.urlsafe_b64decode(position.encode()).decode()
        prefix, offset = text.split(":", 1)
        if prefix != "local-aws":
            raise ValueError(text)
        return int(offset)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError("Invalid position %r" % position) from exc


def _iam_error(start_response, record, code, error_type, message):
    """An error in IAM's (query protocol, XML) shape."""
    body = ('<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>%s</Code>'
            "<Message>%s</Message></Error><RequestId>local-aws</RequestId></ErrorResponse>" % (error_type, message)).encode()
    record.status = code
    start_response("%d %s" % (code, "Not Found" if code == 404 else "Bad Request"), [("Content-Type", "text/xml"), ("Content-Length", str(len(body)))])
    return [body]


def _name_the_function(environ):
    """ListAliases of a function given by its ARN, as AWS takes it: moto 5.2.5 looks the ARN up as a name (and
    answers ResourceNotFoundException), so the ARN in the path becomes the function's name. (moto also ignores
    FunctionVersion and lists every alias; the caller's own filter on each alias's version covers that.)"""
    for key in ("PATH_INFO", "RAW_URI", "REQUEST_URI"):
        if key not in environ:
            continue
        head, sep, rest = environ[key].partition("/functions/")
        function, slash, tail = rest.partition("/")
        function = urllib.parse.unquote(function)
        if ":function:" in function:
            function = function.split(":function:", 1)[1].split(":", 1)[0]
        environ[key] = head + sep + urllib.parse.quote(function, safe="") + slash + tail


class _Recorder:
    """WSGI middleware: records each request, pages GetRestApis like AWS."""

    def __init__(self, app, owner):
        self.app = app
        self.owner = owner

    def __call__(self, environ, start_response):
        method = environ.get("REQUEST_METHOD", "GET").upper()
        path = environ.get("PATH_INFO", "") or "/"
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(environ.get("QUERY_STRING", "")).items()}
        access_key = service = region = None
        match = _CREDENTIAL_RE.search(environ.get("HTTP_AUTHORIZATION", ""))
        if match:
            access_key, region, service = match.groups()
        form = self._form_values(environ)
        action = query.get("Action") or form.get("Action")
        record = RecordedRequest(
            method=method,
            path=path,
            query=query,
            operation=operation_name(method, path, service, environ.get("HTTP_X_AMZ_TARGET"), action),
            service=service,
            region=region,
            access_key=access_key,
            role_arn=form.get("RoleArn"),
            received_at=time.monotonic(),
        )
        try:
            record.account = _account_for(access_key)
        except Exception:  # pylint: disable=broad-exception-caught
            # Never let bookkeeping break the request itself.
            record.account = None
        self.owner.record(record)

        if self.owner.denies(record):
            return self._access_denied(start_response, record)
        if record.operation in ("GetFindings", "BatchImportFindings") and not security_hub_enabled(record.account, record.region):
            # moto answers these in an account that never enabled Security Hub; AWS refuses them.
            return self._not_subscribed(start_response, record)
        if record.operation == "GetRestApis":
            return self._paged_rest_apis(environ, start_response, record, query)
        if record.operation == "UpdateFunctionConfiguration":
            return self._update_function_configuration(environ, start_response, record)
        if record.operation == "SimulatePrincipalPolicy":
            return self._simulate_principal_policy(start_response, record, form)
        if record.operation == "ListAliases":
            _name_the_function(environ)

        def recording_start_response(status, headers, exc_info=None):
            record.status = int(status.split(" ", 1)[0])
            return start_response(status, headers, exc_info)

        hooks = self.owner.hooks_for(record)
        if not hooks:
            return self.app(environ, recording_start_response)
        # The answer is made before the hooks run, so it shows the world as it was (a read that raced a delete).
        chunks = self.app(environ, recording_start_response)
        try:
            body = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        for hook in hooks:
            hook(record)
        return [body]

    @staticmethod
    def _form_values(environ):
        """Fields of a query-protocol POST (STS, IAM...), leaving the body readable for moto."""
        if environ.get("REQUEST_METHOD", "").upper() != "POST":
            return {}
        if not environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
            return {}
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return {}
        if not 0 < length <= _MAX_FORM_BODY:
            return {}
        body = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(body)
        return {key: values[-1] for key, values in urllib.parse.parse_qs(body.decode("utf-8", "replace")).items()}

    @staticmethod
    def _access_denied(start_response, record):
        """AccessDenied in the shape the caller's protocol expects (REST-JSON for API Gateway, XML for STS)."""
        record.status = 403
        if record.service == "apigateway":
            message = "User: arn:aws:iam::%s:user/local is not authorized to perform: apigateway:%s on resource: %s" % (
                record.account, record.method, record.path)
            body = json.dumps({"message": message}).encode()
            headers = [("Content-Type", "application/json"), ("x-amzn-ErrorType", "AccessDeniedException")]
        else:
            message = "User: arn:aws:iam::%s:user/local is not authorized to perform: %s:%s on resource: %s" % (
                record.account, record.service, record.operation, record.role_arn or "*")
            body = (
                '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
                "<Code>AccessDenied</Code><Message>%s</Message></Error><RequestId>local-aws</RequestId></ErrorResponse>" % message
            ).encode()
            headers = [("Content-Type", "text/xml")]
        headers.append(("Content-Length", str(len(body))))
        start_response("403 Forbidden", headers)
        return [body]

    @staticmethod
    def _not_subscribed(start_response, record):
        """What Security Hub answers in an account and region where it is not enabled."""
        record.status = 401
        message = "Account %s is not subscribed to AWS Security Hub" % record.account
        body = json.dumps({"Code": "InvalidAccessException", "Message": message}).encode()
        start_response("401 Unauthorized", [
            ("Content-Type", "application/json"),
            ("x-amzn-ErrorType", "InvalidAccessException"),
            ("Content-Length", str(len(body))),
        ])
        return [body]

    def _paged_rest_apis(self, environ, start_response, record, query):
        try:
            limit = int(query.get("limit", REST_APIS_DEFAULT_PAGE))
            offset = _decode_position(query["position"]) if query.get("position") else 0
        except ValueError as exc:
            return self._error(start_response, record, 400, "BadRequestException", str(exc))
        if limit < 1:
            return self._error(start_response, record, 400, "BadRequestException", "limit must be at least 1")
        limit = min(limit, REST_APIS_MAX_PAGE, self.owner.rest_apis_page_cap or REST_APIS_MAX_PAGE)

        # Ask moto for everything, then cut the page out of it.
        inner = dict(environ)
        inner["QUERY_STRING"] = ""
        captured = {}

        def capture(status, headers, exc_info=None):  # pylint: disable=unused-argument
            captured["status"] = status
            captured["headers"] = headers
            return lambda data: None

        chunks = self.app(inner, capture)
        try:
            body = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        status = captured.get("status", "500 INTERNAL SERVER ERROR")
        headers = [(k, v) for k, v in captured.get("headers", []) if k.lower() != "content-length"]
        if status.startswith("200"):
            document = json.loads(body or b"{}")
            items = document.get("item", [])
            document["item"] = items[offset:offset + limit]
            if offset + limit < len(items):
                document["position"] = _encode_position(offset + limit)
            else:
                document.pop("position", None)
            body = json.dumps(document).encode()
        headers.append(("Content-Length", str(len(body))))
        record.status = int(status.split(" ", 1)[0])
        start_response(status, headers)
        return [body]

    def _update_function_configuration(self, environ, start_response, record):
        """moto's UpdateFunctionConfiguration, with the TracingConfig applied and answered as AWS does; or the
        ResourceConflictException conflict() asked for."""
        name = urllib.parse.unquote(record.path.split("/")[3])
        if self.owner.takes_conflict(name):
            return self._error(start_response, record, 409, "ResourceConflictException",
                               "The operation cannot be performed at this time. An update is in progress for resource: %s" % name)
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        body = environ["wsgi.input"].read(length) if 0 < length <= _MAX_FORM_BODY else b""
        environ["wsgi.input"] = io.BytesIO(body)
        try:
            mode = (json.loads(body or b"{}").get("TracingConfig") or {}).get("Mode")
        except ValueError:
            mode = None
        captured = {}

        def capture(status, headers, exc_info=None):  # pylint: disable=unused-argument
            captured["status"] = status
            captured["headers"] = headers
            return lambda data: None

        chunks = self.app(environ, capture)
        try:
            answer = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        status = captured.get("status", "500 INTERNAL SERVER ERROR")
        headers = [(k, v) for k, v in captured.get("headers", []) if k.lower() != "content-length"]
        if status.startswith("200") and mode:
            from moto.awslambda.models import lambda_backends  # pylint: disable=import-outside-toplevel
            function = lambda_backends[record.account][record.region].get_function(name)
            function.tracing_config = {"Mode": mode}
            document = json.loads(answer or b"{}")
            document["TracingConfig"] = {"Mode": mode}
            answer = json.dumps(document).encode()
        headers.append(("Content-Length", str(len(answer))))
        record.status = int(status.split(" ", 1)[0])
        start_response(status, headers)
        return [answer]

    @staticmethod
    def _simulate_principal_policy(start_response, record, form):
        """IAM's SimulatePrincipalPolicy for a role, which moto does not implement (it answers 500), evaluated from the
        role's inline policies and the default version of its attached managed policies: an action is
        explicitDeny when a Deny statement names it, allowed when an Allow statement does, implicitDeny otherwise.
        Action and its wildcards are matched; NotAction, Resource and Condition are not evaluated (the collection asks
        about xray:PutTraceSegments and xray:PutTelemetryRecords on "*")."""
        from moto.iam.models import iam_backends  # pylint: disable=import-outside-toplevel
        role_arn = form.get("PolicySourceArn") or ""
        actions = [form[key] for key in sorted((key for key in form if key.startswith("ActionNames.member.")), key=lambda key: int(key.rsplit(".", 1)[1]))]
        try:
            role = iam_backends[record.account]["global"].get_role_by_arn(role_arn)
        except Exception:  # pylint: disable=broad-exception-caught
            return _iam_error(start_response, record, 404, "NoSuchEntity", "The role with ARN %s cannot be found." % role_arn)
        documents = list(role.policies.values())
        for policy in role.managed_policies.values():
            documents += [version.document for version in policy.versions if version.is_default]
        statements = []
        for document in documents:
            parsed = json.loads(document) if isinstance(document, str) else document
            found = parsed.get("Statement") or []
            statements += found if isinstance(found, list) else [found]

        def names(statement, action):
            listed = statement.get("Action") or []
            return any(fnmatch.fnmatchcase(action.lower(), pattern.lower()) for pattern in ([listed] if isinstance(listed, str) else listed))

        members = []
        for action in actions:
            if any(statement.get("Effect") == "Deny" and names(statement, action) for statement in statements):
                decision = "explicitDeny"
            elif any(statement.get("Effect") == "Allow" and names(statement, action) for statement in statements):
                decision = "allowed"
            else:
                decision = "implicitDeny"
            members.append("<member><EvalActionName>%s</EvalActionName><EvalResourceName>*</EvalResourceName><EvalDecision>%s</EvalDecision>"
                           "<MatchedStatements/><MissingContextValues/></member>" % (action, decision))
        body = ('<SimulatePrincipalPolicyResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><SimulatePrincipalPolicyResult>'
                "<IsTruncated>false</IsTruncated><EvaluationResults>%s</EvaluationResults></SimulatePrincipalPolicyResult>"
                "<ResponseMetadata><RequestId>local-aws</RequestId></ResponseMetadata></SimulatePrincipalPolicyResponse>" % "".join(members)).encode()
        record.status = 200
        start_response("200 OK", [("Content-Type", "text/xml"), ("Content-Length", str(len(body)))])
        return [body]

    @staticmethod
    def _error(start_response, record, code, error_type, message):
        body = json.dumps({"message": message}).encode()
        record.status = code
        start_response("%d %s" % (code, "Conflict" if code == 409 else "Bad Request"), [
            ("Content-Type", "application/json"),
            ("x-amzn-ErrorType", error_type),
            ("Content-Length", str(len(body))),
        ])
        return [body]


class LocalAws:
    """moto over HTTP on 127.0.0.1, with a log of every request.

    - ``endpoint_url``: ``http://127.0.0.1:<port>`` once started.
    - ``start()`` / ``stop()``, or use it as a context manager.
    - ``reset()``: forget every AWS resource (moto's /moto-api/reset) and clear the log.
    - ``client(service, region, account=None)``: a boto3 client for this server, in moto's default
      account with the test credentials, or in ``account`` through an assumed role.
    - ``requests``: a snapshot list of RecordedRequest, oldest first.
    - ``calls(operation=None)``: how many requests (of that operation) were recorded.
    - ``between(start, end)``: requests received in a time.monotonic() window.
    - ``writes()``: recorded requests that may change state (not GET/HEAD), minus /moto-api ones.
    - ``deny(operation, account=None, region=None, role_arn=None)`` / ``allow_all()``: answer
      AccessDenied to matching requests, as AWS does when IAM says no.
    - ``assumed_sessions()``: the role sessions (with their secrets) handed out so far.
    - ``after(operation, callback, path_contains=None, nth=1)``: run a callback right after answering a request,
      to make a race happen on purpose.
    - ``rest_apis_page_cap``: set to a small number to force GetRestApis into more pages than
      the caller's ``limit`` asks for (AWS may always return fewer items than asked).
    """

    def __init__(self):
        self._server = None
        self._thread = None
        self._lock = threading.Lock()
        self._requests = []
        self.rest_apis_page_cap = None
        self.endpoint_url = None
        self._denials = []
        self._hooks = []
        self._conflicts = {}

    # Life cycle
    def start(self):
        """Start serving; returns self. The port is bound before this returns."""
        if self._server is not None:
            return self
        # Imported here so that importing this module (e.g. for seed()) stays cheap.
        # pylint: disable=import-outside-toplevel
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
        from werkzeug.serving import make_server

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        app = _Recorder(DomainDispatcherApplication(create_backend_app), self)
        # Port 0: the kernel picks a free port when binding, so there is no check-then-bind race.
        self._server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler)
        host, port = self._server.server_address[:2]
        self.endpoint_url = "http://%s:%d" % (host, port)
        self._thread = threading.Thread(target=self._server.serve_forever, name="local-aws", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        """Stop serving and release the port."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
        self._server = None
        self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def reset(self):
        """Delete every resource in every account and region, then clear the request log."""
        request = urllib.request.Request(self.endpoint_url + "/moto-api/reset", data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=30) as response:  # nosec - our own loopback server
            response.read()
        self.clear()
        self.allow_all()
        with self._lock:
            self._hooks = []
            self._conflicts = {}

    # Access control
    def deny(self, operation, account=None, region=None, role_arn=None):
        """Answer AccessDenied to ``operation`` requests (e.g. "AssumeRole", "GetRestApis", "UpdateStage").

        ``account``, ``region`` and ``role_arn`` narrow it down to the requests made in that account
        (by the credentials' account), in that region, or assuming that role. The denied requests are
        still recorded, with status 403.
        """
        with self._lock:
            self._denials.append({"operation": operation, "account": account, "region": region, "role_arn": role_arn})

    def allow_all(self):
        """Forget every deny() rule."""
        with self._lock:
            self._denials = []

    def denies(self, request):
        """Whether a deny() rule matches the request."""
        with self._lock:
            denials = list(self._denials)
        for rule in denials:
            if rule["operation"] != request.operation:
                continue
            if any(rule[key] is not None and rule[key] != getattr(request, key) for key in ("account", "region", "role_arn")):
                continue
            return True
        return False

    # Lambda functions being updated
    def conflict(self, function_name, times=1):
        """Answer ResourceConflictException to the next ``times`` UpdateFunctionConfiguration requests of the
        function ``function_name`` (its name, as in the request path: a name or an ARN)."""
        with self._lock:
            self._conflicts[function_name] = times

    def takes_conflict(self, name):
        """Whether this UpdateFunctionConfiguration request of ``name`` is answered with a conflict (one is used up)."""
        with self._lock:
            for key, left in self._conflicts.items():
                if left > 0 and (key == name or name.endswith(":function:" + key)):
                    self._conflicts[key] = left - 1
                    return True
        return False

    # Races
    def after(self, operation, callback, path_contains=None, nth=1):
        """Run ``callback(request)`` once, right after answering the ``nth`` ``operation`` request whose path holds
        ``path_contains``: the answer is made first, so the caller acts on a world that has changed since (a stage
        deleted between a read and the write that follows it, for instance)."""
        with self._lock:
            self._hooks.append({"operation": operation, "path": path_contains, "nth": nth, "seen": 0, "callback": callback})

    def hooks_for(self, request):
        """The callbacks due after answering ``request`` (each hook fires once)."""
        due = []
        with self._lock:
            for hook in self._hooks:
                if hook["operation"] != request.operation or (hook["path"] and hook["path"] not in request.path):
                    continue
                hook["seen"] += 1
                if hook["seen"] == hook["nth"]:
                    due.append(hook["callback"])
        return due

    # Request log
    def record(self, request):
        """Called by the middleware for each request."""
        with self._lock:
            self._requests.append(request)

    def clear(self):
        """Clear the request log (the AWS resources stay)."""
        with self._lock:
            self._requests = []

    @property
    def requests(self):
        """A copy of the request log, oldest first."""
        with self._lock:
            return list(self._requests)

    def between(self, start, end):
        """Requests received in the time.monotonic() window [start, end]."""
        return [r for r in self.requests if start <= r.received_at <= end]

    def calls(self, operation=None):
        """How many requests were recorded, or how many of one operation (e.g. "UpdateStage")."""
        return len([r for r in self.requests if operation is None or r.operation == operation])

    def writes(self):
        """Requests that may change state: method not GET/HEAD, /moto-api excluded."""
        return [r for r in self.requests if r.method not in ("GET", "HEAD") and not r.path.startswith("/moto-api")]

    @staticmethod
    def assumed_sessions():
        """Every role session moto has handed out since the last reset: dicts of role_arn, external_id,
        access_key_id, secret_access_key and session_token (for tests that prove no credential leaks)."""
        from moto.sts.models import sts_backends  # pylint: disable=import-outside-toplevel

        sessions = []
        for regions in sts_backends.values():
            for backend in regions.values():
                for role in backend.assumed_roles:
                    sessions.append({
                        "role_arn": role.role_arn,
                        "external_id": role.external_id,
                        "access_key_id": role.access_key_id,
                        "secret_access_key": role.secret_access_key,
                        "session_token": role.session_token,
                    })
        return sessions

    # Clients
    def client(self, service, region=DEFAULT_REGION, account=None):
        """A boto3 client for ``service`` that talks to this server.

        With ``account`` (a 12-digit id) the client acts in that moto account, through credentials
        of an assumed role there; without it, in moto's default account.
        """
        import boto3  # pylint: disable=import-outside-toplevel

        credentials = {"aws_access_key_id": ACCESS_KEY, "aws_secret_access_key": SECRET_KEY}
        if account is not None:
            sts = boto3.client("sts", region_name=region, endpoint_url=self.endpoint_url, **credentials)
            assumed = sts.assume_role(RoleArn="arn:aws:iam::%s:role/local-aws-seed" % account, RoleSessionName="local-aws-seed")["Credentials"]
            credentials = {
                "aws_access_key_id": assumed["AccessKeyId"],
                "aws_secret_access_key": assumed["SecretAccessKey"],
                "aws_session_token": assumed["SessionToken"],
            }
        return boto3.client(service, region_name=region, endpoint_url=self.endpoint_url, **credentials)

    def env(self, region=DEFAULT_REGION):
        """Environment variables that point AWS SDKs (and so amazon.aws modules) here."""
        return {
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_REGION": region,
            "AWS_ENDPOINT_URL": self.endpoint_url,
        }


def seed(client, apis):
    """Create REST APIs and stages through an apigateway ``client``; returns their ids in order.

    ``apis`` is a list of dicts::

        {"name": "orders",
         "id": "a1b2c3d4e5",            # optional: moto uses it as the REST API id
         "tags": {"Team": "payments"},  # optional
         "stages": {"prod": {"tracing": True, "tags": {"Env": "prod"}},
                    "dev": {}}}

    A stage whose ``tracing`` is false or absent is created WITHOUT tracingEnabled, so moto
    leaves the key out of the stage, like a stage that never had tracing set; code under test
    must read that as false. ``"explicit": True`` stores the key even when it is false. The stages point at a made-up deployment id (moto does not check it).
    """
    ids = []
    for api in apis:
        tags = dict(api.get("tags") or {})
        if api.get("id"):
            tags["_custom_id_"] = api["id"]
        kwargs = {"name": api["name"]}
        if tags:
            kwargs["tags"] = tags
        api_id = client.create_rest_api(**kwargs)["id"]
        if api.get("id") and api_id != api["id"]:
            raise RuntimeError("moto did not honour the custom id %s (got %s)" % (api["id"], api_id))
        for stage_name, stage in (api.get("stages") or {}).items():
            stage = stage or {}
            stage_kwargs = {"restApiId": api_id, "stageName": stage_name, "deploymentId": stage.get("deployment_id", "dep000")}
            if stage.get("tracing") or stage.get("explicit"):
                stage_kwargs["tracingEnabled"] = bool(stage.get("tracing"))
            if stage.get("tags"):
                stage_kwargs["tags"] = dict(stage["tags"])
            client.create_stage(**stage_kwargs)
        ids.append(api_id)
    return ids


def main():
    """Serve until interrupted, printing the endpoint and how to use it."""
    with LocalAws() as aws:
        print("Local AWS (moto) listening on %s" % aws.endpoint_url)
        for key, value in aws.env().items():
            print("export %s=%s" % (key, value))
        print("Ctrl-C to stop.", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
