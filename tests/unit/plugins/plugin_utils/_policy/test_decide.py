# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import copy
import datetime

import pytest

from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._policy import decide as policy
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._policy.decide import plan_target
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import ACCOUNT
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import TARGET
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import TODAY
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import stage
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import stage_arn


def plan(stages, target=None, **policy_settings):
    return plan_target(stages, target or TARGET, today=policy_settings.pop("today", TODAY), **policy_settings)


def decide(one_stage, target=None, **policy_settings):
    """(decision, desired, reason) of a single stage."""
    planned = plan([one_stage], target, **policy_settings)["stages"][0]
    return planned["decision"], planned["desired"], planned["reason"]


# ---- default ------------------------------------------------------------------------------------------


def test_default_plan_of_one_stage_in_full():
    result = plan([stage(enabled=False)])
    assert result == {
        "stages": [
            {
                "account_id": ACCOUNT,
                "region": "us-east-1",
                "rest_api_id": "a1b2c3d4e5",
                "rest_api_name": "orders",
                "stage_name": "prod",
                "arn": stage_arn("a1b2c3d4e5", "prod"),
                "tracing_enabled_before": False,
                "desired": True,
                "decision": "enforce",
                "reason": "default: tracing_sweep_desired=true",
                "exemption": None,
                "expired_exemption": None,
            }
        ],
        "changes": [{"rest_api_id": "a1b2c3d4e5", "stage_name": "prod", "tracing_enabled": True, "observed_tracing_enabled": False}],
        "exemptions": [],
    }


def test_default_false_disables_and_only_differing_stages_change():
    result = plan([stage(name="a", enabled=True), stage(name="b", enabled=False)], desired=False)
    assert [(item["stage_name"], item["desired"], item["reason"]) for item in result["stages"]] == [
        ("a", False, "default: tracing_sweep_desired=false"),
        ("b", False, "default: tracing_sweep_desired=false"),
    ]
    assert result["changes"] == [{"rest_api_id": "a1b2c3d4e5", "stage_name": "a", "tracing_enabled": False, "observed_tracing_enabled": True}]


def test_stages_keep_input_order_and_no_stages_is_an_empty_plan():
    names = ["zeta", "alpha", "mid"]
    assert [item["stage_name"] for item in plan([stage(name=name) for name in names])["stages"]] == names
    assert plan([]) == {"stages": [], "changes": [], "exemptions": []}


def test_missing_tags_and_api_name_are_tolerated():
    bare = stage()
    del bare["tags"]
    bare["rest_api_name"] = None
    planned = plan([bare], rules=[{"match": {"api_name": "*"}, "skip": True}])["stages"][0]
    assert planned["rest_api_name"] is None
    assert planned["decision"] == "enforce"  # a glob never matches a missing name


# ---- rules --------------------------------------------------------------------------------------------


RULES = [
    {"name": "internal apis", "match": {"api_name": "internal-*"}, "tracing_enabled": False},
    {"match": {"stage_name": "dev"}, "skip": True},
    {"name": "everything internal stays off", "match": {"api_name": "internal-*"}, "tracing_enabled": True},
]


def test_first_matching_rule_wins():
    assert decide(stage(api_name="internal-billing", name="dev", enabled=True), rules=RULES) == (
        "enforce",
        False,
        "rule 1 'internal apis': tracing_enabled=false",
    )


def test_later_rule_applies_when_earlier_ones_do_not_match():
    assert decide(stage(api_name="orders", name="dev"), rules=RULES) == ("skip", None, "rule 2: skip")


def test_no_matching_rule_falls_back_to_default():
    assert decide(stage(api_name="orders", name="prod"), rules=RULES, desired=False) == ("enforce", False, "default: tracing_sweep_desired=false")


def test_unnamed_enforcing_rule_reason():
    assert decide(stage(), rules=[{"match": {"api_id": "a1b2c3d4e5"}, "tracing_enabled": True}], desired=False) == (
        "enforce",
        True,
        "rule 1: tracing_enabled=true",
    )


def test_named_skip_rule_reason():
    assert decide(stage(), rules=[{"name": "hands off", "skip": True}]) == ("skip", None, "rule 1 'hands off': skip")


def test_skipped_stage_is_never_changed():
    result = plan([stage(enabled=False)], rules=[{"skip": True}])
    assert result["changes"] == []


@pytest.mark.parametrize("rule_match", [None, {}])
def test_absent_or_empty_match_matches_every_stage(rule_match):
    rules = [{"match": rule_match, "tracing_enabled": False}] if rule_match is not None else [{"tracing_enabled": False}]
    assert decide(stage(api_name=None, enabled=True), target={"account_id": None, "region": "eu-west-1"}, rules=rules)[1] is False


def test_all_match_keys_must_match():
    rules = [{"match": {"api_name": "orders", "stage_name": "prod", "region": "us-east-1"}, "tracing_enabled": False}]
    assert decide(stage(api_name="orders", name="prod"), rules=rules)[2] == "rule 1: tracing_enabled=false"
    assert decide(stage(api_name="orders", name="dev"), rules=rules)[2] == "default: tracing_sweep_desired=true"
    assert decide(stage(api_name="orders", name="prod"), target={"account_id": ACCOUNT, "region": "eu-west-1"}, rules=rules)[2].startswith("default")


@pytest.mark.parametrize(
    "pattern, name, matched",
    [
        ("internal-*", "internal-billing", True),
        ("internal-*", "billing-internal", False),
        ("*", "", True),
        ("?rders", "orders", True),
        ("?rders", "oorders", False),
        ("[io]*", "orders", True),
        ("[!o]*", "orders", False),
        ("Orders", "orders", False),  # case-sensitive, as API Gateway names are
        ("orders", "orders", True),
    ],
)
def test_api_name_globs(pattern, name, matched):
    rules = [{"match": {"api_name": pattern}, "skip": True}]
    assert (decide(stage(api_name=name), rules=rules)[0] == "skip") is matched


@pytest.mark.parametrize("pattern, matched", [("prod*", True), ("p?od", True), ("PROD", False), ("dev", False)])
def test_stage_name_globs(pattern, matched):
    assert (decide(stage(name="prod"), rules=[{"match": {"stage_name": pattern}, "skip": True}])[0] == "skip") is matched


def test_api_id_is_exact():
    rules = [{"match": {"api_id": "a1b2c3d4e5"}, "skip": True}]
    assert decide(stage(api_id="a1b2c3d4e5"), rules=rules)[0] == "skip"
    assert decide(stage(api_id="a1b2c3d4e6"), rules=rules)[0] == "enforce"


def test_account_id_rule_matches_the_target_account():
    rules = [{"match": {"account_id": ACCOUNT}, "skip": True}]
    assert decide(stage(), rules=rules)[0] == "skip"
    assert decide(stage(), target={"account_id": "222222222222", "region": "us-east-1"}, rules=rules)[0] == "enforce"


def test_account_id_rule_never_matches_a_target_without_account_id():
    rules = [{"match": {"account_id": ACCOUNT}, "skip": True}, {"match": {"region": "us-east-1"}, "tracing_enabled": False}]
    assert decide(stage(), target={"account_id": None, "region": "us-east-1"}, rules=rules) == ("enforce", False, "rule 2: tracing_enabled=false")
    assert plan([stage()], target={"region": "us-east-1"})["stages"][0]["account_id"] is None


@pytest.mark.parametrize(
    "tags, tag_match, matched",
    [
        ({"Tier": "internal"}, {"key": "Tier"}, True),
        ({"Tier": ""}, {"key": "Tier"}, True),
        ({"Tier": "internal"}, {"key": "Tier", "value": "internal"}, True),
        ({"Tier": "public"}, {"key": "Tier", "value": "internal"}, False),
        ({"Tier": ""}, {"key": "Tier", "value": ""}, True),
        ({"Tier": "x"}, {"key": "Tier", "value": ""}, False),
        ({"tier": "internal"}, {"key": "Tier"}, False),
        ({}, {"key": "Tier"}, False),
        ({"Tier": "internal"}, {"key": "Tier", "value": None}, True),
    ],
)
def test_tag_match_with_and_without_value(tags, tag_match, matched):
    rules = [{"match": {"tag": tag_match}, "tracing_enabled": False}]
    assert (decide(stage(tags=tags), rules=rules)[1] is False) is matched


# ---- exempt tag ---------------------------------------------------------------------------------------


def test_exempt_tag_value_is_the_reason():
    assert decide(stage(tags={"XrayExempt": "ticket OPS-12"}), exempt_tag="XrayExempt") == ("exempt", None, "exempt by tag XrayExempt: ticket OPS-12")


@pytest.mark.parametrize("value", ["", "   "])
def test_exempt_tag_with_empty_value(value):
    assert decide(stage(tags={"XrayExempt": value}), exempt_tag="XrayExempt") == ("exempt", None, "exempt by tag XrayExempt")


def test_exempt_tag_outranks_rules_and_is_never_changed():
    result = plan([stage(enabled=False, tags={"XrayExempt": "x"})], exempt_tag="XrayExempt", rules=[{"tracing_enabled": True}])
    assert result["stages"][0]["decision"] == "exempt"
    assert result["stages"][0]["exemption"] is None
    assert result["changes"] == []
    assert result["exemptions"] == []  # the tag is not a configured exemption


def test_empty_exempt_tag_means_none():
    assert decide(stage(tags={"": "odd"}), exempt_tag="")[0] == "enforce"


def test_exempt_tag_key_is_exact():
    assert decide(stage(tags={"xrayexempt": "x"}), exempt_tag="XrayExempt")[0] == "enforce"
    assert decide(stage(tags={"XrayExempt": "x"}))[0] == "enforce"  # no exempt tag configured


# ---- exemptions ---------------------------------------------------------------------------------------


def without_definitions(entries):
    """The plan's exemption entries without the definitions (tested on their own below)."""
    return [{key: value for key, value in entry.items() if key != "definition"} for entry in entries]


def test_exemption_entries_carry_their_definition():
    exemptions = [{"api_name": "orders", "stage_name": "prod", "reason": " cost review ", "expires": datetime.date(2026, 12, 31)}]
    [entry] = plan([stage(name="prod")], exemptions=exemptions)["exemptions"]
    assert entry["definition"] == {"api_name": "orders", "stage_name": "prod", "reason": "cost review", "expires": "2026-12-31"}


def test_exemption_by_arn():
    exemptions = [{"arn": stage_arn("a1b2c3d4e5", "prod"), "reason": "cost review CHG-1", "expires": "2026-12-31"}]
    result = plan([stage(name="prod"), stage(name="dev")], exemptions=exemptions)
    assert [(item["decision"], item["reason"], item["exemption"]) for item in result["stages"]] == [
        ("exempt", "exemption 1 until 2026-12-31: cost review CHG-1", 0),
        ("enforce", "default: tracing_sweep_desired=true", None),
    ]
    assert result["changes"] == [{"rest_api_id": "a1b2c3d4e5", "stage_name": "dev", "tracing_enabled": True, "observed_tracing_enabled": False}]
    assert without_definitions(result["exemptions"]) == [{"index": 0, "status": "active", "matched": [stage_arn("a1b2c3d4e5", "prod")]}]


def test_exemption_by_selector_without_expiry():
    exemptions = [{"api_name": "legacy-*", "stage_name": "v1", "reason": "  being retired  "}]
    assert decide(stage(api_name="legacy-orders", name="v1"), exemptions=exemptions) == ("exempt", None, "exemption 1: being retired")
    assert decide(stage(api_name="legacy-orders", name="v2"), exemptions=exemptions)[0] == "enforce"


@pytest.mark.parametrize(
    "selectors, matched",
    [
        ({"account_id": ACCOUNT}, True),
        ({"account_id": "222222222222"}, False),
        ({"region": "us-east-1"}, True),
        ({"region": "eu-west-1"}, False),
        ({"api_id": "a1b2c3d4e5"}, True),
        ({"api_id": "zzzzzzzzzz"}, False),
        ({"account_id": ACCOUNT, "stage_name": "dev"}, False),
    ],
)
def test_exemption_selectors(selectors, matched):
    assert (decide(stage(), exemptions=[dict(selectors, reason="r")])[0] == "exempt") is matched


def test_exemption_account_selector_never_matches_a_target_without_account_id():
    assert decide(stage(), target={"account_id": None, "region": "us-east-1"}, exemptions=[{"account_id": ACCOUNT, "reason": "r"}])[0] == "enforce"


def test_exemption_outranks_exempt_tag_and_rules():
    exemptions = [{"api_id": "a1b2c3d4e5", "reason": "reviewed"}]
    result = decide(stage(tags={"XrayExempt": "tag"}), exemptions=exemptions, exempt_tag="XrayExempt", rules=[{"skip": True}])
    assert result == ("exempt", None, "exemption 1: reviewed")


def test_first_matching_exemption_wins_and_alone_lists_the_stage():
    exemptions = [{"region": "us-east-1", "reason": "first"}, {"api_id": "a1b2c3d4e5", "reason": "second"}]
    result = plan([stage()], exemptions=exemptions)
    assert result["stages"][0]["reason"] == "exemption 1: first"
    assert without_definitions(result["exemptions"]) == [{"index": 0, "status": "active", "matched": [stage_arn("a1b2c3d4e5", "prod")]}]


def test_exemption_applies_on_its_expiry_day():
    exemptions = [{"api_id": "a1b2c3d4e5", "reason": "r", "expires": TODAY.isoformat()}]
    result = plan([stage()], exemptions=exemptions)
    assert result["stages"][0]["decision"] == "exempt"
    assert result["stages"][0]["reason"] == "exemption 1 until 2026-03-15: r"
    assert result["exemptions"][0]["status"] == "active"


def test_exemption_expired_the_day_after_is_reported():
    expired_on = TODAY - datetime.timedelta(days=1)
    exemptions = [{"api_id": "a1b2c3d4e5", "reason": "cost review", "expires": expired_on}]
    result = plan([stage(enabled=False)], exemptions=exemptions, rules=[{"name": "on", "tracing_enabled": True}])
    planned = result["stages"][0]
    assert planned["decision"] == "enforce"
    assert planned["desired"] is True
    assert planned["exemption"] is None
    assert planned["expired_exemption"] == 0
    assert planned["reason"] == "rule 1 'on': tracing_enabled=true; exemption 1 expired on 2026-03-14 (cost review)"
    assert result["changes"] == [{"rest_api_id": "a1b2c3d4e5", "stage_name": "prod", "tracing_enabled": True, "observed_tracing_enabled": False}]
    assert without_definitions(result["exemptions"]) == [{"index": 0, "status": "expired", "matched": [stage_arn("a1b2c3d4e5", "prod")]}]


def test_expired_exemption_is_noted_when_a_later_one_applies():
    exemptions = [
        {"api_id": "a1b2c3d4e5", "reason": "old", "expires": "2025-01-31"},
        {"region": "us-east-1", "reason": "new", "expires": "2026-12-31"},
    ]
    result = plan([stage()], exemptions=exemptions)
    planned = result["stages"][0]
    assert (planned["decision"], planned["exemption"], planned["expired_exemption"]) == ("exempt", 1, 0)
    assert planned["reason"] == "exemption 2 until 2026-12-31: new; exemption 1 expired on 2025-01-31 (old)"
    assert [(item["index"], item["status"]) for item in result["exemptions"]] == [(0, "expired"), (1, "active")]


def test_expired_exemption_with_exempt_tag_still_exempt_by_tag():
    exemptions = [{"api_id": "a1b2c3d4e5", "reason": "old", "expires": "2025-01-31"}]
    assert decide(stage(tags={"XrayExempt": ""}), exemptions=exemptions, exempt_tag="XrayExempt") == (
        "exempt",
        None,
        "exempt by tag XrayExempt; exemption 1 expired on 2025-01-31 (old)",
    )


def test_exemptions_list_only_those_that_matched_in_index_order():
    exemptions = [
        {"api_name": "nothing-matches-*", "reason": "unused"},
        {"stage_name": "dev", "reason": "dev"},
        {"stage_name": "prod", "reason": "prod"},
    ]
    result = plan([stage(name="prod"), stage(name="dev"), stage(api_id="b1b2c3d4e5", name="prod")], exemptions=exemptions)
    assert without_definitions(result["exemptions"]) == [
        {"index": 1, "status": "active", "matched": [stage_arn("a1b2c3d4e5", "dev")]},
        {"index": 2, "status": "active", "matched": [stage_arn("a1b2c3d4e5", "prod"), stage_arn("b1b2c3d4e5", "prod")]},
    ]


def test_today_accepts_a_string():
    exemptions = [{"api_id": "a1b2c3d4e5", "reason": "r", "expires": "2026-03-15"}]
    assert plan([stage()], exemptions=exemptions, today="2026-03-16")["stages"][0]["decision"] == "enforce"
    assert plan([stage()], exemptions=exemptions, today="2026-03-15")["stages"][0]["decision"] == "exempt"


def test_today_defaults_to_the_utc_date(monkeypatch):
    monkeypatch.setattr(policy, "utc_today", lambda: datetime.date(2026, 3, 16))
    exemptions = [{"api_id": "a1b2c3d4e5", "reason": "r", "expires": "2026-03-15"}]
    assert plan_target([stage()], TARGET, exemptions=exemptions)["stages"][0]["expired_exemption"] == 0


def test_utc_today_is_the_date_in_utc():
    before = datetime.datetime.now(datetime.timezone.utc).date()
    today = policy.utc_today()
    after = datetime.datetime.now(datetime.timezone.utc).date()
    assert today in (before, after)
    assert today.__class__ is datetime.date


# ---- bad input ----------------------------------------------------------------------------------------


def test_invalid_policy_is_refused_with_every_problem():
    with pytest.raises(ValueError) as raised:
        plan([stage()], desired="ture", rules=[{"skip": True, "tracing_enabled": True}], exemptions=[{"arn": "nope", "reason": "r"}])
    message = str(raised.value)
    assert message.startswith(
        "tracing_sweep_desired: must be a boolean: true or false (also yes/no, 1/0), got 'ture'; tracing_sweep_rules[0]: must set exactly one"
    )
    assert "tracing_sweep_exemptions[0].arn: must be an API Gateway stage ARN" in message


@pytest.mark.parametrize("word", ["false", "no", "0", "False"])
def test_desired_given_as_a_word_false_plans_tracing_off(word):
    result = plan([stage(enabled=True)], desired=word)
    assert result["stages"][0]["desired"] is False
    assert result["stages"][0]["reason"] == "default: tracing_sweep_desired=false"
    # The stage is traced: false means it is to be turned off.
    assert [change["tracing_enabled"] for change in result["changes"]] == [False]


def test_invalid_exempt_tag_is_refused():
    with pytest.raises(ValueError, match=r"tracing_sweep_exempt_tag: must be a stage tag key \(a string\), or empty for none, got 5 \(integer\)"):
        plan([stage()], exempt_tag=5)


@pytest.mark.parametrize("today", ["15/03/2026", datetime.datetime(2026, 3, 15, 1, 0), 20260315])
def test_invalid_today(today):
    with pytest.raises(ValueError, match=r"^today: must be a date \(YYYY-MM-DD\), got "):
        plan([stage()], today=today)


@pytest.mark.parametrize("target", [None, {}, {"account_id": ACCOUNT}, "us-east-1"])
def test_target_needs_a_region(target):
    with pytest.raises(ValueError, match="^target: must be a mapping with region"):
        plan_target([stage()], target, today=TODAY)


def test_stage_without_required_keys():
    broken = stage()
    del broken["arn"]
    del broken["tracing_enabled"]
    with pytest.raises(ValueError, match=r"^stages\[1\]: missing arn, tracing_enabled; pass the stages apigw_stage_tracing_info returns$"):
        plan([stage(), broken])


@pytest.mark.parametrize("stages, message", [("prod", "^stages: must be a list"), ([["prod"]], r"^stages\[0\]: must be a stage mapping")])
def test_stages_must_be_a_list_of_mappings(stages, message):
    with pytest.raises(ValueError, match=message):
        plan(stages)


def test_inputs_are_not_modified():
    stages = [stage(tags={"XrayExempt": ""}), stage(name="dev", enabled=True)]
    rules = [{"match": {"stage_name": "dev"}, "tracing_enabled": False}]
    exemptions = [{"api_id": "a1b2c3d4e5", "stage_name": "zzz", "reason": "r", "expires": datetime.date(2026, 1, 1)}]
    target = dict(TARGET)
    saved = copy.deepcopy((stages, rules, exemptions, target))
    result = plan(stages, target, rules=rules, exemptions=exemptions, exempt_tag="XrayExempt")
    assert (stages, rules, exemptions, target) == saved
    assert result["stages"][1]["desired"] is False


# ---- the functions in the path (tracing_sweep_lambda_tracing) ----------------------------------------------

FN = "arn:aws:lambda:us-east-1:123456789012:function:"


def _stage(api, name, desired=True, decision="enforce"):
    return {"rest_api_id": api, "stage_name": name, "arn": f"arn:aws:apigateway:us-east-1::/restapis/{api}/stages/{name}",
            "desired": desired, "decision": decision}


def _hop(arn, tracing="not_traced", kind="integration"):
    return {"kind": kind, "function_arn": arn, "tracing": tracing}


def test_plan_functions_once_per_function_and_only_for_stages_meant_to_be_traced():
    from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._policy.decide import plan_functions  # pylint: disable=import-outside-toplevel
    stages = [_stage("a%09d" % index, "prod") for index in range(40)]
    stages += [_stage("off0000000", "prod", desired=False), _stage("exempt0000", "prod", None, "exempt")]
    hops = {f"{stage['rest_api_id']}/prod": [_hop(None, "traced", "gateway"), _hop(FN + "shared"), _hop(FN + "traced", "traced")] for stage in stages}
    hops["off0000000/prod"].append(_hop(FN + "only-off"))
    hops["exempt0000/prod"].append(_hop(FN + "only-exempt"))
    hops["a000000000/prod"] += [_hop(FN + "pinned:3"), _hop(FN + "pinned:live"), _hop(FN + "latest:$LATEST")]

    planned = {entry["function_arn"]: entry for entry in plan_functions(stages, hops, today="2026-01-01")}

    assert sorted(planned) == [FN + "latest:$LATEST", FN + "pinned:3", FN + "pinned:live", FN + "shared"]
    assert planned[FN + "shared"]["decision"] == "change" and len(planned[FN + "shared"]["stages"]) == 40
    assert planned[FN + "latest:$LATEST"]["update_arn"] == FN + "latest"
    assert planned[FN + "pinned:3"]["decision"] == "cannot_fix" and FN + "pinned:live" in planned[FN + "pinned:3"]["reason"]
    assert planned[FN + "pinned:live"]["decision"] == "cannot_fix" and "alias live" in planned[FN + "pinned:live"]["reason"]


@pytest.mark.parametrize("aliases, named", [
    (["blue", "live"], "point aliases blue, live (which serve it) at it"),
    (["live"], "point alias live (which serves it) at it"),
    ([], "none serves it: the integration names the version itself"),
])
def test_plan_functions_names_the_aliases_that_serve_a_published_version(aliases, named):
    """The hop's aliases (ListAliases, module_utils/request_path.py) name the alias to move, rather than candidates."""
    from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._policy.decide import plan_functions  # pylint: disable=import-outside-toplevel
    hops = {"a000000000/prod": [dict(_hop(FN + "pinned:3"), aliases=aliases), _hop(FN + "pinned:other")]}

    [pinned] = [entry for entry in plan_functions([_stage("a000000000", "prod")], hops, today="2026-01-01") if entry["function_arn"] == FN + "pinned:3"]

    assert pinned["decision"] == "cannot_fix" and named in pinned["reason"] and "pinned:other" not in pinned["reason"]


def test_plan_functions_policy_names_a_function():
    from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._policy.decide import plan_functions  # pylint: disable=import-outside-toplevel
    stages = [_stage("a000000000", "prod")]
    hops = {"a000000000/prod": [_hop(FN + "one"), _hop(FN + "two:$LATEST"), _hop(FN + "three"), _hop(FN + "four")]}
    exemptions = [{"function_arn": FN + "one", "reason": "theirs", "expires": "2026-12-31"},
                  {"function_arn": FN + "four", "reason": "old", "expires": "2025-01-01"}]
    rules = [{"match": {"function_arn": FN + "two"}, "skip": True}, {"match": {"function_arn": FN + "three"}, "tracing_enabled": False}]

    planned = {entry["function_arn"]: entry for entry in plan_functions(stages, hops, exemptions=exemptions, rules=rules, today="2026-01-01")}

    assert (planned[FN + "one"]["decision"], planned[FN + "one"]["reason"]) == ("exempt", "exemption 1 until 2026-12-31: theirs")
    # Without a qualifier, the selector names the function under every qualifier.
    assert planned[FN + "two:$LATEST"]["decision"] == "skip"
    assert planned[FN + "three"]["decision"] == "skip" and "tracing_enabled=false" in planned[FN + "three"]["reason"]
    assert planned[FN + "four"]["decision"] == "change" and "exemption 2 expired on 2025-01-01" in planned[FN + "four"]["reason"]


def test_a_function_exemption_or_rule_never_matches_a_stage():
    stages = [{"rest_api_id": "a000000000", "stage_name": "prod", "arn": "arn:aws:apigateway:us-east-1::/restapis/a000000000/stages/prod",
               "tracing_enabled": False}]
    plan = plan_target(stages, {"account_id": "123456789012", "region": "us-east-1"},
                       exemptions=[{"function_arn": FN + "one", "reason": "theirs"}],
                       rules=[{"match": {"function_arn": FN + "one"}, "skip": True}])
    assert plan["stages"][0]["decision"] == "enforce" and len(plan["changes"]) == 1
