"""The offline answerer: picks the sentences of the retrieved passages that best answer the question.

Each sentence is scored by its embedding similarity to the question, its coverage of the
question's content words and the rank of its passage; when the question asks what an acronym stands
for, a sentence that spells it out is the answer whatever its similarity. The best few, in reading
order of their passages, form the answer; each carries the number of its source. When the best
evidence is weak the answerer abstains rather than guess.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from mmqa.answering.focus import Scored, select
from mmqa.answering.lexical import content_terms, coverage, missing_entities, question_entities
from mmqa.answering.quotes import announces, clean, labelled, readable, stands_alone, table_rows
from mmqa.index.embedder import Embedder
from mmqa.parsing.definitions import asked_subject, defines_subject, mentions_subject
from mmqa.parsing.names import asked_acronym, defines
from mmqa.parsing.text import split_sentences
from mmqa.schema import Answer, AnswerSentence, Citation, Passage, sentence_unit_id
from mmqa.settings import AnswerSettings

ABSTAIN_MESSAGE = "The indexed papers do not cover this (no passage answers it with enough support)."
# Added to a sentence that spells out the acronym a question asks about: more than any similarity and
# coverage can add up to, so the definition is quoted first and the evidence never counts as weak.
_DEFINITION_BONUS = 1.0


class ExtractiveAnswerer:
    """Answers by quoting the best sentences of the retrieved passages, with [n] source markers."""

    def __init__(
        self,
        settings: AnswerSettings,
        embedder: Embedder,
        stored_vectors: Callable[[list[str]], dict[str, np.ndarray]] | None = None,
    ) -> None:
        """``stored_vectors(unit ids)`` returns sentence vectors kept at ingest, so only the rest are embedded."""
        self.settings = settings
        self.embedder = embedder
        self.stored_vectors = stored_vectors

    def _sentence_vectors(self, passages: list[Passage], candidates: list[tuple[int, int, str]]) -> np.ndarray:
        """One vector per candidate: the one stored at ingest (same sentence split, same ids) or a new one."""
        ids = [sentence_unit_id(passages[p_rank].chunk_id, s_pos) for p_rank, s_pos, _ in candidates]
        stored = self.stored_vectors(ids) if self.stored_vectors else {}
        missing = [i for i, uid in enumerate(ids) if uid not in stored]
        fresh = self.embedder.embed([candidates[i][2] for i in missing]) if missing else None
        vectors = np.zeros((len(candidates), self.embedder.dimension), dtype=np.float32)
        for i, uid in enumerate(ids):
            if uid in stored:
                vectors[i] = stored[uid]
        if fresh is not None:
            vectors[missing] = fresh
        return vectors

    def evidence_strength(self, question: str, query_vector: np.ndarray, passages: list[Passage]) -> float:
        """How well the best passages match the question, in [0, 1]; below the threshold we abstain."""
        return self._score(question, query_vector, passages)[0]

    def _score(
        self, question: str, query_vector: np.ndarray, passages: list[Passage]
    ) -> tuple[float, list[tuple[float, int, int, str]]]:
        terms = content_terms(question)
        acronym = asked_acronym(question)
        # What something is, or stands for, is said in prose: a table's row never answers that.
        rows_answer = not (acronym or asked_subject(question))
        candidates: list[tuple[int, int, str]] = []
        for p_rank, passage in enumerate(passages):
            sentences = split_sentences(passage.text)
            if passage.meta.get("kind") == "table":  # a row is quoted with its table's caption and header
                if not rows_answer:
                    continue
                first_row, lead_in = table_rows(passage.text)
                candidates += [(p_rank, s_pos, f"{lead_in} {row}") for s_pos, row in enumerate(sentences)
                               if s_pos >= first_row and len(row.split()) >= 2]  # fmt: skip
                continue
            for s_pos, sentence in enumerate(sentences):
                if readable(sentence) and stands_alone(sentence):
                    candidates.append((p_rank, s_pos, labelled(sentence, sentences[s_pos - 1]) if s_pos else sentence))
        if not candidates:
            return 0.0, []
        sims = self._sentence_vectors(passages, candidates) @ query_vector
        scored = []
        for (p_rank, s_pos, sentence), sim in zip(candidates, sims, strict=True):
            score = 0.65 * float(sim) + 0.35 * coverage(terms, sentence) - 0.02 * p_rank
            if acronym and defines(acronym, sentence):
                score += _DEFINITION_BONUS
            scored.append((score, p_rank, s_pos, sentence))
        scored.sort(key=lambda item: item[0], reverse=True)
        passage_cover = max(coverage(terms, p.text) for p in passages)
        strength = 0.5 * scored[0][0] + 0.5 * passage_cover
        return strength, scored

    @staticmethod
    def _completed(sentence: str, passage: Passage, position: int, most: int = 2) -> str:
        """A sentence that announces what follows ('... in three different ways:') with the (at most ``most``)
        sentences of its passage that follow it, so the quote says what it announces."""
        if not announces(sentence):
            return sentence
        following = split_sentences(passage.text)[position + 1 : position + 1 + most]
        parts = [sentence]
        for nxt in following:
            if not announces(parts[-1]):
                break
            parts.append(nxt)
        return " ".join(parts)

    def _definition_first(
        self,
        subject: str,
        scored: list[tuple[float, int, int, str]],
        chosen: list[tuple[float, int, int, str]],
        passages: list[Passage],
    ) -> list[tuple[float, int, int, str]]:
        """For a definition question: the best sentence that defines the subject leads (if the passages hold
        one), followed by the chosen sentences of its paper, in reading order."""
        defining = [item for item in scored if defines_subject(subject, item[3])]
        if not defining:
            return chosen
        # Of the best-ranked passage that defines it: retrieval put the place that first defines it first.
        lead = min(defining, key=lambda item: (item[1], -item[0]))
        doc = passages[lead[1]].doc_id
        rest = [c for c in chosen if c[3] not in lead[3] and lead[3] not in c[3] and passages[c[1]].doc_id == doc]
        return [lead, *rest[: self.settings.max_sentences - 1]]

    def unmatched_names(
        self, question: str, passages: list[Passage], corpus_mentions: Callable[[str], bool] | None = None
    ) -> list[str]:
        """Names the question asks about that the passages do not mention (e.g. a model not in the corpus).

        A name missing from the passages but found elsewhere in the corpus (``corpus_mentions``) counts
        as matched: retrieval may have missed it, but the papers do talk about it.
        """
        text = " ".join(f"{p.text} {p.meta.get('short_name', '')} {p.meta.get('title', '')}" for p in passages)
        missing = missing_entities(question_entities(question), text)
        if corpus_mentions is not None:
            missing = [name for name in missing if not corpus_mentions(name)]
        return missing

    def answer(
        self,
        question: str,
        query_vector: np.ndarray,
        passages: list[Passage],
        corpus_mentions: Callable[[str], bool] | None = None,
        compared: frozenset[str] = frozenset(),
    ) -> Answer:
        """Build the answer (or an abstention) from ``passages``, best first. ``compared``: the papers (doc ids)
        the question compares, when it compares two or more it names."""
        strength, scored = self._score(question, query_vector, passages)
        names = question_entities(question)
        unmatched = self.unmatched_names(question, passages, corpus_mentions)
        if names and len(unmatched) / len(names) >= self.settings.max_unmatched_names:
            message = f"The indexed papers do not mention {', '.join(unmatched)}, so they cannot answer this."
            return Answer(question, [], [], abstained=True, message=message, evidence_strength=strength)
        if not scored or strength < self.settings.abstain_threshold:
            return Answer(question, [], [], abstained=True, message=ABSTAIN_MESSAGE, evidence_strength=strength)
        subject = asked_subject(question)
        notice = ""
        if subject and not any(mentions_subject(subject, p.text) for p in passages):
            scored = _nearby(subject, scored)
            if not scored:
                message = f"The indexed papers do not discuss {subject}."
                return Answer(question, [], [], abstained=True, message=message, evidence_strength=strength)
            notice = f"The indexed papers do not discuss {subject} as such; this is the nearest material they hold."
        chosen = select(scored, passages, compared, self.settings.max_sentences, self.settings.sentence_window)
        if subject and not notice:
            chosen = self._definition_first(subject, scored, chosen, passages)
        numbers: dict[int, int] = {}
        sentences = []
        for _, p_rank, s_pos, sentence in _rows_merged(chosen, passages):
            if any(clean(sentence) in earlier.text for earlier in sentences):
                continue  # already quoted, completing the sentence before it
            n = numbers.setdefault(p_rank, len(numbers) + 1)
            sentences.append(AnswerSentence(clean(self._completed(sentence, passages[p_rank], s_pos)), [n]))
        citations = [Citation(n, passages[p_rank]) for p_rank, n in sorted(numbers.items(), key=lambda kv: kv[1])]
        return Answer(question, sentences, citations, abstained=False, evidence_strength=strength, notice=notice)


def _rows_merged(chosen: list[Scored], passages: list[Passage]) -> list[Scored]:
    """``chosen`` with the rows chosen from one table passage as one quote, where the first of them was: the
    table's lead-in once, then the rows, best first ('Table 1 (...), columns "...": ViT-Large ...; ViT-Base ...')."""
    rows: dict[int, list[Scored]] = {}
    for item in chosen:
        if passages[item[1]].meta.get("kind") == "table":
            rows.setdefault(item[1], []).append(item)
    merged: list[Scored] = []
    for item in chosen:
        if item[1] not in rows:
            if passages[item[1]].meta.get("kind") != "table":
                merged.append(item)
            continue
        group = sorted(rows.pop(item[1]), key=lambda s: -s[0])
        lead_in = table_rows(passages[item[1]].text)[1]
        text = f"{lead_in} " + "; ".join(s[3][len(lead_in) + 1 :] for s in group)
        merged.append((group[0][0], item[1], group[0][2], text))
    return merged


def _nearby(subject: str, scored: list[tuple[float, int, int, str]]) -> list[tuple[float, int, int, str]]:
    """The scored sentences near a subject no passage names: those sharing its words (all of one or two, all
    but one of three or more), never sentences that merely resemble the question ('diffusion model' is not
    near every sentence saying 'model')."""
    wanted = set(content_terms(subject))
    need = len(wanted) if len(wanted) <= 2 else len(wanted) - 1
    return [item for item in scored if len(wanted & set(content_terms(item[3]))) >= need]
