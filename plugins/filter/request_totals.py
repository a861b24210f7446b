# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
name: request_totals
short_description: Add up how the API Gateway requests of several module runs were answered
version_added: 1.0.0
deprecated:
  removed_in: 2.0.0
  why: >-
    It is the tracing_sweep role's own plumbing, made public in 1.0.0 by mistake; the role no longer uses it (its
    steps run in the controller's process).
  alternative: >-
    Use the request counts the C(cloudops.apigw_tracing.tracing_sweep) role prints, or a sum over the modules'
    RV(cloudops.apigw_tracing.apigw_stage_tracing#module:requests).
author:
  - Cloudops Maintainers (@cloudops)
description:
  - Sums the C(requests) counts that M(cloudops.apigw_tracing.apigw_stage_tracing_info) and
    M(cloudops.apigw_tracing.apigw_stage_tracing) return, so that a play can say how many requests were sent and
    how many answers were throttled or failed and then retried.
  - Each list item is a registered module result (its C(requests) is used) or a C(requests) mapping itself.
    Results without counts (a skipped task, an empty mapping) add nothing.
options:
  _input:
    description: Registered results of the two modules, or their C(requests) mappings.
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Read every stage of the region
  cloudops.apigw_tracing.apigw_stage_tracing_info:
    region: us-east-1
  register: found

- name: Say how the requests went
  ansible.builtin.debug:
    msg: "{{ [found] | cloudops.apigw_tracing.request_totals }}"
"""

RETURN = r"""
_value:
  description: The totals; every key is present.
  type: dict
  contains:
    sent:
      description: HTTP requests sent, retries included.
      type: int
    throttled:
      description: Answers HTTP 429 (TooManyRequestsException), retried.
      type: int
    server_errors:
      description: Answers HTTP 5xx, retried.
      type: int
    connection_errors:
      description: Requests that got no answer, retried.
      type: int
  sample: {"sent": 602, "throttled": 0, "server_errors": 3, "connection_errors": 1}
"""

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

FIELDS = ("sent", "throttled", "server_errors", "connection_errors")


def request_totals(results):
    """{field: total} over the requests counts of the given results (or counts)."""
    if isinstance(results, (str, bytes, Mapping)) or not hasattr(results, "__iter__"):
        raise AnsibleFilterError("request_totals: input must be a list of module results or requests mappings")
    totals = dict.fromkeys(FIELDS, 0)
    for index, item in enumerate(results):
        if item is None:
            continue
        if not isinstance(item, Mapping):
            raise AnsibleFilterError(f"request_totals: item {index} must be a module result or a requests mapping, got {type(item).__name__}")
        counts = item.get("requests", item)
        if not isinstance(counts, Mapping):
            raise AnsibleFilterError(f"request_totals: item {index}.requests must be a mapping")
        for field in FIELDS:
            value = counts.get(field, 0)
            if isinstance(value, bool) or not isinstance(value, int):
                raise AnsibleFilterError(f"request_totals: item {index} {field} must be an integer, got {value!r}")
            totals[field] += value
    return totals


class FilterModule:
    def filters(self):
        return {"request_totals": request_totals}
