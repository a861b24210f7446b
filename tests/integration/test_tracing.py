# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""apigw_stage_tracing against the local AWS, through ansible-playbook."""

from __future__ import annotations

import re

from local_aws import seed

REGION = "us-east-1"
API = "a1b2c3d4e5"
OTHER_API = "f6g7h8i9j0"
MISSING_API = "zzzzzzzzzz"


def arn(api_id, stage):
    return "arn:aws:apigateway:%s::/restapis/%s/stages/%s" % (REGION, api_id, stage)


def server_tracing(apigw, api_id, stage):
    """tracingEnabled as the server holds it: True, False, or None when the key is absent."""
    return apigw.get_stage(restApiId=api_id, stageName=stage).get("tracingEnabled")


def patched(aws):
    """(rest_api_id, stage_name) of every UpdateStage request, in order."""
    return [tuple(r.path.split("/")[2::2]) for r in aws.requests if r.operation == "UpdateStage"]


def by_stage(entries):
    return {(e["rest_api_id"], e["stage_name"]): e for e in entries}


def seed_two_apis(apigw):
    seed(apigw, [
        {"name": "orders", "id": API, "stages": {"prod": {}, "staging": {"tracing": True}, "dev": {}}},
        {"name": "users", "id": OTHER_API, "stages": {"prod": {}, "v1": {"tracing": True}}},
    ])


# Single form

def test_enable_one_stage_then_nothing_to_do(aws, apigw, run_playbook):
    seed_two_apis(apigw)
    aws.clear()
    run = run_playbook("tracing.yml", {"rest_api_id": API, "stage_name": "prod"})
    assert run.rc == 0, run.describe()
    result = run.result("Tracing")
    assert result["changed"] is True
    assert result["stages"] == [{
        "rest_api_id": API, "stage_name": "prod", "arn": arn(API, "prod"),
        "tracing_enabled_before": False, "tracing_enabled": True, "changed": True,
    }]
    assert result["missing"] == []
    assert "failures" not in result
    stage = result["stage"]
    assert (stage["rest_api_id"], stage["stage_name"], stage["arn"]) == (API, "prod", arn(API, "prod"))
    assert stage["tracing_enabled"] is True
    assert stage["deployment_id"] == "dep000"
    assert stage["access_logging_enabled"] is False
    assert patched(aws) == [(API, "prod")]
    assert aws.calls("GetStages") == 0 and aws.calls("GetRestApis") == 0
    patch = [r for r in aws.requests if r.operation == "UpdateStage"][0]
    assert (patch.region, patch.account) == (REGION, "123456789012")
    assert server_tracing(apigw, API, "prod") is True
    # Nothing else was touched.
    assert server_tracing(apigw, API, "dev") is None

    aws.clear()
    again = run_playbook("tracing.yml", {"rest_api_id": API, "stage_name": "prod"})
    assert again.rc == 0, again.describe()
    assert again.result("Tracing")["changed"] is False
    assert again.result("Tracing")["stages"][0]["tracing_enabled_before"] is True
    assert aws.calls("UpdateStage") == 0
    assert aws.writes() == []


def test_disable_one_stage_then_nothing_to_do(aws, apigw, run_playbook):
    seed_two_apis(apigw)
    aws.clear()
    run = run_playbook("tracing.yml", {"rest_api_id": API, "stage_name": "staging", "tracing_enabled": False})
    assert run.rc == 0, run.describe()
    result = run.result("Tracing")
    assert result["changed"] is True
    assert result["stages"][0]["tracing_enabled_before"] is True
    assert result["stages"][0]["tracing_enabled"] is False
    assert result["stage"]["tracing_enabled"] is False
    assert patched(aws) == [(API, "staging")]
    assert server_tracing(apigw, API, "staging") is False

    aws.clear()
    again = run_playbook("tracing.yml", {"rest_api_id": API, "stage_name": "staging", "tracing_enabled": False})
    assert again.rc == 0, again.describe()
    assert again.result("Tracing")["changed"] is False
    assert aws.calls("UpdateStage") == 0


def test_disable_stage_without_tracing_key_is_no_change(aws, apigw, run_playbook):
    # An absent tracingEnabled already means off.
    seed_two_apis(apigw)
    aws.clear()
    run = run_playbook("tracing.yml", {"rest_api_id": API, "stage_name": "dev", "tracing_enabled": False})
    assert run.rc == 0, run.describe()
    assert run.result("Tracing")["changed"] is False
    assert aws.calls("UpdateStage") == 0


def test_single_missing_stage_fails(aws, apigw, run_playbook):
    seed_two_apis(apigw)
    run = run_playbook("tracing.yml", {"rest_api_id": API, "stage_name": "nope"})
    assert run.rc != 0
    assert run.status("Tracing") == "failed"
    msg = run.result("Tracing")["msg"]
    assert "nope" in msg and API in msg, msg
    assert aws.calls("UpdateStage") == 0


def test_single_missing_stage_ignored(aws, apigw, run_playbook):
    seed_two_apis(apigw)
    run = run_playbook("tracing.yml", {"rest_api_id": MISSING_API, "stage_name": "prod", "ignore_missing": True})
    assert run.rc == 0, run.describe()
    result = run.result("Tracing")
    assert result["changed"] is False
    assert result["stages"] == []
    assert result["missing"] == [{"rest_api_id": MISSING_API, "stage_name": "prod", "arn": arn(MISSING_API, "prod")}]
    assert aws.calls("UpdateStage") == 0


# Check mode and diff

CHECK_CASES = {
    "single-enable": ({"rest_api_id": API, "stage_name": "prod"}, {(API, "prod"): True}),
    "single-disable": ({"rest_api_id": API, "stage_name": "staging", "tracing_enabled": False}, {(API, "staging"): False}),
    "list": (
        {"stages": [
            {"rest_api_id": API, "stage_name": "prod"},
            {"rest_api_id": API, "stage_name": "staging", "tracing_enabled": False},
            {"rest_api_id": OTHER_API, "stage_name": "prod"},
            {"rest_api_id": OTHER_API, "stage_name": "v1"},
        ]},
        {(API, "prod"): True, (API, "staging"): False, (OTHER_API, "prod"): True},
    ),
}


def test_check_mode_changes_nothing(aws, apigw, run_playbook, check_case):
    extra_vars, would_change = CHECK_CASES[check_case]
    seed_two_apis(apigw)
    before = {key: server_tracing(apigw, *key) for key in would_change}
    aws.clear()
    run = run_playbook("tracing.yml", extra_vars, check=True)
    assert run.rc == 0, run.describe()
    result = run.result("Tracing")
    assert result["changed"] is True
    for key, desired in would_change.items():
        entry = by_stage(result["stages"])[key]
        assert entry["changed"] is True
        assert entry["tracing_enabled"] is desired
        assert entry["tracing_enabled_before"] is (not desired)
    unchanged = [e for e in result["stages"] if (e["rest_api_id"], e["stage_name"]) not in would_change]
    assert all(e["changed"] is False for e in unchanged)
    assert aws.calls("UpdateStage") == 0
    assert aws.writes() == []
    assert {key: server_tracing(apigw, *key) for key in would_change} == before


def pytest_generate_tests(metafunc):
    if "check_case" in metafunc.fixturenames:
        metafunc.parametrize("check_case", sorted(CHECK_CASES))


def diff_blocks(stdout):
    """{header: (minus lines, plus lines)} of the before/after diffs the default callback printed."""
    blocks = {}
    current = None
    for line in stdout.splitlines():
        header = re.match(r"^--- before: (\S+)$", line)
        if header:
            current = header.group(1)
            blocks[current] = ([], [])
            continue
        if current is None or line.startswith("+++ ") or line.startswith("@@"):
            continue
        if line.startswith("-"):
            blocks[current][0].append(line)
        elif line.startswith("+"):
            blocks[current][1].append(line)
        elif not line.startswith(" "):
            current = None
    return blocks


def assert_diff(stdout, label, before, after):
    assert "--- before: %s" % label in stdout, stdout
    assert "+++ after: %s" % label in stdout, stdout
    minus, plus = diff_blocks(stdout)[label]
    assert any("tracing_enabled" in line and str(before).lower() in line for line in minus), minus
    assert any("tracing_enabled" in line and str(after).lower() in line for line in plus), plus


def test_diff_single_form(aws, apigw, run_playbook):
    seed_two_apis(apigw)
    aws.clear()
    run = run_playbook("tracing.yml", {"rest_api_id": API, "stage_name": "prod"}, check=True, diff=True)
    assert run.rc == 0, run.describe()
    assert_diff(run.stdout, "%s/prod" % API, False, True)
    diff = run.result("Tracing")["diff"]
    assert diff == {"before_header": API + "/prod", "after_header": API + "/prod",
                    "before": {"tracing_enabled": False}, "after": {"tracing_enabled": True}}
    assert aws.calls("UpdateStage") == 0


def assert_compact_line(stdout, label, before, after):
    """The list form's diff: one line per stage that changes, under the account and region."""
    line = "  %s: tracing_enabled %s -> %s" % (label, str(before).lower(), str(after).lower())
    assert line in stdout.splitlines(), stdout


def test_diff_list_form(aws, apigw, run_playbook):
    seed_two_apis(apigw)
    aws.clear()
    stages = [
        {"rest_api_id": API, "stage_name": "prod"},
        {"rest_api_id": API, "stage_name": "staging", "tracing_enabled": False},
        {"rest_api_id": OTHER_API, "stage_name": "v1"},
    ]
    run = run_playbook("tracing.yml", {"stages": stages}, check=True, diff=True)
    assert run.rc == 0, run.describe()
    assert "account 123456789012, us-east-1: X-Ray tracing of 2 stages would change" in run.stdout
    assert_compact_line(run.stdout, "%s/prod" % API, False, True)
    assert_compact_line(run.stdout, "%s/staging" % API, True, False)
    # Already compliant: no line for it, and no before/after document per stage.
    assert "%s/v1" % OTHER_API not in run.stdout
    assert "--- before" not in run.stdout
    diff = run.result("Tracing")["diff"]
    assert list(diff) == ["prepared"] and diff["prepared"].count("\n") == 3
    assert aws.calls("UpdateStage") == 0
    # The heading's account comes from STS GetCallerIdentity, which needs no permission; nothing else was asked.
    assert sorted({r.operation for r in aws.requests}) == ["GetCallerIdentity", "GetStage", "GetStages"]


def test_diff_shown_on_a_real_change(aws, apigw, run_playbook):
    seed_two_apis(apigw)
    run = run_playbook("tracing.yml", {"stages": [{"rest_api_id": OTHER_API, "stage_name": "prod"}]}, diff=True)
    assert run.rc == 0, run.describe()
    assert "account 123456789012, us-east-1: X-Ray tracing of 1 stage changed" in run.stdout
    assert_compact_line(run.stdout, "%s/prod" % OTHER_API, False, True)
    assert server_tracing(apigw, OTHER_API, "prod") is True


# List form

STAGE_NAMES = ("prod", "dev", "v1")


def many_apis(count):
    """``count`` APIs of 3 stages; tracing on, off (absent key) in a rotating mix."""
    return [
        {"name": "svc%03d" % i, "id": "svc%07d" % i, "stages": {
            name: {"tracing": (i + k) % 3 == 0} for k, name in enumerate(STAGE_NAMES)
        }}
        for i in range(count)
    ]


def test_list_form_converges_many_stages_in_one_task(aws, apigw, run_playbook):
    apis = many_apis(70)
    seed(apigw, apis)
    current = {(api["id"], name): bool(spec["tracing"]) for api in apis for name, spec in api["stages"].items()}
    items, desired = [], {}
    for i, api in enumerate(apis):
        for name in STAGE_NAMES:
            item = {"rest_api_id": api["id"], "stage_name": name}
            want = True
            if i % 5 == 0 and name == "dev":
                item["tracing_enabled"] = want = False  # per-item override of the default
            elif i % 7 == 0 and name == "v1":
                item["tracing_enabled"] = True  # explicit, same as the default
            items.append(item)
            desired[(api["id"], name)] = want
    differing = {key for key in desired if desired[key] != current[key]}
    assert len(items) == 210 and differing and len(differing) < 210
    assert any(not desired[key] and current[key] for key in differing), "the mix must turn some stages off"

    aws.clear()
    run = run_playbook("tracing.yml", {"stages": items})
    assert run.rc == 0, run.describe()
    result = run.result("Tracing")
    assert result["changed"] is True
    assert result["missing"] == []
    assert len(result["stages"]) == 210
    assert [(e["rest_api_id"], e["stage_name"]) for e in result["stages"]] == [(i["rest_api_id"], i["stage_name"]) for i in items]
    for key, entry in by_stage(result["stages"]).items():
        assert entry["arn"] == arn(*key)
        assert entry["tracing_enabled_before"] is current[key], key
        assert entry["tracing_enabled"] is desired[key], key
        assert entry["changed"] is (key in differing), key

    assert aws.calls("GetStages") == 70
    assert sorted(r.path for r in aws.requests if r.operation == "GetStages") == sorted("/restapis/%s/stages" % a["id"] for a in apis)
    assert aws.calls("GetStage") == 0
    assert sorted(patched(aws)) == sorted(differing)
    assert {r.region for r in aws.requests} == {REGION}

    for api in apis:
        for stage in apigw.get_stages(restApiId=api["id"])["item"]:
            assert stage.get("tracingEnabled", False) is desired[(api["id"], stage["stageName"])]

    aws.clear()
    again = run_playbook("tracing.yml", {"stages": items})
    assert again.rc == 0, again.describe()
    assert again.result("Tracing")["changed"] is False
    assert not any(e["changed"] for e in again.result("Tracing")["stages"])
    assert aws.calls("UpdateStage") == 0
    assert aws.writes() == []


def test_list_item_overrides_default_false(aws, apigw, run_playbook):
    seed_two_apis(apigw)
    stages = [
        {"rest_api_id": API, "stage_name": "staging"},  # on -> default off
        {"rest_api_id": API, "stage_name": "dev", "tracing_enabled": True},  # absent -> on
        {"rest_api_id": OTHER_API, "stage_name": "prod"},  # absent, stays off
        {"rest_api_id": OTHER_API, "stage_name": "v1", "tracing_enabled": True},  # on, stays on
    ]
    aws.clear()
    run = run_playbook("tracing.yml", {"stages": stages, "tracing_enabled": False})
    assert run.rc == 0, run.describe()
    got = by_stage(run.result("Tracing")["stages"])
    assert {key: (e["tracing_enabled"], e["changed"]) for key, e in got.items()} == {
        (API, "staging"): (False, True),
        (API, "dev"): (True, True),
        (OTHER_API, "prod"): (False, False),
        (OTHER_API, "v1"): (True, False),
    }
    assert sorted(patched(aws)) == [(API, "dev"), (API, "staging")]
    assert server_tracing(apigw, API, "staging") is False
    assert server_tracing(apigw, API, "dev") is True
    assert server_tracing(apigw, OTHER_API, "prod") is None


MISSING_LIST = [
    {"rest_api_id": API, "stage_name": "prod"},
    {"rest_api_id": API, "stage_name": "nope"},
    {"rest_api_id": API, "stage_name": "staging", "tracing_enabled": False},
    {"rest_api_id": MISSING_API, "stage_name": "prod"},
    {"rest_api_id": OTHER_API, "stage_name": "prod"},
]
MISSING_KEYS = [(API, "nope"), (MISSING_API, "prod")]


def assert_others_converged(apigw, result):
    assert server_tracing(apigw, API, "prod") is True
    assert server_tracing(apigw, API, "staging") is False
    assert server_tracing(apigw, OTHER_API, "prod") is True
    converged = by_stage(result["stages"])
    assert sorted(converged) == sorted([(API, "prod"), (API, "staging"), (OTHER_API, "prod")])
    assert all(e["changed"] for e in converged.values())


def test_list_ignore_missing(aws, apigw, run_playbook):
    seed_two_apis(apigw)
    run = run_playbook("tracing.yml", {"stages": MISSING_LIST, "ignore_missing": True})
    assert run.rc == 0, run.describe()
    assert run.status("Tracing") == "ok"
    result = run.result("Tracing")
    assert result["changed"] is True
    assert sorted(result["missing"], key=lambda m: (m["rest_api_id"], m["stage_name"])) == [
        {"rest_api_id": k[0], "stage_name": k[1], "arn": arn(*k)} for k in sorted(MISSING_KEYS)
    ]
    assert "failures" not in result
    assert_others_converged(apigw, result)


def test_list_missing_fails_after_converging_the_others(aws, apigw, run_playbook):
    seed_two_apis(apigw)
    run = run_playbook("tracing.yml", {"stages": MISSING_LIST})
    assert run.rc != 0
    assert run.status("Tracing") == "failed"
    result = run.result("Tracing")
    msg = result["msg"]
    for api_id, stage in MISSING_KEYS:
        assert "%s/%s" % (api_id, stage) in msg or (api_id in msg and stage in msg), msg
    failed = sorted((f["rest_api_id"], f["stage_name"]) for f in result.get("failures", []))
    assert failed == sorted(MISSING_KEYS)
    for failure in result["failures"]:
        assert failure["error_code"] and failure["message"]
    assert_others_converged(apigw, result)
