# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Writing generated playbooks for the integration tests."""

from __future__ import annotations

import yaml


def write_play(path, name, tasks):
    """Write a one-play playbook on localhost, modules run by the controller's (the venv's) Python."""
    play = [{
        "name": name,
        "hosts": "localhost",
        "gather_facts": False,
        "connection": "local",
        "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"},
        "tasks": tasks,
    }]
    path.write_text(yaml.safe_dump(play, sort_keys=False), encoding="utf-8")
    return str(path)
