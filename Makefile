# WITI compendium: the two commands of the quick start, and a few more.
#   make reproduce   install into .venv and run the whole pipeline
#   make test        install the test extras and run the test suite (includes a full run and verify)
#   make lab         open the notebooks in JupyterLab with the project's environment

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check --quiet
JOBS   ?= $(shell nproc 2>/dev/null || echo 1)

.PHONY: reproduce test test-try-this lab install install-test qc-env verify check-python constraints clean

check-python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if (3, 10) <= sys.version_info[:2] <= (3, 13) else 1)' 2>/dev/null || \
	  { echo "make: Python 3.10 to 3.13 is required as '$(PYTHON)' (try: make PYTHON=python3.12 ...)"; exit 2; }
	@$(PYTHON) -c 'import venv, ensurepip' 2>/dev/null || \
	  { echo "make: Python's venv module is missing (Debian/Ubuntu: sudo apt-get install python3-venv)"; exit 2; }

# opencv-python (pulled in by rapidocr) needs the system's libGL; the headless build of the same version needs
# nothing, so it replaces it (reinstalled, not just installed: both builds write the same cv2 folder, so removing
# the first can take files of a headless build already there).
# rapidocr-onnxruntime 1.4.4, the OCR engine, declares Python <3.13 though it is pure Python over onnxruntime,
# OpenCV and our OpenVINO models; on 3.13 it is installed past that declaration, and CI runs the whole suite
# there, compendium verify included (every derived file the same bytes as on 3.10-3.12).
$(VENV)/.installed: pyproject.toml constraints.txt | check-python
	@echo "make: installing the compendium and its pinned dependencies into $(VENV) (first time: a few minutes)"
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade "pip>=23"
	@if $(BIN)/python -c 'import sys; sys.exit(0 if sys.version_info[:2] >= (3, 13) else 1)'; then \
	  echo "make: Python 3.13: rapidocr-onnxruntime 1.4.4 installed past its declared Python <3.13"; \
	  $(PIP) install --ignore-requires-python --no-deps -c constraints.txt rapidocr-onnxruntime; fi
	$(PIP) install -c constraints.txt -e .
	$(PIP) uninstall --yes opencv-python
	$(PIP) install --force-reinstall --no-deps -c constraints.txt opencv-python-headless
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) install -c constraints.txt -e '.[test]'
	@touch $@

# qc (the qualitative-coding tool) reads and writes REFI-QDA .qdpx projects; tests/test_qc_tool.py runs it on the
# compendium's exports. Its pins clash with ours (rich<14, xmlschema<4), so it lives in a venv of its own.
# qualitative-coding 1.7.8 needs Python 3.11-3.13: on another Python the target says so and the qc tests skip.
$(VENV)-qc/.installed: tests/qc-constraints.txt | check-python
	@if $(PYTHON) -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] <= (3, 13) else 1)'; then \
	  echo "make: installing qualitative-coding 1.7.8 (qc) into $(VENV)-qc" && \
	  $(PYTHON) -m venv $(VENV)-qc && \
	  $(VENV)-qc/bin/python -m pip --disable-pip-version-check --quiet install qualitative-coding==1.7.8 \
	    -c tests/qc-constraints.txt && touch $@; \
	else echo "make: qc 1.7.8 needs Python 3.11-3.13; the tests that run qc will skip"; fi

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

qc-env: $(VENV)-qc/.installed

reproduce: install
	$(BIN)/compendium run --jobs $(JOBS)

verify: install
	$(BIN)/compendium verify

test: install-test qc-env
	$(BIN)/python -m pytest

# every notebook's "try this" suggestion, run as written on /tmp copies (about 5 minutes; CI runs it as its own job)
test-try-this: install-test
	$(BIN)/python -m pytest -m tryit tests/test_try_this.py

lab: install
	$(BIN)/python -m jupyter lab notebooks/

# Re-resolve the pins (maintainers only): run with the oldest supported Python so every pin installs on 3.10+.
constraints:
	rm -rf /tmp/witi-constraints && $(PYTHON) -m venv /tmp/witi-constraints
	/tmp/witi-constraints/bin/pip install --quiet -e '.[test]' opencv-python-headless
	{ echo "# Pinned versions of every dependency (see Makefile: constraints)"; \
	  /tmp/witi-constraints/bin/pip freeze --all --exclude-editable | grep -v '^pip=='; } > constraints.txt

clean:
	rm -rf reports .cache
