"""An example fanflow plugin: the `hello` model and the `word_count`/`save_count` tools."""
