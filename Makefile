# Two commands for a newcomer on a fresh machine:
#   make demo   set up .venv and run the main job on the embedded default
#   make test   set up .venv and run the tests
# Without a CUDA GPU (no nvidia-smi) the CPU build of torch is installed first, so pip does
# not pull a multi-GB CUDA build. Override with TORCH_SPEC="torch==X ..." if needed.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.vaekit-installed
TORCH_SPEC ?= torch==2.13.0
PYTEST_ARGS ?=

.PHONY: demo test test-slow clean

$(STAMP): pyproject.toml setup.py $(wildcard domains/*/domain.yaml)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi >/dev/null 2>&1; then \
		echo "CUDA GPU found: installing torch from the default index"; \
	else \
		echo "no CUDA GPU: installing the CPU build ($(TORCH_SPEC))"; \
		$(BIN)/python -m pip install -q $(TORCH_SPEC); \
	fi
	$(BIN)/python -m pip install -q -e ".[all,dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/vaekit demo

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) runs build *.egg-info
