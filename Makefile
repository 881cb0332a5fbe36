# Two commands do everything on a fresh machine: `make run` and `make test`.
# PyTorch: `pip install torch==2.13.0` gets a CPU wheel here (the machine's pip finds it
# locally). Elsewhere, pick your build with TORCH_INDEX, e.g.
#   make run TORCH_INDEX=https://download.pytorch.org/whl/cu130   (NVIDIA CUDA 13)
#   make run TORCH_INDEX=https://download.pytorch.org/whl/cpu     (CPU-only Linux/Windows)
# macOS needs nothing: the default wheel includes Apple's MPS backend.
PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
TORCH_INDEX ?=
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup run test bench model translations clean

setup: $(STAMP)

# torch first, on its own: installed through the project's dependency list an unpinned
# resolver could pick a multi-GB CUDA build; this line decides which build lands.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet $(TORCH_SPEC) $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: setup
	$(VENV)/bin/transformer-explorer $(ARGS)

test: setup
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

# bench_nanogpt runs nanoGPT's own train.py beside ours when given a checkout with its
# shakespeare_char data prepared: `make bench NANOGPT_DIR=/path/to/nanoGPT` (skipped without).
bench: setup
	QT_QPA_PLATFORM=offscreen $(PY) benchmarks/run_all.py

# Regenerates the bundled model from the bundled corpus with our own CLI (seeded).
model: setup
	$(VENV)/bin/transformer-explorer-cli train resources/corpus/transformer_guide.txt \
		--out resources/model/default.safetensors --steps 3000 --batch 16 --seed 1337 --bundle

# After changing user-visible strings: extract them into the .ts catalogues (Qt Linguist's
# pyside6-lupdate; translate with pyside6-linguist or scripts/translations.py fill), then
# compile the committed gui/translations/zh_CN.qm (pyside6-lrelease).
translations: setup
	$(PY) scripts/translations.py update
	$(PY) scripts/translations.py missing || true
	$(PY) scripts/translations.py build

clean:
	rm -rf $(VENV) build *.egg-info
