"""The devices that device-generic tests run on (PyTorch's instantiate_device_type_tests, as a list).

``DEVICES``: the CPU always, CUDA where ember sees a GPU.  ``TABLE_DEVICES`` adds the tagged test backend
(``array_backend``), on which a result that fell back to plain NumPy fails the test.
"""
import ember

import array_backend

array_backend.register()

DEVICES = ["cpu"] + (["cuda"] if ember.cuda.is_available() else [])
TABLE_DEVICES = DEVICES + [array_backend.DEVICE]
