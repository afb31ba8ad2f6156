"""Pictures of the ideas: the span-length distribution, the masking schemes side by side, and
the Span Boundary Objective's wiring. Pure functions returning matplotlib ``Figure`` objects
(built without pyplot), used by the notebooks, the widgets and ``figures/``.
"""
from __future__ import annotations

import numpy as np

from ..batch import IGNORE_INDEX
from ..masking import SCHEMES
from ..spans import MODES, expected_span_length, sample_span_lengths, span_length_pmf

EXAMPLE_SENTENCE = ("The Python Software Foundation maintains the reference implementation of the "
                    "language, which Guido van Rossum first released in the Netherlands.")
COLOURS = {"mask": "#f4a261", "random": "#e76f51", "keep": "#2a9d8f", "boundary": "#264653",
           "plain": "#f1f1f1"}


def _figure(width, height):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height))


def plot_span_lengths(geometric_p: float = 0.2, max_span_length: int = 10, min_span_length: int = 1,
                      n_samples: int = 100_000, seed: int = 0, span_length_modes=MODES):
    """Analytic pmf (bars) against a simulated histogram (dots) for each reading (a
    ``span_length_mode``), means marked. Parameters carry the collator's names."""
    fig = _figure(4.6 * len(span_length_modes), 3.3)
    axes = fig.subplots(1, len(span_length_modes), squeeze=False)[0]
    knobs = (geometric_p, max_span_length, min_span_length)        # spans.py's (p, max_len, min_len)
    lengths = np.arange(min_span_length, max_span_length + 1)
    for ax, mode in zip(axes, span_length_modes):
        pmf = span_length_pmf(*knobs, mode)
        draws = sample_span_lengths(n_samples, *knobs, mode, seed=seed)
        freq = np.bincount(draws - min_span_length, minlength=len(lengths)) / n_samples
        ax.bar(lengths, pmf, color="#a8dadc", label="closed form")
        ax.plot(lengths, freq, "o", color="#1d3557", ms=4, label=f"{n_samples:,} draws")
        mean = expected_span_length(*knobs, mode)
        ax.axvline(mean, color="#e63946", ls="--", label=f"mean {mean:.3f} (sim {draws.mean():.3f})")
        ax.set_title(f"{mode}: p={geometric_p}, {min_span_length}..{max_span_length} words")
        ax.set_xlabel("span length (words)")
        ax.set_xticks(lengths if len(lengths) <= 20 else lengths[::max(1, len(lengths) // 10)])
        ax.legend(fontsize=8)
    axes[0].set_ylabel("probability")
    fig.tight_layout()
    return fig


def token_roles(original_ids, masked_ids, labels, mask_token_id, boundaries=()) -> list[str]:
    """Per token: "mask", "random", "keep" (targets) or "plain"; "boundary" at the positions in
    ``boundaries``, the (s-1, e+1) pairs the collator returned as SBO targets. (Not every
    neighbour of a masked run is one: a run touching [CLS] or [SEP] has no SBO target.)"""
    roles = []
    for o, m, lab in zip(original_ids, masked_ids, labels):
        if lab == IGNORE_INDEX:
            roles.append("plain")
        else:
            roles.append("mask" if m == mask_token_id else "keep" if m == o else "random")
    for pair in boundaries:
        for i in pair:
            if 0 <= i < len(roles) and roles[i] == "plain":
                roles[i] = "boundary"
    return roles


def _draw_tokens(ax, tokens, roles, y, x_max, renderer):
    """Lay tokens out left to right, measuring each drawn box so the next one starts after it."""
    x = 0.0
    to_data = ax.transData.inverted()
    for tok, role in zip(tokens, roles):
        text = tok[2:] if tok.startswith("##") else tok
        x += 0.05 if tok.startswith("##") else 0.45  # pieces of one word sit closer
        face = COLOURS[role] if role != "boundary" else "white"
        edge = COLOURS["boundary"] if role == "boundary" else face
        t = ax.text(x, y, text, family="monospace", fontsize=8, va="center",
                    bbox=dict(boxstyle="round,pad=0.15", fc=face, ec=edge, lw=1.2))
        right = t.get_window_extent(renderer).transformed(to_data).x1
        if right > x_max:
            t.remove()
            break
        x = right + 0.35  # clear of the box padding


def masking_rows(tokenizer, sentence: str = EXAMPLE_SENTENCE, seed: int = 0, mlm_probability: float = 0.25,
                 schemes=SCHEMES, geometric_p: float = 0.2) -> dict:
    """{scheme: (original ids, masked ids, labels, SBO boundary pairs)} for one sentence, each
    scheme, one seed, as the collator makes them (unigram random replacements included): the rows
    :func:`plot_masking_schemes` draws."""
    from ..batch import NO_SPAN
    from ..collator import SpanMaskingCollator

    example = {"input_ids": tokenizer(sentence)["input_ids"]}
    rows = {}
    for scheme in schemes:
        batch = SpanMaskingCollator(tokenizer, scheme=scheme, seed=seed, mlm_probability=mlm_probability,
                                    geometric_p=geometric_p)([example])
        pairs = [tuple(int(v) for v in b) for b in batch["span_boundaries"][0].tolist() if b[0] != NO_SPAN]
        rows[scheme] = (example["input_ids"], batch["input_ids"][0].tolist(), batch["labels"][0].tolist(), pairs)
    return rows


def plot_masking_schemes(tokenizer, rows: dict, max_chars: int = 110, sbo_schemes=("span",)):
    """One line per scheme. ``rows``: {scheme: (original_ids, masked_ids, labels[, boundaries])}
    without padding, as :func:`masking_rows` returns them.

    Colours: [MASK] orange, random red, kept green. The SBO boundary tokens are outlined in the
    rows of ``sbo_schemes`` only: SpanBERT trains SBO with span masking, and a run touching
    [CLS] or [SEP] gets no SBO target, so its neighbour is not outlined."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = _figure(max_chars * 0.085, 0.45 * len(rows) + 1.3)
    renderer = FigureCanvasAgg(fig).get_renderer()  # to measure text while laying it out
    ax = fig.subplots()
    ax.set_xlim(-14, max_chars)
    ax.set_ylim(-0.6, len(rows) + 0.7)  # the key sits a full row below the last scheme
    special = set(tokenizer.all_special_ids)
    for k, (scheme, (orig, new, labels, *rest)) in enumerate(rows.items()):
        keep = [i for i, t in enumerate(orig) if t not in special]
        where = {i: j for j, i in enumerate(keep)}            # sequence position -> drawn position
        pairs = [tuple(where.get(i, -1) for i in pair) for pair in (rest[0] if rest else [])]
        tokens = tokenizer.convert_ids_to_tokens([int(new[i]) for i in keep])
        roles = token_roles([orig[i] for i in keep], [new[i] for i in keep], [labels[i] for i in keep],
                            tokenizer.mask_token_id, pairs if scheme in sbo_schemes else ())
        y = len(rows) - k
        ax.text(-1, y, scheme, ha="right", va="center", fontsize=9, weight="bold")
        _draw_tokens(ax, tokens, roles, y, max_chars, renderer)
    ax.axis("off")
    ax.axhline(0.35, xmin=0.0, xmax=1.0, color="#ccc", lw=0.8)  # separates the key from the rows
    ax.text(-1, -0.2, "key", ha="right", va="center", fontsize=9, style="italic")
    for i, (name, colour) in enumerate((("[MASK]", COLOURS["mask"]), ("random", COLOURS["random"]),
                                        ("kept", COLOURS["keep"]))):
        ax.text(0.45 + i * 12, -0.2, name, fontsize=8, va="center",
                bbox=dict(fc=colour, ec=colour, boxstyle="round,pad=0.15"))
    ax.text(36.45, -0.2, f"SBO boundary ({', '.join(sbo_schemes)})", fontsize=8, va="center",
            bbox=dict(fc="white", ec=COLOURS["boundary"], boxstyle="round,pad=0.15", lw=1.2))
    fig.tight_layout()
    return fig


def plot_sbo_diagram(words=("an", "American", "football", "game", "."), span=(1, 3), target: int = 1,
                     hidden: int = 256, position_size: int = 200):
    """The SBO head's wiring for one target: x_{s-1}, x_{e+1} and p_{i-s} -> two-layer MLP -> y_i.

    Indices follow the paper: x_i is the token at position i of the sequence, the target is
    x_i with i = s + ``target``, and the position embedding is indexed by the offset i - s
    (0 for the span's first token, as in the library)."""
    from matplotlib.patches import FancyArrowPatch

    fig = _figure(8.0, 4.2)
    ax = fig.subplots()
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 6)
    ax.axis("off")
    s, e = span
    i = s + target                                             # the target's position in the sequence
    xs = np.linspace(1, 9, len(words))
    box = lambda x, y, text, fc, lw=0.8: ax.text(x, y, text, ha="center", va="center", fontsize=9,
                                                 bbox=dict(boxstyle="round,pad=0.3", fc=fc, ec="#333", lw=lw))
    arrow = lambda a, b: ax.add_patch(FancyArrowPatch(a, b, arrowstyle="-|>", mutation_scale=10, color="#555"))
    for k, (x, w) in enumerate(zip(xs, words)):
        inside = s <= k <= e
        box(x, 0.6, "[MASK]" if inside else w, COLOURS["mask"] if inside else COLOURS["plain"], lw=2 if k == i else 0.8)
        label = "x_{s-1}" if k == s - 1 else "x_{e+1}" if k == e + 1 else f"x_{k}"
        box(x, 1.9, f"${label}$", "#dfe7fd" if k in (s - 1, e + 1) else "white")
        arrow((x, 0.85), (x, 1.65))
    box(5.0, 3.2, f"$[x_{{s-1}}; x_{{e+1}}; p_{{i-s}}] = [x_{s - 1}; x_{e + 1}; p_{target}]$  "
                  f"({2 * hidden}+{position_size})", "#fff3b0")
    box(8.6, 3.2, f"$p_{{{target}}}$: offset i-s = {target}\n(0 = first token)", "#ffd6a5")
    arrow((xs[s - 1], 2.15), (3.4, 2.95))
    arrow((xs[e + 1], 2.15), (6.6, 2.95))
    arrow((8.0, 3.2), (7.6, 3.2))
    box(5.0, 4.25, f"Linear -> GeLU -> LayerNorm   ({hidden})\nLinear -> GeLU -> LayerNorm   ({hidden})", "#caffbf")
    arrow((5.0, 3.45), (5.0, 3.9))
    box(5.0, 5.4, f"$y_{{{i}}}$ . word embeddings$^T$ + bias  ->  $x_{{{i}}}$ = '{words[i]}'", "#bdb2ff")
    arrow((5.0, 4.65), (5.0, 5.15))
    ax.set_title("Span Boundary Objective: predict each span token from the two boundary tokens "
                 "and its position", fontsize=10)
    return fig


def plot_realised_lengths(lengths: dict, geometric_p: float = 0.2, max_span_length: int = 10,
                          max_shown: int = 20):
    """Realised masked-run lengths (in words and in tokens) against the sampling pmf."""
    fig = _figure(9.0, 3.2)
    axes = fig.subplots(1, 2)
    pmf = span_length_pmf(geometric_p, max_span_length)
    for ax, unit in zip(axes, ("words", "tokens")):
        values = np.minimum(lengths[unit], max_shown)
        freq = np.bincount(values, minlength=max_shown + 1)[1:] / len(values)
        ax.bar(np.arange(1, max_shown + 1), freq, color="#a8dadc",
               label=f"realised runs (mean {lengths[unit].mean():.2f})")
        ax.plot(np.arange(1, max_span_length + 1), pmf, "o-", color="#e63946", ms=3,
                label=f"sampling pmf (mean {expected_span_length(geometric_p, max_span_length):.2f})")
        ax.set_xlabel(f"masked run length ({unit}; {max_shown} = {max_shown} or more)")
        ax.legend(fontsize=8)
    axes[0].set_ylabel("share of runs")
    fig.tight_layout()
    return fig
