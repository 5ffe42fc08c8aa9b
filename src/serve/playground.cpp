// GET /: a self-contained page (no external assets) to try the server: a prompt, an adapter
// picker filled from /v1/models, and the answer streamed from /v1/completions.
#include "serve/server_impl.h"

namespace peft::serve {

const char* playground_html() {
  return R"HTML(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>peft.cpp playground</title>
<style>
  body { font: 15px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 52em; padding: 0 1em; color: #1d2330; }
  h1 { font-size: 1.3em; }
  label { display: block; margin: .8em 0 .3em; font-weight: 600; }
  textarea, select, input { font: inherit; width: 100%; box-sizing: border-box; padding: .4em; }
  .row { display: flex; gap: 1em; }
  .row > div { flex: 1; }
  button { font: inherit; margin-top: 1em; padding: .45em 1.4em; }
  #answer { white-space: pre-wrap; border: 1px solid #c9ced8; border-radius: 4px; min-height: 6em;
            padding: .6em; margin-top: 1em; background: #f7f8fa; }
  #answer .prompt { color: #6b7385; }
  #status { color: #6b7385; margin-top: .5em; }
</style>
</head>
<body>
<h1>peft.cpp playground</h1>
<label for="model">Model or adapter</label>
<select id="model"></select>
<label for="prompt">Prompt</label>
<textarea id="prompt" rows="4">Once upon a time</textarea>
<div class="row">
  <div><label for="max_tokens">Max tokens</label><input id="max_tokens" type="number" value="64" min="1"></div>
  <div><label for="temperature">Temperature</label><input id="temperature" type="number" value="0" min="0" step="0.1"></div>
</div>
<button id="go">Generate</button>
<div id="answer"></div>
<div id="status"></div>
<script>
const $ = (id) => document.getElementById(id);
async function loadModels() {
  const r = await fetch('/v1/models');
  const list = await r.json();
  for (const m of list.data) {
    const o = document.createElement('option');
    o.value = m.id;
    o.textContent = m.parent ? m.id + ' (' + m.method + ' adapter)' : m.id + ' (base)';
    $('model').appendChild(o);
  }
}
async function generate() {
  const answer = $('answer');
  answer.textContent = '';
  const shown = document.createElement('span');
  shown.className = 'prompt';
  shown.textContent = $('prompt').value;
  answer.appendChild(shown);
  const out = document.createTextNode('');
  answer.appendChild(out);
  $('status').textContent = 'generating...';
  $('go').disabled = true;
  try {
    const r = await fetch('/v1/completions', {
      method: 'POST',
      headers: {'Content-Type': 'application/json'},
      body: JSON.stringify({model: $('model').value, prompt: $('prompt').value, stream: true,
                            max_tokens: Number($('max_tokens').value), temperature: Number($('temperature').value)})
    });
    if (!r.ok) { $('status').textContent = (await r.json()).error.message; return; }
    const reader = r.body.getReader();
    const dec = new TextDecoder();
    let buf = '', tokens = 0, reason = '';
    for (;;) {
      const {value, done} = await reader.read();
      if (done) break;
      buf += dec.decode(value, {stream: true});
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        if (!line.startsWith('data: ') || line === 'data: [DONE]') continue;
        const c = JSON.parse(line.slice(6));
        out.appendData(c.choices[0].text);
        if (c.choices[0].text) tokens++;
        if (c.choices[0].finish_reason) reason = c.choices[0].finish_reason;
      }
    }
    $('status').textContent = 'done (' + reason + ')';
  } catch (e) {
    $('status').textContent = 'error: ' + e;
  } finally {
    $('go').disabled = false;
  }
}
$('go').addEventListener('click', generate);
loadModels();
</script>
</body>
</html>
)HTML";
}

}  // namespace peft::serve
