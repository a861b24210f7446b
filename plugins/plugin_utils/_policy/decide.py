# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Private to this collection: not an API, may change in any release.

"""The desired tracing state of every stage of one target (account x region), and why.

Precedence per stage, highest first:
  1. the first exemption in tracing_sweep_exemptions that matches and has not expired;
  2. the exempt tag (tracing_sweep_exempt_tag) on the stage;
  3. the first rule in tracing_sweep_rules whose match matches (it enforces tracing_enabled, or skips);
  4. the default, tracing_sweep_desired.
Exemptions outrank rules because they are the reviewed, dated exceptions to policy; an expired one no
longer applies, but it is named in the stage's reason so the stale entry is noticed and removed.
An exemption applies through the end of its expires day in UTC: it is expired once today (UTC) > expires.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from fnmatch import fnmatchcase

from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import parse_bool
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._settings.checks import EXEMPTION_SELECTORS
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._settings.checks import is_list
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._settings.checks import parse_date
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._settings.checks import settings_problems

STAGE_REQUIRED_KEYS = ("rest_api_id", "stage_name", "arn", "tracing_enabled")
DECISIONS = ("enforce", "exempt", "skip")


def _yaml_bool(value):
    return "true" if value else "false"


def _text(value):
    return None if value is None else str(value)


def utc_today():
    return datetime.datetime.now(datetime.timezone.utc).date()


def _glob_matches(pattern, value):
    return value is not None and fnmatchcase(value, str(pattern))


def _exact_matches(wanted, value):
    # A target without an account id never matches an account_id selector: unknown is not a match.
    return value is not None and str(wanted) == value


def _selectors_match(selectors, stage):
    """Whether every given selector (account_id, region, api_id, api_name, stage_name, tag) matches the stage. A
    rule that names a function (function_arn) is about that function, never about a stage."""
    if selectors.get("function_arn") is not None:
        return False
    for key, value in selectors.items():
        if value is None:
            continue
        if key in ("account_id", "region"):
            matched = _exact_matches(value, stage[key])
        elif key == "api_id":
            matched = _exact_matches(value, stage["rest_api_id"])
        elif key == "api_name":
            matched = _glob_matches(value, stage["rest_api_name"])
        elif key == "stage_name":
            matched = _glob_matches(value, stage["stage_name"])
        elif key == "tag":
            matched = _tag_matches(value, stage["tags"])
        else:
            matched = True  # reason, expires and the like are not selectors
        if not matched:
            return False
    return True


def _tag_matches(tag, tags):
    key = str(tag["key"])
    if key not in tags:
        return False
    return tag.get("value") is None or str(tags[key]) == str(tag["value"])


def _exemption_matches(exemption, stage):
    if exemption.get("function_arn") is not None:
        return False  # an exemption of a function (tracing_sweep_lambda_tracing), never of a stage
    if exemption.get("arn") is not None:
        return str(exemption["arn"]) == stage["arn"]
    selectors = {key: exemption.get(key) for key in ("account_id", "region", "api_id", "api_name", "stage_name")}
    return _selectors_match(selectors, stage)


def _rule_label(index, rule):
    """'rule 1 'name'': rules are numbered from 1 in what people read (tracing_sweep_rules[0] is rule 1)."""
    name = rule.get("name")
    return f"rule {index + 1} {str(name)!r}" if name is not None else f"rule {index + 1}"


def _stage_facts(index, stage, account_id, region):
    """The fields of one input stage the policy looks at, as plain values; ValueError names a missing key."""
    if not isinstance(stage, Mapping):
        raise ValueError(f"stages[{index}]: must be a stage mapping as apigw_stage_tracing_info returns it")
    missing = [key for key in STAGE_REQUIRED_KEYS if key not in stage]
    if missing:
        raise ValueError(f"stages[{index}]: missing {', '.join(missing)}; pass the stages apigw_stage_tracing_info returns")
    tags = stage.get("tags") or {}
    return {
        "account_id": account_id,
        "region": region,
        "rest_api_id": str(stage["rest_api_id"]),
        "rest_api_name": _text(stage.get("rest_api_name")),
        "stage_name": str(stage["stage_name"]),
        "arn": str(stage["arn"]),
        "tracing_enabled": bool(stage["tracing_enabled"]),
        "tags": {str(key): value for key, value in tags.items()},
    }


class _Exemptions:
    """The configured exemptions with parsed expiry, and which stages each matched."""

    def __init__(self, exemptions, today):
        self.items = []
        for index, exemption in enumerate(exemptions):
            expires = parse_date(exemption["expires"]) if exemption.get("expires") is not None else None
            self.items.append(
                {
                    "index": index,
                    "exemption": exemption,
                    "reason": str(exemption["reason"]).strip(),
                    "expires": expires,
                    "expired": expires is not None and today > expires,
                }
            )
        self.matched = {}  # index -> [arn, ...]

    def first_match(self, facts):
        """(active, expired): the first matching unexpired exemption, and the first matching expired one before it.

        An exemption counts as matched (and lists the stage) when it was reached and matched: a later one
        shadowed by an earlier active exemption does not list the stage.
        """
        expired_match = None
        for item in self.items:
            if not _exemption_matches(item["exemption"], facts):
                continue
            self.matched.setdefault(item["index"], []).append(facts["arn"])
            if not item["expired"]:
                return item, expired_match
            if expired_match is None:
                expired_match = item
        return None, expired_match

    def summary(self):
        # Each entry carries its exemption's definition: exemptions may differ between hosts (group_vars
        # per account), so the report merges them by what they say, not by their position in a list.
        return [
            {
                "index": item["index"],
                "status": "expired" if item["expired"] else "active",
                "matched": list(self.matched[item["index"]]),
                "definition": exemption_definition(item["exemption"]),
            }
            for item in self.items
            if item["index"] in self.matched
        ]


def exemption_definition(exemption):
    """An exemption as the report shows it: its selectors, reason and expiry date, as plain strings."""
    definition = {key: str(exemption[key]) for key in ("arn", "function_arn") + EXEMPTION_SELECTORS if exemption.get(key) is not None}
    expires = exemption.get("expires")
    definition.update(reason=str(exemption["reason"]).strip(), expires=parse_date(expires).isoformat() if expires is not None else None)
    return definition


def _exemption_reason(item):
    """'exemption 1 until ...': exemptions are numbered from 1 in what people read (tracing_sweep_exemptions[0] is exemption 1)."""
    until = f" until {item['expires'].isoformat()}" if item["expires"] else ""
    return f"exemption {item['index'] + 1}{until}: {item['reason']}"


def _decide(facts, active, desired, rules, exempt_tag):
    """(decision, desired, reason) for one stage, by precedence."""
    if active is not None:
        return "exempt", None, _exemption_reason(active)
    if exempt_tag is not None and str(exempt_tag) in facts["tags"]:
        value = facts["tags"][str(exempt_tag)]
        value = "" if value is None else str(value).strip()
        return "exempt", None, f"exempt by tag {exempt_tag}: {value}" if value else f"exempt by tag {exempt_tag}"
    for index, rule in enumerate(rules):
        if _selectors_match(rule.get("match") or {}, facts):
            if rule.get("skip"):
                return "skip", None, f"{_rule_label(index, rule)}: skip"
            wanted = bool(rule["tracing_enabled"])
            return "enforce", wanted, f"{_rule_label(index, rule)}: tracing_enabled={_yaml_bool(wanted)}"
    return "enforce", bool(desired), f"default: tracing_sweep_desired={_yaml_bool(desired)}"


UNREAD_STAGE = "*"


def selects_by_api_name(settings):
    """Whether a rule or an exemption of the (checked) settings selects stages by their REST API's name: a run that
    reads stages by name must then read their APIs' names too."""
    rules = settings.get("rules") or []
    exemptions = settings.get("exemptions") or []
    return any(isinstance(rule, Mapping) and isinstance(rule.get("match"), Mapping) and "api_name" in rule["match"] for rule in rules) or any(
        isinstance(exemption, Mapping) and "api_name" in exemption for exemption in exemptions
    )


MISSING_NAMED_REASON = "not found: the stage (or its REST API) no longer exists; there is nothing to decide or change"


def _unread_api_entry(index, failure, account_id, region):
    """The plan entry of a REST API whose stages could not be read: its stages are unknown, never compliant."""
    if not isinstance(failure, Mapping) or not failure.get("rest_api_id") or not failure.get("message"):
        raise ValueError(f"read_failures[{index}]: must be a failure as apigw_stage_tracing_info returns it (rest_api_id, arn, message)")
    return {
        "account_id": account_id,
        "region": region,
        "rest_api_id": str(failure["rest_api_id"]),
        "rest_api_name": _text(failure.get("rest_api_name")),
        "stage_name": str(failure.get("stage_name") or UNREAD_STAGE),
        "arn": str(failure.get("arn") or ""),
        "tracing_enabled_before": None,
        "desired": None,
        "decision": "error",
        "reason": str(failure["message"]),
        "exemption": None,
        "expired_exemption": None,
    }


def plan_target(stages, target, desired=True, rules=None, exemptions=None, exempt_tag=None, today=None, read_failures=None, missing=None):
    """Decide every stage of one target; see the module docstring for precedence. Inputs are not modified.

    read_failures: the REST APIs whose stages could not be read (apigw_stage_tracing_info's failures); each
    is planned as one entry with decision "error" and stage_name "*" (or the stage, for a stage read by name), so
    that it is reported, not lost.
    missing: the stages a run named that do not exist ({rest_api_id, stage_name, arn}); each is planned as skipped, with
    MISSING_NAMED_REASON, so that the report says what became of it.
    Raises ValueError when the policy, the target or a stage is malformed (the message names the field).
    """
    rules = rules or []
    exemptions = exemptions or []
    exempt_tag = exempt_tag if exempt_tag != "" else None  # the role's default for "no exempt tag"
    problems = settings_problems({"desired": desired, "rules": rules, "exemptions": exemptions, "exempt_tag": exempt_tag})
    if problems:
        raise ValueError("; ".join(problems))
    # The check admits the words -e gives (false, no, 0): read them as the booleans they spell.
    desired = parse_bool(desired)
    if not isinstance(target, Mapping) or target.get("region") is None:
        raise ValueError("target: must be a mapping with region (and account_id, or null when unknown)")
    if not is_list(stages):
        raise ValueError("stages: must be a list of stages as apigw_stage_tracing_info returns them")
    if today is None:
        today = utc_today()
    else:
        try:
            today = parse_date(today)
        except ValueError:
            raise ValueError(f"today: must be a date (YYYY-MM-DD), got {today!r}") from None

    account_id = _text(target.get("account_id"))
    region = str(target["region"])
    exemption_state = _Exemptions(exemptions, today)
    planned = []
    changes = []
    for index, stage in enumerate(stages):
        facts = _stage_facts(index, stage, account_id, region)
        active, expired = exemption_state.first_match(facts)
        decision, wanted, reason = _decide(facts, active, desired, rules, exempt_tag)
        if expired is not None:
            reason += f"; exemption {expired['index'] + 1} expired on {expired['expires'].isoformat()} ({expired['reason']})"
        planned.append(
            {
                "account_id": account_id,
                "region": region,
                "rest_api_id": facts["rest_api_id"],
                "rest_api_name": facts["rest_api_name"],
                "stage_name": facts["stage_name"],
                "arn": facts["arn"],
                "tracing_enabled_before": facts["tracing_enabled"],
                "desired": wanted,
                "decision": decision,
                "reason": reason,
                "exemption": active["index"] if active is not None else None,
                "expired_exemption": expired["index"] if expired is not None else None,
            }
        )
        if decision == "enforce" and facts["tracing_enabled"] != wanted:
            # The state just read goes along, so that a check-mode converge need not read it again.
            changes.append(
                {
                    "rest_api_id": facts["rest_api_id"],
                    "stage_name": facts["stage_name"],
                    "tracing_enabled": wanted,
                    "observed_tracing_enabled": facts["tracing_enabled"],
                }
            )
    if read_failures is not None and not is_list(read_failures):
        raise ValueError("read_failures: must be the failures list of apigw_stage_tracing_info")
    planned.extend(_unread_api_entry(index, failure, account_id, region) for index, failure in enumerate(read_failures or []))
    planned.extend(_missing_entry(entry, account_id, region) for entry in missing or [])
    return {"stages": planned, "changes": changes, "exemptions": exemption_state.summary()}


def _missing_entry(entry, account_id, region):
    """The plan entry of a named stage that does not exist: nothing to decide, reported as skipped."""
    return {
        "account_id": account_id,
        "region": region,
        "rest_api_id": str(entry["rest_api_id"]),
        "rest_api_name": None,
        "stage_name": str(entry["stage_name"]),
        "arn": str(entry["arn"]),
        "tracing_enabled_before": None,
        "desired": None,
        "decision": "skip",
        "reason": MISSING_NAMED_REASON,
        "exemption": None,
        "expired_exemption": None,
    }


# ---- the Lambda functions in the path of stages (tracing_sweep_lambda_tracing) ------------------------------

FUNCTION_DECISIONS = ("change", "exempt", "skip", "cannot_fix")
PUBLISHED_VERSION = (
    "a published version ({qualifier}) cannot change: its configuration is frozen when it is published. Set Active "
    "tracing on {function} ($LATEST), publish a new version and point {alias} at it"
)


def _serving_alias(served, names):
    """How the fix of a published version names the alias to move: the aliases ListAliases says serve it, else the
    aliases of the path as candidates."""
    if served:
        return f"alias{'es' if len(served) > 1 else ''} {', '.join(served)} (which serve{'' if len(served) > 1 else 's'} it)"
    if served is not None:
        return "an alias (none serves it: the integration names the version itself; point the integration at the alias)"
    return "the alias that serves it" + (f" (an alias of the path: {', '.join(names)})" if names else " (if one does)")


def function_parts(arn):
    """(unqualified ARN, qualifier or None) of a function ARN."""
    head, sep, rest = str(arn).partition(":function:")
    name, dummy, qualifier = rest.partition(":")
    return head + sep + name, qualifier or None


def _function_selected(selector, arn):
    """A function_arn selector matches the ARN itself, and, without a qualifier, the function under every qualifier."""
    selector = str(selector)
    return selector == arn or (function_parts(selector)[1] is None and function_parts(arn)[0] == selector)


def _function_decision(arn, exemptions, rules, today):
    """(decision, reason, exemption index) for one function by the policy: the first active exemption naming it,
    then the first rule naming it (skip, or tracing_enabled false: left as it is), else change."""
    expired = None
    for index, exemption in enumerate(exemptions):
        if exemption.get("function_arn") is None or not _function_selected(exemption["function_arn"], arn):
            continue
        expires = parse_date(exemption["expires"]) if exemption.get("expires") is not None else None
        if expires is not None and today > expires:
            expired = expired or (index, expires)
            continue
        until = f" until {expires.isoformat()}" if expires else ""
        return "exempt", f"exemption {index + 1}{until}: {str(exemption['reason']).strip()}", index
    suffix = f"; exemption {expired[0] + 1} expired on {expired[1].isoformat()}" if expired else ""
    for index, rule in enumerate(rules):
        selector = (rule.get("match") or {}).get("function_arn")
        if selector is None or not _function_selected(selector, arn):
            continue
        if rule.get("skip"):
            return "skip", f"{_rule_label(index, rule)}: skip" + suffix, None
        if not rule["tracing_enabled"]:
            return "skip", f"{_rule_label(index, rule)}: tracing_enabled=false: the function is left as it is" + suffix, None
        return "change", f"{_rule_label(index, rule)}: tracing_enabled=true" + suffix, None
    return "change", "tracing_sweep_lambda_tracing=active: a stage that should be traced reaches it" + suffix, None


def plan_functions(planned_stages, hops, exemptions=None, rules=None, today=None):
    """The Lambda functions to set to Active tracing, once each, for the stages of one target.

    planned_stages: plan_target's "stages"; hops: {"<api id>/<stage>": hops} (module_utils/request_path.py). The
    functions are those behind a stage whose desired state is traced (decision enforce, desired true) that do not
    trace (hop not_traced). Each function is one entry however many stages reach it:
    {function_arn, update_arn, mode_before, stages, decision, reason, exemption}. ``update_arn`` is the ARN to
    change: the function's own ($LATEST), for a hop without a qualifier or with $LATEST. A published version cannot
    change (decision cannot_fix, naming the alias of the path that serves it when one does); an alias serves a
    published version too, so the same applies to it. Exemptions and rules name a function with function_arn.
    """
    exemptions = exemptions or []
    rules = rules or []
    today = utc_today() if today is None else parse_date(today)
    by_function = {}
    for stage in planned_stages:
        if stage.get("decision") != "enforce" or stage.get("desired") is not True:
            continue
        for hop in hops.get(f"{stage['rest_api_id']}/{stage['stage_name']}") or []:
            if hop.get("kind") == "gateway" or hop.get("tracing") != "not_traced" or not hop.get("function_arn"):
                continue
            entry = by_function.setdefault(hop["function_arn"], {"function_arn": hop["function_arn"], "stages": []})
            if stage["arn"] not in entry["stages"]:
                entry["stages"].append(stage["arn"])
    aliases = {}
    serving = {}  # published version's ARN -> the aliases that serve it, as ListAliases answered
    for stage_hops in hops.values():
        for hop in stage_hops or []:
            unqualified, qualifier = function_parts(hop.get("function_arn") or "")
            if qualifier and not qualifier.isdigit() and qualifier != "$LATEST":
                aliases.setdefault(unqualified, set()).add(hop["function_arn"])
            if hop.get("aliases") is not None:
                serving[hop["function_arn"]] = hop["aliases"]
    planned = []
    for arn in sorted(by_function):
        entry = by_function[arn]
        unqualified, qualifier = function_parts(arn)
        entry.update(mode_before="PassThrough", update_arn=unqualified, exemption=None)
        decision, reason, exemption = _function_decision(arn, exemptions, rules, today)
        if decision == "change" and qualifier and qualifier != "$LATEST":
            names = sorted(aliases.get(unqualified, ()))
            if qualifier.isdigit():
                reason = PUBLISHED_VERSION.format(qualifier=f"version {qualifier}", function=unqualified, alias=_serving_alias(serving.get(arn), names))
            else:
                reason = PUBLISHED_VERSION.format(qualifier=f"the version alias {qualifier} serves", function=unqualified, alias=f"alias {qualifier}")
            decision = "cannot_fix"
        entry.update(decision=decision, reason=reason, exemption=exemption)
        planned.append(entry)
    return planned
