# %% [markdown]
# # 01 · Span lengths: the geometric distribution behind SpanBERT
#
# **What you will learn**
# - how SpanBERT draws the length of each masked span (in *words*) from a geometric distribution with $p = 0.2$, restricted to 1..10;
# - the two readings of "restricted" (truncate-and-renormalise vs clip) and why the paper's mean of **3.8** is the *truncated* one;
# - the closed-form mean, derived step by step from two finite geometric sums, and checked against simulation;
# - why the masked spans a model actually sees are not distributed like the sampler (merging, the budget, subwords).
#
# **Why spans at all.** The tasks SpanBERT was built for select *spans* of text: an extractive QA model points at the
# start and the end token of its answer (notebook 09), a coreference model scores mentions by their first and last
# token, a relation-extraction model reads the two entity spans. Masking whole contiguous spans, and predicting them
# from their two boundary tokens, trains those very representations. The paper's headline results, F1 of the large
# models (from the authors' README):
#
# | task | BERT-large (Google) | SpanBERT-large |
# |---|---:|---:|
# | SQuAD 1.1 | 91.3 | 94.6 |
# | SQuAD 2.0 | 83.3 | 88.7 |
# | OntoNotes coreference (avg. F1) | 77.1 | 79.6 |
# | TACRED relation extraction | 66.4 | 70.8 |
#
# Everything here is computed by `spanbert_edu.spans`; this notebook only calls it.

# %%
%matplotlib inline
import numpy as np

from spanbert_edu import load_corpus, load_tokenizer, pack_documents
from spanbert_edu.presentation.diagrams import plot_realised_lengths, plot_span_lengths
from spanbert_edu.masking.stats import realised_span_lengths
from spanbert_edu.spans import expected_span_length, sample_span_lengths, span_length_pmf, span_length_std
from spanbert_edu.presentation.widgets import build_span_length_widget

# %% [markdown]
# ## 1. The geometric distribution
#
# Flip a coin that lands heads with probability $p$; the number of flips up to and including the first head is geometric:
# $P(\ell) = p\,(1-p)^{\ell-1}$ for $\ell = 1, 2, \dots$, with mean $1/p = 5$ for $p = 0.2$. Short spans are common, long ones rare.
# SpanBERT never masks more than 10 words in one draw, so the distribution has to be cut at 10. The authors' code keeps the
# weights for 1..10 and **renormalises** them:

# %%
# NBVAL_CHECK_OUTPUT
print(span_length_pmf(0.2, 10).round(3))

# %% [markdown]
# ## 2. Truncate or clip?
#
# The paper says the distribution is "clipped". Read literally, clipping draws an unrestricted geometric and replaces
# every length above 10 by 10, piling the whole tail ($P(G \ge 10) = 0.8^9 \approx 0.134$) onto the last bar:

# %%
# NBVAL_CHECK_OUTPUT
print(span_length_pmf(0.2, 10, mode="clip").round(3))

# %% [markdown]
# ### The closed forms
#
# Let $q = 1 - p$. Two finite geometric sums do all the work:
#
# $$S_0 = \sum_{k=1}^{N} q^{k-1} = \frac{1-q^N}{1-q} = \frac{1-q^N}{p},\qquad
#   S_1 = \sum_{k=1}^{N} k\,q^{k-1} = \frac{d}{dq}\sum_{k=0}^{N} q^k = \frac{1-(N+1)q^N + N q^{N+1}}{p^2}.$$
#
# **Truncated.** With lengths $m..n$, write $\ell = m - 1 + k$, $k = 1..N$, $N = n - m + 1$. The renormalised weights are $q^{k-1}/S_0$, so
#
# $$E[\ell] = m - 1 + \frac{S_1}{S_0} = m - 1 + \frac{1-(N+1)q^N+Nq^{N+1}}{p\,(1-q^N)} = m - 1 + \frac{1}{p} - \frac{N q^N}{1-q^N},$$
#
# using $1-(N+1)q^N+Nq^{N+1} = (1-q^N) - N q^N (1-q)$. For $p = 0.2$, $m = 1$, $n = 10$: $5 - 10\cdot 0.8^{10}/(1-0.8^{10}) = 3.797$.
#
# **Clipped.** For a variable on $\{0, 1, \dots\}$, $E[X] = \sum_{k\ge0} P(X > k)$. With $X = \min(\max(G, m), n)$ and $P(G > k) = q^k$:
#
# $$E[X] = \sum_{k=0}^{m-1} 1 + \sum_{k=m}^{n-1} q^k = m + \frac{q^m - q^n}{p} \quad\Rightarrow\quad 1 + \frac{0.8 - 0.8^{10}}{0.2} = 4.463.$$
#
# `expected_span_length` computes exactly these formulas (no summing):

# %%
# NBVAL_CHECK_OUTPUT
for mode in ("truncate", "clip"):
    print(f"{mode:>8}: closed form {expected_span_length(0.2, 10, mode=mode):.3f}, "
          f"direct sum {span_length_pmf(0.2, 10, mode=mode) @ np.arange(1, 11):.3f}")

# %% [markdown]
# The paper reports a mean span length of **3.8**, which only the truncated reading gives: the code truncates and
# renormalises, and the paper's word "clip" is loose. This project uses the truncated reading by default.
#
# ### Checked against simulation
#
# A million draws; the simulated mean should sit within a few standard errors ($\sigma/\sqrt{n}$) of the closed form.

# %%
# NBVAL_CHECK_OUTPUT
n = 10**6
for mode in ("truncate", "clip"):
    draws = sample_span_lengths(n, 0.2, 10, mode=mode, seed=0)
    se = span_length_std(0.2, 10, mode=mode) / np.sqrt(n)
    z = (draws.mean() - expected_span_length(0.2, 10, mode=mode)) / se
    print(f"{mode:>8}: |z| = {abs(z):.1f} standard errors -> {'agrees' if abs(z) < 4 else 'DISAGREES'}")

# %%
plot_span_lengths(0.2, 10)

# %% [markdown]
# ## 3. Try it: p, the limits, the reading
#
# Move the sliders: a smaller $p$ fattens the tail, so truncation and clipping disagree more; with `max length` large
# both approach $1/p$.

# %%
build_span_length_widget()

# %% [markdown]
# ## 4. What the model actually sees
#
# The sampler is not the whole story. Spans that overlap or touch are **merged**, the budget (15% of the tokens) **cuts**
# the last span, and a word can be several subword **tokens**. Measured on 512-token blocks of the bundled corpus:

# %%
tokenizer = load_tokenizer()
blocks = pack_documents(load_corpus("default", "heldout"), tokenizer, max_length=512)
lengths = realised_span_lengths(blocks, tokenizer, draws=4, seed=0)
print(f"{len(lengths['words'])} masked runs: mean {lengths['words'].mean():.2f} words, "
      f"{lengths['tokens'].mean():.2f} tokens; longest {lengths['words'].max()} words")
plot_realised_lengths(lengths)

# %% [markdown]
# Merging makes realised runs longer than the sampler's 3.8 words (and occasionally longer than 10); the budget cut and
# the end of the block make some shorter.
#
# ## Exercises
# 1. Derive $E[\ell]$ for the truncated distribution on $m..n$ yourself and check it against `expected_span_length(0.3, 8, 2)`.
# 2. For which $p$ does the truncated mean on 1..10 equal 3.0? (Hint: the mean is monotone in $p$; bisect.)
# 3. What share of sampled spans is longer than 5 words for $p=0.2$? Compare with the share of *realised* runs longer than 5 words above, and explain the gap.
# 4. The authors' code was run with $p=0.2$ in the paper but defaults to $p=0.3$. How does the expected span length change?
