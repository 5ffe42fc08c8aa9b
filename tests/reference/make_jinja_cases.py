"""Jinja2 semantics cases for the project's chat-template engine, rendered by the real Jinja2
(Debian's python3-jinja2 3.1) exactly as transformers' apply_chat_template configures it:
ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, loopcontrols), tojson with
ensure_ascii=False and no key sorting, raise_exception, strftime_now fixed at 2026-01-15.

usage: /usr/bin/python3 tests/reference/make_jinja_cases.py   (writes tests/fixtures/jinja_cases.jsonl)

Each line: name, template, context, and expected (the exact text) or expected_error (the
template's raise_exception message, or "error" for any other Jinja2 error: the engine must
fail, its wording may differ).
"""
import datetime
import json
import os

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(os.path.dirname(HERE), "fixtures", "jinja_cases.jsonl")


class Raised(Exception):
    pass


def raise_exception(message):
    raise Raised(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def strftime_now(fmt):
    return datetime.datetime(2026, 1, 15).strftime(fmt)


env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])
env.filters["tojson"] = tojson
env.globals["raise_exception"] = raise_exception
env.globals["strftime_now"] = strftime_now

MSGS = [{"role": "system", "content": " Be brief. "}, {"role": "user", "content": "Héllo wörld"},
        {"role": "assistant", "content": "<think>\nhmm\n</think>\n\nHi!"}]

CASES = [
    # whitespace control
    ("trim_blocks", "{% if true %}\nA\n{% endif %}\nB", {}),
    ("lstrip_blocks", "x\n    {% if true %}\n    A\n    {% endif %}\ny", {}),
    ("lstrip_not_for_output", "x\n    {{ 'A' }}\n", {}),
    ("minus_both_sides", "a  \n  {%- if true -%}  \n  b  \n  {%- endif -%}  \n c", {}),
    ("plus_disables_lstrip", "x\n    {%+ if true %}A{% endif %}", {}),
    ("output_minus", "a \n {{- 'b' -}} \n c", {}),
    ("comment_ws", "a\n  {# note #}\nb\n{#- x -#}\n  c", {}),
    ("tags_on_one_line", "{% for i in range(3) %}{{ i }} {% endfor %}|", {}),
    ("lstrip_mid_line", "a {% if true %}b{% endif %} c", {}),
    ("trailing_newline_dropped", "a\n", {}),
    ("two_trailing_newlines", "a\n\n", {}),
    ("crlf", "a\r\n{% if true %}\r\nb\r\n{% endif %}\r\n", {}),
    ("raw", "{% raw %}{{ x }}{% endraw %}\nz", {}),
    # values and str()
    ("str_of_values", "{{ true }} {{ none }} {{ 1.0 }} {{ 2.5e20 }} {{ [1, 'a', none] }} {{ {'k': 'v'} }} {{ undefined_x }}|", {}),
    ("int_float_ops", "{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 7 / 2 }} {{ 1 + 2.0 }}", {}),
    ("concat_tilde", "{{ 'a' ~ 1 ~ none ~ true }}", {}),
    ("and_or_values", "{{ '' or 'x' }} {{ 'a' and 'b' }} {{ 0 or none }} {{ not 0 }}", {}),
    ("comparisons", "{{ 1 == 1.0 }} {{ true == 1 }} {{ 'a' < 'b' }} {{ [1, 2] == [1, 2] }} {{ 2 >= 3 }}", {}),
    ("in_operator", "{{ 'ell' in 'hello' }} {{ 2 in [1, 2] }} {{ 'k' in {'k': 1} }} {{ 'z' not in 'abc' }}", {}),
    ("conditional_no_else", "[{{ 'y' if false }}] [{{ 'a' if 1 > 2 else 'b' }}]", {}),
    ("string_plus_int_fails", "{{ 'a' + 1 }}", {}),
    ("undefined_plus_fails", "{{ nothing + 'a' }}", {}),
    # subscripts and slices
    ("slices", "{{ messages[1:] | length }} {{ messages[-1].role }} {{ 'abcdef'[::-1] }} {{ 'abcdef'[1:-1:2] }} {{ [1,2,3,4][::2] }}", {"messages": MSGS}),
    ("unicode_index", "{{ s[1] }} {{ s[:2] }} {{ s | length }} {{ s[-1] }}", {"s": "héllo"}),
    ("attr_vs_item", "{{ m.role }} {{ m['role'] }} {{ m.missing is defined }} {{ m.items() | list | length }}", {"m": MSGS[0]}),
    ("dict_items_method", "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}", {"d": {"b": 1, "a": 2}}),
    ("list_index_out_of_range", "[{{ xs[5] }}]", {"xs": [1]}),
    # string methods
    ("str_methods", "{{ s.strip() }}|{{ s.lstrip() }}|{{ s.rstrip() }}|{{ s.strip(' B') }}|{{ s.upper() }}|{{ s.lower() }}", {"s": " Be brief. "}),
    ("split_methods", "{{ c.split('</think>')[-1].lstrip('\\n') }}|{{ c.split('</think>')[0].rstrip('\\n').split('<think>')[-1].lstrip('\\n') }}|{{ 'a  b c'.split() }}|{{ 'a,b,,c'.split(',') }}|{{ 'a,b,c'.split(',', 1) }}", {"c": MSGS[2]["content"]}),
    ("starts_ends", "{{ s.startswith('<tool') }} {{ s.endswith(('x', 'nse>')) }} {{ s.find('resp') }} {{ s.replace('tool', 'T') }}", {"s": "<tool_response>"}),
    ("title_capitalize", "{{ 'hello wORLD'.title() }} {{ 'hello wORLD'.capitalize() }} {{ 'hello wORLD' | title }}", {}),
    # filters
    ("trim_length_upper", "{{ '  x y  ' | trim }}|{{ [1, 2, 3] | length }}|{{ 'abc' | upper }}|{{ 'ÄB' | lower }}", {}),
    ("default_filter", "{{ missing | default('d') }} {{ '' | default('d') }} {{ '' | default('d', true) }} {{ none | d('n') }}", {}),
    ("join_map_select", "{{ messages | map(attribute='role') | join(', ') }}|{{ messages | selectattr('role', 'equalto', 'user') | list | length }}|{{ messages | rejectattr('role', 'in', ['system']) | map(attribute='role') | list }}", {"messages": MSGS}),
    ("select_reject", "{{ [0, 1, 2, 3] | select('odd') | list }} {{ [0, 1, '', 'a'] | select | list }} {{ [1, 2, 3] | reject('equalto', 2) | list }}", {}),
    ("tojson_plain", "{{ x | tojson }}", {"x": {"name": "f", "args": {"a": [1, 2.5, None, True]}, "ü": "é\"\\\n"}}),
    ("tojson_indent", "{{ x | tojson(indent=4) }}", {"x": {"name": "f", "parameters": {"type": "object", "props": [1, {"a": []}, {}]}}}),
    ("tojson_string_number", "{{ 'a' | tojson }} {{ 3 | tojson }} {{ 1.5 | tojson }} {{ [] | tojson }}", {}),
    ("first_last_list_reverse", "{{ [3, 1, 2] | first }} {{ [3, 1, 2] | last }} {{ 'ab' | list }} {{ [1, 2] | reverse | list }}", {}),
    ("string_filter_and_int", "{{ 5 | string + 'x' }} {{ '42' | int + 1 }} {{ 2.6 | round }} {{ -3 | abs }}", {}),
    ("indent_filter", "{{ 'a\\nb\\n\\nc' | indent(2) }}|{{ 'a\\nb' | indent(2, true) }}", {}),
    ("replace_filter", "{{ 'aaa' | replace('a', 'b') }} {{ 'aaa' | replace('a', 'b', 2) }}", {}),
    ("items_filter_and_dictsort", "{{ d | items | list }} {{ d | dictsort }}", {"d": {"b": 1, "a": 2}}),
    # tests
    ("tests", "{{ x is string }} {{ x is mapping }} {{ 3 is number }} {{ 3 is integer }} {{ none is none }} {{ [] is iterable }} {{ 4 is divisibleby 2 }} {{ 3 is odd }} {{ x is not defined }}", {"x": "s"}),
    ("is_equalto_and_false", "{{ enable is defined and enable is false }} {{ 'a' is equalto 'a' }} {{ 1 is sameas 1 }}", {"enable": False}),
    # loops
    ("loop_vars", "{% for x in 'abc' %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.first }}{{ loop.last }}{{ loop.length }};{% endfor %}", {}),
    ("loop_prev_next_cycle", "{% for x in [1, 2, 3] %}{{ loop.previtem }}-{{ loop.nextitem }}-{{ loop.cycle('a', 'b') }};{% endfor %}", {}),
    ("loop_else", "{% for x in [] %}x{% else %}empty{% endfor %}", {}),
    ("loop_filter", "{% for m in messages if m.role != 'system' %}{{ loop.index }}:{{ m.role }} {% endfor %}", {"messages": MSGS}),
    ("break_continue", "{% for i in range(10) %}{% if i == 2 %}{% continue %}{% endif %}{% if i == 5 %}{% break %}{% endif %}{{ i }}{% endfor %}", {}),
    ("nested_loops", "{% for a in [1, 2] %}{% for b in 'xy' %}{{ a }}{{ b }}{{ loop.index }}{% endfor %}|{{ loop.index }} {% endfor %}", {}),
    ("reverse_loop", "{% for m in messages[::-1] %}{{ (messages|length - 1) - loop.index0 }}{{ m.role[0] }}{% endfor %}", {"messages": MSGS}),
    ("range_forms", "{{ range(3) | list }} {{ range(1, 7, 2) | list }} {{ range(5, 0, -2) | list }}", {}),
    # scoping
    ("set_in_loop_does_not_leak", "{% set x = 1 %}{% for i in [1, 2] %}{% set x = x + i %}{{ x }}{% endfor %}|{{ x }}", {}),
    ("set_in_if_leaks", "{% if true %}{% set x = 5 %}{% endif %}{{ x }}", {}),
    ("namespace", "{% set ns = namespace(n=0, found=false) %}{% for i in [1, 2, 3] %}{% set ns.n = ns.n + i %}{% if i == 2 %}{% set ns.found = true %}{% endif %}{% endfor %}{{ ns.n }} {{ ns.found }}", {}),
    ("namespace_empty_then_attr", "{% set ns = namespace() %}{% set ns.index = 0 %}{% set ns.index = ns.index + 1 %}{{ ns.index }}", {}),
    ("set_block", "{% set body %}\n  x {{ 1 + 1 }}\n{% endset %}[{{ body }}]", {}),
    ("tuple_set", "{% set a, b = [1, 2] %}{{ b }}{{ a }}", {}),
    ("reassign_messages", "{% set messages = messages[1:] %}{{ messages | length }}{% for m in messages %}{{ m.role[0] }}{% endfor %}", {"messages": MSGS}),
    # macros
    ("macro", "{% macro render(m, prefix='>') %}{{ prefix }}{{ m.role }}{% endmacro %}{{ render(messages[0]) }}{{ render(messages[1], prefix='#') }}", {"messages": MSGS}),
    # errors
    ("raise_exception", "{% if messages[0].role == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}ok", {"messages": MSGS}),
    ("list_append_is_unsafe", "{% set xs = [] %}{{ xs.append(1) }}", {}),
    ("undefined_attr_of_undefined", "{{ nope.attr }}", {}),
    ("strftime_now", "{{ strftime_now('%d %b %Y') }} {{ strftime_now('%Y-%m-%d %A') }}", {}),
    ("dict_literal_and_get", "{% set d = {'a': 1, 'b': [1, 2]} %}{{ d.get('a') }} {{ d.get('z', 'no') }} {{ d['b'][1] }} {{ d | length }}", {}),
    ("string_concat_in_output", "{{- '<|im_start|>' + m.role + '\\n' + m.content | trim + '<|im_end|>' }}", {"m": MSGS[0]}),
    ("filter_binds_tighter_than_minus", "{{ messages|length - 1 }} {{ -2 | abs }}", {"messages": MSGS}),
]


def main():
    with open(OUT, "w") as f:
        for name, template, context in CASES:
            case = {"name": name, "template": template, "context": context}
            try:
                case["expected"] = env.from_string(template).render(**context)
            except Raised as e:
                case["expected_error"] = str(e)
            except (jinja2.TemplateError, TypeError, ValueError, KeyError, IndexError, AttributeError):
                case["expected_error"] = "error"
            f.write(json.dumps(case, ensure_ascii=False) + "\n")
    print(f"{len(CASES)} cases -> {OUT}")


if __name__ == "__main__":
    main()
