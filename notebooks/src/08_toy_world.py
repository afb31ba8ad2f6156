# %% [markdown]
# # 08 · A toy world: the Span Boundary Objective's mechanism, and a probe that finds no SBO effect
#
# **What you will learn**
# - why SBO's benefit is invisible on real text at laptop scale, and how a controlled experiment shows the mechanism;
# - a generated language in which a masked span can be recovered only through information the encoder routes to the
#   span's boundary tokens;
# - how to compare two arms (MLM only, MLM + SBO) honestly: several seeds, held-out data, and a linear probe on frozen
#   boundary states, with an untrained encoder as the floor.
#
# On the bundled corpus the ablation of notebook 07 cannot tell MLM + SBO from MLM alone: the differences are smaller
# than the seed-to-seed spread. That does not mean SBO does nothing; it means real text at this scale is a noisy
# place to look. Here we build a language where we know exactly what a span depends on.

# %%
%matplotlib inline
import time

from spanbert_edu.experiments.results import committed_result
from spanbert_edu.experiments.toy import ToyConfig, ToyWorld, score_arm, train_arm
from spanbert_edu.experiments.toy.report import plot_toy_world, toy_table
from spanbert_edu.presentation.widgets import build_toy_widget

world = ToyWorld()
print(f"{world.n_people} people, {world.n_value_words} value words, {len(world.vocab)} tokens in the vocabulary")
print(f"{world.people[0]}'s facts:")
for relation, value in zip(("lives in", "likes", "works as"), world.facts[0]):
    print(f"  {relation:9s} {world.decode(value)}")

# %% [markdown]
# ## 1. The language
#
# The world is a fixed table of facts, drawn once from `world_seed=0`: every person has a home, a favourite thing and
# a job, each a phrase of 1 to 5 made-up words. A sentence states the three facts about one person in a random order;
# an example holds three sentences about three different people. Here are two held-out examples:

# %%
# NBVAL_CHECK_OUTPUT
for ex in world.examples(2, seed=[10_000, 0]):
    print(world.decode(ex["input_ids"]), "\n")

# %% [markdown]
# Mask a fact's value, say the home in `... lives in [MASK] [MASK] [MASK] and likes ...`. The two tokens just outside
# the span are `in` and `and`: they are the same in every sentence, so on their own they say nothing about the
# value. The value depends only on **who** the sentence is about, and the name sits several words away, at a
# distance that changes with the clause order.
#
# - The **MLM head** predicts each masked token from that token's own final state. Attention lets the [MASK]
#   position look at the name directly.
# - The **SBO head** sees only the final states of the two boundary tokens x_{s-1}, x_{e+1} and the offset inside
#   the span. It can succeed only if the encoder carries the person (or the fact itself) into the states of `in`
#   and `and`, tokens whose own loss never asked for it.
#
# That is the paper's motivating claim in miniature: SBO makes the boundary representations summarise the span.

# %% [markdown]
# ## 2. One seed, live
#
# Both arms train the `tiny` preset (2 layers, hidden size 64) with SpanBERT's own collator: 15% budget, geometric
# span lengths, 80/10/10, fresh sentences at every step. The arms differ only in `sbo_weight` (0 or 1). This live run
# is shorter than the committed one so that it fits in about a minute and a half on a 2-core laptop
# (`ToyConfig.quick()`: 2,000 steps at learning rate 5e-3 instead of 4,000 at 2e-3, and smaller held-out and probe
# sets); expect lower accuracies than in section 3, where the models have passed the point at which they learn the
# fact table.
#
# Then, on held-out examples with one fact per sentence masked whole:
# - **accuracy** of the MLM head (both arms) and of the SBO head (the SBO arm; the MLM arm never trains its SBO head);
# - **a linear probe**: freeze the encoder, take [x_{s-1}; x_{e+1}] of every masked fact, and fit one linear
#   softmax classifier per offset to predict the fact's tokens. It is fitted on facts about the even-numbered
#   people, then scored on held-out sentences about the *same* people, and about the odd-numbered people, whom it
#   never saw. The untrained encoder is the floor: the same probe on random weights.

# %%
cfg = ToyConfig.quick()
t0 = time.perf_counter()
models = {arm: train_arm(world, arm, seed=0, cfg=cfg) for arm in ("mlm", "mlm+sbo")}
rows = [score_arm(model, world, arm, 0, cfg) for arm, model in models.items()]
rows.append(score_arm(train_arm(world, "mlm+sbo", 0, ToyConfig(steps=0)), world, "untrained", 0, cfg))
print(f"both arms trained and scored in {time.perf_counter() - t0:.0f} s\n")
print(toy_table({"rows": rows}))

# %%
sbo_row = rows[1]
assert sbo_row["sbo_acc"] > 0.1, "the SBO head should be well above chance (1/48) after the live run"

# %% [markdown]
# ## 3. The committed result: three seeds, 4,000 steps per arm
#
# `python -m spanbert_edu toy --seeds 3 --out spanbert_edu/assets/results/toy_world.json` trains every arm with seeds 0, 1 and 2 (seed =
# initial weights, masks and sentence order; the world itself is the same). Mean ± sample standard deviation over
# the three seeds:

# %%
# NBVAL_CHECK_OUTPUT
result = committed_result("toy_world.json")
print(toy_table(result))
print("\nseconds per arm (training + scoring):", [r["seconds"] for r in result["rows"]])

# %%
plot_toy_world(result);

# %% [markdown]
# ## 4. What the numbers say
#
# Read from `spanbert_edu/assets/results/toy_world.json` (3 seeds, mean ± sample sd):
#
# - **The mechanism works.** The SBO head sees only the boundary tokens (`in`, `likes`, `as` on the left; `,`, `and`,
#   `.` on the right) and the offset, yet it recovers 0.804 ± 0.011 of the masked tokens: the encoder did carry who
#   the sentence is about into the states of those tokens. Inside the SBO arm it beats the arm's own MLM head at every
#   length (1 token: 0.995 vs 0.876; 5 tokens: 0.683 vs 0.594). Against the MLM-only arm's MLM head it is ahead on
#   facts of 1 to 3 tokens (0.995, 0.969, 0.892 vs 0.935, 0.893, 0.853) and behind on 4 and 5 (0.808, 0.683 vs 0.859,
#   0.799): a fixed summary at the boundary has to serve every position of a long span; a [MASK] state serves one.
# - **Span-MLM accuracy: the SBO arm is behind at equal steps**, 0.651 ± 0.076 against 0.843 ± 0.045 for MLM only.
#   In a model this small, after 4,000 steps, the second loss competes with the first for the same 64-wide encoder.
#   Read this column with care: an earlier version of the run, whose masks and sentences came (by mistake) from one
#   random stream, had 0.855 ± 0.084 against 0.868 ± 0.077. With three seeds, gaps of this size come and go.
# - **The probe shows no SBO effect here, and the reason is instructive.** Fitted and scored on the same people, the
#   linear probe reads the span off the boundary states of *both* trained arms (0.996 vs 0.999; the untrained
#   encoder: 0.305). An MLM-only encoder already puts the person into `in` and `and`: in a 2-layer model attention
#   mixes the sentence into every state, whether a loss asks for it or not. On people the probe never saw, where it
#   must read the value's words rather than look up who the sentence is about, both arms sit near the floor
#   (0.064 ± 0.019 vs 0.080 ± 0.006; untrained 0.021), far below the probe's ceiling there (0.570: the share of those
#   tokens whose offset and word the fit set ever showed together). The boundary states say *who*, not a linearly
#   readable copy of the words, and the SBO arm's lead is within one standard deviation: not an effect.
#
# So, plainly: in this world the paper's motivating claim, that SBO makes the boundary states summarise the span,
# is not what tells the two arms apart, because plain MLM does the summarising too. What the experiment does show
# is the objective at work: a head that sees only two tokens and an offset recovers four masked tokens in five.

# %% [markdown]
# ## 5. Look for yourself
#
# Pick a generated sentence and any span of its words (word 0 is the name). For each arm of the live run, the table
# shows the MLM head's and the SBO head's top-5 at every masked position; the right answer is in bold. Try masking a
# relation word (`lives`, `works`) or the glue (`,`, `and`): those the boundaries *do* pin down.

# %%
widget = build_toy_widget({"MLM only": models["mlm"], "MLM + SBO": models["mlm+sbo"]}, world)
widget

# %%
assert widget.result[1]["MLM + SBO"]["rows"][0]["sbo"] is not None

# %% [markdown]
# ## 6. What we tried first
#
# Our first world made values random in every example and restated each fact later, so that a masked value could
# only be *copied* from its first statement (nothing can memorise a random value). We tried it with four facts of up
# to five words, with two facts of up to three words, and with the name written on both sides of the value, for
# 3,000 to 4,000 steps (about a minute each). Neither arm learned to copy: accuracy on the restated values stayed
# between 0.00 and 0.10 (chance: 0.02). Copying needs a two-step attention circuit (find the earlier mention, then
# read what follows it) that the `tiny` model did not form in a minute. A bigger model or a longer run would be the
# next thing to try; it would no longer be a one-minute lesson.
#
# The probe was also first scored only on the people it was fitted on. It saturated for every trained arm and gave
# even the untrained encoder 0.29, which is why the score on new people is reported beside it. Neither probe was
# tuned after seeing results: its settings (`ToyConfig.probe_*`) were fixed before the first run.
#
# ## Exercises
# 1. Change `ToyWorld(max_value_words=...)` to 1 and to 8. How do the two heads' accuracies by length move?
# 2. Train the MLM-only arm, freeze it, and train only an `SBOHead` on its boundary states (the nonlinear version of
#    the probe). How close does it get to the SBO arm's head?
# 3. Design a world in which an MLM-only encoder has *no* reason to carry the span's content to its boundaries.
