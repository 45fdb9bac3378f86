"""llama-cpp-python's OpenAI-compatible server, started the way the real-server tests need it.

Run as ``python -m tests.fakes.llama_server [llama_cpp.server arguments]``. Before the server starts:

- two chat formats are registered, for ``--chat_format``, rendered through llama-cpp-python's Jinja2 chat
  formatter with the role rules of two strict template families (and SmolLM2's ChatML markers, so the
  model still knows where a turn ends):

  - ``mistral-roles``: Mistral-7B-Instruct-v0.3's rules: one optional leading system message, then
    user and assistant strictly alternating from the user, else ``raise_exception`` ("After the
    optional system message, conversation roles must alternate user/assistant/user/assistant/...");
  - ``gemma-roles``: Gemma's rules: no system role at all ("System role not supported"), and
    alternating roles;

- weight repacking ("extra buffer types") is turned off. On a CPU that reports AMX, ggml moves the
  quantised weights into AMX tiles and its first matrix product runs ``ldtilecfg``; in a virtual
  machine that advertises AMX without enabling it for guests (the CI machine) that instruction
  faults and the server dies with SIGSEGV on its first completion, after ``/v1/models`` answered.
  Repacking only makes a large model faster; SmolLM2-135M runs as fast without it.
"""

from __future__ import annotations

import sys

MISTRAL_ROLES = (
    "{%- if messages[0]['role'] == 'system' %}{%- set system_message = messages[0]['content'] %}"
    "{%- set loop_messages = messages[1:] %}{%- else %}{%- set loop_messages = messages %}{%- endif %}"
    "{%- for message in loop_messages %}"
    "{%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{- raise_exception('After the optional system message, conversation roles must alternate "
    "user/assistant/user/assistant/...') }}{%- endif %}"
    "{%- if message['role'] == 'user' %}"
    "{%- if loop.first and system_message is defined %}"
    "{{- '<|im_start|>system\\n' + system_message + '<|im_end|>\\n' }}{%- endif %}"
    "{{- '<|im_start|>user\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{%- elif message['role'] == 'assistant' %}{{- '<|im_start|>assistant\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{%- else %}{{- raise_exception('Only user and assistant roles are supported, with the exception of an "
    "initial optional system message!') }}{%- endif %}"
    "{%- endfor %}{{- '<|im_start|>assistant\\n' }}"
)

GEMMA_ROLES = (
    "{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}"
    "{% for message in messages %}"
    "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] | trim + '<|im_end|>\\n' }}"
    "{% endfor %}{{ '<|im_start|>assistant\\n' }}"
)


def _without_weight_repacking() -> None:
    import llama_cpp.llama_cpp as low  # the module ``llama_cpp.Llama`` reads its default parameters from

    default_params = low.llama_model_default_params

    def params():  # type: ignore[no-untyped-def]
        chosen = default_params()
        chosen.use_extra_bufts = False
        return chosen

    low.llama_model_default_params = params


def _register_templates() -> None:
    from llama_cpp import llama_chat_format

    registry = llama_chat_format.LlamaChatCompletionHandlerRegistry()
    for name, template in (("mistral-roles", MISTRAL_ROLES), ("gemma-roles", GEMMA_ROLES)):
        formatter = llama_chat_format.Jinja2ChatFormatter(template, eos_token="<|im_end|>", bos_token="")
        registry.register_chat_completion_handler(name, formatter.to_chat_handler(), overwrite=True)


def main(argv: list[str]) -> None:
    _without_weight_repacking()
    _register_templates()
    from llama_cpp.server.__main__ import main as serve

    sys.argv = ["llama_cpp.server", *argv]
    serve()


if __name__ == "__main__":
    main(sys.argv[1:])
