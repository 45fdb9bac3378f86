"""The Textual app: screens and widgets over the engine's events and the storage API. Nothing else."""
