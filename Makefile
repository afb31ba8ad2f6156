# The two Quick-start commands (see README.md). Both create ./.venv on first use.
PY := .venv/bin/python

.PHONY: demo test bench tokenizer clean

demo:            ## install, then run the main job on the bundled corpus
	bash scripts/install.sh
	$(PY) -m spanbert_edu demo

test:            ## install with the test extras, then run every test
	bash scripts/install.sh test,notebooks
	$(PY) -m pytest

bench:           ## collator throughput table for the README
	bash scripts/install.sh test
	$(PY) benchmarks/collator_throughput.py

tokenizer:       ## retrain the WordPiece vocabulary (not deterministic: commit the result)
	$(PY) scripts/train_tokenizer.py

clean:
	rm -rf .venv build *.egg-info .pytest_cache
