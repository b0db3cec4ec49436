"""Jinja's environment, made cheaper per page for a build; templates and their output unchanged.

Page rendering is most of a full build, and most of it was Jinja's own bookkeeping
around each `{{ ... }}`, `a.b`, call, `include` and `import`, not the templates' work.
Each class here keeps Jinja's behaviour (the same HTML, the same errors) and skips work
a build never needs. `render.make_environment` builds the one environment from it.
"""

from __future__ import annotations

from collections import ChainMap
from types import FunctionType

import jinja2
from jinja2 import nodes
from jinja2.compiler import CodeGenerator as _JinjaCodeGenerator
from jinja2.compiler import Frame, optimizeconst
from jinja2.runtime import Context as _JinjaContext
from jinja2.runtime import Macro
from jinja2.utils import internalcode, missing
from markupsafe import Markup, escape

try:  # markupsafe 3: the C function inside `escape`, giving a str instead of a new Markup
    from markupsafe import _escape_inner
except ImportError:  # pragma: no cover - another markupsafe: templates keep Jinja's `escape`
    _escape_inner = None


@internalcode
def escape_output(value: object) -> str:
    """Jinja's `escape` for what a template outputs, in a fraction of the time for a string.

    A page outputs ~100 values (`{{ ... }}`): markupsafe's `escape` wraps each escaped
    string in a new `Markup`, which the compiled template only joins into the page (or
    into a `Markup` of its own, for a macro or a `set` block), and that cost more than the
    escaping. A `Markup` is safe as it is; anything else goes through `escape` (an
    undefined value fails there as before).
    """
    kind = type(value)
    if kind is str:
        return _escape_inner(value)
    if kind is Markup:
        return value
    return escape(value)


# The lines with which Jinja hands on a block's or a parent template's output (not async).
_DELEGATIONS = ("yield from context.blocks[", "yield from parent_template.root_render_func(context)")

# What the inline `getattr` gives back for an attribute that is not there: an object no
# template can reach (Jinja's own `missing` is the value of some of its objects' attributes).
_ABSENT = object()


class Template(jinja2.Template):
    """A template whose module holds the names `CodeGenerator` writes: `escape` (Jinja's
    name, called for each output) is `escape_output`; `escape_str` and `absent`."""

    @classmethod
    def _from_namespace(cls, environment, namespace, globals):
        namespace["absent"] = _ABSENT
        if _escape_inner is not None:
            namespace["escape"] = escape_output
            namespace["escape_str"] = _escape_inner
        return super()._from_namespace(environment, namespace, globals)


class CodeGenerator(_JinjaCodeGenerator):
    """Jinja's code generator, writing `a.b` and the escaping of an output inline (each
    ~2% of page rendering: a Python call less, ~1.9 M times at 10,000 articles).

    Jinja compiles `a.b` to `environment.getattr(a, 'b')`, a Python function that tries
    the attribute, then the item, then gives an undefined; this calls the builtin `getattr`
    with a default in the template itself, and `Environment._item_or_undefined` for the
    rest only when there is no such attribute. An output, `escape(x)`, escapes a plain
    string with markupsafe's C function directly and calls `escape_output` for the rest.

    Each expression's value goes into a name of the template's own (`t_N`, unique in it)
    with `:=` and is read back within the same expression, with no code of ours in
    between, so two names serve all: `a` in `a.b` is evaluated once, before its name is
    set (`a.b.c` included). Jinja writes no lambda, class or comprehension around an
    expression, where `:=` would be refused or bind elsewhere, nor an `await` or `yield`
    inside one outside async mode. An async or sandboxed environment, one with a `getattr`
    of its own or another template class, gets Jinja's code; the inline forms nest at most
    `_MAX_NESTED` deep (Python refuses 200 nested parentheses).
    """

    _MAX_NESTED = 8

    def __init__(self, environment, *args, **kwargs) -> None:
        super().__init__(environment, *args, **kwargs)
        ours = (isinstance(environment, Environment) and issubclass(environment.template_class, Template)
                and not environment.is_async and not environment.sandboxed)
        self._inline_getattr = ours and getattr(environment.getattr, "__func__", None) is jinja2.Environment.getattr
        self._inline_escape = ours and _escape_inner is not None
        self._join_delegated = ours
        self._names: tuple[str, str] | None = None
        self._nested = 0
        self._escaping: list[tuple[str, str] | None] = []  # what `_output_child_pre` wrote, for `_post`

    def writeline(self, x: str, node: nodes.Node | None = None, extra: int = 0) -> None:
        """Jinja's line, but a block or parent template's output is joined (in C) and passed up
        as one string, not each piece through every `yield from` between it and the page."""
        if self._join_delegated and x.startswith(_DELEGATIONS):
            x = f"yield concat({x[len('yield from '):]})"
        super().writeline(x, node, extra)

    def visit_Include(self, node: nodes.Include, frame: Frame) -> None:
        """Jinja's include, but the included template's output is joined (in C) and passed up as
        one string, not each piece through a loop here (as `writeline` does for blocks)."""
        if not (self._join_delegated and node.with_context and not node.ignore_missing
                and isinstance(node.template, nodes.Const) and isinstance(node.template.value, str)):
            return super().visit_Include(node, frame)
        self.writeline("template = environment.get_template(", node)
        self.visit(node.template, frame)
        self.write(f", {self.name!r})")
        self.simple_write("concat(template.root_render_func(template.new_context(context.get_all(), True, "
                          f"{self.dump_local_context(frame)})))", frame)

    def _inline_names(self) -> tuple[str, str] | None:
        """This template's two names for `:=`, or None where one more inline form would nest too deep."""
        if self._nested >= self._MAX_NESTED:
            return None
        if self._names is None:
            self._names = (self.temporary_identifier(), self.temporary_identifier())
        return self._names

    @optimizeconst
    def visit_Getattr(self, node: nodes.Getattr, frame: Frame) -> None:
        names = self._inline_names() if self._inline_getattr else None
        if names is None:
            return _JinjaCodeGenerator.visit_Getattr.__wrapped__(self, node, frame)
        obj, value = names
        self._nested += 1
        self.write(f"({value} if ({value} := getattr({obj} := ")
        self.visit(node.node, frame)
        self.write(f", {node.attr!r}, absent)) is not absent else environment._item_or_undefined({obj},"
                   f" {node.attr!r}))")
        self._nested -= 1

    def _escapes_inline(self, frame: Frame, finalize) -> bool:
        return (self._inline_escape and frame.eval_ctx.autoescape and not frame.eval_ctx.volatile
                and finalize.src is None)

    def _output_child_pre(self, node: nodes.Expr, frame: Frame, finalize) -> None:
        names = self._inline_names() if self._escapes_inline(frame, finalize) else None
        self._escaping.append(names)
        if names is None:
            return super()._output_child_pre(node, frame, finalize)
        self._nested += 1
        self.write(f"(escape_str({names[1]}) if type({names[1]} := ")

    def _output_child_post(self, node: nodes.Expr, frame: Frame, finalize) -> None:
        names = self._escaping.pop()
        if names is None:
            return super()._output_child_post(node, frame, finalize)
        self._nested -= 1
        self.write(f") is str else escape({names[1]}))")


class Context(_JinjaContext):
    """Jinja's context, calling the plain functions and the macros templates call without
    looking each up for `pass_context` and the like (~10 calls a page)."""

    @internalcode
    def call(__self, __obj, *args, **kwargs):  # Jinja's names: a template may pass `self=`
        kind = type(__obj)
        if kind is Macro:
            kwargs.pop("_block_vars", None)
            kwargs.pop("_loop_vars", None)
            return _call_macro(__obj, __self.eval_ctx, args, kwargs)
        if kind is not FunctionType or hasattr(__obj, "jinja_pass_arg"):
            return super().call(__obj, *args, **kwargs)
        kwargs.pop("_block_vars", None)
        kwargs.pop("_loop_vars", None)
        try:
            return __obj(*args, **kwargs)
        except StopIteration:
            return __self.environment.undefined("value was undefined because a callable raised a"
                                                " StopIteration exception")


@internalcode
def _call_macro(macro: Macro, eval_ctx, args: tuple, kwargs: dict):
    """`macro(*args, **kwargs)` as `Macro.__call__` does it, without its general case: a macro
    taking no `caller`, `varargs` or `kwargs`, called with arguments it has (~75,000 calls at
    10,000 articles, most of the macros' own cost). Anything else goes to Jinja's code."""
    try:
        positions = macro._argument_positions
    except AttributeError:  # first call of this macro object: is it plain, and where does each argument go
        positions = macro._argument_positions = None if (
            macro.caller or macro.catch_kwargs or macro.catch_varargs or macro._environment.is_async
        ) else {name: n for n, name in enumerate(macro.arguments)}
    given = len(args)
    if positions is None or given > len(positions):
        return macro(eval_ctx, *args, **kwargs)
    if given < len(positions):
        full = [*args, *[missing] * (len(positions) - given)]
        for name, value in kwargs.items():
            n = positions.get(name, -1)
            if n < given:  # no such argument, or given twice: Jinja's error
                return macro(eval_ctx, *args, **kwargs)
            full[n] = value
        args = full
    elif kwargs:
        return macro(eval_ctx, *args, **kwargs)
    out = macro._func(*args)
    # `Markup(out)` without its Python `__new__`: `out` is a plain string, joined by the macro
    return str.__new__(Markup, out) if eval_ctx.autoescape else out


class Environment(jinja2.Environment):
    """Jinja's environment with the code generator, context and template above, its
    templates sharing its globals instead of a ChainMap over them.

    Jinja gives each template a ChainMap so that globals set on one template stay its own;
    none are, and the ChainMap was copied key by key, in Python, for each page and each
    `include` and `import` of it.
    """

    code_generator_class = CodeGenerator
    context_class = Context
    template_class = Template

    def make_globals(self, d):
        return ChainMap(d, self.globals) if d else self.globals

    def _item_or_undefined(self, obj, attribute: str):
        """The rest of Jinja's `getattr` once `obj` has no attribute `attribute`: its item,
        or an undefined (`CodeGenerator` writes the attribute lookup inline)."""
        try:
            return obj[attribute]
        except (TypeError, LookupError, AttributeError):
            return self.undefined(obj=obj, name=attribute)
