"""llama.cpp's own quantizer (llama_model_quantize in node-llama-cpp's prebuilt libllama), via ctypes.

  /usr/bin/python3 llama_quantize.py SRC.gguf DST.gguf Q4_K_M [--threads N]

Environment: PEFT_CLIENTS_DIR (scripts/setup_clients). Used by quantized_gguf.py and bench/quantized.sh.
"""
import ctypes
import os
import sys

CLIENTS = os.environ.get("PEFT_CLIENTS_DIR", "")
# llama_ftype numbers (llama.h) of the files written here.
FTYPES = {"Q4_0": 2, "Q4_1": 3, "Q8_0": 7, "Q5_0": 8, "Q5_1": 9, "Q2_K": 10, "Q3_K_M": 12, "Q4_K_M": 15,
          "Q5_K_M": 17, "Q6_K": 18, "IQ4_NL": 25, "IQ4_XS": 30}


def llama_quantize(src, dst, ftype, threads=1):
    """llama.cpp's quantizer (llama_model_quantize in the prebuilt libllama) on a GGUF file."""
    lib_dir = os.path.join(CLIENTS, "llama", "node_modules", "@node-llama-cpp", "linux-x64", "bins", "linux-x64")
    for dep in ("libggml-base.so", "libggml.v0.5.0.so"):
        ctypes.CDLL(os.path.join(lib_dir, dep), mode=ctypes.RTLD_GLOBAL)
    lib = ctypes.CDLL(os.path.join(lib_dir, "libllama.v0.5.0.so"))

    class Params(ctypes.Structure):  # llama_model_quantize_params (include/llama.h)
        _fields_ = [("nthread", ctypes.c_int32), ("ftype", ctypes.c_int), ("output_tensor_type", ctypes.c_int),
                    ("token_embedding_type", ctypes.c_int), ("allow_requantize", ctypes.c_bool),
                    ("quantize_output_tensor", ctypes.c_bool), ("only_copy", ctypes.c_bool), ("pure", ctypes.c_bool),
                    ("keep_split", ctypes.c_bool), ("dry_run", ctypes.c_bool), ("imatrix", ctypes.c_void_p),
                    ("kv_overrides", ctypes.c_void_p), ("tt_overrides", ctypes.c_void_p),
                    ("prune_layers", ctypes.c_void_p), ("max_buf_size", ctypes.c_size_t)]

    lib.llama_model_quantize_default_params.restype = Params
    lib.llama_model_quantize.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(Params)]
    lib.llama_model_quantize.restype = ctypes.c_uint32
    params = lib.llama_model_quantize_default_params()
    params.ftype = FTYPES[ftype]
    params.nthread = threads
    rc = lib.llama_model_quantize(src.encode(), dst.encode(), ctypes.byref(params))
    if rc != 0 or not os.path.exists(dst):
        raise RuntimeError(f"llama_model_quantize({ftype}) returned {rc}")
    return dst


if __name__ == "__main__":
    threads = int(sys.argv[sys.argv.index("--threads") + 1]) if "--threads" in sys.argv else 1
    llama_quantize(sys.argv[1], sys.argv[2], sys.argv[3], threads)
