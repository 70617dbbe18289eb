#!/usr/bin/env python3
"""A client of nn serve's gRPC Open Inference Protocol (inference.GRPCInferenceService).

It compiles serve/inferencepb/grpc_predict_v2.proto with grpc_tools.protoc
into a temporary directory, checks that the server and the model are ready,
reads the model's metadata, sends the rows of a CSV file to ModelInfer as
one FP64 tensor "input" of shape [N, F] and prints one line per row: the
label and the probabilities (or whatever the model answers), as CSV, each
number in the shortest form that reads back as the same float64.

With Debian's packages (apt-get install python3-grpcio python3-grpc-tools):

    nn serve -model iris=iris.json -grpc-addr 127.0.0.1:8081
    python3 cmd/nn/testdata/grpc_client.py --addr 127.0.0.1:8081 --model iris \\
        --csv testdata/iris.csv \\
        --features sepal_length,sepal_width,petal_length,petal_width

--features names the CSV columns to send, in the order of the model's
features (the order of training); the file may hold other columns, in any
order. Without --features every column is sent, in the file's order.
--raw sends the values as raw_input_contents (little-endian float64) rather
than fp64_contents; the server then answers in raw_output_contents. --token
sends "authorization: Bearer TOKEN" (nn serve -token-file). A failed call
exits with status 1 and prints the gRPC status code's name on stderr.
"""

import argparse
import csv
import importlib
import os
import struct
import sys
import tempfile

import grpc
from grpc_tools import protoc

DEFAULT_PROTO = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                             "..", "..", "..", "serve", "inferencepb", "grpc_predict_v2.proto")


def compile_proto(proto):
    """Compiles proto with grpc_tools.protoc and returns its two modules:
    the messages (_pb2) and the service stub (_pb2_grpc)."""
    proto = os.path.abspath(proto)
    base = os.path.splitext(os.path.basename(proto))[0]
    with tempfile.TemporaryDirectory() as out:
        code = protoc.main([
            "grpc_tools.protoc",
            "-I" + os.path.dirname(proto),
            "--python_out=" + out,
            "--grpc_python_out=" + out,
            proto,
        ])
        if code != 0:
            sys.exit("grpc_tools.protoc failed on %s (status %d)" % (proto, code))
        sys.path.insert(0, out)
        try:
            pb2 = importlib.import_module(base + "_pb2")
            pb2_grpc = importlib.import_module(base + "_pb2_grpc")
        finally:
            sys.path.remove(out)
    return pb2, pb2_grpc


def read_rows(path, features):
    """Returns the names of the columns sent and the rows of the CSV file
    path (with a header row) as lists of floats, of those columns."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        header = next(reader)
        names = features if features else header
        missing = [n for n in names if n not in header]
        if missing:
            sys.exit("%s: no column %s in the header %s" % (path, ", ".join(missing), ",".join(header)))
        index = [header.index(n) for n in names]
        rows = []
        for line, record in enumerate(reader, start=2):
            if not record:
                continue
            try:
                rows.append([float(record[j]) for j in index])
            except (ValueError, IndexError) as e:
                sys.exit("%s:%d: %s" % (path, line, e))
    return names, rows


def split_bytes(raw):
    """Splits raw BYTES contents: each element a 4-byte little-endian
    length and its bytes."""
    out, i = [], 0
    while i < len(raw):
        (n,) = struct.unpack_from("<I", raw, i)
        out.append(raw[i + 4:i + 4 + n])
        i += 4 + n
    return out


def output_values(res, k, tensor):
    """Returns the elements of the k-th output tensor of res: bytes for
    BYTES, floats for FP64, from raw_output_contents when the server used
    it and from the typed contents otherwise."""
    if res.raw_output_contents:
        raw = res.raw_output_contents[k]
        if tensor.datatype == "BYTES":
            return split_bytes(raw)
        if tensor.datatype == "FP64":
            return list(struct.unpack("<%dd" % (len(raw) // 8), raw))
        sys.exit("output %s: datatype %s not handled here" % (tensor.name, tensor.datatype))
    if tensor.datatype == "BYTES":
        return list(tensor.contents.bytes_contents)
    if tensor.datatype == "FP64":
        return list(tensor.contents.fp64_contents)
    sys.exit("output %s: datatype %s not handled here" % (tensor.name, tensor.datatype))


def main():
    ap = argparse.ArgumentParser(description="Predict the rows of a CSV file with nn serve over gRPC.")
    ap.add_argument("--addr", required=True, help="the server's gRPC address, HOST:PORT (nn serve -grpc-addr)")
    ap.add_argument("--model", required=True, help="the model's name")
    ap.add_argument("--version", default="", help="the model's version (default: the latest)")
    ap.add_argument("--token", default="", help='send "authorization: Bearer TOKEN"')
    ap.add_argument("--raw", action="store_true", help="send raw_input_contents instead of fp64_contents")
    ap.add_argument("--csv", required=True, help="the CSV file of the rows, with a header row")
    ap.add_argument("--features", default="", help="the columns to send, comma-separated, in the model's order (default: all)")
    ap.add_argument("--proto", default=DEFAULT_PROTO, help="grpc_predict_v2.proto (default: %(default)s)")
    args = ap.parse_args()

    pb2, pb2_grpc = compile_proto(args.proto)
    names, rows = read_rows(args.csv, [f for f in args.features.split(",") if f])
    metadata = [("authorization", "Bearer " + args.token)] if args.token else None

    rpc = ""
    try:
        with grpc.insecure_channel(args.addr) as channel:
            stub = pb2_grpc.GRPCInferenceServiceStub(channel)
            rpc = "ServerLive"
            if not stub.ServerLive(pb2.ServerLiveRequest(), metadata=metadata, timeout=10).live:
                sys.exit("the server is not live")
            rpc = "ServerReady"
            if not stub.ServerReady(pb2.ServerReadyRequest(), metadata=metadata, timeout=10).ready:
                sys.exit("the server is not ready")
            rpc = "ModelReady"
            if not stub.ModelReady(pb2.ModelReadyRequest(name=args.model, version=args.version),
                                   metadata=metadata, timeout=10).ready:
                sys.exit("model %s (version %r) is not ready" % (args.model, args.version))
            rpc = "ModelMetadata"
            meta = stub.ModelMetadata(pb2.ModelMetadataRequest(name=args.model, version=args.version),
                                      metadata=metadata, timeout=10)
            inputs = [(t.name, t.datatype, list(t.shape)) for t in meta.inputs]
            if inputs != [("input", "FP64", [-1, len(names)])]:
                sys.exit("model %s takes inputs %s; this client sends one FP64 tensor \"input\" of shape [-1, %d]"
                         % (args.model, inputs, len(names)))

            req = pb2.ModelInferRequest(model_name=args.model, model_version=args.version)
            tensor = req.inputs.add()
            tensor.name, tensor.datatype = "input", "FP64"
            tensor.shape.extend([len(rows), len(names)])
            values = [v for row in rows for v in row]
            if args.raw:
                req.raw_input_contents.append(struct.pack("<%dd" % len(values), *values))
            else:
                tensor.contents.fp64_contents.extend(values)
            rpc = "ModelInfer"
            res = stub.ModelInfer(req, metadata=metadata, timeout=60)
    except grpc.RpcError as e:
        print("%s: %s: %s" % (rpc, e.code().name, e.details()), file=sys.stderr)
        sys.exit(1)

    labels, numbers = None, None
    for k, t in enumerate(res.outputs):
        v = output_values(res, k, t)
        width = t.shape[1] if len(t.shape) == 2 else 1
        if len(v) != len(rows) * width:
            sys.exit("output %s: %d values for %d rows" % (t.name, len(v), len(rows)))
        if t.datatype == "BYTES":
            labels = [b.decode("utf-8") for b in v]
        else:
            numbers = [v[i * width:(i + 1) * width] for i in range(len(rows))]
    out = csv.writer(sys.stdout, lineterminator="\n")
    for i in range(len(rows)):
        line = [labels[i]] if labels is not None else []
        if numbers is not None:
            line += [repr(x) for x in numbers[i]]  # the shortest form that reads back as the same float
        out.writerow(line)


if __name__ == "__main__":
    main()
