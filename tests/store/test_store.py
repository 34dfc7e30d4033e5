"""The store: atomic content-addressed blobs, WAL catalog, migrations, one-writer lock."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa

from routeyard.errors import StoreBusyError, StoreError
from routeyard.store import NewAsset, Store, migrations
from routeyard.store import schema as t


def test_blobs_are_named_by_their_hash_and_deduplicated(home):
    with Store.open(home) as store:
        a = store.blobs.put_bytes(b"hello")
        assert a == "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        assert store.blobs.put_bytes(b"hello") == a
        assert store.blobs.read(a) == b"hello"
        assert list(store.blobs.iter_digests()) == [a]


def test_put_file_streams_and_hashes_the_same(home, tmp_path):
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(3 * (1 << 20) + 17))
    with Store.open(home) as store:
        digest = store.blobs.put_file(big)
        assert store.blobs.read(digest) == big.read_bytes()
        assert store.blobs.verify(digest)


def test_verify_detects_corrupt_missing_and_orphan_blobs(home):
    with Store.open(home) as store:
        assets = [store.put_bytes(b'{"n": %d}' % i, source="t") for i in range(3)]
        for a in assets:
            store.catalog.add_asset(a)
        store.blobs.path(assets[0].id).write_bytes(b'{"n": 666}')  # tampered
        store.blobs.path(assets[1].id).unlink()  # lost
        orphan = store.blobs.put_bytes(b"no catalog row")
        report = store.verify()
    assert report.corrupt == [assets[0].id] and report.missing == [assets[1].id]
    assert report.orphans == [orphan] and not report.ok


def test_catalog_runs_in_wal_mode_with_its_schema_version(home):
    Store.open(home).close()
    con = sqlite3.connect(home / "catalog.sqlite")
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert con.execute("SELECT max(version) FROM schema_version").fetchone()[0] == migrations.LATEST
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {
        "assets",
        "runs",
        "steps",
        "lineage_edges",
        "provider_jobs",
        "route_decisions",
        "gate_outcomes",
        "cache_entries",
        "events",
        "step_outputs",
    } <= tables


def test_reopening_does_not_reapply_migrations_and_newer_schemas_are_refused(home):
    Store.open(home).close()
    Store.open(home).close()
    con = sqlite3.connect(home / "catalog.sqlite")
    assert con.execute("SELECT count(*) FROM schema_version").fetchone()[0] == len(
        migrations.MIGRATIONS
    )
    con.execute("INSERT INTO schema_version VALUES (999, 'from the future', 0)")
    con.commit()
    with pytest.raises(StoreError, match="newer than this routeyard"):
        Store.open(home)


def test_schema_compiles_for_postgresql():
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.schema import CreateTable

    ddl = "\n".join(
        str(CreateTable(tbl).compile(dialect=postgresql.dialect()))
        for tbl in t.metadata.sorted_tables
    )
    assert "JSON" in ddl and "BIGINT" in ddl and "DATETIME" not in ddl


def test_a_step_result_is_recorded_all_or_nothing(home):
    with Store.open(home) as store:
        cat = store.catalog
        cat.create_run(
            run_id="r1",
            pipeline_path=None,
            base_dir="/",
            pipeline_text="",
            overrides={},
            parent_run_id=None,
            rerun_from=None,
            budget_usd=None,
            pid=1,
        )
        src = store.put_bytes(b'{"src": 1}', source="t")
        cat.add_asset(src)
        step = cat.start_step("r1", "a", "a", 0, op="x", status="running")
        out = store.put_bytes(b'{"out": 1}', source="t")
        dangling = NewAsset(id="f" * 64, kind="json", mime="application/json", size_bytes=1)
        bad_input = "0" * 64  # not an asset: the lineage edge's foreign key fails
        with pytest.raises(sa.exc.IntegrityError):
            cat.complete_step(
                step, outputs=[out, dangling], inputs=[bad_input], cache_key="k", status="executed"
            )
        assert cat.find_cached("k") is None
        with pytest.raises(Exception, match="no asset"):
            cat.get_asset(out.id)
        assert cat.get_step(step).status == "running"
        cat.complete_step(step, outputs=[out], inputs=[src.id], cache_key="k", status="executed")
        assert cat.find_cached("k") == (step, [out.id])
        assert cat.producer_of(out.id).id == step


def test_run_lock_refuses_a_second_holder_and_is_freed_by_kill_9(home):
    with Store.open(home) as store:
        lock = store.run_lock()
        lock.acquire()
        with pytest.raises(StoreBusyError, match=f"pid {os.getpid()}"):
            store.run_lock().acquire()
        lock.release()
        with store.run_lock():  # free again
            pass

    code = (
        "import sys,time; sys.path.insert(0, 'src'); from routeyard.store import Store;"
        f"Store.open({str(home)!r}).run_lock().acquire(); print('held', flush=True); time.sleep(60)"
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "held"
    with Store.open(home) as store, pytest.raises(StoreBusyError):
        store.run_lock().acquire()
    child.kill()
    child.wait()
    time.sleep(0.05)
    with Store.open(home) as store, store.run_lock():
        pass


def test_a_version_2_store_gains_the_studio_tables_and_keeps_its_runs(home):
    with Store.open(home) as store:
        store.catalog.create_run(
            run_id="old",
            pipeline_path=None,
            base_dir=".",
            pipeline_text="",
            overrides={},
            parent_run_id=None,
            rerun_from=None,
            budget_usd=None,
            pid=None,
        )
    con = sqlite3.connect(home / "catalog.sqlite")
    con.execute("DROP TABLE derived")
    con.execute("DROP TABLE annotations")
    con.execute("DELETE FROM schema_version WHERE version >= 3")
    con.commit()
    con.close()
    with Store.open(home) as store:
        assert store.catalog.get_run("old").id == "old"
        asset = store.put_bytes(b'{"a": 1}', source="t")
        store.catalog.add_asset(asset)
        note = store.catalog.add_annotation(asset.id, frame=None, label="ok", note="")
        assert [a["id"] for a in store.catalog.annotations(asset.id)] == [note]
        thumb = store.put_bytes(b'{"b": 2}', source="t")
        store.catalog.set_derived(asset.id, "thumb:320", thumb)
        assert store.catalog.derived(asset.id, "thumb:320") == thumb.id
