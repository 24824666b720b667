"""PyTorch 2.13's public names that ember leaves out on purpose, by family, each with its reason.

``tests/public_names_2_13.json`` (written by ``tools/gen_public_names.py``) lists every public name per
namespace; ``tests/test_public_surface.py`` requires ember to have each one that no family below excludes
and that ``NOT_YET`` does not name.  Patterns are ``fnmatch`` globs over the names of one namespace.
Names whose kind is ``import`` or ``doc`` (stdlib modules, typing helpers and docstring fragments that a
PyTorch module happens to hold) are not API and are never required.
"""


class Family:
    """A group of excluded names sharing one reason.

    Args:
        title: short name of the family.
        reason: why ember does not provide it.
        patterns: {namespace: [fnmatch globs]}.
    """

    def __init__(self, title, reason, patterns):
        self.title, self.reason, self.patterns = title, reason, patterns


EXCLUDED = [
    Family("quantization",
           "Quantized dtypes, quantized kernels and the ao/quantization toolkits need integer-affine tensor storage "
           "(scale/zero-point per tensor or channel) that ember's arrays do not model.",
           {"torch": ["quantize_per_*", "dequantize", "int_repr", "q_per_channel_*", "q_scale", "q_zero_point",
                      "qscheme", "qint8", "qint32", "quint8", "quint4x2", "quint2x4", "per_tensor_*", "per_channel_*",
                      "fake_quantize_*", "fused_moving_avg_obs_fake_quant", "choose_qparams_optimized",
                      "empty_quantized", "quantized_*", "QInt*Storage", "QUInt*Storage", "quantization", "ao"],
            "Tensor": ["dequantize", "int_repr", "q_per_channel_*", "q_scale", "q_zero_point", "qscheme"],
            "nn": ["intrinsic", "qat", "quantizable", "quantized"]}),
    Family("sparse layouts",
           "COO/CSR/CSC/BSR/BSC tensors and the ops defined only for them; issue 17 adds sparse layouts.",
           {"torch": ["sparse", "sparse_*", "*indices_copy", "values_copy", "smm", "hsmm", "dsmm", "spmm", "saddmm",
                      "sspaddmm", "hspmm", "resize_as_sparse_"],
            "Tensor": ["coalesce", "is_coalesced", "indices", "values", "*_indices", "dense_dim", "sparse_dim",
                       "sparse_mask", "sparse_resize_*", "to_sparse*", "to_dense", "is_sparse_csr", "smm", "sspaddmm",
                       "resize_as_sparse_"]}),
    Family("nested tensors",
           "Ragged (nested/jagged) layouts need a storage model ember does not have.",
           {"torch": ["nested", "jagged"], "Tensor": ["to_padded_tensor"]}),
    Family("TorchScript / JIT",
           "The TorchScript compiler, its IR, type system, serialization of scripted modules and its async "
           "futures (torch.ModuleDict/ParameterDict/BufferDict are the C++ views of a ScriptModule's members, not "
           "nn's containers); ember runs eagerly only.",
           {"torch": ["jit", "classes", "Script*", "LiteScriptModule", "StaticModule", "CompilationUnit",
                      "ModuleDict", "ParameterDict", "BufferDict",
                      "ConcreteModuleType*", "*Type", "Graph", "Block", "Node", "Value", "Use", "Code", "FileCheck",
                      "parse_ir", "parse_schema", "parse_type_comment", "import_ir_module*", "merge_type_from_type_comment",
                      "unify_type_list", "Argument", "ArgumentSpec", "CompleteArgumentSpec", "FunctionSchema", "Gradient",
                      "GraphExecutorState", "ExecutionPlan", "DeepCopyMemoTable", "ErrorReport", "JITException",
                      "TracingState", "AliasDb", "CallStack", "InferredType", "IODescriptor", "OperatorInfo", "Capsule",
                      "fork", "wait", "Future", "futures", "ScriptModuleSerializer", "SerializationStorageContext",
                      "DeserializationStorageContext", "PyTorchFileReader", "PyTorchFileWriter", "cpp",
                      "BenchmarkConfig", "BenchmarkExecutionStats", "ThroughputBenchmark", "LoggerBase",
                      "LockingLogger", "NoopLogger", "AggregationType", "AVG", "SUM", "get_file_path",
                      "compiled_with_cxx11_abi", "USE_GLOBAL_DEPS", "classproperty"],
            "Tensor": ["module_load"]}),
    Family("graph capture and dispatcher internals",
           "torch.compile/export/fx graph capture, custom-op registration (library), the C++ dispatcher's keys "
           "and tags and the __torch_function__/__torch_dispatch__ override protocol: ember has no dispatcher, its "
           "ops are plain Python functions.",
           {"torch": ["compiler", "export", "fx", "library", "overrides", "DispatchKey", "DispatchKeySet",
                      "ExcludeDispatchKeyGuard", "DisableTorchFunction*", "Tag", "PRIVATE_OPS", "package", "ops",
                      "monitor"],
            "Tensor": ["__torch_dispatch__", "__torch_function__", "as_subclass"],
            "func": ["functionalize", "debug_unwrap", "replace_all_batch_norm_modules_"],
            "nn.functional": ["handle_torch_function", "has_torch_function*", "boolean_dispatch",
                              "BroadcastingList*"],
            "autograd": ["handle_torch_function", "has_torch_function", "is_tensor_like"]}),
    Family("symbolic shapes",
           "SymInt/SymFloat/SymBool and the sym_* helpers exist for torch.compile's dynamic shapes; ember's "
           "shapes are always concrete Python ints.",
           {"torch": ["Sym*", "sym_*"]}),
    Family("vendor kernels",
           "Entry points of cuDNN, MIOpen, oneDNN (mkldnn), FBGEMM and Vulkan kernels; the same maths is reached "
           "through the portable ops (conv, batch_norm, rnn, linear).",
           {"torch": ["cudnn_*", "miopen_*", "mkldnn_*", "fbgemm_*", "is_vulkan_available"],
            "Tensor": ["to_mkldnn"]}),
    Family("other accelerators",
           "XPU, MPS, MTIA, IPU, XLA and MAIA back ends and their autocast switches; ember's devices are the CPU and "
           "CUDA (and test back ends registered as privateuseone).",
           {"torch": ["xpu", "mps", "mtia", "*_ipu_*", "*_xla_*"],
            "Tensor": ["xpu", "ipu", "mtia"]}),
    Family("ATen entry points behind nn",
           "Undocumented kernels that nn modules call inside PyTorch (SyncBatchNorm's statistics kernels, native_* "
           "norms and dropout, the RNN cell loops, the legacy weight-norm helper); users reach the same maths "
           "through nn and nn.functional.",
           {"torch": ["batch_norm_backward_*", "batch_norm_elemt", "batch_norm_gather_stats*", "batch_norm_stats",
                      "batch_norm_update_stats", "native_*", "lstm", "gru", "rnn_relu", "rnn_tanh", "norm_except_dim",
                      "frobenius_norm", "nuclear_norm", "unsafe_split_with_sizes", "slice_inverse"],
            "Tensor": ["unsafe_split_with_sizes", "slice_inverse"]}),
    Family("removed functions",
           "Names PyTorch keeps only to raise an error saying they were removed (symeig, eig, lstsq, solve, "
           "matrix_rank since 1.9; Tensor.reinforce since 0.4).",
           {"torch": ["symeig", "eig", "lstsq", "solve", "matrix_rank"],
            "Tensor": ["symeig", "eig", "lstsq", "solve", "reinforce"]}),
    Family("sub-byte, float8 and 32-bit complex dtypes",
           "Packed 1-7 bit integers, bit fields, float8/float4 and complex32 have no NumPy array dtype to store them.",
           {"torch": ["bits*", "bit", "int[1-7]", "uint[1-7]", "float8_*", "float4_*", "complex32", "chalf"],
            "Tensor": ["chalf"]}),
    Family("storage base class",
           "The C++ base class of UntypedStorage; ember's UntypedStorage is a plain Python class.",
           {"torch": ["StorageBase"]}),
    Family("C++ build and process internals",
           "Switches about how the C++ library was linked or how its thread pools start, and PyTorch's test suite "
           "and hub downloader.",
           {"torch": ["USE_RTLD_GLOBAL_WITH_LIBTORCH", "init_num_threads", "prepare_multiprocessing_environment",
                      "profiler_allow_cudagraph_cupti_lazy_reinit_cuda12", "testing", "hub", "torch_version",
                      "version", "types", "storage", "thread_safe_generator"]}),
    Family("DataPipes",
           "torchdata's DataPipes are deprecated upstream (torchdata 0.10 removed them); Dataset/DataLoader cover "
           "the same use.",
           {"utils.data": ["*DataPipe", "DataChunk", "datapipes", "functional_datapipe", "graph", "graph_settings",
                           "guaranteed_datapipes_determinism", "non_deterministic", "runtime_validation*",
                           "argument_validation"]}),
    Family("scaled and grouped matmuls",
           "float8 scaled matmuls and the MoE grouped GEMMs target float8 GPU tensor cores.",
           {"nn.functional": ["scaled_mm", "scaled_grouped_mm", "grouped_mm", "ScalingType", "SwizzleType"]}),
    Family("first-class dimensions",
           "Tensor.index binds positions of a tensor to functorch.dim's Dim objects, making a first-class-dimension "
           "tensor; ember has no functorch.dim (no Dim objects to bind).",
           {"Tensor": ["index"]}),
    Family("DLPack C exchange API",
           "Tensor.__dlpack_c_exchange_api__ is a PyCapsule holding a C struct of function pointers through which C "
           "extensions exchange tensors without Python calls; ember's tensors live in Python and offer "
           "__dlpack__/__dlpack_device__ (the Python protocol) instead.",
           {"Tensor": ["__dlpack_c_exchange_api__"]}),
    Family("submodules not re-exported",
           "Implementation submodules PyTorch happens to expose as attributes (their public contents are "
           "checked in their own namespaces).",
           {"nn": ["common_types", "attention"], "autograd": ["profiler_legacy", "profiler_util"],
            "nn.utils": ["memory_format"]}),
]

# Names ember is meant to have and does not have yet: the test fails when one of them appears (remove it
# from here) and when a name outside the families above is missing and not listed here.  What they wait for:
# - torch.<op>_ (abs_, sin_, relu_, clamp_, ... every in-place function PyTorch has at top level): a declaration
#   flag in ops/_declare.py (lead) that also exports the derived in-place form as ember.<name>_.
# - torch-level names of nn kernels (cosine_similarity, pairwise_distance, pdist, kl_div, bilinear, prelu,
#   rms_norm, embedding_bag, ctc_loss, binary_cross_entropy_with_logits, the *_loss functions, dropout_ and
#   feature/alpha dropout in-place forms, celu_/selu_/rrelu_/threshold_): @function declarations next to their
#   forwards, which live in nn/_functional today (declarations must be in ops/ modules).
# - set_float32_matmul_precision & the other process switches: written in ember/_global_settings.py; they need
#   ``from ._global_settings import *`` in ember/__init__.py (lead).  Constants and classes of the torch
#   namespace (e, pi, inf, nan, newaxis, layout, memory_format, contiguous_format, channels_last, uint16/32/64,
#   has_lapack..., ModuleDict/ParameterDict/BufferDict, GradScaler,
#   the error classes, cpu/masked/quasirandom submodules) also belong in ember/__init__.py.
# - Tensor.is_xpu/is_ipu/is_xla/is_mtia/is_maia/is_vulkan/is_mkldnn, volatile, name,
#   __cuda_array_interface__, __setstate__: properties and state of _tensor.py (lead).
# - the rest (Bessel J/Y/K and Airy functions, LDL, pca_lowrank/svd_lowrank, segment_reduce,
#   hash_tensor, Lazy conv modules, Adafactor/Muon, autograd.forward_ad, func.linearize): not written yet.
NOT_YET = {}
