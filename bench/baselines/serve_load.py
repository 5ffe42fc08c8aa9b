"""A load generator for `peft serve` (or any OpenAI-compatible server): C concurrent clients,
each sending R completion requests one after another, client i naming model i mod len(models).
Prints one JSON line: generated tokens/s over the wall time, mean and p90 request latency,
and the server's mean decode batch and share of mixed-adapter steps from /metrics.

  python3 bench/baselines/serve_load.py --url http://127.0.0.1:8080 --models a,b,c --clients 8 \
      --requests 4 --max-tokens 64 [--label NAME]
"""
import argparse
import http.client
import json
import threading
import time
import urllib.parse


def metrics(host, port):
    c = http.client.HTTPConnection(host, port, timeout=60)
    c.request("GET", "/metrics")
    out = {}
    for line in c.getresponse().read().decode().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--models", default="", help="comma-separated; empty = the base")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--requests", type=int, default=4)
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--prompt", default="Once upon a time")
    ap.add_argument("--label", default="")
    a = ap.parse_args()
    u = urllib.parse.urlparse(a.url)
    models = a.models.split(",") if a.models else [""]
    before = metrics(u.hostname, u.port)
    latencies, tokens, errors = [], [0], []
    lock = threading.Lock()

    def client(i):
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=600)
        for _ in range(a.requests):
            body = json.dumps({"model": models[i % len(models)], "prompt": a.prompt, "max_tokens": a.max_tokens,
                               "temperature": 0, "ignore_eos": True})
            t0 = time.perf_counter()
            conn.request("POST", "/v1/completions", body, {"Content-Type": "application/json"})
            r = conn.getresponse()
            data = r.read()
            dt = time.perf_counter() - t0
            with lock:
                if r.status != 200:
                    errors.append(f"{r.status} {data[:200]!r}")
                    continue
                latencies.append(dt)
                tokens[0] += json.loads(data)["usage"]["completion_tokens"]

    threads = [threading.Thread(target=client, args=(i,)) for i in range(a.clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    after = metrics(u.hostname, u.port)
    d = lambda k: after.get(k, 0) - before.get(k, 0)
    latencies.sort()
    steps = d("peft_decode_steps_total")
    print(json.dumps({
        "label": a.label, "clients": a.clients, "requests": len(latencies), "errors": errors[:3],
        "models": len(models), "max_tokens": a.max_tokens, "wall_s": round(wall, 3),
        "tokens_per_s": round(tokens[0] / wall, 1),
        "latency_mean_s": round(sum(latencies) / max(len(latencies), 1), 3),
        "latency_p90_s": round(latencies[int(0.9 * (len(latencies) - 1))], 3) if latencies else None,
        "mean_batch": round(d("peft_batch_size_sum") / steps, 2) if steps else None,
        "mixed_step_share": round(d("peft_mixed_decode_steps_total") / steps, 2) if steps else None,
    }))


if __name__ == "__main__":
    main()
