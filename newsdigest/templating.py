"""Jinja's environment, made cheaper per page for a build; templates and their output unchanged.

Page rendering is most of a full build, and most of it was Jinja's own bookkeeping
around each `{{ ... }}`, call, `include` and `import`, not the templates' work. Each
class here keeps Jinja's behaviour (the same HTML, the same errors) and skips work a
build never needs. `render.make_environment` builds the one environment from it.
"""

from __future__ import annotations

from collections import ChainMap
from types import FunctionType

import jinja2
from jinja2.runtime import Context as _JinjaContext
from jinja2.runtime import Macro
from jinja2.utils import internalcode
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


class Template(jinja2.Template):
    """A template whose output escapes with `escape_output` (its compiled code calls the
    `escape` of its own module)."""

    @classmethod
    def _from_namespace(cls, environment, namespace, globals):
        namespace["escape"] = escape_output
        return super()._from_namespace(environment, namespace, globals)


class Context(_JinjaContext):
    """Jinja's context, calling the plain functions and the macros templates call without
    looking each up for `pass_context` and the like (~10 calls a page)."""

    @internalcode
    def call(__self, __obj, *args, **kwargs):  # Jinja's names: a template may pass `self=`
        kind = type(__obj)
        if kind is Macro:  # what `Context.call` does for one: its __call__ takes the eval context
            args = (__self.eval_ctx, *args)
        elif kind is not FunctionType or hasattr(__obj, "jinja_pass_arg"):
            return super().call(__obj, *args, **kwargs)
        kwargs.pop("_block_vars", None)
        kwargs.pop("_loop_vars", None)
        try:
            return __obj(*args, **kwargs)
        except StopIteration:
            return __self.environment.undefined("value was undefined because a callable raised a"
                                                " StopIteration exception")


class Environment(jinja2.Environment):
    """Jinja's environment with the context and template above, its templates sharing its
    globals instead of a ChainMap over them.

    Jinja gives each template a ChainMap so that globals set on one template stay its own;
    none are, and the ChainMap was copied key by key, in Python, for each page and each
    `include` and `import` of it.
    """

    context_class = Context
    if _escape_inner is not None:
        template_class = Template

    def make_globals(self, d):
        return ChainMap(d, self.globals) if d else self.globals
