# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Private to this collection: not an API, may change in any release.

"""The remediate playbook's first step: the target an event names, found in the accounts inventory.

The playbook is given the event's account and region (apigw_tracing_event_account_id, apigw_tracing_event_region),
the stages (tracing_sweep_stages) and a mode (apigw_tracing_remediate_mode: enforce or audit). This module checks
them before any AWS call, finds the one inventory host whose tracing_sweep_account_id and tracing_sweep_region are
the event's (the role to assume comes from that host, as in the scheduled sweep), and names the run's own report
directory, so that each remediation keeps its report set (its report.json the rollback's input). The sweep itself
is the role's, unchanged: the same policy, guard, reports and findings, limited to the named stages.
"""

from __future__ import annotations

import datetime
import os
import re

from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import account_id_problem
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import allowed_regions
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import describe
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import region_problem
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._settings.checks import named_stages
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._settings.checks import named_stages_problems

MODES = ("enforce", "audit")
# The playbook's own variables (the role's are tracing_sweep_*).
ACCOUNT_VARIABLE = "apigw_tracing_event_account_id"
REGION_VARIABLE = "apigw_tracing_event_region"
MODE_VARIABLE = "apigw_tracing_remediate_mode"
BASE_DIR_VARIABLE = "apigw_tracing_remediation_dir"
DEFAULT_BASE_DIR = "tracing-sweep-remediations"
# Under ansible-rulebook a playbook runs in a temporary directory that is removed after it: its reports go under the
# home directory of the user running ansible-rulebook unless the rulebook's remediation_dir says where.
DEFAULT_EDA_BASE_DIR = "~/tracing-sweep-remediations"
STAGES_VARIABLE = "tracing_sweep_stages"
EVENT_VARIABLES = (ACCOUNT_VARIABLE, REGION_VARIABLE, MODE_VARIABLE, STAGES_VARIABLE)
# The group the target host joins for the playbook's second play.
TARGET_GROUP = "tracing_sweep_event_target"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def event_of(given, eda_event=None):
    """The remediation's {account_id, region, mode, stages}: the playbook's variables ``given``, else what the event
    source's event (ansible_eda.event, under ansible-rulebook) says: its stage's account and region, its batch's
    stages. An event's values stay as the source wrote them (an account id keeps its digits as a string)."""
    stage = (eda_event or {}).get("stage") if isinstance(eda_event, dict) else None
    batch = (eda_event or {}).get("batch") if isinstance(eda_event, dict) else None
    stage = stage if isinstance(stage, dict) else {}
    batch = batch if isinstance(batch, dict) else {}
    return {
        "account_id": given.get(ACCOUNT_VARIABLE, stage.get("account_id")),
        "region": given.get(REGION_VARIABLE, stage.get("region")),
        "mode": given.get(MODE_VARIABLE, "enforce"),
        "stages": given.get(STAGES_VARIABLE) or batch.get("stages"),
    }


def event_problems(event):
    """Problems of the event's variables {account_id, region, mode, stages, allow_unknown_regions}, each naming its
    variable and rule; none may be missing."""
    problems = []
    account_id = event.get("account_id")
    if account_id in (None, ""):
        problems.append(f"{ACCOUNT_VARIABLE}: must be given: the 12-digit account id of the event (the EventBridge event's account)")
    else:
        problem = account_id_problem(account_id, ACCOUNT_VARIABLE)
        if problem:
            problems.append(problem)
    region = event.get("region")
    if region in (None, ""):
        problems.append(f"{REGION_VARIABLE}: must be given: the region of the event (the EventBridge event's region)")
    else:
        problem = region_problem(region, REGION_VARIABLE, allowed=allowed_regions(event.get("allow_unknown_regions")),
                                 opt_out="tracing_sweep_allow_unknown_regions")
        if problem:
            problems.append(problem)
    mode = event.get("mode")
    if mode not in MODES:
        problems.append(f"{MODE_VARIABLE}: must be one of {', '.join(MODES)} (audit changes nothing), got {describe(mode)}")
    base = event.get("base_dir")
    if base not in (None, "") and not isinstance(base, str):
        problems.append(f"{BASE_DIR_VARIABLE}: must be a directory path, got {describe(base)}")
    elif event.get("under_rulebook") and base and not os.path.isabs(os.path.expanduser(base)):
        problems.append(
            f"{BASE_DIR_VARIABLE}: must be an absolute path when ansible-rulebook runs the playbook (it runs it in a temporary "
            f"directory, removed afterwards: the reports would be lost), got {describe(base)}"
        )
    stages = event.get("stages")
    if stages in (None, "", []):
        problems.append("tracing_sweep_stages: must name the stages to remediate (the event's), each {rest_api_id, stage_name}; "
                        "the remediate playbook never sweeps a whole region")
    else:
        problems.extend(named_stages_problems(stages))
    return problems


def find_target(account_id, region, inventory):
    """(host name or None, the names of every matching host) among ``inventory`` [(name, variables)]: the hosts whose
    tracing_sweep_account_id and tracing_sweep_region are the event's (or whose tracing_sweep_regions has its region). An
    account id the inventory gives as a number (unquoted in YAML) is compared as the digits it has."""
    wanted = (str(account_id), str(region))

    def covers(variables):
        if str(variables.get("tracing_sweep_account_id", "")) != wanted[0]:
            return False
        regions = variables.get("tracing_sweep_regions")
        if isinstance(regions, str):
            regions = regions.split(",")
        # A host that stands for an account (the accounts inventory's host_per: account) covers each of its regions.
        return str(variables.get("tracing_sweep_region", "")) == wanted[1] or (isinstance(regions, (list, tuple)) and wanted[1] in [str(r) for r in regions])

    matching = sorted(str(name) for name, variables in inventory if covers(variables))
    return (matching[0] if matching else None), matching


def no_target_message(account_id, region):
    return (
        f"No inventory host is the target of this event: none has tracing_sweep_account_id {account_id} and tracing_sweep_region "
        f"{region}. Nothing was done and no AWS call was made. Add the account and region to the accounts inventory that "
        "ansible-rulebook (or the job template) is given, or leave the region out of the EventBridge rule; the scheduled sweep "
        "does not cover them either."
    )


def report_dir(base, account_id, region, now=None, under_rulebook=False):
    """The run's own report directory, under ``base`` (empty: DEFAULT_BASE_DIR, or DEFAULT_EDA_BASE_DIR under
    ansible-rulebook): time, account and region, e.g.
    tracing-sweep-remediations/20261205T090000.123456Z-123456789012-eu-west-1 (never an earlier run's)."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    name = "%s-%s-%s" % (now.strftime("%Y%m%dT%H%M%S.%fZ"), account_id, region)
    base = base or (DEFAULT_EDA_BASE_DIR if under_rulebook else DEFAULT_BASE_DIR)
    return os.path.join(os.path.expanduser(str(base)), _UNSAFE.sub("_", name))


def event_target_step(event, inventory):
    """The remediate playbook's target: {"host", "report_dir", "stages", "lines"} or a failure (the message names
    the variable and the rule, or says that no host matches)."""
    problems = event_problems(event)
    if problems:
        return {"failed": True, "msg": "Invalid remediation variables, nothing was done and no AWS call was made: " + "; ".join(problems)}
    account_id, region = str(event["account_id"]), str(event["region"])
    host, matching = find_target(account_id, region, inventory)
    if host is None:
        return {"failed": True, "msg": no_target_message(account_id, region)}
    stages = named_stages(event["stages"])
    lines = ["Remediation (%s) of %d stage%s of account %s in %s, on inventory host %s" % (
        event["mode"], len(stages), "" if len(stages) == 1 else "s", account_id, region, host)]
    if len(matching) > 1:
        lines.append("Warning: %d inventory hosts have this account and region (%s); %s, the first by name, is used"
                     % (len(matching), ", ".join(matching), host))
    where = report_dir(event.get("base_dir"), account_id, region, under_rulebook=event.get("under_rulebook"))
    # A host that stands for an account sweeps only the event's region ("region": the playbook sets it as the host's
    # tracing_sweep_regions); a host of one region is the target as it is.
    account_host = any(str(name) == host and variables.get("tracing_sweep_regions") not in (None, "", []) for name, variables in inventory)
    return {"host": host, "report_dir": where, "stages": stages, "lines": lines + ["Reports: %s" % where], "region": region if account_host else None}
