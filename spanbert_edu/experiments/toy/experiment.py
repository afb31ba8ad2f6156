"""The toy-world experiment: MLM alone vs MLM + SBO, and a linear probe on the boundary states.

For each arm and seed (``run_toy``):

1. **Train** the ``tiny`` encoder on fresh toy examples, masked by SpanBERT's own collator
   (15% budget, geometric spans, 80/10/10). The arms differ only in ``sbo_weight`` (0 or 1).
2. **Measure on held-out examples** in which one fact per sentence is masked whole (every
   token [MASK]): MLM accuracy by span length; SBO accuracy (the SBO arm only: the MLM arm's
   SBO head is never trained).
3. **Probe.** Freeze the encoder, take the final states of the two boundary tokens
   [x_{s-1}; x_{e+1}] of each masked fact, and fit one linear softmax classifier per offset i
   to predict the fact's i-th token. Same features, settings and data for every arm, fitted
   on one set of examples and scored on another. An ``untrained`` row (the same probe on a
   randomly initialised encoder) shows how much the bare architecture already gives.

The probe's settings (standardised features, Adam, fixed epochs and L2) were fixed before the
first run and are the same for every arm; they are not tuned on the result.
"""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ..._checks import check_choice, check_finite, check_int, check_seed
from ...collator import SpanMaskingCollator
from ...evaluate import AccuracyTable
from ...batch import IGNORE_INDEX
from ...heads import SpanBertForPreTraining
from ...masking import masked_runs
from ...model import SpanBertConfig
from ...train import TrainConfig, make_optimizer
from ...train.step import check_finite_weights
from ..stats import mean_sd
from .world import MAX_SPAN_TARGETS, RELATIONS, ToyWorld

ARMS = {"mlm": 0.0, "mlm+sbo": 1.0}  # arm -> sbo_weight


@dataclass
class ToyConfig:
    """Training, evaluation and probe settings. ``ToyConfig.quick()``: the notebook's live run."""

    steps: int = 4000
    batch_size: int = 32
    learning_rate: float = 2e-3
    warmup_steps: int = 100
    preset: str = "tiny"
    eval_examples: int = 400        # held-out examples (3 masked facts each)
    probe_examples: int = 800       # examples the probe is fitted on (disjoint from eval)
    probe_epochs: int = 300
    probe_lr: float = 1e-2
    probe_l2: float = 1e-4

    def __post_init__(self):
        check_int("steps", self.steps, minimum=0)  # 0: the untrained control
        for name in ("batch_size", "eval_examples", "probe_examples", "probe_epochs"):
            check_int(name, getattr(self, name), minimum=1)
        # these were read only after training: probe_l2=nan gave a NaN-fitted probe's accuracy
        # without a word, probe_lr=-1 failed after every arm had trained
        check_int("warmup_steps", self.warmup_steps, minimum=0)
        check_choice("preset", self.preset, tuple(SpanBertConfig.PRESETS))
        for name in ("learning_rate", "probe_lr"):
            check_finite(name, getattr(self, name))
        check_finite("probe_l2", self.probe_l2, positive=False)

    @classmethod
    def quick(cls) -> "ToyConfig":
        return cls(steps=2000, learning_rate=5e-3, eval_examples=200, probe_examples=400)


def _check_inputs(world, seed, cfg) -> None:
    """A world, a seed and a config of the right kinds (a wrong kind was an AttributeError later)."""
    if not isinstance(world, ToyWorld):
        raise TypeError(f"world must be a ToyWorld, got {type(world).__name__}")
    if not isinstance(cfg, ToyConfig):
        raise TypeError(f"cfg must be a ToyConfig, got {type(cfg).__name__}")
    check_seed("seed", seed)  # 2**70 was "Overflow when unpacking long long"


def train_arm(world: ToyWorld, arm: str, seed: int, cfg: ToyConfig = ToyConfig(), on_log=None):
    """A ``tiny`` SpanBertForPreTraining trained on the toy world (CPU; a few seconds per 100 steps)."""
    if arm not in ARMS:
        raise ValueError(f"arm must be one of {sorted(ARMS)}, got {arm!r}")
    _check_inputs(world, seed, cfg)
    tok = world.tokenizer
    torch.manual_seed(seed)
    model = SpanBertForPreTraining(SpanBertConfig.preset(
        cfg.preset, vocab_size=len(tok), pad_token_id=tok.pad_token_id, sbo_weight=ARMS[arm],
        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)).train()
    if cfg.steps == 0:
        return model.eval()
    schedule = TrainConfig(preset=cfg.preset, steps=cfg.steps, learning_rate=cfg.learning_rate,
                           warmup_steps=cfg.warmup_steps)
    optimizer, scheduler = make_optimizer(model, schedule, torch.device("cpu"))
    collator = SpanMaskingCollator(tok, seed=seed, unigram_counts=world.unigram_counts())
    for step in range(1, cfg.steps + 1):
        collator.reseed([seed, step, 0])                                 # masks and sentences: two
        examples = world.examples(cfg.batch_size, seed=[seed, step, 1])  # independent streams
        out = model(**collator([{"input_ids": e["input_ids"]} for e in examples]))
        if not torch.isfinite(out.loss):  # it used to train on with NaN weights and report garbage
            raise FloatingPointError(f"toy arm {arm!r} seed {seed}: the loss became {out.loss.item()} at step "
                                     f"{step}; try a lower learning_rate than {cfg.learning_rate}")
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        if step % 50 == 0 or step == cfg.steps:
            check_finite_weights(model, step, schedule)
            if on_log is not None:
                on_log({"arm": arm, "step": step, "mlm_loss": out.mlm_loss.item(), "sbo_loss": out.sbo_loss.item()})
    return model.eval()


def masked_facts(world: ToyWorld, examples, seed, people=None) -> dict:
    """A batch in the collator's format with one fact per sentence masked whole (every token
    [MASK]), the fact drawn from ``seed``. ``people``: mask only facts about these people (the
    other sentences keep all their words)."""
    rng = np.random.default_rng(seed)
    tok, T = world.tokenizer, MAX_SPAN_TARGETS
    n, L, S, k_facts = len(examples), world.max_length, world.sentences_per_example, len(RELATIONS)
    ids = torch.full((n, L), tok.pad_token_id)
    labels = torch.full((n, L), IGNORE_INDEX)
    bounds = torch.full((n, S, 2), -1)
    span_labels = torch.full((n, S, T), IGNORE_INDEX)
    for b, ex in enumerate(examples):
        ids[b, :len(ex["input_ids"])] = torch.tensor(ex["input_ids"])
        picks = [ex["facts"][k * k_facts + int(rng.integers(k_facts))] for k in range(S)]  # one per sentence
        for k, f in enumerate(f for f in picks if people is None or f.person in people):
            original = ids[b, f.start:f.end + 1].clone()
            labels[b, f.start:f.end + 1] = original
            span_labels[b, k, :f.length] = original
            bounds[b, k] = torch.tensor([f.start - 1, f.end + 1])
            ids[b, f.start:f.end + 1] = tok.mask_token_id
    return {"input_ids": ids, "attention_mask": (ids != tok.pad_token_id).long(), "labels": labels,
            "span_boundaries": bounds, "span_labels": span_labels}


def _by_length(right, lengths) -> dict:
    """{span length: accuracy} (not rounded)."""
    return AccuracyTable().add(lengths, right).table(digits=None)


@torch.no_grad()
def measure(model, world: ToyWorld, examples, seed, people=None) -> dict:
    """MLM and SBO accuracy on whole masked facts, overall and by fact length (tokens), and the
    boundary features for the probe: ``features`` (N, 2H), ``offsets`` (N,), ``targets`` (N,)."""
    batch = masked_facts(world, examples, seed, people)
    out = model(**batch, output_hidden_states=True)
    target = batch["span_labels"] != IGNORE_INDEX                        # (B, S, T)
    b, s, i = target.nonzero(as_tuple=True)                              # one row per span token
    left, right = batch["span_boundaries"][b, s, 0], batch["span_boundaries"][b, s, 1]
    lengths = (right - left - 1).numpy()
    # MLM rows come in labels.nonzero() order, which is the same (b, position) order here
    mlm_right = (out.mlm_logits.argmax(-1) == out.mlm_targets).numpy()
    # facts are separated by unmasked words, so each merged run of masks is one fact
    _, mlm_lengths, _ = masked_runs((batch["labels"] != IGNORE_INDEX).numpy())
    result = {"mlm_acc": float(mlm_right.mean()), "mlm_by_length": _by_length(mlm_right, mlm_lengths)}
    if model.config.sbo_weight > 0:
        sbo_right = (out.sbo_logits.argmax(-1) == out.sbo_targets).numpy()
        result.update(sbo_acc=float(sbo_right.mean()), sbo_by_length=_by_length(sbo_right, lengths))
    else:
        result.update(sbo_acc=None, sbo_by_length=None)
    hidden = out.hidden_states                                           # (B, L, H)
    result["probe_data"] = (torch.cat([hidden[b, left], hidden[b, right]], -1), i,
                            batch["span_labels"][b, s, i], lengths)
    return result


def fit_probe(train, test, cfg: ToyConfig, n_vocab: int, seed: int = 0) -> dict:
    """Linear softmax probe per offset: features [x_{s-1}; x_{e+1}] -> the span's i-th token.
    ``train``/``test``: (features, offsets, targets, lengths). Returns accuracy overall and by length."""
    x, off, y, _ = train
    mean, std = x.mean(0), x.std(0) + 1e-6                     # standardise with the fit set's statistics
    n_offsets = int(max(off.max(), test[1].max())) + 1
    torch.manual_seed(seed)
    weight = torch.zeros(n_offsets, x.shape[1], n_vocab, requires_grad=True)   # one classifier per offset
    bias = torch.zeros(n_offsets, n_vocab, requires_grad=True)
    opt = torch.optim.Adam([weight, bias], lr=cfg.probe_lr)

    def logits_of(feats, offsets):                             # (N, V): each row through its offset's classifier
        feats, out = (feats - mean) / std, torch.empty(len(feats), n_vocab)
        for i in range(n_offsets):
            rows = offsets == i
            out = out.index_put((rows.nonzero(as_tuple=True)[0],), feats[rows] @ weight[i] + bias[i])
        return out

    with torch.enable_grad():
        for _ in range(cfg.probe_epochs):                      # full batch: a few thousand rows
            loss = F.cross_entropy(logits_of(x, off), y) + cfg.probe_l2 * weight.pow(2).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
    xt, offt, yt, lengths = test
    with torch.no_grad():
        right = (logits_of(xt, offt).argmax(-1) == yt).numpy()
    return {"probe_acc": float(right.mean()), "probe_by_length": _by_length(right, lengths)}


def probe_ceiling(fit, test) -> float:
    """The best a per-offset probe fitted on ``fit`` can score on ``test``: the share of test
    tokens whose (offset, token) pair occurs in the fit set (a classifier never shown a class at
    an offset cannot predict it there)."""
    seen = set(zip(fit[1].tolist(), fit[2].tolist()))
    return float(np.mean([(i, t) in seen for i, t in zip(test[1].tolist(), test[2].tolist())]))


def run_arm(world: ToyWorld, arm: str, seed: int, cfg: ToyConfig = ToyConfig(), on_log=None) -> dict:
    """Train (``arm="untrained"``: skip training) and score one arm; one row of the results."""
    trained = arm != "untrained"
    model = train_arm(world, arm if trained else "mlm+sbo", seed,
                      cfg if trained else dataclasses.replace(cfg, steps=0), on_log)
    return score_arm(model, world, arm, seed, cfg)


def score_arm(model, world: ToyWorld, arm: str, seed: int, cfg: ToyConfig = ToyConfig()) -> dict:
    """Held-out accuracies and both probes for a model of ``arm``, with ``seed``'s data streams."""
    _check_inputs(world, seed, cfg)
    trained = arm != "untrained"
    heldout = world.examples(cfg.eval_examples, seed=[10_000, seed])          # never trained on
    probe_set = world.examples(cfg.probe_examples, seed=[20_000, seed])
    scores = measure(model, world, heldout, [30_000, seed])
    # Two probes, both fitted on facts about the even-numbered people. Scored on new sentences
    # about the SAME people, a probe can succeed from states that only say who the sentence is
    # about (it learns the fact table itself); scored on the odd-numbered people, whom it never
    # saw, it must read the value's words from the states.
    even, odd = set(range(0, world.n_people, 2)), set(range(1, world.n_people, 2))
    fit = measure(model, world, probe_set, [40_000, seed], even)["probe_data"]
    tests = {name: measure(model, world, heldout, [30_000, seed], people)["probe_data"]
             for name, people in (("seen", even), ("new", odd))}
    probe = {name: fit_probe(fit, test, cfg, n_vocab=len(world.vocab), seed=seed) for name, test in tests.items()}
    return {"arm": arm, "seed": seed, "steps": cfg.steps if trained else 0,
            "mlm_acc": scores["mlm_acc"] if trained else None,
            "sbo_acc": scores["sbo_acc"] if trained else None,
            "probe_acc": probe["seen"]["probe_acc"], "probe_acc_new_people": probe["new"]["probe_acc"],
            "probe_ceiling_new_people": probe_ceiling(fit, tests["new"]),
            "mlm_by_length": scores["mlm_by_length"] if trained else None,
            "sbo_by_length": scores["sbo_by_length"] if trained else None,
            "probe_by_length": probe["seen"]["probe_by_length"]}


def run_toy(seeds: int = 3, cfg: ToyConfig = ToyConfig(), world: ToyWorld | None = None,
            arms=("mlm", "mlm+sbo", "untrained"), echo=print, on_log=None) -> dict:
    """Every arm for seeds 0..seeds-1; returns {"config", "world", "rows", "summary"}."""
    check_int("seeds", seeds, minimum=1)
    world = ToyWorld() if world is None else world
    _check_inputs(world, 0, cfg)
    # all arms before any is trained: ("mlm", "sbo") failed only after "mlm" had trained
    known = [*ARMS, "untrained"]
    if not isinstance(arms, (list, tuple)) or not arms or any(a not in known for a in arms):
        raise ValueError(f"arms must be a non-empty list of {known}, got {arms!r}")
    rows = []
    for seed in range(seeds):
        for arm in arms:
            t0 = time.perf_counter()
            rows.append({**run_arm(world, arm, seed, cfg, on_log), "seconds": 0.0})
            r = rows[-1]
            r["seconds"] = round(time.perf_counter() - t0, 1)   # training + measuring + probes
            echo(f"seed {seed} {arm:9s} MLM {_fmt(r['mlm_acc'])}  SBO {_fmt(r['sbo_acc'])}  probe: same "
                 f"people {_fmt(r['probe_acc'])}, new people {_fmt(r['probe_acc_new_people'])}  ({r['seconds']} s)")
    return {"config": dataclasses.asdict(cfg), "world": {k: getattr(world, k) for k in (
        "n_people", "n_value_words", "max_value_words", "sentences_per_example", "world_seed")},
            "rows": rows, "summary": summarise(rows)}


def summarise(rows) -> dict:
    """arm -> metric -> [mean, sd] over seeds (sd: sample standard deviation; 0 for one seed)."""
    out = {}
    for arm in dict.fromkeys(r["arm"] for r in rows):
        mine = [r for r in rows if r["arm"] == arm]
        out[arm] = {}
        for metric in ("mlm_acc", "sbo_acc", "probe_acc", "probe_acc_new_people", "probe_ceiling_new_people"):
            values = [r[metric] for r in mine if r[metric] is not None]
            if values:
                out[arm][metric] = list(mean_sd(values))
    return out


def _fmt(value) -> str:
    return "  -  " if value is None else f"{value:.3f}"
