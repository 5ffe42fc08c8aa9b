// llama.cpp (node-llama-cpp's prebuilt CPU binaries) on a GGUF model, optionally with GGUF LoRA
// adapters at a scale: the logits of whole sequences and a greedy continuation, as JSON.
// Usage: node run_llama.mjs REQUEST.json > RESULT.json, with REQUEST
//   {"model": "base.gguf", "vocab": V, "adapters": [{"file": "lora.gguf", "scale": 0.5}],
//    "sequences": [[ids...], ...], "greedy": {"prompt": [ids...], "n": 20}}
// RESULT: {"logits": [[[V floats] per position] per sequence], "generated": [ids...]}.
// The KV cache is F32 and flash attention off, so llama.cpp's own numerics are all that
// differs from an fp32 reference (its GELU goes through an fp16 table, for one).
import {readFileSync} from "node:fs";
import {getLlama} from "node-llama-cpp";

const req = JSON.parse(readFileSync(process.argv[2], "utf8"));
const llama = await getLlama({gpu: false, build: "never", usePrebuiltBinaries: true, skipDownload: true,
                              progressLogs: false, logLevel: "error"});
const model = await llama.loadModel({modelPath: req.model, gpuLayers: 0});
const vocab = req.vocab;
const contextOptions = {contextSize: 256, batchSize: 256, threads: 1, flashAttention: false,
                        experimentalKvCacheKeyType: "F32", experimentalKvCacheValueType: "F32"};
if (req.adapters && req.adapters.length)
  contextOptions.lora = {adapters: req.adapters.map((a) => ({filePath: a.file, scale: a.scale ?? 1}))};

const result = {logits: [], generated: []};
for (const ids of req.sequences ?? []) {
  const context = await model.createContext(contextOptions);
  const sequence = context.getSequence();
  const out = await sequence.controlledEvaluate(ids.map((t) => [t, {generateNext: {logits: true}}]));
  result.logits.push(out.map((o) => {
    const row = new Array(vocab).fill(null);
    for (const [token, logit] of o.next.logits) row[token] = logit;
    return row;
  }));
  await context.dispose();
}
if (req.greedy) {
  const context = await model.createContext(contextOptions);
  const sequence = context.getSequence();
  for await (const token of sequence.evaluate(req.greedy.prompt, {temperature: 0})) {
    result.generated.push(Number(token));
    if (result.generated.length >= req.greedy.n) break;  // EOS included: peft generate --ignore-eos
  }
  await context.dispose();
}
console.log(JSON.stringify(result));
await model.dispose();
await llama.dispose();
