"""llama-cpp-python's OpenAI-compatible server, started the way the real-server tests need it.

Run as ``python -m tests.fakes.llama_server [llama_cpp.server arguments]``. Before the server starts:

- weight repacking ("extra buffer types") is turned off. On a CPU that reports AMX, ggml moves the
  quantised weights into AMX tiles and its first matrix product runs ``ldtilecfg``; in a virtual
  machine that advertises AMX without enabling it for guests (the CI machine) that instruction
  faults and the server dies with SIGSEGV on its first completion, after ``/v1/models`` answered.
  Repacking only makes a large model faster; SmolLM2-135M runs as fast without it.
"""

from __future__ import annotations

import sys


def _without_weight_repacking() -> None:
    import llama_cpp.llama_cpp as low  # the module ``llama_cpp.Llama`` reads its default parameters from

    default_params = low.llama_model_default_params

    def params():  # type: ignore[no-untyped-def]
        chosen = default_params()
        chosen.use_extra_bufts = False
        return chosen

    low.llama_model_default_params = params


def main(argv: list[str]) -> None:
    _without_weight_repacking()
    from llama_cpp.server.__main__ import main as serve

    sys.argv = ["llama_cpp.server", *argv]
    serve()


if __name__ == "__main__":
    main(sys.argv[1:])
