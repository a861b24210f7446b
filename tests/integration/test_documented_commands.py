# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The commands the guides document for the region_tracing and merge_reports playbooks, run as a user types them.

Each runs as it is written (only the merge's /var/lib/tracing-sweep becomes a temporary directory), with none of
the settings the other tests use to keep ansible-core quiet (ANSIBLE_LOCALHOST_WARNING,
ANSIBLE_INVENTORY_UNPARSED_WARNING): it must succeed and print no [WARNING]. The playbooks' header comments show
the same commands.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess

from conftest import PLAYBOOK_TIMEOUT
from conftest import REPO
from docsite import code_blocks
from docsite import guide
from local_aws import seed

AUDIT_ENFORCE_GUIDE = guide("guide_audit_enforce")
AWX_GUIDE = guide("guide_awx")
ROLE_README = (REPO / "roles" / "tracing_sweep" / "README.md").read_text(encoding="utf-8")
WORLD = [
    {"name": "orders", "id": "a1b2c3d4e5", "stages": {"prod": {"tracing": True}, "staging": {}}},
    {"name": "billing", "id": "f6g7h8i9j0", "stages": {"prod": {}, "v1": {"tracing": True}}},
]


def first_sh_block(text, after):
    """The first sh block after the heading ``after``: a Markdown fence (the role's README) or an RST code-block (a guide)."""
    rest = text.split(after, 1)[1]
    fence = re.search(r"```sh\n(.*?)```", rest, re.S)
    directive = rest.find(".. code-block:: sh")
    if directive != -1 and (fence is None or directive < fence.start()):
        return code_blocks(rest[directive:], "sh")[0]
    return fence.group(1)


def commands(text, after, playbook):
    """The `ansible-playbook ... <playbook>` commands of the first sh block after the heading ``after``."""
    block = first_sh_block(text, after)
    lines = block.replace("\\\n", " ").splitlines()
    found = [shlex.split(line, comments=True) for line in lines if line.startswith("ansible-playbook")]
    found = [command for command in found if playbook in command]
    assert found, block
    return found


def run(command, cwd, aws):
    """The command as a user runs it: their shell's environment, no ansible.cfg, the local AWS as AWS_* variables."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "ANSIBLE_"))}
    env.update(aws.env())
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": os.environ["ANSIBLE_COLLECTIONS_PATH"],
        # No ansible.cfg of the checkout or of $HOME; an empty one, so that nothing silences a warning.
        "ANSIBLE_CONFIG": str(cwd / "ansible.cfg"),
        "ANSIBLE_LOCAL_TEMP": str(cwd / ".ansible-tmp"),
        "ANSIBLE_NOCOLOR": "1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "HTTP_PROXY": "http://127.0.0.1:9",
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "NO_PROXY": "127.0.0.1,localhost",
    })
    (cwd / "ansible.cfg").write_text("[defaults]\n", encoding="utf-8")
    command = [shutil.which(command[0])] + command[1:]
    return subprocess.run(command, cwd=str(cwd), env=env, capture_output=True, text=True, timeout=PLAYBOOK_TIMEOUT, check=False)


def assert_quiet_success(done):
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "[WARNING]" not in output, output
    assert "[DEPRECATION WARNING]" not in output, output


def test_region_tracing_and_merge_as_documented_print_no_warning(aws, tmp_path):
    apigw_west = aws.client("apigateway", region="eu-west-1")
    seed(apigw_west, WORLD)
    seed(aws.client("apigateway"), WORLD)
    region_commands = commands(AUDIT_ENFORCE_GUIDE, "A whole region\n", "cloudops.apigw_tracing.region_tracing")
    assert len(region_commands) == 3
    reports = {}
    for index, command in enumerate(region_commands):
        done = run(command, tmp_path, aws)
        assert_quiet_success(done)
        # Each run writes ./tracing-sweep-reports; keep each one's set for the merges below.
        reports[index] = tmp_path / f"run{index}"
        shutil.copytree(tmp_path / "tracing-sweep-reports", reports[index])
    # The enforcement of eu-west-1, then the turn-off of the environment's region (us-east-1): two slices.
    assert json.loads((reports[1] / "report.json").read_text(encoding="utf-8"))["targets"][0]["host"] == "region_tracing_eu-west-1"
    assert json.loads((reports[2] / "report.json").read_text(encoding="utf-8"))["targets"][0]["host"] == "region_tracing_us-east-1"

    # The AWX guide's merge of two slices, with /var/lib/tracing-sweep made a temporary directory.
    (merge,) = commands(AWX_GUIDE, "AWX / Tower\n", "cloudops.apigw_tracing.merge_reports")
    slices = tmp_path / "var-lib-tracing-sweep"
    shutil.copytree(reports[1], slices / "4711")
    shutil.copytree(reports[2], slices / "4712")
    merge = [part.replace("/var/lib/tracing-sweep", str(slices)) for part in merge]
    done = run(merge, tmp_path, aws)
    assert_quiet_success(done)
    merged = json.loads((slices / "merged" / "report.json").read_text(encoding="utf-8"))
    assert sorted(target["host"] for target in merged["targets"]) == ["region_tracing_eu-west-1", "region_tracing_us-east-1"]

    # The role README's merge, its relative paths taken from the working directory.
    (merge,) = commands(ROLE_README, "## Merge the reports of a sliced run", "cloudops.apigw_tracing.merge_reports")
    shutil.copytree(reports[1], tmp_path / "slice1")
    shutil.copytree(reports[2], tmp_path / "slice2")
    done = run(merge, tmp_path, aws)
    assert_quiet_success(done)
    assert (tmp_path / "merged" / "report.json").is_file()


def test_the_playbooks_headers_show_the_documented_commands():
    """The commands in the playbooks' header comments are written as the guides': with their inventory."""
    for name in ("region_tracing", "merge_reports"):
        header = (REPO / "playbooks" / f"{name}.yml").read_text(encoding="utf-8").split("\n- name:", 1)[0]
        shown = re.findall(r"^#\s+(ansible-playbook .*)$", header, re.M)
        assert shown and all(line.startswith(f"ansible-playbook -i localhost, -c local cloudops.apigw_tracing.{name} ") for line in shown), shown


def test_md_and_xml_name_the_markdown_and_junit_reports(aws, tmp_path):
    """tracing_sweep_report_formats takes a format by its file's extension too (the argument spec lists md and xml)."""
    seed(aws.client("apigateway"), WORLD)
    command = ["ansible-playbook", "-i", "localhost,", "-c", "local", "cloudops.apigw_tracing.region_tracing", "--check",
               "-e", json.dumps({"tracing_sweep_report_formats": ["md", "xml", "markdown"], "tracing_sweep_report_dir": "r"})]
    done = run(command, tmp_path, aws)
    assert_quiet_success(done)
    assert sorted(path.name for path in (tmp_path / "r").iterdir()) == ["report.json", "report.md", "report.xml"]
    assert (tmp_path / "r" / "report.md").read_text(encoding="utf-8").startswith("# API Gateway X-Ray tracing sweep\n")


def test_after_a_collection_playbook_a_play_of_your_own_judges_its_own_run(aws, tmp_path):
    """The collection's playbooks judge the run in their last play, on localhost, which their first play announces.
    Once judged, the announcement is spent: a play of your own with the role, later in the same ansible-playbook,
    fails its own run (here non-compliant, with tracing_sweep_fail_on_noncompliant) in its own play."""
    seed(aws.client("apigateway"), WORLD)
    plays = [
        {"import_playbook": "cloudops.apigw_tracing.audit"},
        {
            "name": "Audit with the role, failing on non-compliance",
            "hosts": "all",
            "gather_facts": False,
            "check_mode": True,
            "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}", "tracing_sweep_fail_on_noncompliant": True,
                     "tracing_sweep_report_dir": str(tmp_path / "own")},
            "roles": [{"role": "cloudops.apigw_tracing.tracing_sweep"}],
        },
    ]
    (tmp_path / "play.yml").write_text(json.dumps(plays), encoding="utf-8")
    done = run(["ansible-playbook", "-i", "localhost,", "-c", "local", "play.yml", "-e", "tracing_sweep_region=us-east-1"], tmp_path, aws)
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    # The audit playbook passed (its run is non-compliant, which it does not fail on); the play of your own failed.
    assert json.loads((tmp_path / "tracing-sweep-reports" / "report.json").read_text(encoding="utf-8"))["verdict"] == "noncompliant"
    assert json.loads((tmp_path / "own" / "report.json").read_text(encoding="utf-8"))["verdict"] == "noncompliant"
    assert re.search(r"fatal: \[localhost\]: FAILED! => .*non-compliant", output), output
    assert "PLAY [Judge the run as a whole]" in output and output.rindex("PLAY [Judge the run as a whole]") < output.rindex("fatal:"), output


def test_after_the_role_a_play_reads_tracing_sweep_report_with_no_deprecation(aws, tmp_path):
    """The role README: after the role, tracing_sweep_report holds the report. It is a variable the role sets: an
    action's facts reach the play as top-level variables only while ansible-core's INJECT_FACTS_AS_VARS is on, which
    ansible-core deprecates (a warning on each read, and no such variable once the default changes)."""
    seed(aws.client("apigateway"), WORLD)
    play = [{
        "name": "Audit with the role, then use its report",
        "hosts": "all",
        "gather_facts": False,
        "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"},
        "roles": [{"role": "cloudops.apigw_tracing.tracing_sweep"}],
        "post_tasks": [{
            "name": "Keep the report the role gave the play",
            "ansible.builtin.copy": {"content": "{{ tracing_sweep_report | to_json }}", "dest": str(tmp_path / "seen.json"), "mode": "0600"},
            "check_mode": False,
        }],
    }]
    (tmp_path / "play.yml").write_text(json.dumps(play), encoding="utf-8")
    done = run(["ansible-playbook", "-i", "localhost,", "-c", "local", "play.yml", "--check", "-e", "tracing_sweep_region=us-east-1"], tmp_path, aws)
    assert_quiet_success(done)
    seen = json.loads((tmp_path / "seen.json").read_text(encoding="utf-8"))
    assert seen == json.loads((tmp_path / "tracing-sweep-reports" / "report.json").read_text(encoding="utf-8"))
    assert seen["summary"]["stages"] == 4 and seen["summary"]["noncompliant"] == 2
