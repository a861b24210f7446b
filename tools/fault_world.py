# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""World C of the scale and reliability work: 12 account-regions x 50 REST APIs x 2 stages.

Six accounts in two regions each. Five accounts are reached by assuming a role (moto lets any role
ARN be assumed, and the keys it hands out act in that role's account); the sixth is moto's default
account, reached with the caller's own credentials, as a hub account would be.

Exactly half of the stages are off, in the two ways AWS shows it: ``tracingEnabled: false`` stored
on the stage, or no ``tracingEnabled`` key at all (a stage that never had tracing set). The APIs
cycle through four shapes so that a target's changes touch one or both stages of an API, and so
that its read before the write needs GetStage or GetStages:

    i % 4 == 0   prod on,               dev on
    i % 4 == 1   prod off (explicit),   dev off (absent)
    i % 4 == 2   prod on,               dev off (explicit)
    i % 4 == 3   prod off (absent),     dev on

No policy beyond the role's default (tracing on everywhere), so every off stage is non-compliant
and an enforcement turns it on. Every function takes ``where``, a selection of targets(), for a test
that needs fewer targets than the whole world.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from local_aws import seed

# moto's own account: what the test credentials act in without assuming a role.
CALLER_ACCOUNT = "123456789012"
ROLE_NAME = "TracingSweep"
REGIONS = ["us-east-1", "eu-west-1"]
ACCOUNTS = ["40000000000%d" % index for index in range(1, 6)] + [CALLER_ACCOUNT]
APIS_PER_TARGET = 50
STAGE_NAMES = ("prod", "dev")

# (prod, dev) per API shape: True on, False off with the key stored, None off with the key absent.
_SHAPES = [(True, True), (False, None), (True, False), (None, True)]

# Seeding goes through moto's HTTP server; a few targets at once overlap its request handling.
_SEED_THREADS = 4


def targets(accounts=None):
    """[(account id, region)] of the given accounts (default: all six), in inventory order."""
    return [(account, region) for account in accounts or ACCOUNTS for region in REGIONS]


def host_name(account, region):
    return "acct%s_%s" % (account[-2:], region)


def role_arn(account):
    return "arn:aws:iam::%s:role/%s" % (account, ROLE_NAME)


def api_id(account, region, index):
    """A fixed id per API, unique over the whole world, so that runs and reports compare by key.

    Ten lowercase letters and digits, like the ids API Gateway assigns (the modules check the shape).
    """
    return "w%s%sapi%03d" % (account[-2:], region.split("-")[1][0], index)


def apis(account, region):
    """The REST APIs of one target, in the shape local_aws.seed() takes."""
    specs = []
    for index in range(APIS_PER_TARGET):
        stages = {}
        for name, state in zip(STAGE_NAMES, _SHAPES[index % len(_SHAPES)]):
            stages[name] = {} if state is None else {"tracing": state, "explicit": True}
        specs.append({"name": "svc-%03d" % index, "id": api_id(account, region, index), "stages": stages})
    return specs


def truth(where=None):
    """(account, region, api id, stage) -> tracing state as seeded (absent reads as False).

    ``where``: the targets to cover, a list from targets(); default every target. Likewise below.
    """
    state = {}
    for account, region in where or targets():
        for spec in apis(account, region):
            for name, stage in spec["stages"].items():
                state[(account, region, spec["id"], name)] = bool(stage.get("tracing", False))
    return state


def _client(aws, account, region):
    return aws.client("apigateway", region, account=None if account == CALLER_ACCOUNT else account)


def seed_world(aws, where=None):
    """Create the world on a LocalAws (directly, not through a proxy)."""
    def seed_target(target):
        account, region = target
        seed(_client(aws, account, region), apis(account, region))

    with ThreadPoolExecutor(_SEED_THREADS) as pool:
        list(pool.map(seed_target, where or targets()))


def tracing_state(aws, where=None):
    """(account, region, api id, stage) -> tracingEnabled as the server holds it (absent reads as False)."""
    def read_target(target):
        account, region = target
        client = _client(aws, account, region)
        found = {}
        for api in client.get_rest_apis(limit=500)["items"]:
            for stage in client.get_stages(restApiId=api["id"])["item"]:
                found[(account, region, api["id"], stage["stageName"])] = bool(stage.get("tracingEnabled", False))
        return found

    state = {}
    with ThreadPoolExecutor(_SEED_THREADS) as pool:
        for found in pool.map(read_target, where or targets()):
            state.update(found)
    return state


def static_inventory(where=None):
    """The world as a YAML inventory (a dict to dump) that sets the role's host variables itself."""
    hosts = {}
    for account, region in where or targets():
        host_vars = {"tracing_sweep_region": region, "tracing_sweep_account_id": account, "tracing_sweep_account_name": "acct%s" % account[-2:]}
        if account != CALLER_ACCOUNT:
            host_vars["tracing_sweep_role_arn"] = role_arn(account)
        hosts[host_name(account, region)] = host_vars
    return {
        "all": {
            "vars": {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"},
            "hosts": hosts,
        }
    }
