"""The assistant: retrieve evidence, prompt the local model, verify every citation."""
