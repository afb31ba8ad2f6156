# %% [markdown]
# # 03 · The Span Boundary Objective, built up one step at a time
#
# **What you will learn**
# - what SBO predicts: every token of a masked span from the two tokens just **outside** it and its position inside it;
# - the head's exact form: $[x_{s-1}; x_{e+1}; p_i]$ → Linear → GeLU → LayerNorm → Linear → GeLU → LayerNorm → tied decoder;
# - the shapes after each step for one target, checked against the library's `SBOHead`;
# - which hidden states feed which prediction, and what the head guesses from them (the widget at the end).

# %%
%matplotlib inline
import torch

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
# ## 2. One target: $x_{s-1}$, $x_{e+1}$ and $p_{i-s}$
#
# Take the first span and its first token. The head's input is the hidden states at the span's two boundary
# positions and the learned embedding of the token's offset inside the span ($i - s$, counted from 0; size 200 in the
# paper's code, not $H$). Every target token of every span gets such an input; batching them all at once is
# exercise 4 of notebook 06.

# %%
# NBVAL_CHECK_OUTPUT
left, right = batch["span_boundaries"][0, 0].tolist()      # (s-1, e+1) of the first span
offset = 0                                                 # its first token: i - s = 0
tokens = tokenizer.convert_ids_to_tokens(batch["input_ids"][0])
x_left, x_right = hidden[0, left], hidden[0, right]        # (H,) each
p = head.position_embeddings.weight[offset]                # (200,)
h0 = torch.cat([x_left, x_right, p])                       # (2H + 200,)
print(f"x_s-1 = h({tokens[left]!r}) {tuple(x_left.shape)} | x_e+1 = h({tokens[right]!r}) {tuple(x_right.shape)} "
      f"| p_{offset} {tuple(p.shape)} | h0 {tuple(h0.shape)}")

# %% [markdown]
# ## 3. The two-layer MLP and the tied decoder
#
# $h_1 = \mathrm{LayerNorm}(\mathrm{GeLU}(W_1 h_0))$, $y = \mathrm{LayerNorm}(\mathrm{GeLU}(W_2 h_1))$, then scores against the
# **input** word-embedding matrix $E$ plus a bias of SBO's own: $\text{logits} = y E^\top + b$. `head.mlp` is the
# library's two layers (`dense1`, `LayerNorm1`, `dense2`, `LayerNorm2`, printed above).

# %%
# NBVAL_CHECK_OUTPUT
with torch.no_grad():
    y = head.mlp(h0)                                          # (H,)
    logits = y @ model.word_embeddings.t() + head.bias        # (V,)
    library_logits, targets = head(hidden, batch["span_boundaries"], batch["span_labels"], model.word_embeddings)
print("y", tuple(y.shape), "| logits", tuple(logits.shape), "| the head's rows for the whole batch",
      tuple(library_logits.shape))
print("matches the library's first row:", torch.allclose(logits, library_logits[0], atol=1e-5))

# %% [markdown]
# The loss is the mean cross-entropy over these rows, added to the MLM loss: `loss = mlm_loss + sbo_loss`.

# %%
with torch.no_grad():
    out = model(**batch)
print(f"MLM loss {out.mlm_loss:.3f} + SBO loss {out.sbo_loss:.3f} = {out.loss:.3f}")
print("SBO guesses:", tokenizer.convert_ids_to_tokens(out.sbo_logits.argmax(-1)))
print("answers:    ", tokenizer.convert_ids_to_tokens(out.sbo_targets))

# %% [markdown]
# None of the 8 guesses is right, and the boundaries say why. The first span, `Found ##ation`, sits between
# `##ware` (the end of `Software`) and `maintains`: the head guesses `Python`, the other word of the name. The
# second span is six tokens long, and its right boundary is `##oss`, a piece of `Rossum` whose first piece `R` is the
# span's last token: the budget ran out inside that word (notebook 02). From a fragment the head can tell that a name
# ends there; it guesses `Gu` and `##ido`, the pieces of the name, but in each other's place. On the held-out documents the bundled model's SBO head
# gets about three first tokens of a span in ten right, and fewer after that (notebook 05): eight misses in a row on
# one sentence are no surprise.

# %% [markdown]
# ## 4. Try it: which vectors feed which prediction?
#
# Choose the span (word indices) and the offset inside it; the panel shows the two boundary tokens the head sees and
# its five best guesses for the token at that offset, next to the answer.

# %%
build_sbo_widget(model, tokenizer, sentence, span_words=(5, 7))

# %% [markdown]
# ## Exercises
# 1. Why can SBO not see the masked tokens themselves? What does that force the boundary representations to encode?
# 2. Replace $p_i$ with zeros and evaluate the SBO loss on the batch above. Which positions suffer most?
# 3. The MLM and SBO decoders share the input embedding matrix. Count the parameters this saves for the `small` preset.
