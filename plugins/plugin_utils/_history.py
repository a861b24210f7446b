# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Private to this collection: not an API, may change in any release.

"""Run history (tracing_sweep_history): each run's report set kept, and what changed since the run before.

Layout, the same in a local directory and under an S3 prefix::

    <history>/latest.json                   the last run stored, of any scope (to say why it is not a baseline)
    <history>/<scope>/<run id>/report.json  the run's report set (report.md, report.xml... as written)
    <history>/<scope>/<run id>/state.json   the last known state of every stage of the scope (written last:
                                            a run without it is incomplete and never a baseline)

The scope is the set of the run's targets (inventory hosts): a run is compared with the last run of the same
targets only. The run id is the UTC time the run was stored (20261202T031500.123456Z), so ids sort by time.

state.json keeps, for every stage, the category it ended the run in and the host that swept it. A target that
fails in a run has its stages carried over from the baseline, so one failed night never hides the drift of the
next: the comparison is always with the last state a stage was seen in.

The comparison (``since_baseline``) is over the targets swept successfully in this run:
  new        stages not in the baseline state (of a target the baseline knew)
  removed    stages of the baseline state that this run did not find (never those of a REST API whose stages
             could not be read this run)
  regressed  compliant or exempt in the baseline, non-compliant as found by this run (before its own changes:
             an enforcement that put a stage back still reports the drift, with corrected true)
  fixed      non-compliant in the baseline, compliant at the end of this run
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import tempfile

from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import S3_URI_PATTERN
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils import _sweep_engine as engine
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report_files import controller_path
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils.report import row_category

STATE_FILE = "state.json"
LATEST_FILE = "latest.json"
STATE_VERSION = 1
TREND_LENGTH = 10
CHANGE_LISTS = ("new", "removed", "regressed", "fixed")
STAGE_REF_FIELDS = ("account_id", "account_name", "region", "rest_api_id", "rest_api_name", "stage_name", "arn")
CHANGED_ACTIONS = ("enabled", "disabled")
NOTHING_SWEPT = "nothing was swept, so nothing was compared; the run is not kept in the history"
# What an S3 history costs: three small reads before the report is written, the files of the set after it.
S3_CONFIG = {"retries": {"mode": "standard", "max_attempts": 4}, "connect_timeout": 10, "read_timeout": 60}


class HistoryError(Exception):
    """The history could not be read or written; the message names the location and the cause."""


# ---- where the history is -----------------------------------------------------------------------


def location(value):
    """(kind, where) for a checked setting: ("s3", (bucket, prefix)) or ("local", directory); None when empty."""
    if value in (None, ""):
        return None
    found = S3_URI_PATTERN.fullmatch(value)
    if found is not None and value.startswith("s3://"):
        return "s3", (found.group(1), (found.group(2) or "").strip("/"))
    return "local", controller_path(value)


def describe_location(where):
    kind, place = where
    if kind == "s3":
        bucket, prefix = place
        return f"s3://{bucket}/{prefix}".rstrip("/")
    return place


# ---- stores ------------------------------------------------------------------------------------------


class LocalStore:
    """A history in a directory of the controller."""

    def __init__(self, directory):
        self.directory = directory
        self.name = directory

    def prepare(self):
        try:
            os.makedirs(self.directory, exist_ok=True)
            handle, probe = tempfile.mkstemp(dir=self.directory, prefix=".history-probe-")
            os.close(handle)
            os.unlink(probe)
        except OSError as error:
            raise HistoryError(f"cannot write in {self.directory}: {error.strerror or error}") from error

    def runs(self, scope):
        """This scope's complete run ids, oldest first."""
        folder = os.path.join(self.directory, scope)
        try:
            names = os.listdir(folder)
        except FileNotFoundError:
            return []
        except OSError as error:
            raise HistoryError(f"cannot list {folder}: {error.strerror or error}") from error
        return sorted(name for name in names if os.path.isfile(os.path.join(folder, name, STATE_FILE)))

    def read(self, key):
        """The text of ``key``, None when it does not exist."""
        path = os.path.join(self.directory, *key.split("/"))
        try:
            with open(path, encoding="utf-8") as handle:
                return handle.read()
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as error:
            raise HistoryError(f"cannot read {path}: {getattr(error, 'strerror', None) or error}") from error

    def write(self, key, text):
        path = os.path.join(self.directory, *key.split("/"))
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".history-")
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(text)
            os.chmod(temporary, 0o644)
            os.replace(temporary, path)
        except OSError as error:
            raise HistoryError(f"cannot write {path}: {error.strerror or error}") from error


class S3Store:
    """A history under an S3 prefix, read and written with the controller's credentials."""

    def __init__(self, bucket, prefix, make_client, describe_cause):
        self.bucket = bucket
        self.prefix = prefix
        self.name = describe_location(("s3", (bucket, prefix)))
        self._make_client = make_client
        self._describe_cause = describe_cause
        self._client = None

    def _key(self, key):
        return f"{self.prefix}/{key}" if self.prefix else key

    def _s3(self):
        if self._client is None:
            self._client = self._make_client()
        return self._client

    def _failed(self, what, error):
        return HistoryError(f"{what} s3://{self.bucket}/{self._key('')}: {self._describe_cause(error)}")

    def prepare(self):
        """Nothing is proven before the sweep: S3 is reached only when the report is written."""

    def runs(self, scope):
        prefix = self._key(scope + "/")
        complete = set()
        try:
            paginator = self._s3().get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents") or []:
                    rest = item["Key"][len(prefix):].split("/")
                    if len(rest) == 2 and rest[1] == STATE_FILE:
                        complete.add(rest[0])
        except engine.AWS_ERRORS as error:
            raise self._failed("cannot list the runs in", error) from None
        return sorted(complete)

    def read(self, key):
        try:
            answer = self._s3().get_object(Bucket=self.bucket, Key=self._key(key))
            return answer["Body"].read().decode("utf-8")
        except engine.AWS_ERRORS as error:
            code = getattr(error, "response", {}).get("Error", {}).get("Code")
            if code in ("NoSuchKey", "404"):
                return None
            raise self._failed(f"cannot read {key} in", error) from None

    def write(self, key, text):
        try:
            self._s3().put_object(Bucket=self.bucket, Key=self._key(key), Body=text.encode("utf-8"), ContentType=_content_type(key))
        except engine.AWS_ERRORS as error:
            raise self._failed(f"cannot write {key} in", error) from None


def _content_type(key):
    for suffix, kind in ((".json", "application/json"), (".md", "text/markdown"), (".xml", "application/xml"), (".csv", "text/csv"), (".html", "text/html")):
        if key.endswith(suffix):
            return kind + "; charset=utf-8"
    return "text/plain; charset=utf-8"


def open_store(settings):
    """The store of the checked settings' tracing_sweep_history; None when it is not set.

    An S3 history is read and written with the controller's credentials, in the region of AWS_REGION (else
    AWS_DEFAULT_REGION, else us-east-1), through tracing_sweep_endpoint_url when it is set (else the SDK's own
    endpoint, which honours AWS_ENDPOINT_URL_S3).
    """
    where = location(settings.get("history"))
    if where is None:
        return None
    kind, place = where
    if kind == "local":
        return LocalStore(place)

    def make_client():
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        return engine.client("s3", region, settings.get("endpoint_url") or None, engine.Config(**S3_CONFIG))

    return S3Store(place[0], place[1], make_client, engine.describe_cause)


# ---- scope, ids, state -------------------------------------------------------------------------------


def scope_of(report):
    """(scope id, hosts): the run's targets, sorted; the id is a short digest of them."""
    hosts = sorted({str(target["host"]) for target in report["targets"]})
    digest = hashlib.sha256("\n".join(hosts).encode("utf-8")).hexdigest()[:16]
    return "scope-" + digest, hosts


def run_id(now=None):
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return now.strftime("%Y%m%dT%H%M%S.%fZ")


def _places(report):
    """(account id, region) -> host of the report's targets (the first by host when two share both)."""
    places = {}
    for target in report["targets"]:
        places.setdefault((target["account_id"], target["region"]), target["host"])
    return places


def stage_key(row):
    return f"{row.get('account_id') or ''} {row['arn']}"


def found_category(row):
    """The category a stage was found in by this run: before an enforcement's own change."""
    if row["action"] in CHANGED_ACTIONS:
        return "noncompliant"
    return row_category(row)


def _ref(row, category):
    ref = {field: row.get(field) for field in STAGE_REF_FIELDS}
    ref["category"] = category
    return ref


def _trend_entry(identifier, report):
    return {
        "id": identifier,
        "generated_at": report["generated_at"],
        "mode": report["mode"],
        "compliance_percent": report["summary"]["compliance_percent"],
        "noncompliant": report["summary"]["noncompliant"],
        "verdict": report["verdict"],
    }


def _state_problem(state):
    if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
        return "is not a history state of this collection (state.json, version 1)"
    if not isinstance(state.get("stages"), list) or not isinstance(state.get("hosts"), list) or not isinstance(state.get("trend"), list):
        return "is malformed: stages, hosts and trend must be lists"
    for index, item in enumerate(state["stages"]):
        if not isinstance(item, dict) or not all(isinstance(item.get(field), str) for field in ("host", "arn", "category")):
            return f"is malformed: stages[{index}] must have host, arn and category"
    return None


def new_state(report, identifier, baseline_state):
    """The state this run leaves: its swept targets' stages as they ended the run, and the baseline's stages of
    the targets that failed now (or of REST APIs whose stages could not be read), carried over."""
    places = _places(report)
    ok_hosts = {target["host"] for target in report["targets"] if target["status"] == "ok"}
    unread = {(row["account_id"], row["rest_api_id"]) for row in report["stages"] if row["action"] == "error"}
    stages = []
    for row in report["stages"]:
        if row["action"] == "error":
            continue
        host = places.get((row["account_id"], row["region"]))
        stages.append(dict(_ref(row, row_category(row)), host=host, seen=identifier))
    known_hosts = set(ok_hosts)
    if baseline_state is not None:
        for item in baseline_state["stages"]:
            failed_now = item["host"] not in ok_hosts
            unread_now = (item.get("account_id"), item.get("rest_api_id")) in unread
            if failed_now or unread_now:
                stages.append(item)
        known_hosts.update(host for host in baseline_state["hosts"] if host not in ok_hosts)
    trend = (list((baseline_state or {}).get("trend") or []) + [_trend_entry(identifier, report)])[-(TREND_LENGTH + 1):]
    stages.sort(key=lambda item: (item.get("account_id") or "", item.get("region") or "", item["arn"]))
    return {"version": STATE_VERSION, "run_id": identifier, "hosts": sorted(known_hosts), "stages": stages, "trend": trend}


# ---- the comparison ----------------------------------------------------------------------------------


def _expired_exemptions(report):
    """ARN -> the sentence naming the expired exemption that matched it."""
    causes = {}
    for entry in report.get("exemptions") or []:
        if entry.get("status") == "expired":
            for arn in entry.get("stages") or []:
                causes.setdefault(arn, f"exemption {entry['index'] + 1} expired on {entry.get('expires')} ({entry.get('reason')})")
    return causes


def _regression_cause(row, before, expired):
    if before == "exempt":
        return expired.get(row["arn"]) or "no longer exempt: " + str(row["reason"])
    state = row["tracing_enabled_before"]
    if row["desired"] is not None and state is not None and state != row["desired"]:
        return f"tracing_enabled is {str(state).lower()}, desired {str(row['desired']).lower()}"
    return str(row["reason"])


def compare(report, baseline_state):
    """The lists and counts of since_baseline for ``report`` against a baseline state (see the module docstring)."""
    places = _places(report)
    ok_hosts = {target["host"] for target in report["targets"] if target["status"] == "ok"}
    known_hosts = set(baseline_state["hosts"])
    before = {f"{item.get('account_id') or ''} {item['arn']}": item for item in baseline_state["stages"]}
    unread = {(row["account_id"], row["rest_api_id"]) for row in report["stages"] if row["action"] == "error"}
    expired = _expired_exemptions(report)
    lists = {name: [] for name in CHANGE_LISTS}
    seen = set()
    for row in report["stages"]:
        if row["action"] == "error":
            continue
        host = places.get((row["account_id"], row["region"]))
        if host not in ok_hosts or host not in known_hosts:
            continue
        key = stage_key(row)
        seen.add(key)
        found = found_category(row)
        after = row_category(row)
        earlier = before.get(key)
        if earlier is None:
            lists["new"].append(_ref(row, found))
            continue
        was = earlier["category"]
        if was in ("compliant", "exempt") and found == "noncompliant":
            change = dict(_ref(row, after), before=was, after=found, cause=_regression_cause(row, was, expired))
            change["corrected"] = row["action"] in CHANGED_ACTIONS
            lists["regressed"].append(change)
        elif was == "noncompliant" and after == "compliant":
            cause = "this run changed it" if row["action"] in CHANGED_ACTIONS else "found compliant"
            lists["fixed"].append(dict(_ref(row, after), before=was, after=after, cause=cause, corrected=row["action"] in CHANGED_ACTIONS))
    for key, item in before.items():
        if key in seen or item["host"] not in ok_hosts or (item.get("account_id"), item.get("rest_api_id")) in unread:
            continue
        lists["removed"].append({field: item.get(field) for field in STAGE_REF_FIELDS + ("category",)})
    counts = {name: len(lists[name]) for name in CHANGE_LISTS}
    counts["new_noncompliant"] = sum(1 for item in lists["new"] if item["category"] == "noncompliant")
    return lists, counts


def _empty(where, identifier, status, reason, trend):
    return {
        "status": status,
        "reason": reason,
        "history": where,
        "run_id": identifier,
        "baseline": None,
        "counts": {"new": 0, "new_noncompliant": 0, "removed": 0, "regressed": 0, "fixed": 0},
        "new": [],
        "removed": [],
        "regressed": [],
        "fixed": [],
        "trend": trend,
    }


def _not_compared_note(report, known_hosts):
    notes = []
    failed = sorted(target["host"] for target in report["targets"] if target["status"] == "error")
    if failed:
        notes.append(
            f"{len(failed)} target{'s' if len(failed) != 1 else ''} failed this run and {'were' if len(failed) != 1 else 'was'} not compared "
            f"({', '.join(failed[:5])}{', ...' if len(failed) > 5 else ''}); their last known state is kept for the next run"
        )
    unknown = sorted(target["host"] for target in report["targets"] if target["status"] == "ok" and target["host"] not in known_hosts)
    if unknown:
        notes.append(
            f"{len(unknown)} target{'s' if len(unknown) != 1 else ''} had no state in the baseline and {'were' if len(unknown) != 1 else 'was'} "
            f"not compared ({', '.join(unknown[:5])})"
        )
    unread = sum(1 for row in report["stages"] if row["action"] == "error")
    if unread:
        notes.append(f"{unread} stage error{'s' if unread != 1 else ''} this run: those stages were not compared")
    return "; ".join(notes) or None


class Comparison:
    """What one run learns from its history and what it leaves there (see ``since_baseline`` and ``store``)."""

    def __init__(self, store, report, identifier=None):
        self.store = store
        self.scope, self.hosts = scope_of(report)
        self.identifier = identifier or run_id()
        self.baseline_state = None
        self.warning = None
        # A run that swept nothing has nothing to compare, and is not kept: it would only hide the last real run.
        self.kept = bool(self.hosts)
        if self.kept:
            self.since_baseline = self._compare(report)
        else:
            self.since_baseline = _empty(store.name, self.identifier, "no_baseline", NOTHING_SWEPT, [_trend_entry(self.identifier, report)])

    def _why_no_baseline(self):
        """The reason there is no earlier run of this scope, naming the last run of another scope if any."""
        try:
            latest = self.store.read(LATEST_FILE)
            latest = json.loads(latest) if latest else None
        except (HistoryError, ValueError):
            latest = None
        if not isinstance(latest, dict) or not isinstance(latest.get("hosts"), list) or latest.get("scope") == self.scope:
            return "no earlier run of these targets in the history: this run is the first baseline"
        theirs = set(str(host) for host in latest["hosts"])
        ours = set(self.hosts)
        added = sorted(ours - theirs)
        missing = sorted(theirs - ours)
        parts = []
        if added:
            parts.append(f"{len(added)} not in it ({', '.join(added[:3])}{', ...' if len(added) > 3 else ''})")
        if missing:
            parts.append(f"{len(missing)} of its targets not in this run ({', '.join(missing[:3])}{', ...' if len(missing) > 3 else ''})")
        return (
            f"no earlier run of these targets in the history: the last run stored, {latest.get('run_id')}, swept other targets "
            f"({'; '.join(parts) or 'another set'}), so it is not used as the baseline; this run is the first of its scope"
        )

    def _compare(self, report):
        where = self.store.name
        this = [_trend_entry(self.identifier, report)]
        try:
            runs = self.store.runs(self.scope)
        except HistoryError as error:
            self.warning = f"tracing_sweep_history: the baseline could not be looked up, so nothing was compared: {error}"
            return _empty(where, self.identifier, "no_baseline", self.warning, this)
        if not runs:
            return _empty(where, self.identifier, "no_baseline", self._why_no_baseline(), this)
        baseline_id = runs[-1]
        try:
            text = self.store.read(f"{self.scope}/{baseline_id}/{STATE_FILE}")
            state = json.loads(text) if text is not None else None
        except (HistoryError, ValueError) as error:
            self.warning = f"tracing_sweep_history: the baseline {baseline_id} could not be read, so nothing was compared: {error}"
            return _empty(where, self.identifier, "no_baseline", self.warning, this)
        problem = "is missing" if state is None else _state_problem(state)
        if problem:
            self.warning = f"tracing_sweep_history: the baseline {self.scope}/{baseline_id}/{STATE_FILE} {problem}, so nothing was compared"
            return _empty(where, self.identifier, "no_baseline", self.warning, this)
        self.baseline_state = state
        lists, counts = compare(report, state)
        last = (state["trend"] or [{}])[-1]
        result = _empty(where, self.identifier, "compared", _not_compared_note(report, set(state["hosts"])), (state["trend"] + this)[-(TREND_LENGTH + 1):])
        result["baseline"] = {
            "id": baseline_id,
            "generated_at": last.get("generated_at"),
            "mode": last.get("mode"),
            "compliance_percent": last.get("compliance_percent"),
            "verdict": last.get("verdict"),
        }
        result["counts"] = counts
        result.update(lists)
        return result

    def store_run(self, report, rendered, file_names):
        """Keep the run's report set and its state (written last), then latest.json. Raises HistoryError."""
        if not self.kept:
            return None
        folder = f"{self.scope}/{self.identifier}"
        for name, text in rendered.items():
            self.store.write(f"{folder}/{file_names[name]}", text)
        state = new_state(report, self.identifier, self.baseline_state)
        self.store.write(f"{folder}/{STATE_FILE}", json.dumps(state, indent=1, sort_keys=True) + "\n")
        latest = {"run_id": self.identifier, "scope": self.scope, "hosts": self.hosts, "generated_at": report["generated_at"]}
        self.store.write(LATEST_FILE, json.dumps(latest, indent=1, sort_keys=True) + "\n")
        return f"{self.store.name.rstrip('/')}/{folder}"


def regression_message(since, dest):
    """The failure message of tracing_sweep_fail_on_regression, or None when nothing regressed."""
    if not since or not since["counts"]["regressed"]:
        return None
    count = since["counts"]["regressed"]
    items = "; ".join(f"{item['arn']} ({item['cause']}{', put back by this run' if item['corrected'] else ''})" for item in since["regressed"][:10])
    return (
        f"{count} stage{' has' if count == 1 else 's have'} regressed since the last run ({since['baseline']['id']}, "
        f"{since['baseline']['generated_at']}): {items}{' ...' if count > 10 else ''}; see {dest}"
    )
