"""bitsandbytes' signed dynamic 8-bit map, in torch (the double quantization code of NF4).

  /usr/bin/python3 tests/reference/nf4_dynamic_map.py > tests/fixtures/nf4/dynamic_map.txt

bitsandbytes itself is not installable here (no PyPI, not in Debian), so this is our own
transcription of its functional.create_dynamic_map(signed=True, max_exponent_bits=7,
total_bits=8), run on torch's f32 arithmetic (linspace, means, the scale product). One line per
entry, ascending: the f32 bit pattern in hex, then the value.
"""
import struct

import torch


def create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8):
    data = []
    non_sign_bits = total_bits - 1
    additional_items = 2 ** (non_sign_bits - max_exponent_bits) - 1
    for i in range(max_exponent_bits):
        fraction_items = int(2 ** (i + non_sign_bits - max_exponent_bits) + 1 if signed else
                             2 ** (i + non_sign_bits - max_exponent_bits + 1) + 1)
        boundaries = torch.linspace(0.1, 1, fraction_items)
        means = (boundaries[:-1] + boundaries[1:]) / 2.0
        data += ((10 ** (-(max_exponent_bits - 1) + i)) * means).tolist()
        if signed:
            data += (-(10 ** (-(max_exponent_bits - 1) + i)) * means).tolist()
    assert additional_items == 0
    data.append(0)
    data.append(1.0)
    assert len(data) == 2 ** total_bits
    data.sort()
    return torch.tensor(data, dtype=torch.float32)


for v in create_dynamic_map().tolist():
    bits = struct.unpack("<I", struct.pack("<f", v))[0]
    print(f"{bits:08x} {v:.9g}")
