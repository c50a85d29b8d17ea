// Runs ONNX models with onnxruntime-node: a real, non-Python consumer of mounted files.
//
//   NODE_PATH=<node_modules> node ort_run.js CASES.json
//
// CASES.json is [{"model": PATH, "inputs": [{"name", "type", "dims", "data"}]}], where type is an
// onnxruntime-node tensor type ("float32", "int64", ...) and data is the flat row-major value list.
// Prints [{"outputs": {NAME: {"type", "dims", "data"}}} | {"error": MESSAGE}] on stdout, one result
// per case. The comparison with the expected outputs happens in Python (numpy), because Node has no
// TensorProto parser; this script only converts JSON to tensors and back.
'use strict';

const fs = require('fs');
const ort = require('onnxruntime-node');

const TYPED_ARRAYS = {
  float32: Float32Array, float64: Float64Array, int8: Int8Array, uint8: Uint8Array,
  int16: Int16Array, uint16: Uint16Array, int32: Int32Array, uint32: Uint32Array,
  int64: BigInt64Array, uint64: BigUint64Array,
};

function toTensor({ type, dims, data }) {
  if (type === 'bool') {
    return new ort.Tensor('bool', Uint8Array.from(data, (v) => (v ? 1 : 0)), dims);
  }
  const Typed = TYPED_ARRAYS[type];
  if (!Typed) {
    throw new Error(`unsupported input type ${type}`);
  }
  const isBig = Typed === BigInt64Array || Typed === BigUint64Array;
  return new ort.Tensor(type, Typed.from(data, (v) => (isBig ? BigInt(v) : v)), dims);
}

function fromTensor(tensor) {
  // BigInt is not JSON: 64-bit integers travel as strings and Python parses them back.
  const data = Array.from(tensor.data, (v) => (typeof v === 'bigint' ? v.toString() : v));
  return { type: tensor.type, dims: Array.from(tensor.dims), data };
}

async function runCase({ model, inputs }) {
  try {
    const session = await ort.InferenceSession.create(model);
    const feeds = {};
    for (const input of inputs) {
      feeds[input.name] = toTensor(input);
    }
    const results = await session.run(feeds);
    const outputs = {};
    for (const [name, tensor] of Object.entries(results)) {
      outputs[name] = fromTensor(tensor);
    }
    return { outputs };
  } catch (err) {
    return { error: `${model}: ${err.message || err}` };
  }
}

async function main() {
  const cases = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const results = [];
  for (const c of cases) {
    results.push(await runCase(c));
  }
  process.stdout.write(JSON.stringify(results));
}

main().catch((err) => {
  process.stderr.write(`ort_run.js: ${err.stack || err}\n`);
  process.exit(2);
});
