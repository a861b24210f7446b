# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An HTTP proxy in front of moto that behaves like real AWS API Gateway where moto does not.

moto answers every request at once, in full, and never fails. Real API Gateway does not, and the
code under test has to cope with each of these differences, so the proxy puts them back:

- Paging. GetRestApis returns at most ``limit`` APIs (default 25, capped at 500) and a
  ``position`` to continue from. Code that reads only the first page passes against plain moto
  and misses APIs in a real account. The proxy fetches the whole list from upstream (following
  the upstream's own ``position`` when it pages, as LocalAws does) and cuts the page out itself.
- Quota. API Gateway management calls share a token bucket of 10 requests/s with a burst of 40
  per account and region, and answer HTTP 429 TooManyRequestsException beyond it. A sweep over
  thousands of stages meets that limit; the proxy enforces it so that pacing and retries are
  exercised. The clock is injectable so tests drive the bucket without sleeping.
- Transient failures. AWS sometimes answers 500 or 503, a load balancer in front of it answers
  an HTML 502, a request is slow, or the connection drops after the change was made. The proxy
  injects these from a seeded random sequence, so a failing run can be replayed.
- Credential rejection. Expired or unknown session credentials are refused with the 403 each
  protocol uses (JSON for API Gateway, XML for STS), for tests of what the caller reports.

Every request the client makes is logged (``requests``, ``counts()``, ``outcomes()``); requests
the proxy makes to upstream on its own (the extra pages of GetRestApis) are not.

Standard library only, so it also runs by hand::

    python tests/support/aws_proxy.py --upstream http://127.0.0.1:5000 [--no-quota] [--fault-rate 0.1 --seed 1]

It binds 127.0.0.1 only, on a port the kernel picks unless ``--port`` is given.
"""

from __future__ import annotations

import argparse
import base64
import collections
import http.client
import http.server
import json
import random
import re
import socket
import sys
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass
from pathlib import Path

try:
    import local_aws
except ImportError:
    # Run as a script: tools/ is not on sys.path then.
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
    import local_aws  # pylint: disable=ungrouped-imports

DEFAULT_ACCOUNT = "123456789012"
LISTEN_HOST = "127.0.0.1"

# Real API Gateway paging for GetRestApis.
REST_APIS_DEFAULT_PAGE = 25
REST_APIS_MAX_PAGE = 500
# Stops a misbehaving upstream (a position that never ends) from looping the proxy forever.
UPSTREAM_MAX_PAGES = 10000
POSITION_PREFIX = "aws-proxy"

FAULT_KINDS = ("500", "502", "503", "drop", "slow")
REJECTION_KINDS = ("expired", "invalid")
OUTCOMES = ("forwarded", "throttled", "rejected") + FAULT_KINDS

# Copied from local_aws (private there): access key, region and service of a SigV4 credential scope.
_CREDENTIAL_RE = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/,\s]+)/([^/,\s]+)/aws4_request")

# An STS response that hands out credentials (AssumeRole, AssumeRoleWithWebIdentity, ...).
_STS_ACCESS_KEY_RE = re.compile(rb"<AccessKeyId>\s*([^<\s]+)\s*</AccessKeyId>")
_STS_ASSUMED_ARN_RE = re.compile(rb"<Arn>\s*arn:aws[a-z-]*:sts::(\d{12}):assumed-role/")

# Headers that belong to one connection and must not be passed on (RFC 9110 section 7.6.1).
# Content-Length is recomputed; Expect is answered here, not by upstream.
_HOP_BY_HOP = frozenset((
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection", "te", "trailer",
    "trailers", "transfer-encoding", "upgrade", "content-length", "expect",
))
# The proxy writes these itself on every answer.
_OWN_RESPONSE_HEADERS = frozenset(("server", "date"))

# Bodies larger than this are not inspected for a query-protocol Action name.
_MAX_FORM_BODY = 1024 * 1024
UPSTREAM_TIMEOUT = 120

_REJECTIONS = {
    "expired": {
        "json_type": "ExpiredTokenException",
        "xml_code": "ExpiredToken",
        "message": "The security token included in the request is expired",
    },
    "invalid": {
        "json_type": "UnrecognizedClientException",
        "xml_code": "InvalidClientTokenId",
        "message": "The security token included in the request is invalid.",
    },
}

# What an AWS load balancer answers when the service behind it is unreachable: HTML, no AWS error
# type. botocore recognises a 5xx body starting with <html> as a generic error.
_BAD_GATEWAY_HTML = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n"
)


@dataclass(frozen=True)
class Quota:
    """API Gateway's management quota: ``rate`` requests/s refilling a bucket of ``burst``, per account and region."""

    rate: float = 10.0
    burst: int = 40

    def __post_init__(self):
        if not self.rate > 0:
            raise ValueError("Quota rate must be above 0, got %r" % (self.rate,))
        if not self.burst >= 1:
            raise ValueError("Quota burst must be at least 1, got %r" % (self.burst,))


class Faults:
    """Seeded transient failures for API Gateway requests.

    Each eligible request (an API Gateway request that passed the quota, of one of ``operations``,
    or of any operation when it is None) draws from one random.Random(seed): with probability
    ``rate`` it gets a fault, its kind drawn uniformly from ``kinds``. Sequential requests with the
    same seed therefore meet the same faults.
    """

    def __init__(self, seed=1, rate=0.1, kinds=FAULT_KINDS, operations=None, slow_seconds=1.0):
        kinds = tuple(kinds)
        unknown = [kind for kind in kinds if kind not in FAULT_KINDS]
        if unknown or not kinds:
            raise ValueError("Faults kinds must be a non-empty selection of %s, got %r" % (", ".join(FAULT_KINDS), kinds))
        if not 0.0 <= rate <= 1.0:
            raise ValueError("Faults rate must be between 0 and 1, got %r" % (rate,))
        if slow_seconds < 0:
            raise ValueError("Faults slow_seconds must not be negative, got %r" % (slow_seconds,))
        self.seed = seed
        self.rate = rate
        self.kinds = kinds
        self.operations = None if operations is None else frozenset(operations)
        self.slow_seconds = slow_seconds
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    def applies_to(self, operation):
        return self.operations is None or operation in self.operations

    def draw(self, operation):
        """The fault kind for one request of ``operation``, or None (no draw for ineligible operations)."""
        if not self.applies_to(operation):
            return None
        with self._lock:
            if self._random.random() >= self.rate:
                return None
            return self._random.choice(self.kinds)

    def __repr__(self):
        return "Faults(seed=%r, rate=%r, kinds=%r, operations=%r, slow_seconds=%r)" % (
            self.seed, self.rate, self.kinds, None if self.operations is None else sorted(self.operations), self.slow_seconds)


@dataclass
class ProxyRequest:
    """One request a client made to the proxy.

    ``outcome`` is "forwarded", "throttled", "rejected" or the fault kind ("500", "502", "503",
    "drop", "slow"). ``status`` is the HTTP status the client got (None for "drop": it got nothing);
    ``upstream_status`` what upstream answered, None when the request was not forwarded. When upstream
    cannot be reached at all, the client gets a plain-text 502 and the outcome stays "forwarded".
    """

    received_at: float
    method: str
    path: str
    service: str | None
    operation: str
    account: str | None
    region: str | None
    access_key: str | None
    outcome: str = "forwarded"
    status: int | None = None
    upstream_status: int | None = None


class _TokenBucket:
    __slots__ = ("tokens", "updated")

    def __init__(self, tokens, updated):
        self.tokens = tokens
        self.updated = updated


class _Answer:
    """A complete response: status, headers without Content-Length, body.

    ``length`` overrides the Content-Length sent, for HEAD answers (no body, the length of one).
    """

    __slots__ = ("status", "reason", "headers", "body", "length")

    def __init__(self, status, headers, body, reason=None, length=None):
        self.status = status
        self.reason = reason or http.client.responses.get(status, "Unknown")
        self.headers = headers
        self.body = body
        self.length = length


class _UpstreamUnreachable(Exception):
    pass


def encode_position(offset):
    """The proxy's own GetRestApis ``position`` token for a list offset."""
    return base64.urlsafe_b64encode(("%s:%d" % (POSITION_PREFIX, offset)).encode()).decode()


def decode_position(position):
    """The list offset of a ``position`` token; ValueError when it is not one of ours."""
    try:
        prefix, offset = base64.urlsafe_b64decode(position.encode()).decode().split(":", 1)
        # Only the exact text encode_position() makes: base64 decoding forgives junk.
        if prefix != POSITION_PREFIX or not offset.isdigit() or encode_position(int(offset)) != position:
            raise ValueError(position)
        return int(offset)
    except (ValueError, UnicodeError) as exc:
        raise ValueError("Invalid position: %r is not a position this API returned" % (position,)) from exc


def _request_id():
    return str(uuid.uuid4())


def _json_error(status, error_type, message, extra_headers=()):
    headers = [("Content-Type", "application/json"), ("x-amzn-RequestId", _request_id())]
    if error_type:
        headers.append(("x-amzn-ErrorType", error_type))
    headers.extend(extra_headers)
    return _Answer(status, headers, json.dumps({"message": message}).encode())


def _sts_error(status, code, message):
    request_id = _request_id()
    body = (
        '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        "<Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error>"
        "<RequestId>%s</RequestId></ErrorResponse>" % (code, message, request_id)
    ).encode()
    return _Answer(status, [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)], body)


def _throttled():
    return _json_error(429, "TooManyRequestsException", "Too Many Requests")


def _fault_answer(kind):
    if kind == "500":
        return _json_error(500, "InternalFailure", "Internal server error")
    if kind == "503":
        return _json_error(503, "ServiceUnavailableException", "Service Unavailable")
    # "502": from a load balancer, not from API Gateway, so no AWS headers at all.
    return _Answer(502, [("Content-Type", "text/html"), ("Server", "awselb/2.0")], _BAD_GATEWAY_HTML)


class _Handler(http.server.BaseHTTPRequestHandler):
    """One client connection (one thread); keeps its own keep-alive connection to upstream."""

    # botocore keeps connections alive; HTTP/1.0 would make it reconnect for every request.
    protocol_version = "HTTP/1.1"
    # Without it, a small write after another waits for a delayed ACK (40 ms per request).
    disable_nagle_algorithm = True
    server_version = "aws-proxy"
    # This thread's keep-alive connection to upstream (an http.client.HTTPConnection), opened on first use.
    upstream = None

    def setup(self):
        super().setup()
        self.server.proxy.track(self.connection, True)

    def finish(self):
        try:
            super().finish()
        finally:
            self.server.proxy.track(self.connection, False)
            self._close_upstream()

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        # Quiet: the request log is the record.
        pass

    def _close_upstream(self):
        if self.upstream is not None:
            self.upstream.close()
            self.upstream = None

    def _handle(self):
        try:
            self._proxy_one()
        except OSError:
            # The client went away mid-request: nobody to answer.
            self.close_connection = True
        except Exception as exc:  # pylint: disable=broad-exception-caught
            # A bug here must not look like an injected "drop" to the caller: say so.
            self.close_connection = True
            self.log_error("aws_proxy failed on %s %s: %r", self.command, self.path, exc)
            self._respond(_Answer(500, [("Content-Type", "text/plain")], ("aws_proxy internal error: %r" % (exc,)).encode()))

    def log_error(self, format, *args):  # pylint: disable=redefined-builtin
        sys.stderr.write("aws_proxy: %s\n" % (format % args))

    def _proxy_one(self):
        proxy = self.server.proxy
        body = self._read_body()
        headers = [(k, v) for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP and k.lower() not in self._connection_tokens()]
        record = proxy.describe(self.command, self.path, self.headers, body)
        answer, forward, pause = proxy.admit(record)
        if pause:
            proxy.sleep(pause)
        if forward:
            try:
                if record.operation == "GetRestApis" and record.service == "apigateway":
                    answer = self._rest_apis_page(headers)
                else:
                    answer = self._forward(self.command, self.path, headers, body)
                record.upstream_status = answer.status
                proxy.learn(record, answer)
            except _UpstreamUnreachable as exc:
                answer = _Answer(502, [("Content-Type", "text/plain")], ("aws_proxy: upstream %s unreachable: %s" % (proxy.upstream_url, exc)).encode())
        if record.outcome == "drop":
            # The change was made upstream; the caller hears nothing at all.
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        record.status = answer.status
        self._respond(answer)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle

    def _connection_tokens(self):
        return {token.strip().lower() for token in self.headers.get("Connection", "").split(",") if token.strip()}

    def _read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    # Trailer lines up to the blank one.
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _respond(self, answer):
        lines = ["HTTP/1.1 %d %s" % (answer.status, answer.reason), "Server: %s" % self.server_version, "Date: %s" % self.date_time_string()]
        lines.extend("%s: %s" % (name, value) for name, value in answer.headers)
        lines.append("Content-Length: %s" % (answer.length if answer.length is not None else len(answer.body)))
        if self.close_connection:
            lines.append("Connection: close")
        payload = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        if self.command != "HEAD":
            payload += answer.body
        # One write: headers and body in the same segment.
        self.wfile.write(payload)

    # Upstream
    def _connect(self):
        parsed = self.server.proxy.upstream
        connection = http.client.HTTPConnection(parsed.hostname, parsed.port or 80, timeout=UPSTREAM_TIMEOUT)
        connection.connect()
        connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection

    def _forward(self, method, target, headers, body):
        """Send one request upstream on the kept-alive connection; reconnect once if it went stale."""
        for attempt in (1, 2):
            reused = self.upstream is not None
            try:
                if self.upstream is None:
                    self.upstream = self._connect()
                self.upstream.putrequest(method, self.server.proxy.upstream_prefix + target, skip_host=True, skip_accept_encoding=True)
                for name, value in headers:
                    self.upstream.putheader(name, value)
                if "Host" not in self.headers:
                    self.upstream.putheader("Host", self.server.proxy.upstream.netloc)
                if body or method in ("POST", "PUT", "PATCH"):
                    self.upstream.putheader("Content-Length", str(len(body)))
                self.upstream.endheaders(body or None)
                response = self.upstream.getresponse()
                data = response.read()
            except (http.client.HTTPException, OSError) as exc:
                self._close_upstream()
                # A kept-alive connection that upstream closed meanwhile fails at once; try a fresh one.
                # Not after a timeout: upstream may still be working on the request.
                if reused and attempt == 1 and isinstance(exc, (ConnectionError, http.client.BadStatusLine)):
                    continue
                raise _UpstreamUnreachable(str(exc) or type(exc).__name__) from exc
            if response.will_close:
                self._close_upstream()
            out = [(k, v) for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP and k.lower() not in _OWN_RESPONSE_HEADERS]
            length = response.getheader("Content-Length") if method == "HEAD" else None
            return _Answer(response.status, out, data, response.reason, length)
        raise AssertionError("unreachable")  # pragma: no cover

    def _rest_apis_page(self, headers):
        """GetRestApis paged like AWS, cut out of the whole list fetched from upstream."""
        path, query = self.path.split("?", 1) if "?" in self.path else (self.path, "")
        params = {k: v[-1] for k, v in urllib.parse.parse_qs(query, keep_blank_values=True).items()}
        raw_limit = params.get("limit", "")
        try:
            limit = int(raw_limit) if raw_limit != "" else REST_APIS_DEFAULT_PAGE
        except ValueError:
            return _json_error(400, "BadRequestException", "Invalid limit: %r is not an integer" % (raw_limit,))
        if limit < 1:
            return _json_error(400, "BadRequestException", "Invalid limit: %d is below 1" % limit)
        limit = min(limit, REST_APIS_MAX_PAGE)
        try:
            offset = decode_position(params["position"]) if params.get("position") else 0
        except ValueError as exc:
            return _json_error(400, "BadRequestException", str(exc))

        items = []
        upstream_position = None
        for _page in range(UPSTREAM_MAX_PAGES):
            upstream_query = {"limit": str(REST_APIS_MAX_PAGE)}
            if upstream_position:
                upstream_query["position"] = upstream_position
            answer = self._forward("GET", path + "?" + urllib.parse.urlencode(upstream_query), headers, b"")
            if answer.status != 200:
                return answer
            document = json.loads(answer.body or b"{}")
            items.extend(document.get("item") or [])
            next_position = document.get("position")
            if not next_position or next_position == upstream_position:
                break
            upstream_position = next_position
        document["item"] = items[offset:offset + limit]
        document.pop("position", None)
        if offset + limit < len(items):
            document["position"] = encode_position(offset + limit)
        answer.body = json.dumps(document).encode()
        return answer


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    # Clients open many connections in bursts (one per ansible module process).
    request_queue_size = 128

    def __init__(self, proxy, port):
        self.proxy = proxy
        super().__init__((LISTEN_HOST, port), _Handler)

    def handle_error(self, request, client_address):
        # A client killed mid-request (the interrupted-run tests do that on purpose) is not a proxy error.
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)


class AwsProxy:
    """A proxy in front of ``upstream_url`` (moto) that pages, throttles and fails like API Gateway.

    - ``start()`` (returns self) / ``stop()``, or a context manager; ``endpoint_url`` once started.
    - ``quota``: a Quota, or None for no throttling; setting it refills every bucket.
    - ``faults``: a Faults, or None; setting it starts its seeded sequence afresh.
    - ``reject_credentials(access_key, kind)`` / ``accept_all_credentials()``.
    - ``requests``, ``counts(service="apigateway")``, ``outcomes()``, ``clear()``: the request log.
    - ``env(region)``: environment variables pointing AWS SDKs at the proxy.

    ``clock`` drives the quota, ``sleep`` the "slow" fault; ``account_lookup(access_key)`` names the
    account of a key the proxy has not seen assumed (default: moto's own, when it runs in this process).
    """

    def __init__(self, upstream_url, quota=Quota(), faults=None, clock=time.monotonic, sleep=time.sleep,
                 default_account=DEFAULT_ACCOUNT, account_lookup=local_aws._account_for):  # pylint: disable=protected-access
        parsed = urllib.parse.urlsplit(upstream_url)
        if parsed.scheme != "http" or not parsed.hostname:
            raise ValueError("upstream_url must be an http:// URL, got %r" % (upstream_url,))
        self.upstream_url = upstream_url
        self.upstream = parsed
        self.upstream_prefix = parsed.path.rstrip("/")
        self.clock = clock
        self.sleep = sleep
        self.default_account = default_account
        self.account_lookup = account_lookup
        self.endpoint_url = None
        self._lock = threading.Lock()
        self._quota = quota
        self._buckets = {}
        self._faults = faults
        self._rejections = {}
        # Access key -> account: learned from STS answers, and from account_lookup.
        self._accounts = {}
        self._looked_up = {}
        self._requests = []
        self._connections = set()
        self._server = None
        self._thread = None

    # Life cycle
    def start(self, port=0):
        """Start serving on 127.0.0.1 (port 0: the kernel picks one); returns self."""
        if self._server is not None:
            return self
        self._server = _Server(self, port)
        host, bound_port = self._server.server_address[:2]
        self.endpoint_url = "http://%s:%d" % (host, bound_port)
        # A short poll interval: stop() waits for it, once per test.
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="aws-proxy", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        """Stop serving and close every client connection, so none is answered after this."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._thread.join(timeout=10)
        self._server = None
        self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def track(self, connection, is_open):
        """Called by the handler as client connections open and close."""
        with self._lock:
            if is_open:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def open_connections(self):
        """How many client connections are open (a killed client's requests may still be in flight)."""
        with self._lock:
            return len(self._connections)

    # Settings
    @property
    def quota(self):
        return self._quota

    @quota.setter
    def quota(self, value):
        with self._lock:
            self._quota = value
            self._buckets = {}

    @property
    def faults(self):
        return self._faults

    @faults.setter
    def faults(self, value):
        with self._lock:
            self._faults = value

    def reject_credentials(self, access_key, kind):
        """Refuse every request signed with ``access_key``: kind "expired" or "invalid"."""
        if kind not in REJECTION_KINDS:
            raise ValueError("reject_credentials kind must be one of %s, got %r" % (", ".join(REJECTION_KINDS), kind))
        with self._lock:
            self._rejections[access_key] = kind

    def accept_all_credentials(self):
        with self._lock:
            self._rejections = {}

    def env(self, region=local_aws.DEFAULT_REGION):
        """Environment variables that point AWS SDKs (and so amazon.aws modules) at the proxy."""
        return {
            "AWS_ACCESS_KEY_ID": local_aws.ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": local_aws.SECRET_KEY,
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_ENDPOINT_URL": self.endpoint_url,
        }

    # Request log
    @property
    def requests(self):
        """A copy of the request log, oldest first."""
        with self._lock:
            return list(self._requests)

    def counts(self, service="apigateway"):
        """Counter {operation: requests received} for ``service`` (None: every service)."""
        return collections.Counter(r.operation for r in self.requests if service is None or r.service == service)

    def outcomes(self):
        """Counter {outcome: requests}."""
        return collections.Counter(r.outcome for r in self.requests)

    def clear(self):
        """Empty the request log (quota buckets, faults and learned accounts stay)."""
        with self._lock:
            self._requests = []

    # Decisions (called by the handler)
    def describe(self, method, target, headers, body):
        """Record a new client request and return its ProxyRequest."""
        received_at = time.monotonic()
        path, _sep, query = target.partition("?")
        access_key = region = service = None
        match = _CREDENTIAL_RE.search(headers.get("Authorization", ""))
        if match:
            access_key, region, service = match.groups()
        action = None
        if "Action=" in query:
            action = urllib.parse.parse_qs(query).get("Action", [None])[-1]
        elif method == "POST" and body and len(body) <= _MAX_FORM_BODY and headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
            action = urllib.parse.parse_qs(body.decode("utf-8", "replace")).get("Action", [None])[-1]
        record = ProxyRequest(
            received_at=received_at,
            method=method,
            path=path,
            service=service,
            operation=local_aws.operation_name(method, path, service, headers.get("X-Amz-Target"), action),
            account=self.account_of(access_key),
            region=region,
            access_key=access_key,
        )
        with self._lock:
            self._requests.append(record)
        return record

    def account_of(self, access_key):
        if not access_key:
            return None
        account = self._accounts.get(access_key) or self._looked_up.get(access_key)
        if account is None:
            if self.account_lookup is not None:
                try:
                    account = self.account_lookup(access_key)
                except Exception:  # pylint: disable=broad-exception-caught
                    # The account only picks a quota bucket; never let it break the request.
                    account = None
            account = account or self.default_account
            # A key's account never changes, and moto's lookup walks every account: once per key is enough.
            with self._lock:
                self._looked_up[access_key] = account
        return account

    def admit(self, record):
        """Decide a request's fate: (answer or None, whether to forward, seconds to pause first)."""
        with self._lock:
            rejection = self._rejections.get(record.access_key) if record.access_key else None
            quota = self._quota
            faults = self._faults
        if rejection:
            record.outcome = "rejected"
            details = _REJECTIONS[rejection]
            if record.service == "sts":
                return _sts_error(403, details["xml_code"], details["message"]), False, 0
            return _json_error(403, details["json_type"], details["message"]), False, 0
        if record.service != "apigateway":
            return None, True, 0
        if quota is not None and not self._take_token((record.account, record.region)):
            record.outcome = "throttled"
            return _throttled(), False, 0
        kind = faults.draw(record.operation) if faults is not None else None
        if kind is None:
            return None, True, 0
        record.outcome = kind
        if kind in ("500", "502", "503"):
            return _fault_answer(kind), False, 0
        if kind == "slow":
            return None, True, faults.slow_seconds
        return None, True, 0  # drop: forwarded, then the connection is cut

    def _take_token(self, key):
        with self._lock:
            # Read under the lock so that buckets never see time go backwards between threads.
            now = self.clock()
            # Read again under the lock: it may have been replaced since admit() looked.
            quota = self._quota
            if quota is None:
                return True
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _TokenBucket(float(quota.burst), now)
            bucket.tokens = min(float(quota.burst), bucket.tokens + max(0.0, now - bucket.updated) * quota.rate)
            bucket.updated = now
            # The tolerance absorbs float error: 0.1 s at 10/s is one token, not 0.9999999.
            if bucket.tokens >= 1.0 - 1e-9:
                bucket.tokens = max(0.0, bucket.tokens - 1.0)
                return True
            return False

    def learn(self, record, answer):
        """Remember which account the keys in an STS credentials answer belong to."""
        if record.service != "sts" or answer.status != 200 or b"AccessKeyId" not in answer.body:
            return
        key = _STS_ACCESS_KEY_RE.search(answer.body)
        arn = _STS_ASSUMED_ARN_RE.search(answer.body)
        if key and arn:
            with self._lock:
                self._accounts[key.group(1).decode()] = arn.group(1).decode()


def main(argv=None):
    """Serve until interrupted, printing the endpoint."""
    parser = argparse.ArgumentParser(description="An API Gateway-like proxy (paging, quota, faults) in front of moto.")
    parser.add_argument("--upstream", required=True, help="moto endpoint, e.g. http://127.0.0.1:5000")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: one the kernel picks)")
    parser.add_argument("--no-quota", action="store_true", help="do not throttle")
    parser.add_argument("--rate", type=float, default=Quota.rate, help="quota refill, requests/s per account and region")
    parser.add_argument("--burst", type=int, default=Quota.burst, help="quota bucket size")
    parser.add_argument("--fault-rate", type=float, default=0.0, help="probability of a fault per API Gateway request")
    parser.add_argument("--seed", type=int, default=1, help="seed of the fault sequence")
    args = parser.parse_args(argv)
    quota = None if args.no_quota else Quota(rate=args.rate, burst=args.burst)
    faults = Faults(seed=args.seed, rate=args.fault_rate) if args.fault_rate > 0 else None
    # No account_lookup: moto runs in another process, so its in-process lookup knows no keys.
    with AwsProxy(args.upstream, quota=quota, faults=faults, account_lookup=None).start(port=args.port) as proxy:
        print("AWS proxy listening on %s (upstream %s, quota %s, faults %s)" % (proxy.endpoint_url, args.upstream, quota, faults))
        for key, value in proxy.env().items():
            print("export %s=%s" % (key, value))
        print("Ctrl-C to stop.", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        outcomes = proxy.outcomes()
        print("requests: %d %s" % (sum(outcomes.values()), dict(outcomes)))


if __name__ == "__main__":
    main()
