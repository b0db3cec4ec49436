"""The tuned Jinja environment renders what Jinja's own does, and fails where it fails."""

from __future__ import annotations

import asyncio

import jinja2
import pytest
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from newsdigest.errors import TemplateError
from newsdigest.render import render
from newsdigest.templating import Environment

TEMPLATES = {
    "m.html": "{% macro box(a, b=2) %}[{{ a }}|{{ b }}|{{ varargs }}|{{ kwargs }}]{% endmacro %}"
              "{% macro wrap(a) %}<{{ a }}:{{ caller() }}>{% endmacro %}",
    "page.html": '{% from "m.html" import box, wrap %}{{ x }}|{{ m }}|{{ n }}|{{ 1.5 }}|{{ none }}|{{ x|e }}|'
                 "{% set s %}<b>{{ x }}</b>{% endset %}{{ s }}|{{ box(1) }}{{ box(x, 3, 4, z=5) }}|"
                 '{% call wrap("c") %}in {{ x }}{% endcall %}|{% for i in range(2) %}{{ box(i, b=x) }}'
                 "{{ ctx() }}{{ plain(i) }}{% endfor %}|{{ stop() is undefined }}|{{ kind }}"
                 '{% include "inc.html" %}\n',
    "inc.html": "<i>{{ x }}{{ glob }}</i>",
    "undefined.html": "a\n{{ nope }}\n",
    "missing_arg.html": '{% from "m.html" import box %}{{ box() }}',
}


def _environment(cls: type[jinja2.Environment]) -> jinja2.Environment:
    env = cls(loader=jinja2.DictLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined)

    def stop():
        raise StopIteration

    env.globals.update(ctx=jinja2.pass_context(lambda c: c["x"]), plain=lambda i: i * 10, stop=stop,
                       glob="<g>")
    return env


def test_pages_are_the_same_as_jinjas():
    context = {"x": "<a&'\">", "m": Markup("<ok>"), "n": 3, "kind": "t"}
    assert (_environment(Environment).get_template("page.html").render(context)
            == _environment(jinja2.Environment).get_template("page.html").render(context))
    assert "&lt;a&amp;&#39;&#34;&gt;|<ok>|3|1.5|None|" in _environment(Environment).get_template(
        "page.html").render(context)


@pytest.mark.parametrize("name, error", [("undefined.html", jinja2.UndefinedError),
                                         ("missing_arg.html", jinja2.UndefinedError)])
def test_template_mistakes_fail_as_in_jinja(name, error):
    with pytest.raises(error) as ours:
        _environment(Environment).get_template(name).render()
    with pytest.raises(error) as jinjas:
        _environment(jinja2.Environment).get_template(name).render()
    assert str(ours.value) == str(jinjas.value)
    # the same frames: ours hidden as Jinja's own, the template's line shown
    assert [str(e.path) for e in ours.traceback] == [str(e.path) for e in jinjas.traceback]


def test_templates_share_the_environments_globals():
    env = _environment(Environment)
    assert env.get_template("inc.html").globals is env.globals
    assert env.from_string("{{ own }}", globals={"own": 1}).render() == "1"
    assert "own" not in env.globals


# ---------------------------------------------------------------- `a.b` compiled inline

class Text(str):
    """A string of another type than `str`: escaped as Jinja escapes it."""


class Thing:
    """An object as templates get them: attributes, a method, properties, one that fails inside."""

    def __init__(self, name: str, children: tuple = (), **extra) -> None:
        self.name, self.children, self.none, self.zero, self.html = name, children, None, 0, Markup("<i>")
        self.sub, self.me = Text("<sub>"), self  # `thing.me.me...` nests deeper than the inline code goes
        self.__dict__.update(extra)
        self.reads = 0

    def shout(self, suffix: str = "!") -> str:
        return self.name.upper() + suffix

    @property
    def counted(self) -> str:
        self.reads += 1
        return f"<{self.name}>"

    @property
    def broken(self) -> str:
        self.reads += 1
        return self.nope  # an AttributeError from inside the getter: Jinja then tries the item

    @property
    def failing(self) -> str:
        raise ValueError("the getter fails")

    def __getitem__(self, key):  # the item Jinja falls back to
        if key == "only_item":
            return "item <b>"
        raise KeyError(key)


class Loose:
    """An object whose attributes come from `__getattr__`."""

    def __getattr__(self, name: str) -> str:
        if name.startswith("_"):
            raise AttributeError(name)
        return f"loose {name} &"


ATTRIBUTE_TEMPLATES = {
    "m.html": "{% macro show(t, label=t.name) %}[{{ label }}:{{ t.name }}:{{ t.shout('?') }}:{{ caller(t) }}]"
              "{% endmacro %}"
              "{% macro plain(t, d=t.children|length) %}({{ t.name }}|{{ d }}|{{ varargs|length }}){% endmacro %}",
    "inc.html": "<inc {{ thing.name }} {{ d.key }}>",
    "base.html": "{% block head %}<h {{ thing.name }}>{% endblock %}|{% block body %}{% endblock %}",
    "page.html": """{% extends "base.html" %}{% from "m.html" import show, plain %}
{% block head %}{{ super() }}{{ d.key }}{% endblock %}
{% block body %}
{{ thing.name }}|{{ thing.counted }}|{{ thing.html }}|{{ thing.none }}|{{ thing.zero }}|{{ thing.missing_value }}
{{ thing.only_item }}|{{ d.key }}|{{ d.items()|list|length }}|{{ d.items is callable }}|{{ d.nested.deep.deeper }}
{{ thing.children[0].name }}|{{ thing.children[1:]|map(attribute='name')|join(',') }}|{{ thing.shout() }}
{{ loose.anything }}|{{ loose.name.upper() }}|{{ thing.nope is defined }}|{{ d.nope is undefined }}
{{ thing.name if thing.zero else thing.children[0].name }}|{{ thing.name ~ d.key }}|{{ (thing.zero + 1) * 2 }}
{{ [thing.name, d.key] }}|{{ {'k': thing.name} }}|{{ plain(thing, thing.name, thing.zero) }}|{{ plain(*[thing]) }}
{% for c in thing.children if c.name != 'b' %}{{ loop.index }}.{{ c.name }}{{ loop.cycle(d.key, thing.name) }}
{% endfor %}
{% for c in [thing] recursive %}<{{ c.name }}{{ loop(c.children) }}>{% endfor %}
{% set s = thing.name ~ d.key %}{{ s }}|{% set block %}{{ thing.name }}<{{ d.key }}>{% endset %}{{ block }}
{% set ns = namespace(v=thing.name) %}{% set ns.v = ns.v ~ d.key %}{{ ns.v }}
{% with w = thing.children[0] %}{{ w.name }}{% endwith %}|{% filter upper %}{{ thing.name }}{% endfilter %}
{% call(t) show(thing) %}{{ t.name }}/{{ t.children|length }}{% endcall %}
{% if thing.none %}no{% elif thing.children %}{{ thing.children|length }}{% else %}none{% endif %}
{% autoescape false %}{{ thing.counted }}{% endautoescape %}
{% autoescape flag.on %}{{ thing.counted }}{% endautoescape %}
{% include "inc.html" %}|{{ thing.broken is defined }}
{{ thing.sub }}|{{ thing.sub.upper() }}|{{ thing.children[0].children }}
{{ thing.me.me.me.me.me.me.me.me.me.me.me.me.name }}
{{ fresh().name }}|{{ fresh().only_item }}|{{ fresh().nope is defined }}|{{ fresh().children }}|{{ made|length }}
{% endblock %}""",
}


def _attribute_environment(cls: type[jinja2.Environment]) -> jinja2.Environment:
    return cls(loader=jinja2.DictLoader(ATTRIBUTE_TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined)


def _attribute_context() -> dict:
    thing = Thing("a&<", (Thing("b"), Thing("c"), Thing("d")), missing_value=jinja2.utils.missing)
    made = []

    def fresh():  # counts how often a template evaluates `fresh()` in `fresh().name`
        made.append(Thing(f"fresh {len(made)}"))
        return made[-1]

    return {"thing": thing, "fresh": fresh, "made": made, "loose": Loose(), "flag": {"on": True},
            "d": {"key": "v<", "items": "not the method", "nested": {"deep": {"deeper": "x"}}}}


def _render_attributes(cls: type[jinja2.Environment]) -> tuple[str, dict]:
    env = _attribute_environment(cls)
    context = _attribute_context()
    return env.get_template("page.html").render(context), context


def test_attribute_access_renders_as_in_jinja():
    (ours, our_context), (jinjas, jinja_context) = _render_attributes(Environment), _render_attributes(
        jinja2.Environment)
    assert ours == jinjas
    # each getter ran as often as in Jinja: `counted` three times, `broken` once (not again for the item)
    assert our_context["thing"].reads == jinja_context["thing"].reads == 4
    assert "fresh 0|item &lt;b&gt;|False|()|4" in ours  # each `fresh()` once, whichever way `.x` is found
    assert "a&amp;&lt;|&lt;a&amp;&lt;&gt;|<i>|None|0|missing\nitem &lt;b&gt;|v&lt;|3|True|x\nb|c,d|A&amp;&lt;!" in ours


def test_attribute_access_is_compiled_inline():
    env = _attribute_environment(Environment)
    assert "environment.getattr(" not in env.compile("{{ thing.children[0].name }}{{ d.key|upper }}", raw=True)
    # past a depth the inline code would nest parentheses too deep for Python: Jinja's call
    assert env.compile("{{ a" + ".b" * 7 + " }}", raw=True).count("environment.getattr(") == 0  # 8 with escape
    assert env.compile("{{ a" + ".b" * 12 + " }}", raw=True).count("environment.getattr(") == 5
    assert env.compile_expression("thing.name ~ d.key")(thing=Thing("n"), d={"key": "k"}) == "nk"


@pytest.mark.parametrize("template, error", [
    ("{{ thing.nope }}", jinja2.UndefinedError),  # no such attribute, no such item
    ("{{ d.nope }}", jinja2.UndefinedError),
    ("{{ nope.name }}", jinja2.UndefinedError),  # the object itself undefined
    ("{{ thing.children[0].nope.deeper }}", jinja2.UndefinedError),
    ("{{ thing.broken }}", jinja2.UndefinedError),  # the getter's own AttributeError, then no item
    ("{{ thing.broken is defined }}{{ thing.reads }}", None),
    ("{{ thing.failing }}", ValueError),
    ("{{ thing.shout(thing.nope) }}", jinja2.UndefinedError),
    ("{% for c in thing.nope %}{% endfor %}", jinja2.UndefinedError),
    ("{{ thing.name.nope|upper }}", jinja2.UndefinedError),
])
def test_attribute_mistakes_fail_as_in_jinja(template, error):
    results = []
    for cls in (Environment, jinja2.Environment):
        env = _attribute_environment(cls)
        source = "line 1\n\n" + template + "\n"
        try:
            results.append(("ok", env.from_string(source).render(_attribute_context())))
        except Exception as exc:  # whichever it is, Jinja's and ours must be the same
            lines = [tb.tb_lineno for tb in _walk(exc.__traceback__) if tb.tb_frame.f_code.co_filename == "<template>"]
            results.append((type(exc), str(exc), lines))
    assert results[0] == results[1]
    if error is not None:
        assert results[0][0] is error and results[0][2] == [3]


def _walk(tb):
    while tb is not None:
        yield tb
        tb = tb.tb_next


def test_a_failing_attribute_names_the_template_file_and_line(tmp_path):
    (tmp_path / "page.html").write_text("<p>\n{{ thing.name }}\n{{ thing.nope }}\n</p>\n")
    errors = []
    for cls in (Environment, jinja2.Environment):
        env = cls(loader=jinja2.FileSystemLoader(str(tmp_path)), autoescape=True, undefined=jinja2.StrictUndefined)
        with pytest.raises(TemplateError) as caught:
            render(env, "page.html", thing=Thing("t"))
        errors.append(str(caught.value))
    assert errors[0] == errors[1]
    assert errors[0].startswith(f"{tmp_path / 'page.html'}:3: '")
    assert errors[0].endswith("Thing object' has no attribute 'nope' while rendering")


@pytest.mark.parametrize("tweak", ["async", "sandboxed", "own_getattr"])
def test_environments_the_inline_code_does_not_fit_get_jinjas(tweak):
    if tweak == "async":
        env = Environment(autoescape=True, undefined=jinja2.StrictUndefined, enable_async=True)
    elif tweak == "sandboxed":
        class Sandboxed(SandboxedEnvironment, Environment):
            pass

        env = Sandboxed(autoescape=True, undefined=jinja2.StrictUndefined)
    else:
        class OwnGetattr(Environment):
            def getattr(self, obj, attribute):
                return "own" if attribute == "secret" else super().getattr(obj, attribute)

        env = OwnGetattr(autoescape=True, undefined=jinja2.StrictUndefined)
    template = "{{ thing.name }}|{{ thing.secret }}|{{ d.key }}"
    assert "environment.getattr(" in env.compile(template, raw=True)
    context = {"thing": Thing("n<", secret="s"), "d": {"key": "k"}}
    if tweak == "async":
        out = asyncio.run(env.from_string(template).render_async(context))
    else:
        out = env.from_string(template).render(context)
    assert out == {"async": "n&lt;|s|k", "sandboxed": "n&lt;|s|k", "own_getattr": "n&lt;|own|k"}[tweak]
    if tweak == "sandboxed":
        with pytest.raises(jinja2.exceptions.SecurityError):
            env.from_string("{{ thing.__class__.__subclasses__() }}").render(context)


# ---------------------------------------------------------------- macro calls and block output

MACROS = {
    "m.html": "{% macro chip(e, kind=None) %}<{{ e }}{% if kind %} {{ kind }}{% endif %}>{% endmacro %}"
              "{% macro rest(a) %}{{ a }}{{ varargs|join(',') }}{{ kwargs|dictsort }}{% endmacro %}"
              "{% macro framed(a) %}[{{ a }}:{{ caller(a) }}]{% endmacro %}"
              "{% macro named(caller=none) %}{{ caller }}{% endmacro %}",
    "base.html": "<h>{% block head %}H{% endblock %}</h>{% block main %}{% endblock %}"
                 "{% for i in [1, 2] %}{% block looped scoped %}{{ i }}{% endblock %}{% endfor %}",
    "mid.html": '{% extends "base.html" %}{% block head %}{{ super() }}+{{ x }}{% endblock %}',
    "page.html": '{% extends "mid.html" %}{% from "m.html" import chip, rest, framed, named %}'
                 "{% block main %}{{ chip(x) }}{{ chip(x, 'k<') }}{{ chip(e=x, kind=1) }}{{ chip(x, kind=none) }}"
                 "{{ rest(1, 2, 3, z=x) }}{% call(v) framed(x) %}in {{ v }}{% endcall %}{{ named('n<') }}"
                 "{% set inner %}{{ chip(x) }}{% endset %}{{ inner }}{{ chip(chip(x)) }}{% endblock %}"
                 "{% block looped %}<{{ i }}>{% endblock %}",
    "inc.html": "<i>{{ x }}{{ i is defined and i }}{{ chip is defined }}</i>",
    "plain.html": "<p>{{ x is defined }}</p>",
    "includes.html": '{% from "m.html" import chip %}{% include "inc.html" %}|{% for i in [1, 2] %}'
                     '{% include "inc.html" %}{% endfor %}|{% set s %}[{% include "inc.html" %}]{% endset %}{{ s }}|'
                     '{% macro m() %}{% include "inc.html" %}{% endmacro %}{{ m() }}|'
                     '{% include "no.html" ignore missing %}|{% include ["no.html", "inc.html"] %}|'
                     '{% include name %}|{% include "plain.html" without context %}'
                     '{% macro own(a, b=1) %}({{ a }},{{ b }}){% endmacro %}{% for i in [1, 2] %}{{ own(i) }}'
                     '{{ own(i, b=x) }}{% endfor %}',
}


def _macro_environment(cls: type[jinja2.Environment]) -> jinja2.Environment:
    return cls(loader=jinja2.DictLoader(MACROS), autoescape=True, undefined=jinja2.StrictUndefined)


def test_macros_and_blocks_render_as_in_jinja():
    ours, jinjas = (_macro_environment(cls).get_template("page.html") for cls in (Environment, jinja2.Environment))
    context = {"x": "<a&>"}
    assert ours.render(context) == jinjas.render(context)
    assert "".join(ours.generate(context)) == ours.render(context)
    assert ours.render(context).startswith("<h>H+&lt;a&amp;&gt;</h><&lt;a&amp;&gt;><&lt;a&amp;&gt; k&lt;>"
                                           "<&lt;a&amp;&gt; 1><&lt;a&amp;&gt;>1")
    assert ours.render(context).endswith("<<&lt;a&amp;&gt;>><1><2>")  # a scoped block in a loop
    # a block's (and the parent template's) output is passed on joined, not piece by piece
    source = _macro_environment(Environment).loader.get_source(None, "base.html")[0]
    assert "yield from" not in _macro_environment(Environment).compile(source, raw=True)


@pytest.mark.parametrize("call", [
    "chip()",  # an argument missing: undefined in the macro
    "chip(1, 2, 3)",  # too many
    "chip(1, nope=2)",  # a keyword it has not
    "chip(1, e=2)",  # the same argument twice
    "chip(1, caller=2)",  # a caller it does not take
    "framed(1)",  # no caller given
    "rest(caller=1)",
])
def test_macro_call_mistakes_fail_as_in_jinja(call):
    results = []
    for cls in (Environment, jinja2.Environment):
        env = _macro_environment(cls)
        try:
            results.append(("ok", env.from_string('{% from "m.html" import chip, rest, framed %}{{ ' + call
                                                  + " }}").render()))
        except Exception as exc:  # whichever it is, Jinja's and ours must be the same
            results.append((type(exc), str(exc)))
    assert results[0] == results[1]


def test_includes_render_as_in_jinja():
    ours, jinjas = (_macro_environment(cls).get_template("includes.html") for cls in (Environment, jinja2.Environment))
    context = {"x": "<a&>", "name": "inc.html"}
    assert ours.render(context) == jinjas.render(context)
    assert ours.render(context).startswith("<i>&lt;a&amp;&gt;FalseTrue</i>|<i>&lt;a&amp;&gt;1True</i>")
    # an include's output is passed on joined, not piece by piece
    source = _macro_environment(Environment).loader.get_source(None, "includes.html")[0]
    assert "concat(template.root_render_func(" in _macro_environment(Environment).compile(source, raw=True)


def test_plain_macro_calls_skip_jinjas_general_case(monkeypatch):
    def general(*args, **kwargs):
        raise AssertionError("Macro.__call__ was used")

    env = _macro_environment(Environment)
    template = env.from_string('{% from "m.html" import chip %}{{ chip(x) }}{{ chip(x, kind="k") }}')
    monkeypatch.setattr(jinja2.runtime.Macro, "__call__", general)
    assert template.render(x="<") == "<&lt;><&lt; k>"
