"""Thin ipywidgets panels for the notebooks. The computing lives in pure library functions
(:mod:`.diagrams`, :mod:`.plots`, :mod:`.predict`); a panel only wires controls to one of them.

Every panel is a ``Panel``: ``panel.controls`` maps names to the control widgets and
``panel.result`` holds the last thing computed, so tests (and curious students) can set
``panel.controls["geometric_p"].value = 0.4`` and read ``panel.result`` without a browser.
"""
from __future__ import annotations

import html

import ipywidgets as W
import numpy as np
from IPython.display import HTML, display

from ..masking import SCHEMES
from ..spans import MODES
from .diagrams import masking_rows, plot_masking_schemes, plot_span_lengths
from .plots import plot_loss_curves
from .predict import mask_span, predict_span


class Panel(W.VBox):
    """Controls on top, the rendered result below; recomputes whenever a control changes."""

    def __init__(self, controls: dict, compute, render=lambda r: r, columns: int = 3):
        self.controls, self.result, self._compute, self._render = controls, None, compute, render
        self.output = W.Output()
        rows = [W.HBox(list(controls.values())[i:i + columns]) for i in range(0, len(controls), columns)]
        super().__init__(rows + [self.output])
        for control in controls.values():
            control.observe(self.update, names="value")
        self.update()

    def update(self, *_):
        try:
            self.result = self._compute(**{k: c.value for k, c in self.controls.items()})
            shown = self._render(self.result)
        except (ValueError, OSError) as err:  # bad combinations or missing files explain themselves
            self.result, shown = err, HTML(f"<b style='color:#b00'>{html.escape(str(err))}</b>")
        with self.output:
            self.output.clear_output(wait=True)
            display(shown)


def build_span_length_widget() -> Panel:
    """p, max length, min length, mode and sample size -> pmf vs simulated histogram, both means.
    The controls carry the collator's names (``geometric_p``, ``max_span_length``, ...)."""
    controls = {
        "geometric_p": W.FloatSlider(value=0.2, min=0.05, max=1.0, step=0.05, description="p"),
        "max_span_length": W.IntSlider(value=10, min=1, max=30, description="max length"),
        "min_span_length": W.IntSlider(value=1, min=1, max=10, description="min length"),
        "span_length_mode": W.Dropdown(options=[*MODES, "both"], value="both", description="mode"),
        "n_samples": W.IntSlider(value=20_000, min=1_000, max=200_000, step=1_000, description="samples"),
    }

    def compute(geometric_p, max_span_length, min_span_length, span_length_mode, n_samples):
        modes = MODES if span_length_mode == "both" else (span_length_mode,)
        return plot_span_lengths(geometric_p, max_span_length, min_span_length, n_samples=n_samples,
                                 span_length_modes=modes)

    return Panel(controls, compute)


def build_masking_widget(tokenizer, sentence: str) -> Panel:
    """Any sentence, a scheme (or all), mask ratio, p and seed -> the masked tokens, coloured."""
    controls = {
        "sentence": W.Textarea(value=sentence, description="sentence", layout=W.Layout(width="60%")),
        "scheme": W.Dropdown(options=["all", *SCHEMES], value="all", description="scheme"),
        "mlm_probability": W.FloatSlider(value=0.15, min=0.05, max=0.5, step=0.05, description="mask ratio"),
        "geometric_p": W.FloatSlider(value=0.2, min=0.05, max=1.0, step=0.05, description="geometric p"),
        "seed": W.IntText(value=0, description="seed"),
    }

    def compute(sentence, scheme, mlm_probability, geometric_p, seed):
        return masking_rows(tokenizer, sentence, seed=seed, mlm_probability=mlm_probability,
                            geometric_p=geometric_p, schemes=SCHEMES if scheme == "all" else (scheme,))

    return Panel(controls, compute, lambda rows: plot_masking_schemes(tokenizer, rows), columns=2)


def build_sbo_widget(model, tokenizer, sentence: str, span_words=(2, 4), top_k: int = 5) -> Panel:
    """Pick a span (word indices) and an offset in it -> the two boundary tokens the SBO head
    sees and its ``top_k`` guesses for the token at that offset, next to the answer."""
    import torch

    n_words = len([w for w in set(tokenizer(sentence).word_ids()) if w is not None])
    if n_words < 3:  # a span needs a word on each side of it
        def explain():
            raise ValueError(f"the sentence needs at least 3 words (a span with a word on each side); "
                             f"{sentence!r} has {n_words}")
        return Panel({}, explain)
    controls = {
        "first": W.IntSlider(value=span_words[0], min=1, max=n_words - 2, description="first word"),
        "last": W.IntSlider(value=span_words[1], min=1, max=n_words - 2, description="last word"),
        "offset": W.IntSlider(value=0, min=0, max=model.config.max_span_targets - 1, description="offset i-s"),
    }

    @torch.no_grad()
    def compute(first, last, offset):
        if last < first:
            raise ValueError(f"last word ({last}) must be >= first word ({first})")
        enc, ids, s, e = mask_span(tokenizer, sentence, (first, last))
        if offset > e - s:
            raise ValueError(f"offset {offset} is outside the span ({e - s + 1} tokens: 0..{e - s})")
        hidden, _ = model.eval().bert(ids)                     # the encoder sees the masked span
        head = model.sbo
        h0 = torch.cat([hidden[0, s - 1], hidden[0, e + 1], head.position_embeddings.weight[offset]])
        probs = (head.mlp(h0) @ model.word_embeddings.t() + head.bias).softmax(-1)     # (V,)
        best = probs.topk(top_k)
        toks = tokenizer.convert_ids_to_tokens(enc["input_ids"])
        return {"tokens": toks, "span": (s, e), "target": toks[s + offset], "offset": offset,
                "guesses": list(zip(tokenizer.convert_ids_to_tokens(best.indices), best.values.tolist()))}

    def render(r):
        s, e = r["span"]
        shown = " ".join(f"<b>[{html.escape(t)}]</b>" if s <= i <= e else
                         f"<u>{html.escape(t)}</u>" if i in (s - 1, e + 1) else html.escape(t)
                         for i, t in enumerate(r["tokens"]))
        guesses = ", ".join(f"{'<b>*</b>' if g == r['target'] else ''}{html.escape(g)} {p:.2f}" for g, p in r["guesses"])
        return HTML(f"<p>{shown}</p><p>The head sees x<sub>s-1</sub> = '{html.escape(r['tokens'][s - 1])}', "
                    f"x<sub>e+1</sub> = '{html.escape(r['tokens'][e + 1])}' (underlined) and p<sub>{r['offset']}</sub>."
                    f"<br>Answer '{html.escape(r['target'])}'; SBO top-{len(r['guesses'])}: {guesses}</p>")

    return Panel(controls, compute, render)


def build_loss_curve_widget(runs: dict, log_steps: bool = True) -> Panel:
    """Choose runs, metrics, smoothing and the step axis -> loss curves (``runs``: {name:
    metrics.jsonl or rows}). The log step axis is the default: runs of very different lengths
    then share a plot without the short one being squashed against the left edge."""
    controls = {
        "names": W.SelectMultiple(options=list(runs), value=tuple(runs), description="runs"),
        "metrics": W.SelectMultiple(options=["loss", "mlm_loss", "sbo_loss", "mlm_acc", "sbo_acc"],
                                    value=("loss", "mlm_loss", "sbo_loss"), description="metrics"),
        "smoothing": W.FloatSlider(value=0.6, min=0.0, max=0.95, step=0.05, description="smoothing"),
        "log_steps": W.Checkbox(value=log_steps, description="log-scale steps"),
    }

    def compute(names, metrics, smoothing, log_steps):
        if not names or not metrics:
            raise ValueError("choose at least one run and one metric")
        return plot_loss_curves({n: runs[n] for n in names}, metrics=tuple(metrics), smoothing=smoothing,
                                log_steps=log_steps)

    return Panel(controls, compute)


def _prediction_table(pred, sbo_note: str | None = None) -> str:
    """HTML: one row per masked position, the answer in bold among each head's top-5."""
    head = "<tr><th>pos</th><th>answer</th><th>MLM top-5</th><th>SBO top-5</th></tr>"
    cell = lambda preds, answer: " &nbsp; ".join(  # <code> keeps a "," token readable
        (f"<b><code>{html.escape(t)}</code></b>" if t == answer else f"<code>{html.escape(t)}</code>")
        + f" {p:.2f}" for t, p in preds)
    body = "".join(f"<tr><td>{r['offset'] + 1}</td><td>{html.escape(r['answer'])}</td>"
                   f"<td>{cell(r['mlm'], r['answer'])}</td>"
                   f"<td>{sbo_note if sbo_note else cell(r['sbo'] or [], r['answer'])}</td></tr>"
                   for r in pred["rows"])
    return f"<table>{head}{body}</table>"


def build_boundary_prediction_widget(model, tokenizer, sentence: str, span: str) -> Panel:
    """Type a sentence and the words to mask -> top-5 of the MLM and SBO heads at each position."""
    controls = {
        "sentence": W.Textarea(value=sentence, description="sentence", layout=W.Layout(width="60%")),
        "span": W.Text(value=span, description="mask"),
    }
    return Panel(controls, lambda sentence, span: predict_span(model, tokenizer, sentence, span),
                 lambda pred: HTML(_prediction_table(pred)), columns=2)


def build_toy_widget(models: dict, world, n_sentences: int = 20, seed: int = 50_000) -> Panel:
    """Notebook 08: pick a generated sentence and any span of its words -> for each model (an
    arm), the top-5 of its MLM head and of its SBO head (when that arm trained it)."""
    from ..experiments.toy.world import RELATIONS

    rng = np.random.default_rng(seed)
    sentences = [world.decode(world.sentence(int(p), rng.permutation(len(RELATIONS)))[0])
                 for p in rng.choice(world.n_people, n_sentences)]
    controls = {
        "index": W.IntSlider(value=0, min=0, max=n_sentences - 1, description="sentence"),
        "words": W.IntRangeSlider(value=(3, 5), min=1, max=20, description="mask words"),
    }

    def compute(index, words):
        text = sentences[index]
        n = len(text.split())
        first, last = words
        if last > n - 1:
            raise ValueError(f"the sentence has {n} words; mask words 1 to {n - 1} (word 0 is the name, "
                             f"and the span needs a word after it)")
        return text, {arm: predict_span(m, world.tokenizer, text, (first, last)) for arm, m in models.items()}

    def render(result):
        text, preds = result
        words = text.split()
        s, e = next(iter(preds.values()))["span"]  # token positions; word = token - 1 ([CLS])
        parts = [f"<p>{html.escape(' '.join(words[:s - 1]))} <b>[…]</b> {html.escape(' '.join(words[e:]))}</p>"]
        for arm, pred in preds.items():
            note = None if models[arm].config.sbo_weight > 0 else "<i>not trained in this arm</i>"
            parts.append(f"<h4>{html.escape(arm)}</h4>" + _prediction_table(pred, note))
        return HTML("".join(parts))

    return Panel(controls, compute, render, columns=2)


def build_qa_widget(model, tokenizer, question: str, context: str) -> Panel:
    """Notebook 09: type a question and a context -> the start and end distributions over the
    context tokens and the n-best answers of a QA model (:func:`.qa.answer_question`)."""
    import base64
    import io

    from .qa import answer_question, format_nbest, plot_start_end

    controls = {
        "question": W.Text(value=question, description="question", layout=W.Layout(width="60%")),
        "context": W.Textarea(value=context, description="context", layout=W.Layout(width="90%", height="80px")),
    }

    def render(reading):
        png = io.BytesIO()
        plot_start_end(reading).savefig(png, format="png", dpi=90)
        image = base64.b64encode(png.getvalue()).decode()
        return HTML(f"<pre>{html.escape(format_nbest(reading))}</pre><img src='data:image/png;base64,{image}'/>")

    return Panel(controls, lambda question, context: answer_question(model, tokenizer, question, context),
                 render, columns=1)
