"""What makes a sentence of a paper quotable on its own, and the clean-up a quote gets.

pypdf's running text carries things a reader should not see in an answer: the panel label a caption
starts with ('(right) Multi-Head Attention consists of ...'), footnote markers glued to a word ('5For
GPT-3 ...', '... to train.1') and the paper's own numeric citations ('[9]'), which would read as mmqa's
source markers. A sentence that starts in the middle of one (a lower-case start) does not read on its
own; one that announces what follows ('... in three different ways:') is quoted with what follows.
"""

from __future__ import annotations

import re

from mmqa.parsing.text import split_sentences

_MIN_WORDS = 5
_PAPER_CITATION = re.compile(r"\s*\[\d+(?:\s*[,–-]\s*\d+)*\]")
_PANEL_LABEL = re.compile(r"^\s*(?:\((?:left|right|top|bottom|middle|center|[a-h]|[ivx]{1,3})\)\s*)+", re.IGNORECASE)
# A list item's number ('(2) Double Quantization, a method ...'): the quote reads without it.
_ENUMERATOR = re.compile(r"^\s*\(\d{1,2}\)\s+(?=[A-Z])")
_LEADING_FOOTNOTE = re.compile(r"^\d{1,2}(?=[A-Z][a-z]+\s)")
_TRAILING_FOOTNOTE = re.compile(r"(?<=[a-z]{2}[.,;])\d{1,2}(?=\s|$)")
# A label ending what the splitter took for a sentence: after the table's last cell ('... 14.4 Table 2.'), not
# after a word of prose ('... are summarised in Table 2.').
_LABEL_AT_END = re.compile(r"(?:^|(?<![A-Za-z][a-z])\s)((?:Table|Figure|Fig\.)\s+[A-Z]?\d{1,2}[.:])$")


def readable(sentence: str) -> bool:
    """At least five words, mostly words rather than numbers or symbols."""
    words = sentence.split()
    if len(words) < _MIN_WORDS:
        return False
    alpha_words = sum(bool(re.search(r"[A-Za-z]{2,}", w)) for w in words)
    return alpha_words >= 0.6 * len(words)


def stands_alone(sentence: str) -> bool:
    """Reads as a sentence on its own: it does not start in the middle of one."""
    text = clean(sentence)
    return bool(text) and not text[0].islower()


def labelled(sentence: str, previous: str) -> str:
    """A caption's first sentence with the label the sentence splitter cut from it: '... 14.4 Table 2.' then
    'Comparison between beam search and nucleus sampling ...' is quoted as 'Table 2. Comparison between ...',
    so it reads as what it is, a table's caption, not as a claim of the text."""
    match = _LABEL_AT_END.search(previous.strip())
    return f"{match.group(1)} {sentence}" if match else sentence


def table_rows(text: str) -> tuple[int, str]:
    """For a table passage (its caption's first sentence, its header line, then one row per line): how many of
    its sentences (``split_sentences``) come before the first row, and the quote's lead-in, which places a row
    in its table: 'Table 1 (Summary of Efficient Transformer Models), columns "Model / Paper Complexity Decode
    Class":'."""
    caption, header = ([*text.split("\n", 2), "", ""])[:2]
    label, _, title = caption.partition(": ")
    named = f"{label} ({title.rstrip('.')})" if title else label.rstrip(".")
    lead_in = f'{named}, columns "{header}":'
    return len(split_sentences(caption)) + len(split_sentences(header)), lead_in


def opens_list_item(sentence: str) -> bool:
    """Starts a new item of a list ('(3) Paged Optimizers ...', '• No Biases ...'): another topic."""
    return bool(_ENUMERATOR.match(sentence)) or sentence.lstrip().startswith(("•", "◦", "▪", "‣", "∙"))


def announces(sentence: str) -> bool:
    """Ends with a colon: what it announces (a list, a definition) follows in the next sentence."""
    return sentence.rstrip().endswith(":")


def clean(sentence: str) -> str:
    """The sentence as quoted: without a leading panel label or list number, footnote markers or numeric
    citations."""
    text = _ENUMERATOR.sub("", _PANEL_LABEL.sub("", sentence))
    text = _LEADING_FOOTNOTE.sub("", text)
    text = _TRAILING_FOOTNOTE.sub("", text)
    return _PAPER_CITATION.sub("", text).strip()
