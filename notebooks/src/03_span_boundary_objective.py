# %% [markdown]
# # 03 · The Span Boundary Objective, built up one step at a time
#
# **What you will learn**
# - what SBO predicts: every token of a masked span from the two tokens just **outside** it and its position inside it;
# - the head's exact form: $[x_{s-1}; x_{e+1}; p_i]$ → Linear → GeLU → LayerNorm → Linear → GeLU → LayerNorm → tied decoder;
# - the shapes after each step, checked against the library's `SBOHead`;
# - which hidden states feed which prediction (try the widget at the end).

# %%
%matplotlib inline
import torch
import torch.nn.functional as F

from spanbert_edu import SpanMaskingCollator, load_pretrained
from spanbert_edu.presentation.diagrams import plot_sbo_diagram
from spanbert_edu.presentation.widgets import build_sbo_widget

model, tokenizer = load_pretrained()   # the bundled `small` checkpoint (see notebook 05)
model.eval()
head = model.sbo
print(head)

# %%
plot_sbo_diagram(hidden=model.config.hidden_size, position_size=model.config.sbo_position_size)

# %% [markdown]
# ## 1. A masked batch and the encoder's hidden states
#
# The collator returns, for each masked span, `span_boundaries` $=(s-1, e+1)$ and `span_labels` (its tokens).

# %%
# NBVAL_CHECK_OUTPUT
sentence = "The Python Software Foundation maintains the reference implementation of the language, which Guido van Rossum first released."
batch = SpanMaskingCollator(tokenizer, seed=3, mlm_probability=0.3)([{"input_ids": tokenizer(sentence)["input_ids"]}])
print("input_ids      ", tuple(batch["input_ids"].shape))
print("span_boundaries", tuple(batch["span_boundaries"].shape), batch["span_boundaries"][0].tolist())
print("span_labels    ", tuple(batch["span_labels"].shape))

# %%
# NBVAL_CHECK_OUTPUT
with torch.no_grad():
    hidden, _ = model.bert(batch["input_ids"], batch["attention_mask"])
print("hidden states (B, L, H):", tuple(hidden.shape))

# %% [markdown]
# ## 2. One row per target: $x_{s-1}$, $x_{e+1}$ and $p_i$
#
# Every target token $i$ of every span becomes one row. Its inputs are the hidden states at the two boundary positions and
# the learned position embedding of its offset inside the span (size 200 in the paper's code, not $H$).

# %%
# NBVAL_CHECK_OUTPUT
labels = batch["span_labels"]
b, s, i = (labels != -100).nonzero(as_tuple=True)          # one row per target
left, right = batch["span_boundaries"][b, s, 0], batch["span_boundaries"][b, s, 1]
x_left, x_right = hidden[b, left], hidden[b, right]         # (N, H) each
p_i = head.position_embeddings(i)                           # (N, 200)
h0 = torch.cat([x_left, x_right, p_i], dim=-1)              # (N, 2H + 200)
print("targets N =", len(i), "| x_{s-1}", tuple(x_left.shape), "| p_i", tuple(p_i.shape), "| h0", tuple(h0.shape))

# %% [markdown]
# ## 3. The two-layer MLP and the tied decoder
#
# $h_1 = \mathrm{LayerNorm}(\mathrm{GeLU}(W_1 h_0))$, $y_i = \mathrm{LayerNorm}(\mathrm{GeLU}(W_2 h_1))$, then scores against the
# **input** word-embedding matrix $E$ plus a bias of SBO's own: $\text{logits} = y_i E^\top + b$.

# %%
# NBVAL_CHECK_OUTPUT
with torch.no_grad():
    h1 = head.LayerNorm1(F.gelu(head.dense1(h0)))            # (N, H)
    y = head.LayerNorm2(F.gelu(head.dense2(h1)))             # (N, H)
    logits = y @ model.word_embeddings.t() + head.bias       # (N, V)
    library_logits, targets = head(hidden, batch["span_boundaries"], labels, model.word_embeddings)
print("h1", tuple(h1.shape), "| y", tuple(y.shape), "| logits", tuple(logits.shape))
print("matches the library's SBOHead:", torch.allclose(logits, library_logits, atol=1e-5))

# %% [markdown]
# The loss is the mean cross-entropy over these rows, added to the MLM loss: `loss = mlm_loss + sbo_loss`.

# %%
with torch.no_grad():
    out = model(**batch)
print(f"MLM loss {out.mlm_loss:.3f} + SBO loss {out.sbo_loss:.3f} = {out.loss:.3f}")
print("SBO guesses:", tokenizer.convert_ids_to_tokens(out.sbo_logits.argmax(-1)))
print("answers:    ", tokenizer.convert_ids_to_tokens(out.sbo_targets))

# %% [markdown]
# ## 4. Try it: which vectors feed which prediction?
#
# Choose the span (word indices) and the position $p_i$; the panel shows the boundary tokens and every shape.

# %%
build_sbo_widget(model, tokenizer, sentence, span_words=(5, 7))

# %% [markdown]
# ## Exercises
# 1. Why can SBO not see the masked tokens themselves? What does that force the boundary representations to encode?
# 2. Replace $p_i$ with zeros and evaluate the SBO loss on the batch above. Which positions suffer most?
# 3. The MLM and SBO decoders share the input embedding matrix. Count the parameters this saves for the `small` preset.
