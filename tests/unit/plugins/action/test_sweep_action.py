# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The private action that runs the role's tasks: what it does to the process it runs in."""

from __future__ import annotations

import gc
import multiprocessing

import pytest

from ansible.executor.process.worker import WorkerProcess

from ansible_collections.cloudops.apigw_tracing.plugins.action import _sweep


@pytest.fixture
def unfrozen():
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_a_worker_freezes_what_it_inherited_so_that_its_collections_skip_it(monkeypatch, unfrozen):
    monkeypatch.setattr(multiprocessing, "current_process", lambda: WorkerProcess.__new__(WorkerProcess))
    _sweep.freeze_inherited_objects()
    assert gc.get_freeze_count() > 0


def test_the_main_process_is_left_as_it_is(unfrozen):
    assert not isinstance(multiprocessing.current_process(), WorkerProcess)
    _sweep.freeze_inherited_objects()
    assert gc.get_freeze_count() == 0
