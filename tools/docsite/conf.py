# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sphinx configuration of the collection's documentation site (`make docs`).

antsibull-docs writes the RST of every module, plugin and role, and copies the guides of docs/docsite/rst/ beside
them (.build/docsite/rst/); Sphinx builds that into .build/docsite/html/ with warnings as errors, so a broken
reference or link target fails the build. It runs offline: the few pages of the Ansible documentation that the
generated plugin pages refer to are resolved from ANSIBLE_DOCS_TARGETS below instead of a downloaded inventory, and
any other reference that does not resolve is an error.
"""

from __future__ import annotations

from docutils import nodes

project = "cloudops.apigw_tracing"
copyright = "Contributors to the cloudops.apigw_tracing collection"  # pylint: disable=redefined-builtin
title = "cloudops.apigw_tracing"
html_short_title = "cloudops.apigw_tracing"

extensions = ["sphinx_antsibull_ext"]

pygments_style = "ansible"
highlight_language = "YAML+Jinja"

html_theme = "sphinx_ansible_theme"
html_show_sphinx = False
html_use_smartypants = True
html_use_modindex = False
html_use_index = False
html_copy_source = False

default_role = "any"
# Every cross-reference must resolve (with -W, an unresolved one fails the build).
nitpicky = True

ANSIBLE_DOCS = "https://docs.ansible.com/projects/ansible/devel/"
# (role, target) -> (page of the Ansible documentation, title). antsibull-docs refers to these from the pages it
# generates (an action plugin's note, the common return values, the configuration settings behind inventory cache
# options). A new one fails the build as an unresolved reference until it is added here.
ANSIBLE_DOCS_TARGETS = {
    ("ref", "action_plugins"): ("plugins/action.html#action-plugins", "Action plugins"),
    ("ref", "common_return_values"): ("reference_appendices/common_return_values.html#common-return-values", "Return Values"),
    ("ref", "ansible_configuration_settings"): ("reference_appendices/config.html#ansible-configuration-settings", "Ansible Configuration Settings"),
    ("envvar", "ANSIBLE_CACHE_PLUGIN"): ("reference_appendices/config.html#envvar-ANSIBLE_CACHE_PLUGIN", None),
    ("envvar", "ANSIBLE_CACHE_PLUGIN_CONNECTION"): ("reference_appendices/config.html#envvar-ANSIBLE_CACHE_PLUGIN_CONNECTION", None),
    ("envvar", "ANSIBLE_CACHE_PLUGIN_PREFIX"): ("reference_appendices/config.html#envvar-ANSIBLE_CACHE_PLUGIN_PREFIX", None),
    ("envvar", "ANSIBLE_CACHE_PLUGIN_TIMEOUT"): ("reference_appendices/config.html#envvar-ANSIBLE_CACHE_PLUGIN_TIMEOUT", None),
}


def resolve_ansible_docs_target(app, env, node, contnode):  # pylint: disable=unused-argument
    """A link to the Ansible documentation for a reference listed in ANSIBLE_DOCS_TARGETS; None for any other."""
    found = ANSIBLE_DOCS_TARGETS.get((node.get("reftype"), node.get("reftarget")))
    if found is None:
        return None
    page, text = found
    reference = nodes.reference("", "", internal=False, refuri=ANSIBLE_DOCS + page)
    reference += contnode if node.get("refexplicit") or not text else nodes.inline(text, text)
    return reference


def setup(app):
    app.connect("missing-reference", resolve_ansible_docs_target)
