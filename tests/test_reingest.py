"""Re-ingesting: unchanged papers are skipped, changed ones replaced exactly, removal, and crash safety
(a real SIGKILL at several points of an ingest leaves a consistent index that the next ingest repairs)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from pypdf import PdfReader, PdfWriter

from mmqa.errors import MMQAError
from mmqa.service import MMQA
from tests.conftest import CORPUS, pdf, run_cli


def _tree_state(path: Path) -> dict[str, float]:
    return {str(p): p.stat().st_mtime_ns for p in path.rglob("*") if p.is_file()}


def _consistent(service: MMQA) -> None:
    """Every paper in the manifest has exactly its chunks visible; nothing else is returned."""
    manifest = service.manifest()
    for doc_id, record in manifest.papers.items():
        stored = set(service.store.ids_of(doc_id))
        assert set(record.chunk_ids) <= stored, f"{doc_id}: chunks of the current version are missing"
    live = manifest.live_chunk_ids()
    for query in ("residual learning", "identity shortcut projection", "ImageNet error rates"):
        for passage in service.search(query, 8).passages:
            assert passage.chunk_id in live


@pytest.fixture
def small_home(tmp_path, settings_for):
    """An index holding ResNet (12 pages), in its own home."""
    folder = tmp_path / "papers"
    folder.mkdir()
    shutil.copy(pdf("1512.03385"), folder / "1512.03385.pdf")
    service = MMQA(settings_for(tmp_path / "home"))
    report = service.ingest([folder])
    assert report.files[0].status == "added"
    return service, folder / "1512.03385.pdf"


def _shorter_copy(source: Path, target: Path, keep_pages: int) -> None:
    writer = PdfWriter()
    for page in PdfReader(str(source)).pages[:keep_pages]:
        writer.add_page(page)
    with target.open("wb") as handle:
        writer.write(handle)


def test_unchanged_corpus_reingest_writes_nothing(indexed):
    home = indexed.settings.home
    chroma_before = indexed.store.count(), indexed.store.sentence_count()
    files_before = _tree_state(home / "index")
    report = indexed.ingest([CORPUS])
    assert {f.status for f in report.files} == {"unchanged"}
    assert (indexed.store.count(), indexed.store.sentence_count()) == chroma_before
    assert _tree_state(home / "index") == files_before  # manifest and BM25 untouched


def test_modified_pdf_replaces_its_chunks_exactly(small_home):
    service, path = small_home
    old = service.manifest().papers["1512.03385"]
    _shorter_copy(pdf("1512.03385"), path, keep_pages=8)  # a corrected PDF: the last 4 pages are gone
    report = service.ingest([path])
    result = report.files[0]
    assert result.status == "updated"
    assert result.reused > 0  # pages 1-8 are unchanged: their vectors come from the cache
    new = service.manifest().papers["1512.03385"]
    assert new.sha256 != old.sha256 and new.pages == 8
    stored = set(service.store.ids_of("1512.03385"))
    assert stored == set(new.chunk_ids)  # none of the old version remain, none duplicated
    assert not stored & set(old.chunk_ids)
    chunks = service.store.get(new.chunk_ids)
    assert max(c.meta["page_end"] for c in chunks) <= 8
    assert {c.meta["page_start"] for c in chunks} >= set(range(1, 9)) - {7}  # every kept page still covered
    assert all(e.chunk_id in set(new.chunk_ids) for e in service.bm25.entries)


def test_index_from_other_settings_is_found_and_rebuilt(small_home, settings_for):
    """A parser or chunker change opens a new, empty index: mmqa says so and `ingest --rebuild` refills it."""
    service, _ = small_home
    home = service.settings.home
    other = {"MMQA_CHUNKING__MAX_TOKENS": "200"}  # stands in for a new parser version: another index key

    proc = run_cli(home, "ask", "What is residual learning?", env=other)
    assert proc.returncode != 0
    message = proc.stderr.strip().splitlines()
    assert len(message) == 1 and "1 paper is in an index built by an earlier" in message[0]
    assert "mmqa ingest --rebuild" in message[0]

    proc = run_cli(home, "ingest", "--rebuild", "--json", env=other)
    assert proc.returncode == 0, proc.stderr
    assert [(f["doc_id"], f["status"]) for f in json.loads(proc.stdout)["files"]] == [("1512.03385", "added")]

    rebuilt = MMQA(settings_for(home, **{"chunking.max_tokens": 200}))
    assert rebuilt.index_key != service.index_key
    assert rebuilt.status()["earlier_index"] is None
    top = rebuilt.search("residual learning with identity shortcuts", 3).passages
    assert top and all(p.doc_id == "1512.03385" for p in top)
    # The earlier index is untouched: the old settings still see their paper.
    assert set(service.manifest().papers) == {"1512.03385"}
    assert service.search("residual learning", 1).passages


def test_remove_drops_a_paper(small_home):
    service, _ = small_home
    removed = service.remove("1512.03385")
    assert removed > 50
    assert service.store.ids_of("1512.03385") == []
    assert service.store.sentence_count() == 0
    assert "1512.03385" not in service.manifest().papers
    assert service.bm25.search("residual", 5) == []


@pytest.mark.parametrize("delay", [2.0, 5.0, 9.0])
def test_kill_9_during_ingest_leaves_a_consistent_index(small_home, delay):
    service, path = small_home
    _shorter_copy(pdf("1512.03385"), path, keep_pages=10)
    env = {**os.environ, "MMQA_HOME": str(service.settings.home)}
    proc = subprocess.Popen([sys.executable, "-m", "mmqa.cli", "ingest", str(path)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    # Whatever the moment, readers see either the complete old or the complete new version.
    reader = MMQA(service.settings)
    record = reader.manifest().papers["1512.03385"]
    assert record.pages in (12, 10)
    _consistent(reader)
    # The next ingest finishes the job and leaves no orphans.
    # ('added' when Chroma had not persisted the new vectors yet: the paper is re-indexed from its PDF)
    report = reader.ingest([path])
    assert report.files[0].status in {"updated", "unchanged", "added"}
    final = reader.manifest().papers["1512.03385"]
    assert final.pages == 10
    assert reader.store.all_chunk_ids() == set(final.chunk_ids)
    assert reader.store.unreadable(final.chunk_ids) == set()  # every vector is back
    _consistent(reader)


def test_reingest_reads_the_names_of_papers_indexed_before_aliases(small_home):
    service, path = small_home
    manifest_path = service.manifest_path
    data = json.loads(manifest_path.read_text())
    for record in data["papers"].values():
        for key in ("aliases", "terms", "names_version"):
            del record[key]  # as written by an mmqa before aliases
    manifest_path.write_text(json.dumps(data))
    assert service.manifest().papers["1512.03385"].names() == ["Deep Residual Learning for Image Recognition"]
    chunks_before = service.store.count()

    report = service.ingest([path])
    assert [f.status for f in report.files] == ["unchanged"]
    assert service.manifest().papers["1512.03385"].aliases == ["Deep Residual Learning for Image Recognition"]
    assert service.store.count() == chunks_before  # names only: nothing re-embedded or re-stored


def test_reingest_mends_the_title_and_names_of_an_older_record_without_re_embedding(small_home):
    service, path = small_home
    record = service.manifest().papers["1512.03385"]
    # As an older mmqa left it: a title read from figure text, a short name taken from another paper,
    # on the stored chunks and in the keyword index too.
    service.store.rename(record.chunk_ids, "20222023", "Qwertz")
    data = json.loads(service.manifest_path.read_text())
    old = data["papers"]["1512.03385"]
    old.update(title="20222023", short_name="Qwertz", aliases=["Qwertz", "20222023"])
    del old["terms"], old["names_version"]
    service.manifest_path.write_text(json.dumps(data))
    service._ingestor().rebuild_side_indexes(service.manifest())
    assert service.bm25.search("Qwertz", 3)
    probe = record.chunk_ids[:5]
    vectors_before = service.store._get(probe, ["embeddings"])["embeddings"]
    sentences_before = service.store.sentence_count()

    report = service.ingest([path])
    assert [(f.status, f.title) for f in report.files] == [("unchanged", record.title)]
    fixed = service.manifest().papers["1512.03385"]
    assert (fixed.title, fixed.short_name, fixed.aliases) == (record.title, record.short_name, record.aliases)
    assert fixed.chunk_ids == record.chunk_ids
    # The same vectors (nothing re-embedded); the new names on every stored chunk and in the keyword index.
    assert service.store.sentence_count() == sentences_before
    vectors_after = service.store._get(probe, ["embeddings"])["embeddings"]
    assert all((a == b).all() for a, b in zip(vectors_after, vectors_before, strict=True))
    assert {c.meta["short_name"] for c in service.store.get(fixed.chunk_ids)} == {record.short_name}
    assert {c.meta["title"] for c in service.store.get(fixed.chunk_ids)} == {record.title}
    assert service.bm25.search("Qwertz", 3) == []
    assert [(f.status, f.renamed) for f in service.ingest([path]).files] == [("unchanged", False)]  # once only


def test_reingest_upgrades_a_bm25_index_without_passage_order(small_home):
    service, _ = small_home
    entries_file = service.bm25.path / "entries.json"
    old = [{k: e[k] for k in ("chunk_id", "doc_id", "section")} for e in json.loads(entries_file.read_text())]
    entries_file.write_text(json.dumps(old))  # as written by the previous mmqa version
    service.bm25.load()
    assert service.bm25.neighbours() == {}  # no context until re-ingested; search still works
    assert service.search("identity shortcut projection", 3).passages
    chunks_before = service.store.count()

    report = service.rebuild()  # `mmqa ingest --rebuild`: no earlier index, but an old keyword index
    assert [f.status for f in report.files] == ["unchanged"]
    assert all("index" in e for e in json.loads(entries_file.read_text()))
    assert service.bm25.neighbours()
    assert service.store.count() == chunks_before  # the BM25 side only: nothing re-embedded
    with pytest.raises(MMQAError, match="nothing to rebuild"):
        service.rebuild()  # now up to date


def test_changed_embedder_gets_a_new_index_with_its_own_vectors(small_home, settings_for):
    """int8 (the default) -> fp32: a new index key, every vector computed again (none from the int8
    cache entries) and stored apart from the int8 ones, which the int8 settings still read."""
    service, path = small_home
    fp32 = MMQA(settings_for(service.settings.home, **{"embedding.quantize": "none"}))
    assert fp32.index_key != service.index_key
    assert fp32.status()["earlier_index"]["index_key"] == service.index_key
    result = fp32.rebuild().files[0]
    assert (result.status, result.reused) == ("added", 0)  # the cache is keyed by the model too
    ids = fp32.manifest().papers["1512.03385"].chunk_ids
    assert ids == service.manifest().papers["1512.03385"].chunk_ids  # same chunks, new vectors
    new = fp32.store._get(ids, ["embeddings"])["embeddings"]
    old = service.store._get(ids, ["embeddings"])["embeddings"]
    cosines = np.sum(np.asarray(new) * np.asarray(old), axis=1)
    assert cosines.min() >= 0.99 and cosines.max() < 1 - 1e-6
    again = MMQA(settings_for(service.settings.home)).ingest([path])
    assert again.files[0].status == "unchanged"  # back under int8: its index is still whole


def test_whole_collection_reads_go_page_by_page(indexed):
    # At 200 papers a Chroma server refused the one-call read of every sentence record ("too many SQL
    # variables"); reads are paged. Small pages over the six papers' real index must see every record once.
    from mmqa.index.store import _pages

    store = indexed.store
    sentences = [cid for page in _pages(store._sentences, [], page=997) for cid in page["ids"]]
    assert len(sentences) == len(set(sentences)) == store.sentence_count()
    chunks = {c.chunk_id for c in store.all()}
    assert chunks == store.all_chunk_ids() == set(indexed.manifest().live_chunk_ids())
    paged = [cid for page in _pages(store._collection, [], page=101) for cid in page["ids"]]
    assert sorted(paged) == sorted(chunks)
    assert store.unreadable(sorted(chunks)) == set()
