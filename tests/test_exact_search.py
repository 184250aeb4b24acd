"""Exact vector search: the matrices written beside the BM25 index at the end of an ingest hold exactly the
current chunks and their sentences, return the true nearest neighbours, and give way to Chroma's own search
while they are missing or stale. Real papers, real Chroma, real embedder."""

from __future__ import annotations

import shutil

import numpy as np

from mmqa.index.exact import ExactVectors
from tests.conftest import pdf


def test_the_matrices_hold_the_current_vectors_and_find_the_true_nearest(indexed):
    live = indexed.manifest().live_chunk_ids()
    exact = ExactVectors(indexed.index_dir / "vectors")
    assert exact.matches(live)
    vector = indexed.embedder.embed_query("How does the Transformer use multi-head attention?")
    # Brute force over what Chroma holds: the same ranking, the same similarities.
    sentences = list(indexed.store.all_vectors(sentences=True))
    sims = np.array([v @ vector for _, v in sentences])
    truth: dict[str, float] = {}
    for i in np.argsort(-sims)[:30]:
        chunk_id = sentences[i][0].rpartition("/s")[0]
        truth[chunk_id] = max(truth.get(chunk_id, -1.0), float(sims[i]))
    found = exact.nearest_sentences(vector, 30)
    assert found.keys() == truth.keys()
    assert all(abs(found[c] - truth[c]) < 1e-5 for c in truth)
    chunks = dict(indexed.store.all_vectors())
    best = sorted(live, key=lambda c: -float(chunks[c] @ vector))[:10]
    assert list(exact.nearest_chunks(vector, 10)) == best
    # A filter keeps the search to the allowed chunks (a --paper or --section filter).
    vit = {c for c in live if c.startswith("2010.11929@")}
    assert set(exact.nearest_chunks(vector, 10, vit)) <= vit
    assert set(exact.nearest_sentences(vector, 40, vit)) <= vit
    # The answerer reads stored sentence vectors from the matrices.
    unit = sentences[0][0]
    assert np.allclose(exact.sentence_vectors([unit, "no-such/s00"])[unit], sentences[0][1])


def test_search_falls_back_to_chroma_without_the_matrices_and_the_next_ingest_writes_them(
    tmp_path, settings_for, shared_models
):
    from mmqa.service import MMQA

    service = MMQA(settings_for(tmp_path))
    service.ingest([pdf("1512.03385")])
    vectors_dir = service.index_dir / "vectors"
    with_matrices = service.search("What is the degradation problem?", 3).passages
    live = service.manifest().live_chunk_ids()
    (vectors_dir / "sentences.npy").write_bytes(b"not a matrix")  # a damaged file does not match, nor crash
    assert not ExactVectors(vectors_dir).matches(live)
    shutil.rmtree(vectors_dir)  # an index written before the matrices existed, or a crash before they were
    without = MMQA(settings_for(tmp_path)).search("What is the degradation problem?", 3).passages
    assert [p.chunk_id for p in without][:1] == [p.chunk_id for p in with_matrices][:1]
    report = MMQA(settings_for(tmp_path)).ingest([pdf("1512.03385")])
    assert [f.status for f in report.files] == ["unchanged"]
    assert ExactVectors(vectors_dir).matches(live)
