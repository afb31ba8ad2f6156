# The two Quick-start commands (see README.md): `make pretrain` and `make test`.
# Both create ./.venv on first use (scripts/install.sh picks a CPU or CUDA build of torch).
PY := .venv/bin/python

.PHONY: pretrain test browser-check book book-check notebooks demo bench tokenizer clean

pretrain:        ## the main job: install, pretrain the tiny model, print boundary predictions, plot
	bash scripts/install.sh
	$(PY) -m spanbert_edu pretrain --preset tiny --steps 3000 --batch-size 32 --max-length 128 \
	    --lr 2e-3 --warmup 100 --dropout 0 --eval-every 500 --save-every 1000 --out runs/tiny --overwrite

test:            ## install with the test extras, then run every test (notebooks included)
	bash scripts/install.sh test,notebooks,course
	$(PY) -m pytest tests notebooks --nbval-lax --nbval-current-env --nbval-cell-timeout=300

browser-check:   ## run every notebook in JupyterLab in headless Chromium (needs Debian's chromium)
	command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)
	bash scripts/install.sh test,notebooks,browser
	$(PY) scripts/browser_check.py --out runs/browser

book:            ## the course website in runs/book/ (Jupyter Book; from the stored outputs, offline)
	bash scripts/install.sh book
	bash scripts/fetch_widget_js.sh
	$(PY) scripts/build_book.py

book-check: book ## open every page of the website in headless Chromium (needs Debian's chromium)
	command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)
	bash scripts/install.sh browser
	$(PY) scripts/book_check.py --out runs/book_check

notebooks:       ## re-execute the notebooks from notebooks/src (outputs and widget state stored)
	$(PY) scripts/build_notebooks.py

demo:            ## mask one batch of the bundled corpus with every scheme (no training)
	bash scripts/install.sh
	$(PY) -m spanbert_edu demo

bench:           ## the benchmark tables in the README
	bash scripts/install.sh test
	$(PY) benchmarks/collator_throughput.py
	$(PY) benchmarks/train_throughput.py
	$(PY) benchmarks/step_profile.py
	$(PY) benchmarks/fusion_ceiling.py
	$(PY) benchmarks/allocator.py
	$(PY) benchmarks/gpu_report.py

tokenizer:       ## retrain the WordPiece vocabulary (not deterministic: commit the result)
	$(PY) scripts/train_tokenizer.py

clean:
	rm -rf .venv build *.egg-info .pytest_cache
