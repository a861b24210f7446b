# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Private to this collection: not an API, may change in any release.

"""Fault injection for the collection's own tests of the steps after a converge.

Every step that runs after an enforcement changed stages (the history's read and write, Security Hub, the
charts, each report format, writing the reports) is guarded so that its failure never costs the run its
report.json. To prove the guard with the real ansible-playbook, the tests set the environment variable
``_CLOUDOPS_APIGW_TRACING_FAULTS`` to a comma-separated list of step names: each named step then fails as a
bug in it would, with InjectedFault. Unset, which it always is outside the tests, ``check`` does nothing.
"""

from __future__ import annotations

import os

FAULTS_VARIABLE = "_CLOUDOPS_APIGW_TRACING_FAULTS"


class InjectedFault(RuntimeError):
    """The failure a test asked a step to have."""


def check(step):
    """Raise InjectedFault when the tests asked ``step`` to fail."""
    wanted = os.environ.get(FAULTS_VARIABLE)
    if wanted and step in (name.strip() for name in wanted.split(",")):
        raise InjectedFault(f"fault injected into the step {step} by {FAULTS_VARIABLE}")
