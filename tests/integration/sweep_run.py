# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What one run of the sweep left behind: the ansible-playbook run and its reports."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Sweep:
    run: object
    report_dir: Path

    @property
    def report(self):
        path = self.report_dir / "report.json"
        assert path.exists(), "no report.json; %s" % self.run.describe()
        return json.loads(path.read_text(encoding="utf-8"))

    @property
    def summary(self):
        return self.report["summary"]

    def rows(self):
        return {(r["account_id"], r["region"], r["rest_api_id"], r["stage_name"]): r for r in self.report["stages"]}

    def targets(self):
        return {t["host"]: t for t in self.report["targets"]}

    def entries(self, task_suffix):
        """Result-log entries (one per host) of the role task whose name ends with ``task_suffix``."""
        return [e for e in self.run.entries if e["task"].endswith(task_suffix)]
