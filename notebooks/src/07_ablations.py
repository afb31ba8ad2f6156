# %% [markdown]
# # 07 · The paper's ablations at laptop scale
#
# **What you will learn**
# - how the SpanBERT paper isolates its two central claims: random geometric spans beat the other masking schemes
#   (Table 6), and one long sequence with SBO beats two segments with NSP (Table 7);
# - how to rerun both comparisons yourself, with seeds, and read the noise honestly;
# - what reproduces at the scale of a 2-core CPU and what does not.
#
# The results below come from `results/ablation_laptop.json`, written by
# `python -m spanbert_edu ablate --budget laptop` (the README has the exact command and its wall time).

# %%
%matplotlib inline
import json
from pathlib import Path

from IPython.display import Markdown

from spanbert_edu.ablate import ARMS, BUDGETS, PAPER, summarise
from spanbert_edu.plots import plot_ablation

rows = json.loads(Path("../results/ablation_laptop.json").read_text())
print(f"{len(rows)} runs: {len(ARMS)} arms x {len({r['seed'] for r in rows})} seeds; "
      f"each arm: {BUDGETS['laptop']['train']}")

# %% [markdown]
# ## 1. The arms
#
# Every arm trains the `tiny` model on the bundled corpus with the same optimiser, steps and token budget; only the
# masking scheme or the objective changes. Table 6 arms are MLM-only on one sequence, to isolate the scheme (the paper's
# Table 6 runs all used two segments + NSP; we drop NSP there so that the masking is the only difference).
# Rows marked `*` are not in the paper: the ERNIE-style mixture and SOP.
#
# Each run is measured two ways: **intrinsic**, MLM accuracy on the same held-out SpanBERT span masks for every arm, by
# span length; **downstream**, a cloze span-selection task (a sentence with a multi-word span replaced by `[MASK]` is
# the question, the rest of the document the context, the span's other occurrence the answer), fine-tuned identically
# for every arm and scored with SQuAD's exact match and F1.

# %%
# NBVAL_CHECK_OUTPUT
fmt = lambda m, d=3: f"{m[0]:.{d}f} ± {m[1]:.{d}f}"
lines = ["| arm | table | span MLM acc | cloze EM | cloze F1 | paper SQuAD 2.0 F1 | paper GLUE |",
         "|---|---|---:|---:|---:|---:|---:|"]
for s in summarise(rows):
    p = PAPER.get(s["arm"], {})
    lines.append(f"| {s['arm']} | {s['table']} | {fmt(s['mlm_span_acc'])} | {fmt(s['qa_exact_match'], 1)} | "
                 f"{fmt(s['qa_f1'], 1)} | {p.get('squad2', '-')} | {p.get('glue', '-')} |")
Markdown("\n".join(lines))

# %%
plot_ablation(rows, PAPER)

# %% [markdown]
# ## 2. What reproduced, and what did not
#
# RESULTS_PARAGRAPH
#
# ## Exercises
# 1. Rerun one arm with five seeds (`python -m spanbert_edu ablate --budget laptop --arms span,subword --seeds 0,1,2,3,4`).
#    Does the ranking of the two survive?
# 2. Intrinsic accuracy is measured on *span* masks for every arm. Why does that favour the span-trained arms? Measure
#    the subword arm on subword masks instead (`heldout_mlm_acc_own_masks` in the JSON rows).
# 3. Which of the paper's claims would you expect to need the most compute to show, and why?
