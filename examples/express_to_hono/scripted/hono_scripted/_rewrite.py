"""Express routes to Hono, by rule: the rewrite the scripted migrator applies.

A handful of textual rules, the kind a hurried migration applies, not a
JavaScript parser:

- `require('.../express')` and `express.Router()` become `Hono` and `new Hono()`;
- each `router.VERB(path, (req, res) => {...})` handler takes `(c)`;
- `req.params.x` / `req.query.x` become `c.req.param('x')` / `c.req.query('x')`;
- a handler that reads `req.body` gets `const body = await c.req.json();` and turns async;
- `res.status(n).json(x)` / `res.json(x)` become `return c.json(x, n)`;
- `res.send()` becomes `c.body(null)`, `res.send({...})` (an object literal)
  `c.json`, and any other `res.send(x)` `c.text(x)`: the rules cannot know
  the type of a variable, so an object sent through a variable is sent as text;
- in the test, the imported router is renamed `app`.
"""

from __future__ import annotations

import re

EXPRESS_IMPORT = re.compile(r"const (\w+) = require\((['\"])([^'\"]*?)express\2\);")
_ROUTE_IMPORT = re.compile(r"const (\w+) = require\((['\"])([^'\"]*server/routes/[^'\"]*)\2\);")
_OPEN = {"(": ")", "[": "]", "{": "}"}


def rewrite_route(src: str) -> str:
    """An Express router file rewritten to Hono by the rules above."""
    imported = EXPRESS_IMPORT.search(src)
    if imported is None:
        return src
    express, quote, prefix = imported.group(1), imported.group(2), imported.group(3)
    src = src.replace(
        imported.group(0), f"const {{ Hono }} = require({quote}{prefix}hono{quote});", 1
    )
    declared = re.search(rf"const (\w+) = {express}\.Router\(\);", src)
    if declared is None:
        return src
    router = declared.group(1)
    src = src.replace(declared.group(0), "const app = new Hono();", 1)
    handler = re.compile(
        rf"\b{router}\.(get|post|put|delete)\(\s*(['\"`])(.*?)\2\s*,\s*"
        r"(async\s+)?\(\s*(\w+)\s*,\s*(\w+)\s*\)\s*=>\s*\{"
    )
    out, pos = [], 0
    for match in handler.finditer(src):
        if match.start() < pos:
            continue
        close = _matching(src, match.end() - 1)
        body = _rewrite_handler(src[match.end() : close], match.group(5), match.group(6))
        is_async = bool(match.group(4)) or "await " in body
        head = f"app.{match.group(1)}({match.group(2)}{match.group(3)}{match.group(2)}, "
        out += [src[pos : match.start()], head, "async " if is_async else "", "(c) => {", body]
        pos = close
    out.append(src[pos:])
    src = "".join(out)
    return re.sub(rf"module\.exports = {router};", "module.exports = app;", src)


def _rewrite_handler(body: str, req: str, res: str) -> str:
    if re.search(rf"(?<![\w.]){req}\.body\b", body):
        indent = re.match(r"\n([ \t]*)", body)
        pad = indent.group(1) if indent else "  "
        body = f"\n{pad}const body = await c.req.json();" + re.sub(
            rf"(?<![\w.]){req}\.body\b", "body", body
        )
    body = re.sub(rf"(?<![\w.]){req}\.params\.(\w+)", r"c.req.param('\1')", body)
    body = re.sub(rf"(?<![\w.]){req}\.query\.(\w+)", r"c.req.query('\1')", body)
    body = re.sub(
        rf"(?<![\w.]){req}\.(params|query)\b", lambda m: f"c.req.{m.group(1)[:5]}()", body
    )
    return _rewrite_responses(body, res)


def _rewrite_responses(body: str, res: str) -> str:
    start = re.compile(rf"(?<![\w.]){res}\.(status|json|send)\(")
    out, pos = [], 0
    while (match := start.search(body, pos)) is not None:
        status = None
        method, open_at = match.group(1), match.end() - 1
        close = _matching(body, open_at)
        if method == "status":
            status = body[open_at + 1 : close].strip()
            chained = re.compile(r"\s*\.(json|send)\(").match(body, close + 1)
            if chained is None:
                out.append(body[pos : close + 1])
                pos = close + 1
                continue
            method, open_at = chained.group(1), chained.end() - 1
            close = _matching(body, open_at)
        value = body[open_at + 1 : close].strip()
        if method == "send" and not value:
            call = "c.body(null" + (f", {status})" if status else ")")
        else:
            kind = "json" if method == "json" or value[:1] in "{[" else "text"
            call = f"c.{kind}({value}" + (f", {status})" if status else ")")
        before = body[pos : match.start()]
        needs_return = not re.search(r"\breturn\s*$", before)
        out += [before, "return " if needs_return else "", call]
        pos = close + 1
    out.append(body[pos:])
    return "".join(out)


def rewrite_test(src: str) -> str:
    """A route test rewritten for the Hono app: the imported router is now `app`."""
    imported = _ROUTE_IMPORT.search(src)
    if imported is None:
        return src
    name = imported.group(1)
    src = src.replace(imported.group(0), imported.group(0).replace(f"const {name} ", "const app "))
    return re.sub(rf"\b{name}\.request\(", "app.request(", src)


def _matching(text: str, i: int) -> int:
    """The index of the bracket closing the one at `i`; strings and comments skipped."""
    stack = [_OPEN[text[i]]]
    i += 1
    while i < len(text):
        ch = text[i]
        if ch in "'\"":
            i = _skip_string(text, i)
        elif ch == "`":
            i = _skip_template(text, i)
        elif text.startswith("//", i):
            i = text.find("\n", i) if "\n" in text[i:] else len(text)
        elif text.startswith("/*", i):
            i = text.find("*/", i) + 1 or len(text)
        elif ch in _OPEN:
            stack.append(_OPEN[ch])
        elif ch == stack[-1]:
            stack.pop()
            if not stack:
                return i
        i += 1
    return len(text)


def _skip_string(text: str, i: int) -> int:
    quote, i = text[i], i + 1
    while i < len(text) and text[i] != quote:
        i += 2 if text[i] == "\\" else 1
    return i


def _skip_template(text: str, i: int) -> int:
    i += 1
    while i < len(text) and text[i] != "`":
        if text[i] == "\\":
            i += 1
        elif text.startswith("${", i):
            i = _matching(text, i + 1)
        i += 1
    return i
