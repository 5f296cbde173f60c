#!/usr/bin/env python3
"""Check every ONNX model under the given exports or files with onnx.checker (the path form,
which reads external data such as unet/weights.pb and handles models over 2 GB), and list
each one's inputs and outputs: name, element type, shape.

    python3 check_export.py DIR_OR_FILE...
"""
import os
import sys

import onnx


def dims(vi):
    return [d.dim_param or d.dim_value for d in vi.type.tensor_type.shape.dim]


def typ(vi):
    return onnx.TensorProto.DataType.Name(vi.type.tensor_type.elem_type).lower()


def report(path):
    onnx.checker.check_model(path)
    m = onnx.load(path, load_external_data=False)
    external = sorted({e.value for i in m.graph.initializer if i.data_location == onnx.TensorProto.EXTERNAL
                       for e in i.external_data if e.key == "location"})
    size = os.path.getsize(path) + sum(os.path.getsize(os.path.join(os.path.dirname(path), f)) for f in external)
    print(f"{path}: ok, opset {m.opset_import[0].version}, {len(m.graph.node)} nodes, {size / 2**20:.1f} MiB"
          + (f" (external data {', '.join(external)})" if external else ""))
    for v in m.graph.input:
        print(f"    in  {v.name} {typ(v)} {dims(v)}")
    for v in m.graph.output:
        print(f"    out {v.name} {typ(v)} {dims(v)}")


def main():
    paths = []
    for arg in sys.argv[1:]:
        if os.path.isdir(arg):
            for root, _, files in sorted(os.walk(arg)):
                paths += [os.path.join(root, f) for f in sorted(files) if f.endswith(".onnx")]
        else:
            paths.append(arg)
    if not paths:
        raise SystemExit(__doc__)
    for p in paths:
        report(p)


if __name__ == "__main__":
    main()
