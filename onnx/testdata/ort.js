// ort.js runs ONNX models in ONNX Runtime for the tests of package onnx.
// It reads one JSON request per line on standard input,
//
//	{"model": "m.onnx", "input": "X", "type": "float64", "dims": [2, 4], "data": [5.1, null, ...]}
//
// (null stands for NaN) and writes one JSON line per request:
//
//	{"outputs": {"label": {"type": "int64", "dims": [2], "data": [0, 2]}, ...}}
//
// or {"error": "..."}. Needs onnxruntime-node on NODE_PATH:
// npm install --ignore-scripts onnxruntime-node@1.30.0
'use strict';
const ort = require('onnxruntime-node');
const readline = require('readline');

async function run(req) {
  const session = await ort.InferenceSession.create(req.model);
  const T = req.type === 'float32' ? Float32Array : Float64Array;
  const data = T.from(req.data.map(v => (v === null ? NaN : v)));
  const feeds = {[req.input]: new ort.Tensor(req.type, data, req.dims)};
  const result = await session.run(feeds);
  const outputs = {};
  for (const name of session.outputNames) {
    const t = result[name];
    outputs[name] = {type: t.type, dims: t.dims, data: Array.from(t.data, v => (typeof v === 'bigint' ? Number(v) : (Number.isNaN(v) ? null : v)))};
  }
  await session.release();
  return {outputs};
}

(async () => {
  const rl = readline.createInterface({input: process.stdin, crlfDelay: Infinity});
  for await (const line of rl) {
    if (line.trim() === '') continue;
    let reply;
    try {
      reply = await run(JSON.parse(line));
    } catch (e) {
      reply = {error: String(e && e.message || e).split('\n')[0]};
    }
    process.stdout.write(JSON.stringify(reply) + '\n');
  }
})();
