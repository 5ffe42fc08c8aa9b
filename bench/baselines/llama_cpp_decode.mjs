// llama.cpp (node-llama-cpp's prebuilt CPU binaries) timing prompt processing and batch-1 greedy
// decoding on a GGUF file, the peer of `peft bench generate --model FILE`.
// Usage: node llama_cpp_decode.mjs FILE.gguf PROMPT_TOKENS NEW_TOKENS THREADS [VOCAB]  → one JSON line.
// The prompt is random token ids below VOCAB (default 30003; as peft's bench); the first new
// token's time counts as prompt.
import {getLlama} from "node-llama-cpp";

const [file, promptN, newN, threads] = [process.argv[2], +process.argv[3], +process.argv[4], +process.argv[5]];
const vocab = +(process.argv[6] ?? 30003);
const llama = await getLlama({gpu: false, build: "never", usePrebuiltBinaries: true, skipDownload: true,
                              progressLogs: false, logLevel: "error"});
const model = await llama.loadModel({modelPath: file, gpuLayers: 0});
const context = await model.createContext({contextSize: promptN + newN + 8, batchSize: 512, threads});
const sequence = context.getSequence();
let seed = 42;
const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
const prompt = Array.from({length: promptN}, () => 3 + (rand() % (vocab - 3)));
const t0 = performance.now();
let first = 0, count = 0;
for await (const token of sequence.evaluate(prompt, {temperature: 0})) {
  if (count === 0) first = performance.now();
  if (++count >= newN + 1) break;
}
const t1 = performance.now();
console.log(JSON.stringify({engine: "llama.cpp", file, threads, prompt: promptN, tokens: newN,
                            prompt_tokens_per_s: promptN / ((first - t0) / 1000),
                            decode_tokens_per_s: newN / ((t1 - first) / 1000)}));
await context.dispose();
await model.dispose();
await llama.dispose();
