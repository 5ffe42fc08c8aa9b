// `peft serve` through OpenAI's own Node.js SDK, unchanged but for its baseURL: models.list,
// completions and chat completions whole and streamed (greedy text equal to `peft generate`'s,
// given in expected.json), logprobs, an adapter by name, and errors as the SDK's typed
// exceptions. Usage: node openai_client.mjs OPENAI_PACKAGE_DIR BASE_URL EXPECTED_JSON
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';

const [pkgDir, baseURL, expectedPath] = process.argv.slice(2);
const require = createRequire(pkgDir + '/');
const OpenAI = require('openai').default ?? require('openai');
const want = JSON.parse(readFileSync(expectedPath, 'utf8'));
const client = new OpenAI({ baseURL, apiKey: 'unused', maxRetries: 0 });

let failures = 0;
function check(ok, what) {
  console.log((ok ? 'ok   ' : 'FAIL ') + what);
  if (!ok) failures++;
}

for (const [model, text] of [[want.base, want.base_text], ['lora', want.lora_text]]) {
  const c = await client.completions.create({ model, prompt: want.prompt, max_tokens: want.n, temperature: 0 });
  check(c.choices[0].text === text, `completions.create (${model}): ${JSON.stringify(c.choices[0].text)}`);
  check(c.usage.completion_tokens <= want.n && c.object === 'text_completion', `  usage ${JSON.stringify(c.usage)}`);
  let streamed = '';
  let finish = null;
  const stream = await client.completions.create({ model, prompt: want.prompt, max_tokens: want.n, temperature: 0, stream: true });
  for await (const chunk of stream) {
    streamed += chunk.choices[0]?.text ?? '';
    finish = chunk.choices[0]?.finish_reason ?? finish;
  }
  check(streamed === text && finish !== null, `completions stream (${model}): finish ${finish}`);
}

// The base and, once a request used it, the adapter loaded from --adapter-dir.
const models = await client.models.list();
const ids = models.data.map((m) => m.id);
check(ids.includes(want.base) && ids.includes('lora'), `models.list: ${JSON.stringify(ids)}`);

const chat = await client.chat.completions.create({
  model: 'lora', messages: [{ role: 'user', content: want.chat_prompt }], max_tokens: want.n, temperature: 0,
  logprobs: true, top_logprobs: 2,
});
check(chat.choices[0].message.content === want.chat_text, `chat.completions.create: ${JSON.stringify(chat.choices[0].message.content)}`);
const lp = chat.choices[0].logprobs.content;
check(lp.length === chat.usage.completion_tokens && lp.every((t) => t.logprob <= 0 && t.top_logprobs.length === 2),
      `  logprobs for ${lp.length} tokens`);
let chatStreamed = '';
const chatStream = await client.chat.completions.create({
  model: 'lora', messages: [{ role: 'user', content: want.chat_prompt }], max_tokens: want.n, temperature: 0, stream: true,
});
for await (const chunk of chatStream) chatStreamed += chunk.choices[0]?.delta?.content ?? '';
check(chatStreamed === want.chat_text, 'chat stream');

try {
  await client.completions.create({ model: 'no-such-adapter', prompt: 'x', max_tokens: 2 });
  check(false, 'unknown model raises');
} catch (e) {
  check(e instanceof OpenAI.NotFoundError && e.status === 404, `unknown model: ${e.constructor.name} ${e.status}`);
}
try {
  await client.completions.create({ model: want.base, prompt: 'x', max_tokens: 2, n: 3 });
  check(false, 'n = 3 raises');
} catch (e) {
  check(e instanceof OpenAI.BadRequestError && e.status === 400 && /not supported/.test(e.message),
        `n = 3: ${e.constructor.name} ${e.message}`);
}
console.log(failures ? `FAIL: ${failures} check(s)` : 'PASS');
process.exit(failures ? 1 : 0);
