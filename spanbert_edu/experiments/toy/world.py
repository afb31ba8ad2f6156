"""A generated toy language in which a masked span can only be recovered through its boundaries.

The world is a fixed table of facts: every person has a home, a favourite thing and a job, each
a phrase of 1 to 5 made-up words. A sentence states the three facts about one person, in a
random order, and an example holds three such sentences::

    Kabo works as fise , lives in rumo tade pesi and likes gova .

Mask a fact's value (``rumo tade pesi``) and the words right outside it, ``in`` and ``and``,
say which relation it is and where the clause sits, but nothing about WHO the sentence is
about, and the value depends on exactly that. The name sits several words away, at a distance
that changes with the clause order. So the Span Boundary
Objective, which sees only x_{s-1}, x_{e+1} and the offset, can succeed only if the encoder
moves the person's identity (or the fact itself) into the boundary tokens' states. The MLM
head has no such constraint: it reads the [MASK] position's own state, which can attend to the
name directly. :mod:`spanbert_edu.experiments.toy.experiment` measures the difference.

Everything is drawn from ``numpy.random.default_rng`` with fixed seeds: the facts from
``world_seed``, the sentences from a stream the caller names. Words are whole tokens (one
vocabulary entry each), so span lengths in words and in tokens agree.

Not covered here: training and measuring (:mod:`spanbert_edu.experiments.toy.experiment`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..._checks import check_int

RELATIONS = (("lives", "in"), ("likes",), ("works", "as"))  # the words before each fact's value
GLUE = (",", "and", ".")                                      # the words after the 1st, 2nd, 3rd fact
SPECIALS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
MAX_SPAN_TARGETS = 15  # the SBO head's targets per span (the model's max_span_targets)


CONSONANTS, VOWELS = "bdfgklmnprstvz", "aeiou"
TWO_SYLLABLE_WORDS = (len(CONSONANTS) * len(VOWELS)) ** 2  # 4,900: names and values are drawn from these


def _pseudo_words(rng, n: int, syllables: int, taken: set) -> list[str]:
    """``n`` distinct made-up words of consonant-vowel syllables, none already in ``taken``."""
    consonants, vowels = list(CONSONANTS), list(VOWELS)
    words = []
    while len(words) < n:
        word = "".join(rng.choice(consonants) + rng.choice(vowels) for _ in range(syllables))
        if word not in taken:
            taken.add(word)
            words.append(word)
    return words


@dataclass
class Fact:
    """Where one fact's value sits in a token sequence: positions s..e, its person and relation."""

    start: int
    end: int
    person: int
    relation: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1


@dataclass
class ToyWorld:
    """The facts, the vocabulary and a tokenizer. ``ToyWorld()`` is the world of the notebook."""

    n_people: int = 40
    n_value_words: int = 48
    max_value_words: int = 5
    sentences_per_example: int = 3
    world_seed: int = 0
    people: list = field(init=False)       # capitalised made-up names, one token each
    value_words: list = field(init=False)  # the words that values are made of
    vocab: dict = field(init=False)        # token -> id: specials, glue words, names, value words
    facts: list = field(init=False)        # facts[person][relation]: the value, a tuple of ids

    def __post_init__(self):
        check_int("n_people", self.n_people, minimum=2)
        check_int("n_value_words", self.n_value_words, minimum=2)
        check_int("max_value_words", self.max_value_words, minimum=1)
        if self.max_value_words > MAX_SPAN_TARGETS:
            raise ValueError(f"max_value_words must be <= {MAX_SPAN_TARGETS} (the SBO targets a span "
                             f"keeps), got {self.max_value_words}")
        check_int("sentences_per_example", self.sentences_per_example, minimum=1)
        check_int("world_seed", self.world_seed, minimum=0)
        if self.sentences_per_example > self.n_people:
            raise ValueError(f"sentences_per_example ({self.sentences_per_example}) must be <= "
                             f"n_people ({self.n_people}): each sentence is about another person")
        rng = np.random.default_rng(self.world_seed)
        taken = {w for rel in RELATIONS for w in rel} | set(GLUE)
        if self.n_people + self.n_value_words > TWO_SYLLABLE_WORDS - len(taken):  # it would search forever
            raise ValueError(f"n_people + n_value_words must be at most {TWO_SYLLABLE_WORDS - len(taken)} (the "
                             f"distinct two-syllable words), got {self.n_people} + {self.n_value_words}")
        self.people = [w.capitalize() for w in _pseudo_words(rng, self.n_people, 2, taken)]
        self.value_words = _pseudo_words(rng, self.n_value_words, 2, taken)
        glue_words = sorted({w for rel in RELATIONS for w in rel} | set(GLUE))
        self.vocab = {t: i for i, t in enumerate([*SPECIALS, *glue_words, *self.people, *self.value_words])}
        self.facts = [[tuple(self.vocab[w] for w in rng.choice(self.value_words, rng.integers(1, self.max_value_words + 1)))
                       for _ in RELATIONS] for _ in range(self.n_people)]
        self._tokenizer = self._counts = None

    @property
    def tokenizer(self):
        """A ``transformers`` BERT tokenizer over exactly this vocabulary (no ``##`` pieces)."""
        if self._tokenizer is None:
            from transformers import BertTokenizerFast

            self._tokenizer = BertTokenizerFast(vocab=dict(self.vocab), do_lower_case=False,
                                                strip_accents=False, model_max_length=self.max_length)
        return self._tokenizer

    @property
    def max_length(self) -> int:
        """The longest example: [CLS], the sentences at their longest, [SEP]."""
        longest = 1 + sum(len(r) + self.max_value_words + 1 for r in RELATIONS)
        return 2 + self.sentences_per_example * longest

    def sentence(self, person: int, order) -> tuple[list[int], list[Fact]]:
        """The token ids of one sentence about ``person`` with its facts in ``order``, and the
        facts' positions inside it (the name is at 0)."""
        ids, facts = [self.vocab[self.people[person]]], []
        for k, relation in enumerate(order):
            ids += [self.vocab[w] for w in RELATIONS[relation]]
            value = self.facts[person][relation]
            facts.append(Fact(len(ids), len(ids) + len(value) - 1, person, int(relation)))
            ids += list(value) + [self.vocab[GLUE[k]]]
        return ids, facts

    def example(self, rng) -> dict:
        """One example: ``sentences_per_example`` sentences about different people, as
        ``{"input_ids", "facts"}`` (fact positions counted from [CLS], three per sentence)."""
        ids, facts = [self.vocab["[CLS]"]], []
        for person in rng.choice(self.n_people, self.sentences_per_example, replace=False):
            sent, sent_facts = self.sentence(int(person), rng.permutation(len(RELATIONS)))
            facts += [Fact(f.start + len(ids), f.end + len(ids), f.person, f.relation) for f in sent_facts]
            ids += sent
        return {"input_ids": ids + [self.vocab["[SEP]"]], "facts": facts}

    def examples(self, n: int, seed) -> list[dict]:
        """``n`` examples from the stream ``seed`` (an int or a list of ints)."""
        check_int("n", n, minimum=0)
        rng = np.random.default_rng(seed)
        return [self.example(rng) for _ in range(n)]

    def unigram_counts(self) -> np.ndarray:
        """Token counts over 2,000 examples, for the collator's 10% random replacements."""
        if self._counts is None:
            self._counts = np.zeros(len(self.vocab))
            for ex in self.examples(2000, seed=[self.world_seed, 999]):
                np.add.at(self._counts, ex["input_ids"], 1)
        return self._counts

    def decode(self, ids) -> str:
        words = {i: t for t, i in self.vocab.items()}
        return " ".join(words[int(i)] for i in ids)
