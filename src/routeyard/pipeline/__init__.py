"""Plan spec (YAML ⇄ DAG), cache keys and the engine that executes plans."""
