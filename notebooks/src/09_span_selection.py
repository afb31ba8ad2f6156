# %% [markdown]
# # 09 · Span selection: what SpanBERT is pretrained for
#
# **What you will learn**
# - how an extractive QA model answers: a start score and an end score for every token, and the answer is the span
#   whose two boundary scores add up highest;
# - why that makes the span's boundary tokens matter, which is what SpanBERT's span boundary objective trains;
# - how a long context is cut into overlapping windows, and how an answer is found back in the original text;
# - fine-tuning the bundled model live, and asking it your own questions.
#
# SpanBERT's paper evaluates almost everything by fine-tuning on span-selection tasks: extractive question answering
# (SQuAD, NewsQA, TriviaQA), coreference (whose mentions are spans) and relation extraction. This notebook builds the
# first of them with `spanbert_edu.qa`.

# %%
%matplotlib inline
import time

from spanbert_edu import load_tokenizer
from spanbert_edu.qa import SpanBertForQuestionAnswering, finetune
from spanbert_edu.qa.data import QAExample, load_qa
from spanbert_edu.qa.features import make_features
from spanbert_edu.presentation.qa import answer_question, format_nbest, plot_start_end
from spanbert_edu.presentation.widgets import build_qa_widget

tokenizer = load_tokenizer()

# %% [markdown]
# ## 1. A question, a context, and the windows a model reads
#
# The model reads `[CLS] question [SEP] context [SEP]`. A context longer than the window is cut into several windows
# that overlap by `doc_stride` tokens, so that an answer near a cut is whole in at least one of them. For training,
# a window that holds the whole answer points at its first and last token; the others point at `[CLS]`
# (position 0). Here a small window (40 tokens, stride 12) on a short context, to see it happen:

# %%
# NBVAL_CHECK_OUTPUT
context = ("The Python Software Foundation maintains the reference implementation of the language. "
           "Its first version was written by Guido van Rossum, who released it in 1991 and named it after "
           "a comedy group rather than the snake.")
answer = "Guido van Rossum"
example = QAExample("demo", "Who wrote the first version?", context,
                    [{"text": answer, "answer_start": context.index(answer)}])
windows = make_features([example], tokenizer, max_length=40, doc_stride=12, max_question_length=10, train=True)
for k in range(len(windows)):
    offsets = windows.offset_mapping[k]
    shown = [tok for tok, off in zip(tokenizer.convert_ids_to_tokens(windows.input_ids[k].tolist()), offsets)
             if off is not None]
    s, e = int(windows.start_positions[k]), int(windows.end_positions[k])
    target = (f"answer at tokens {s}..{e} = {context[offsets[s][0]:offsets[e][1]]!r}" if s else "no whole answer here: [CLS]")
    print(f"window {k}: {' '.join(shown)}\n          -> {target}")

# %% [markdown]
# ## 2. The head: two numbers per token
#
# `SpanBertForQuestionAnswering` is the pretrained encoder plus one linear layer, `qa_outputs` (H -> 2), named as in
# Hugging Face's `BertForQuestionAnswering`. For token $t$ with final state $h_t$ it gives a start score $s_t$ and an
# end score $e_t$; the answer is the span $i..j$ ($i \le j$, at most `max_answer_length` tokens, inside the context)
# maximising $s_i + e_j$. Training is the mean of two cross-entropies: over the tokens, which one starts the answer,
# and which one ends it.
#
# So a span is chosen **by its two boundary tokens**. A span model has to pack "this is where an answer begins / ends"
# into those states. SpanBERT's span boundary objective trains exactly that during pretraining: it predicts every token
# of a masked span from the two tokens just outside it (notebook 03). Coreference and relation models build their
# span representations from the boundary tokens in the same way.

# %%
# NBVAL_CHECK_OUTPUT
model = SpanBertForQuestionAnswering.from_bundled()
print(f"encoder from the bundled small checkpoint, {model.num_parameters() / 1e6:.2f} M parameters")
print("qa_outputs:", model.qa_outputs, "-> start and end logits of shape (batch, tokens)")

# %% [markdown]
# ## 3. Fine-tuning live
#
# The built-in offline task `cloze`: a sentence of a bundled-corpus document with a multi-word span replaced by
# `[MASK]` is the question; a window of the same document around another occurrence of that span is the context; the
# occurrence is the answer. Its evaluation questions come from the held-out documents, never trained on. We fine-tune
# on 1,000 questions for 150 steps (about a minute on a laptop CPU) and score the held-out questions with SQuAD's
# exact match and F1:

# %%
t0 = time.perf_counter()
result = finetune(task="cloze", init="bundled", labels=1000, steps=150, batch_size=16, max_length=192, doc_stride=64,
                  learning_rate=3e-4, warmup_steps=15, save_every=150, out_dir="runs/notebook_qa", overwrite=True,
                  progress=False, echo=print)
print(f"{time.perf_counter() - t0:.0f} s; held-out: exact match {result['eval']['exact_match']:.1f}, "
      f"F1 {result['eval']['f1']:.1f} on {result['eval']['n']} questions")

# %% [markdown]
# Some held-out questions and what the fine-tuned model answers (the question's `[MASK]` is the span to find):

# %%
qa_model = result["model"]
heldout = load_qa("cloze", "heldout")
for e in heldout[:5]:
    print(f"Q: {e.question[:110]}\n   gold: {e.answers[0]['text']!r}   model: {result['predictions'][e.id]!r}\n")

# %% [markdown]
# ## 4. Ask your own
#
# The start and end distributions over the context tokens (softmax over the first window) and the n-best answers, with
# their scores $s_i + e_j$. Edit the question or the context:

# %%
reading = answer_question(qa_model, tokenizer, heldout[0].question, heldout[0].context)
print(format_nbest(reading))
plot_start_end(reading)

# %%
build_qa_widget(qa_model, tokenizer, heldout[1].question, heldout[1].context)

# %% [markdown]
# ## 5. Does span masking or SBO make this fine-tuning better? The committed experiment
#
# One live run cannot say. `python -m spanbert_edu span-selection --budget laptop` pretrains five arms that differ only
# in the objective, at equal compute on the same text (the `tiny` preset, `make pretrain`'s recipe: 3,000 steps):
# `subword` (BERT), `whole_word`, `span`, `span_sbo` (SpanBERT) and `scratch` (untrained). Three pretraining seeds
# each; each fine-tuned on the cloze task with 250 and with 4,000 labelled questions, with two fine-tuning seeds;
# plus two reference rows, the bundled model (about 15 times an arm's pretraining time) and its own architecture
# untrained, with three fine-tuning seeds. Below, the stored result (about 70 minutes on a 2-core CPU); each
# difference comes with the half-width of its 95% interval and the smallest true difference the design finds 80% of
# the time:

# %%
# NBVAL_CHECK_OUTPUT
from spanbert_edu.experiments.results import committed_result
from spanbert_edu.experiments.span_selection import plot_span_selection, span_selection_table

experiment = committed_result("span_selection.json")
print(span_selection_table(experiment["rows"]))

# %%
plot_span_selection(experiment["rows"])

# %% [markdown]
# **What it shows.** No pretraining arm measurably beats the untrained encoder. At 250 labels the four objectives
# score 12.2 to 14.3 F1 against scratch's 14.4; at 4,000 labels 18.1 to 20.3 against 19.8, all inside the intervals.
# With no arm above scratch, the experiment says nothing about which objective helps span selection: of the 20
# pairwise differences between the five arms, one falls outside its 95% interval, about what chance gives.
#
# What it does see is pretraining with far more compute: the bundled model beats its own architecture untrained by
# 4.8 F1 at 250 labels and by 14.0 at 4,000, both outside their intervals. It is one pretraining run that differs from
# an arm in width, steps and text at once, so it shows that this task rewards enough pretraining, not which ingredient
# matters. Comparing the objectives needs every arm at a budget like the bundled model's: a GPU run.
#
# The design, every pilot tried before the final run and why, and what a larger budget would take:
# `docs/span_selection.md`. For full-size runs on SQuAD, and the numbers the paper and the authors report
# (SpanBERT-base 92.4 F1 on SQuAD 1.1 against BERT-base's 88.5), see `docs/finetuning.md`.

# %% [markdown]
# ## Exercises
#
# 1. Fine-tune with `init="scratch", preset="small"` and otherwise the same settings. How far below the bundled
#    model's F1 does it land? Run both with two more seeds (`seed=1`, `seed=2`) before you call the gap real.
# 2. Decode the held-out questions with `max_answer_length=2` (`spanbert_edu.qa.loop.answer_and_score` with a
#    `FinetuneConfig`). Which answers can no longer be found, and what does that do to exact match and to F1?
# 3. Ask the widget a question whose answer is not in the context. What does the model answer? Read
#    `spanbert_edu.qa.decode`: what would `version_2=True` do with the `[CLS]` scores, and why does a model need
#    SQuAD 2.0 training questions before that helps?
