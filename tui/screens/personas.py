"""Personas: built-in and yours; show, create from the template, validate, and try one."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Footer, Header, ListItem, ListView, Static

from interviewer import paths
from interviewer.content.lint import lint_persona
from interviewer.content.templates import TemplateError, write_persona_template
from tui.modals import PromptDialog
from tui.safe import display_safe
from tui.screens.base import AppScreen


class PersonaItem(ListItem):
    def __init__(self, loaded):
        persona = loaded.model
        label = Text()
        label.append(display_safe(persona.name), style="bold")
        label.append(f"  {display_safe(persona.id)}", style="dim")
        if not loaded.builtin:
            label.append("  yours", style="reverse")
        label.append(f"\n{display_safe(persona.description)}")
        super().__init__(Static(label))
        self.persona_id = persona.id


class PersonasScreen(AppScreen):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("t", "try", "Try it"),
        Binding("n", "new", "New from template"),
        Binding("v", "validate", "Validate yours"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="personas"):
            yield ListView(id="persona-list")
            with VerticalScroll(id="persona-detail"):
                yield Static("", id="detail")
        yield Static("", id="persona-status")
        yield Footer(compact=True)

    async def on_mount(self) -> None:
        self.title = "Interviewer personas"
        await self.load()

    async def load(self, select: str | None = None) -> None:
        library = self.app.context.library
        catalog = library.personas
        items = [
            PersonaItem(catalog.items[i]) for i in sorted(catalog.ids(), key=lambda i: catalog.items[i].model.name)
        ]
        view = self.query_one("#persona-list", ListView)
        await view.clear()
        await view.extend(items)
        index = next((n for n, item in enumerate(items) if item.persona_id == select), 0)
        if items:
            view.index = index
            self.show(items[index].persona_id)
        status = f"Your personas live in {library.user_dir('personas')}"
        if catalog.errors:
            status += f" · {len(catalog.errors)} file(s) could not be loaded (v shows why)"
        self.query_one("#persona-status", Static).update(status)
        view.focus()

    def on_list_view_highlighted(self, event: ListView.Highlighted) -> None:
        if isinstance(event.item, PersonaItem):
            self.show(event.item.persona_id)

    def on_list_view_selected(self, event: ListView.Selected) -> None:
        self.action_try()

    def _selected(self) -> str | None:
        item = self.query_one("#persona-list", ListView).highlighted_child
        return item.persona_id if isinstance(item, PersonaItem) else None

    def show(self, persona_id: str) -> None:
        loaded = self.app.context.library.personas.items[persona_id]
        p = loaded.model
        text = Text()
        text.append(display_safe(p.name), style="bold")
        text.append(display_safe(f"  ({p.id}, {loaded.origin})\n"), style="dim")
        text.append(display_safe(f"{p.role}\n\n"), style="italic")
        # The file's line breaks are for the file: each paragraph reflows to the panel's width.
        paragraphs = [" ".join(block.split()) for block in p.style.strip().split("\n\n")]
        text.append(display_safe("\n\n".join(paragraphs) + "\n\n"))
        text.append("Strictness ", style="bold")
        text.append(f"{p.strictness:.1f}   ")
        text.append("Probe depth ", style="bold")
        text.append(f"{p.probe_depth}   ")
        text.append("What-if rate ", style="bold")
        text.append(f"{p.what_if_rate:.1f}   ")
        text.append("Probes per stage ", style="bold")
        text.append(f"{p.max_probes_per_stage}\n\n")
        text.append("Opening: ", style="bold")
        text.append(display_safe(p.lines.opening.strip() + "\n"))
        text.append("Closing: ", style="bold")
        text.append(display_safe(p.lines.closing + "\n"))
        text.append("Closing early: ", style="bold")
        text.append(display_safe(p.lines.closing_early + "\n"))
        text.append(display_safe(f"\nFile: {loaded.path}"), style="dim")
        self.query_one("#detail", Static).update(text)

    def action_try(self) -> None:
        persona_id = self._selected()
        if persona_id:
            from tui.screens.new import NewInterviewScreen

            self.app.push_screen(NewInterviewScreen(persona=persona_id))

    def action_new(self) -> None:
        def create(persona_id: str | None) -> None:
            if not persona_id:
                return
            try:
                path = write_persona_template(persona_id, paths.user_content_dir("personas"))
            except TemplateError as exc:
                self.notify(str(exc), severity="error", timeout=10)
                return
            self.app.context.reload_library()
            self.call_later(self.load, persona_id)
            self.notify(f"Wrote {path}: edit it, then press v to validate.", timeout=10)

        self.app.push_screen(PromptDialog("New persona id", placeholder="e.g. my-coach"), create)

    def action_validate(self) -> None:
        library = self.app.context.reload_library()
        catalog = library.personas
        problems = [str(error) for error in catalog.errors]
        for loaded in catalog.items.values():
            if not loaded.builtin:
                problems += [f"{loaded.path}: {finding.message}" for finding in lint_persona(loaded.model)]
        self.call_later(self.load, self._selected())
        if problems:
            self.notify("\n".join(problems), title="Persona files need fixing", severity="error", timeout=15)
        else:
            users = sum(1 for loaded in catalog.items.values() if not loaded.builtin)
            self.notify(f"All {users} of your persona file(s) are valid.")
