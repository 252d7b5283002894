"""Local LLM: GGUF files, the model catalog and store, the llama.cpp runtime."""
