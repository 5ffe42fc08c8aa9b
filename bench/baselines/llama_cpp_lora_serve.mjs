// llama.cpp (node-llama-cpp's prebuilt CPU binaries) serving C concurrent clients, R greedy
// requests of N new tokens each, the peer of bench/serve.sh's Llama rows. A llama.cpp context
// carries its LoRA adapters and batches only its own sequences, so:
//   per-adapter: client i gets a context of its own with LoRA i (clients naming different
//                adapters cannot share a batch);
//   shared:      one context with C sequences and LoRA 0 (every client on the same adapter).
// Usage: node llama_cpp_lora_serve.mjs FILE.gguf LORA0.gguf[,LORA1.gguf...] MODE CLIENTS REQUESTS N THREADS
// → one JSON line: generated tokens/s over the wall time and the mean request latency.
import {getLlama} from "node-llama-cpp";

const [file, loraList, mode] = process.argv.slice(2, 5);
const [clients, requests, newN, threads] = process.argv.slice(5, 9).map(Number);
const loras = loraList.split(",");
const llama = await getLlama({gpu: false, build: "never", usePrebuiltBinaries: true, skipDownload: true,
                              progressLogs: false, logLevel: "error"});
const model = await llama.loadModel({modelPath: file, gpuLayers: 0});
const prompt = [1, 9038, 2501, 263, 931];  // 5 ids, as a short prompt
const size = prompt.length + newN + 8;
const contexts = [];
if (mode === "shared") {
  contexts.push(await model.createContext({contextSize: size * clients, sequences: clients, batchSize: 512, threads,
                                           lora: {adapters: [{filePath: loras[0]}]}}));
} else {
  for (let i = 0; i < clients; ++i)
    contexts.push(await model.createContext({contextSize: size, sequences: 1, batchSize: 512, threads,
                                             lora: {adapters: [{filePath: loras[i % loras.length]}]}}));
}
const latencies = [];
let tokens = 0;
async function client(i) {
  const sequence = mode === "shared" ? contexts[0].getSequence() : contexts[i].getSequence();
  for (let r = 0; r < requests; ++r) {
    const t0 = performance.now();
    let count = 0;
    for await (const token of sequence.evaluate(prompt, {temperature: 0})) {
      if (++count >= newN) break;
    }
    tokens += count;
    latencies.push((performance.now() - t0) / 1000);
    await sequence.clearHistory();
  }
}
const t0 = performance.now();
await Promise.all(Array.from({length: clients}, (_, i) => client(i)));
const wall = (performance.now() - t0) / 1000;
console.log(JSON.stringify({engine: "llama.cpp", mode, clients, requests: latencies.length, max_tokens: newN, threads,
                            wall_s: +wall.toFixed(3), tokens_per_s: +(tokens / wall).toFixed(1),
                            latency_mean_s: +(latencies.reduce((a, b) => a + b, 0) / latencies.length).toFixed(3)}));
for (const c of contexts) await c.dispose();
await model.dispose();
await llama.dispose();
