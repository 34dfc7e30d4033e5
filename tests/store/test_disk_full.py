"""A full disk is one clear line and a run that ends failed: never a traceback,
never a run left 'running', never a corrupt store."""

from __future__ import annotations

import errno
import os

import pytest
import sqlalchemy as sa

from routeyard import api
from routeyard.errors import StoreError
from routeyard.store import Store
from routeyard.store._sql import SqlCatalog

PIPELINE = "steps:\n  a: {op: test.work, value: 1}\n  b: {op: test.work, input: a, value: 2}\n"


def test_blobs_that_cannot_be_written_fail_their_step_clearly(home, write, monkeypatch):
    real_replace = os.replace
    blobs = []

    def full_after_one(src, dst, *args, **kwargs):  # the disk fills after the first blob
        if "blobs" in str(dst):
            blobs.append(dst)
            if len(blobs) > 1:
                raise OSError(errno.ENOSPC, "No space left on device")
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", full_after_one)
    run = api.run_pipeline(write(PIPELINE))
    by = {s["name"]: s for s in run["steps"]}
    assert run["status"] == "failed"
    assert by["a"]["status"] == "executed" and by["b"]["status"] == "failed"
    assert "No space left on device" in by["b"]["error"] and "free disk space" in by["b"]["error"]
    assert "bug" not in by["b"]["error"]
    monkeypatch.setattr(os, "replace", real_replace)
    with Store.open(home) as store:
        assert store.verify().ok
    again = api.run_pipeline(write(PIPELINE))  # space is back: a is cached, b runs
    assert [s["status"] for s in again["steps"]] == ["cached", "executed"]


def test_a_catalog_that_cannot_be_written_ends_the_run_failed_in_one_line(home, write, monkeypatch):
    real = SqlCatalog.complete_step

    def disk_full(self, *args, **kwargs):
        with self._tx():
            raise sa.exc.OperationalError("UPDATE steps", {}, Exception("database or disk is full"))

    monkeypatch.setattr(SqlCatalog, "complete_step", disk_full)
    with pytest.raises(StoreError, match="cannot be written: database or disk is full") as err:
        api.run_pipeline(write(PIPELINE))
    assert "free disk space" in (err.value.hint or "")
    monkeypatch.setattr(SqlCatalog, "complete_step", real)
    with Store.open(home) as store:
        [run] = store.catalog.list_runs()
        assert store.catalog.get_run(run.id).status == "failed"  # never left 'running'
        assert store.verify().ok
