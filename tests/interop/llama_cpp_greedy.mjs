// Greedy decoding with llama.cpp through node-llama-cpp's prebuilt CPU binaries.
// Usage: node llama_cpp_greedy.mjs MODEL.gguf "PROMPT" "PROMPT_IDS" N_TOKENS
// Evaluates the given prompt ids (peft's tokenization, so the comparison is about the model),
// samples greedily (temperature 0, no repeat penalty, stops at EOS like peft) and prints JSON:
// {"llama_prompt_ids": llama.cpp's own tokenization of PROMPT with BOS, "generated_ids": [...],
//  "text": llama.cpp's detokenization of prompt + generated}.
import {getLlama} from "node-llama-cpp";

const [modelPath, prompt, promptIdsText, nText] = process.argv.slice(2);
const promptIds = promptIdsText.trim().split(/\s+/).map(Number);
const nTokens = Number(nText);

// Never build from source or download anything: the prebuilt binaries ship in the npm package.
const llama = await getLlama({gpu: false, build: "never", usePrebuiltBinaries: true, skipDownload: true,
                              progressLogs: false, logLevel: "error"});
const model = await llama.loadModel({modelPath, gpuLayers: 0});
const context = await model.createContext({contextSize: 256, threads: 1});
const sequence = context.getSequence();

const llamaPromptIds = [model.tokens.bos, ...model.tokenize(prompt)].filter((t) => t != null);
const generated = [];
for await (const token of sequence.evaluate(promptIds, {temperature: 0})) {
  generated.push(token);
  if (generated.length >= nTokens) break;
}
const text = model.detokenize([...promptIds, ...generated]);
console.log(JSON.stringify({llama_prompt_ids: llamaPromptIds.map(Number), generated_ids: generated.map(Number), text}));
await context.dispose();
await model.dispose();
await llama.dispose();
