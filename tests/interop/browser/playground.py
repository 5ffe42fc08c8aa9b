#!/usr/bin/env python3
"""peft serve's playground page (GET /) in headless Chromium, driven by Selenium through
ChromeDriver (Debian's chromium, chromium-driver and python3-selenium, which
scripts/setup_clients installs): the adapter picker lists the base and the adapters, a prompt
run with an adapter streams exactly the text `peft generate --adapter` prints, and a screenshot
of the page shows it (its pixels are read back and checked, and it is written where
PEFT_SCREENSHOT says, for the docs).

Usage: playground.py PEFT_BINARY   Env: PEFT_SHARED_DIR, PEFT_CLIENTS_DIR (set: a missing
browser fails; unset: it skips with 77).
"""
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def missing(msg):
    if os.environ.get("PEFT_CLIENTS_DIR"):
        fail(msg + " (scripts/setup_clients installs it)")
    print("SKIP: " + msg)
    sys.exit(77)


def png_pixels(data):
    """(width, height, rows of RGB(A) byte strings) of an 8-bit RGB/RGBA PNG."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail("the screenshot is not a PNG")
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", body[:10])
            if depth != 8 or color not in (2, 6):
                fail(f"unexpected PNG format: depth {depth}, color type {color}")
            bpp = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw, stride, rows, prev = zlib.decompress(idat), width * bpp, [], bytearray(width * bpp)
    for y in range(height):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):  # undo the row filter (PNG spec section 9)
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


def main():
    peft = sys.argv[1]
    shared = os.environ.get("PEFT_SHARED_DIR", os.path.join(os.path.dirname(__file__), "../../../../shared"))
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import Select, WebDriverWait
    except ImportError:
        missing("python3-selenium is not installed")
    chromium, driver_bin = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not driver_bin:
        missing("chromium / chromium-driver are not installed")

    tmp = tempfile.mkdtemp()
    server = None
    try:
        model = os.path.join(tmp, "stories260K")
        subprocess.run([peft, "convert", "--from", "llama2c", "--checkpoint",
                        f"{shared}/data/models/stories260K/stories260K.bin", "--tokenizer",
                        f"{shared}/data/models/stories260K/tok512.model", "--out", model],
                       check=True, capture_output=True)
        adapters = os.path.join(tmp, "adapters")
        subprocess.run([peft, "train", "--model", model, "--data",
                        f"{shared}/data/datasets/llm_adapters/dataset/boolq/train.json", "--output",
                        os.path.join(adapters, "story-lora"), "--max-steps", "20", "--batch-size", "8",
                        "--micro-batch-size", "8", "--learning-rate", "1e-2", "--val-set-size", "0"],
                       check=True, capture_output=True)
        prompt = "Once upon a time"
        want = subprocess.run([peft, "generate", "--model", model, "--adapter", os.path.join(adapters, "story-lora"),
                               "--prompt", prompt, "--max-new-tokens", "64"],
                              check=True, capture_output=True, text=True).stdout.rstrip("\n")
        log = open(os.path.join(tmp, "serve.log"), "w+")
        server = subprocess.Popen([peft, "serve", "--model", model, "--adapter", "story-lora=" +
                                   os.path.join(adapters, "story-lora"), "--port", "0"], stderr=log)
        port = None
        for _ in range(100):
            log.seek(0)
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", log.read())
            if m:
                port = m.group(1)
                break
            time.sleep(0.1)
        if not port:
            fail("peft serve did not start")

        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                    "--window-size=1000,760", f"--user-data-dir={tmp}/profile"):
            options.add_argument(arg)
        driver = webdriver.Chrome(service=Service(driver_bin), options=options)
        try:
            driver.get(f"http://127.0.0.1:{port}/")
            wait = WebDriverWait(driver, 30)
            wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#model option")) >= 2)
            names = [o.get_attribute("value") for o in driver.find_elements(By.CSS_SELECTOR, "#model option")]
            if names != ["stories260K", "story-lora"]:
                fail(f"the picker lists {names}")
            Select(driver.find_element(By.ID, "model")).select_by_value("story-lora")
            box = driver.find_element(By.ID, "prompt")
            box.clear()
            box.send_keys(prompt)
            driver.find_element(By.ID, "go").click()
            wait.until(lambda d: d.find_element(By.ID, "status").text.startswith(("done", "error")))
            status = driver.find_element(By.ID, "status").text
            got = driver.execute_script("return document.getElementById('answer').textContent")
            if got != want:
                fail(f"the page shows {got!r}, peft generate prints {want!r} ({status})")
            shot = driver.get_screenshot_as_png()
        finally:
            driver.quit()
        width, height, bpp, rows = png_pixels(shot)
        if width != 1000 or height < 500:
            fail(f"screenshot of {width}x{height}")
        # The answer box (background #f7f8fa) holds text: dark pixels on the rows it spans.
        box, dark = 0, 0
        for row in rows:
            px = [row[i:i + 3] for i in range(0, width * bpp, bpp)]
            if sum(1 for p in px if p == b"\xf7\xf8\xfa") >= 100:
                box += 1
                dark += sum(1 for p in px if max(p) < 100)
        if box < 40 or dark < 200:
            fail(f"the screenshot shows no answer: {box} rows of the answer box, {dark} dark pixels in them")
        out = os.environ.get("PEFT_SCREENSHOT")
        if out:
            with open(out, "wb") as f:
                f.write(shot)
        print(f"PASS: the page streamed {len(got) - len(prompt)} characters equal to peft generate; "
              f"screenshot {width}x{height}, answer box {box} rows with {dark} dark pixels")
    finally:
        if server:
            server.terminate()
            server.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
