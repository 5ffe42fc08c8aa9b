// Hugging Face's own JavaScript tokenizers (@huggingface/tokenizers) on one request, for
// tokenizer_parity.py. Usage: node hf_tokenize.mjs REQUEST.json
// REQUEST: {"modules": "<clients>/tokenizers/node_modules", "tokenizer_dir": DIR (tokenizer.json +
//           tokenizer_config.json), "texts": [str, ...], "decode": [[id, ...], ...]}
// Prints {"version": V, "ids": [[...] per text], "decoded": [str per decode entry]}.
// As peft's Tokenizer contract says (src/tokenizer/tokenizer.h): encoding adds no special tokens
// (post-processor off) and decoding skips special tokens (special: true added tokens; the
// non-special ones stay) and does no clean-up of spaces (peft's decode is the decoder's raw
// text; the config's clean_up_tokenization_spaces is a transformers-side post-pass).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const request = JSON.parse(readFileSync(process.argv[2], "utf8"));
// The package lives in the clients folder, not beside this script: resolve it from there.
const require = createRequire(join(request.modules, "_.js"));
const { Tokenizer } = require("@huggingface/tokenizers");
// (Its "exports" hide package.json from require: read the file.)
const { version } = JSON.parse(readFileSync(join(request.modules, "@huggingface/tokenizers", "package.json"), "utf8"));

const load = (name) => JSON.parse(readFileSync(join(request.tokenizer_dir, name), "utf8"));
const tokenizer = new Tokenizer(load("tokenizer.json"), load("tokenizer_config.json"));

const ids = request.texts.map((text) => tokenizer.encode(text, { add_special_tokens: false }).ids);
// decode() throws on an empty array; the empty text's ids decode to "".
const decoded = (request.decode ?? []).map((seq) =>
  seq.length === 0 ? "" : tokenizer.decode(seq, { skip_special_tokens: true, clean_up_tokenization_spaces: false }),
);
process.stdout.write(JSON.stringify({ version, ids, decoded }) + "\n");
