"""The tuned Jinja environment renders what Jinja's own does, and fails where it fails."""

from __future__ import annotations

import jinja2
import pytest
from markupsafe import Markup

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
