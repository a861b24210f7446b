#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# The work is done by the action plugin of the same name, on the controller; this file documents it.

DOCUMENTATION = r"""
module: tracing_sweep_report
short_description: Write a tracing sweep report as JSON, Markdown, JUnit XML, CSV and HTML files on the controller
version_added: 1.0.0
description:
  - Writes a tracing sweep report (schema C(docs/report.schema.json)) into a directory on the controller, one
    file per format, each written to a temporary file and renamed into place. The report is the one the
    C(cloudops.apigw_tracing.tracing_sweep) role leaves in C(tracing_sweep_report), or a C(report.json) read back.
  - C(report.json) is always written; the other formats are rendered from the same report, as the role renders them.
  - Runs in the controller's process (an action plugin), whatever host the task runs for.
author: Cloudops Maintainers (@cloudops)
options:
  report:
    description: The report, as the C(cloudops.apigw_tracing.tracing_sweep) role leaves it in C(tracing_sweep_report).
    type: dict
    required: true
  dest:
    description: Directory to write the reports in; created if missing. A relative path is taken from the working directory.
    type: path
    required: true
  formats:
    description:
      - Formats to write. V(json) is written even when not listed.
      - "File names: V(json) C(report.json), V(markdown) C(report.md), V(junit) C(report.xml), V(csv) C(report.csv), V(html) C(report.html)."
      - V(md) is another name of V(markdown), and V(xml) of V(junit) (added in 1.1.0); a format named twice is written once.
      - V(html) is one self-contained page (inline CSS and SVG charts, no network access needed to view it).
    type: list
    elements: str
    choices: [json, markdown, md, junit, xml, csv, html]
    default: [json, markdown, junit, csv, html]
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  check_mode:
    support: full
    details: In check mode nothing is written; RV(changed) says whether a file would change.
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - The files are written on the controller, never on a managed host.
"""

EXAMPLES = r"""
# After the tracing_sweep role, tracing_sweep_report holds the run's report (on the play's first host):
# write another copy of it, JSON and Markdown only, somewhere else.
- name: Write the sweep report
  cloudops.apigw_tracing.tracing_sweep_report:
    report: "{{ tracing_sweep_report }}"
    dest: tracing-sweep-archive
    formats: [json, markdown]
  run_once: true
  register: written

- name: Show where the reports are
  ansible.builtin.debug:
    msg: "{{ written.files.markdown }}"
  run_once: true
"""

RETURN = r"""
dest:
  description: Absolute path of the directory the reports are in.
  returned: success
  type: str
  sample: /var/tmp/tracing-sweep
files:
  description: Path of each report file, by format.
  returned: success
  type: dict
  sample: {"json": "/var/tmp/tracing-sweep/report.json", "markdown": "/var/tmp/tracing-sweep/report.md"}
changed:
  description: Whether any file's content changed (in check mode, would change).
  returned: always
  type: bool
"""
