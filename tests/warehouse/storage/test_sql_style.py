"""One way to write SQL: values bound, identifiers quoted by one helper (the migrations that
evolve each store are tested in test_migrate.py and tests/warehouse/ops/test_store_migrations.py)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from warehouse.storage.sql import placeholder, quote_ident

ROOT = Path(__file__).resolve().parents[3]
SOURCES = ("warehouse", "cockpit", "api", "assets", "pipelines", "citybrain")
# --------------------------------------------------------------------------- what SQL text may interpolate

SQL_WORD = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|CREATE|ALTER|DROP|ATTACH|DETACH|COPY|VALUES|WHERE|FROM|JOIN|"
                      r"PRAGMA|DESCRIBE|EXPLAIN)\b")
HELPERS = "warehouse/storage/sql.py"  # where quote_ident and placeholder are written, the one place that quotes
_CONSTANT = re.compile(r"_?[A-Z][A-Z0-9_]*")
_COUNTED = object()  # a name bound to a count the code makes itself (range, enumerate's index)
_LIST_METHODS = {"append", "extend", "insert", "add"}
_SAME_TEXT = {"split", "rsplit", "strip", "lstrip", "rstrip", "items", "values", "keys", "splitlines"}
_COLLECTIONS = {"sorted", "list", "tuple", "reversed", "set", "zip", "dict"}
_SAME_ITEMS = {*_COLLECTIONS, "str", "next"}
_PLAIN_SQL = re.compile(r"(list\[|tuple\[)?Sql( \| None)?(, \.\.\.)?\]?")  # a function that returns SQL text and nothing else


def _mentions_sql(annotation: ast.expr | None) -> bool:
    """Whether a type annotation says SQL text (``Sql``, ``list[Sql]``, ``dict[str, Sql | None]`` …)."""
    if annotation is None:
        return False
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        return re.search(r"\bSql\b", annotation.value) is not None
    return any(isinstance(n, ast.Name) and n.id == "Sql" for n in ast.walk(annotation))


def _is_sql_literal(node: ast.expr) -> bool:
    """A string constant or f-string whose literal text holds a SQL keyword."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return SQL_WORD.search(node.value) is not None
    if isinstance(node, ast.JoinedStr):
        return SQL_WORD.search("".join(v.value for v in node.values if isinstance(v, ast.Constant))) is not None
    return False


class _Scope:
    def __init__(self, node: ast.AST, parent: _Scope | None) -> None:
        self.node, self.parent = node, parent
        self.sources: dict[str, list[object]] = {}  # name -> the expressions (or _COUNTED) it is given
        self.trusted: set[str] = set()  # parameters and module names annotated Sql
        self.safe: dict[str, bool] = {}

    def give(self, name: str, value: object) -> None:
        self.sources.setdefault(name, []).append(value)


class SqlText:
    """Judges, over a set of parsed modules, every piece of SQL text the code writes.

    Interpolated into SQL (an f-string, ``.format``, ``+`` or ``%`` with SQL keywords in its
    literal text, any f-string or return of a function declared ``-> Sql``) may be only: text
    written in the code (string literals, module constants made of them); a call of a function
    declared ``-> Sql`` (``quote_ident``, ``placeholder``, ``staging_table``, a builder of a
    fragment); a parameter, field or property declared ``Sql``; a count the code makes itself
    (``range``, ``enumerate``'s index); and what is built of these alone (joins, conditionals,
    concatenations, locals every assignment of which is such). Anything else (an argument, a
    date, a path, a number from a declaration, ``int(x)``) is a value and must be bound. A field
    right after a quote is hand-quoting and is refused too."""

    def __init__(self, modules: dict[str, ast.Module]) -> None:
        self.modules = modules
        self.funcs: set[str] = set()
        self.attrs: set[str] = set()
        self.scopes: list[_Scope] = []
        self.module_names: dict[str, list[_Scope]] = {}
        for tree in modules.values():
            for n in ast.walk(tree):
                if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and _mentions_sql(n.returns):
                    self.funcs.add(n.name)
                    if any(isinstance(d, ast.Name) and d.id in ("property", "cached_property") for d in n.decorator_list):
                        self.attrs.add(n.name)
                elif isinstance(n, ast.ClassDef):
                    self.attrs.update(s.target.id for s in n.body if isinstance(s, ast.AnnAssign)
                                      and isinstance(s.target, ast.Name) and _mentions_sql(s.annotation))
                elif isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Attribute) and _mentions_sql(n.annotation):
                    self.attrs.add(n.target.attr)  # self.x: Sql = ...
        for tree in modules.values():
            self._collect(tree, None)
        self._solve()

    # ------------------------------------------------------------------ scopes and what each name is given
    def _collect(self, node: ast.AST, parent: _Scope | None) -> None:
        scope = _Scope(node, parent)
        self.scopes.append(scope)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            a = node.args
            for arg in [*a.posonlyargs, *a.args, *a.kwonlyargs, *filter(None, [a.vararg, a.kwarg])]:
                (scope.trusted.add if _mentions_sql(arg.annotation) else lambda n: scope.give(n, None))(arg.arg)
            body = node.body if isinstance(node.body, list) else [ast.Expr(node.body)]
        else:
            body = node.body
        for stmt in body:
            self._statements(stmt, scope)
        if parent is None:
            for name in {*scope.sources, *scope.trusted}:
                self.module_names.setdefault(name, []).append(scope)

    def _statements(self, stmt: ast.AST, scope: _Scope) -> None:
        for n in self._own_nodes(stmt, scope):
            if isinstance(n, ast.Assign):
                for t in n.targets:
                    self._bind(t, n.value, scope)
            elif isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name):
                if scope.parent is None and _mentions_sql(n.annotation):
                    scope.trusted.add(n.target.id)
                elif n.value is not None:
                    scope.give(n.target.id, n.value)
            elif isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Name):
                scope.give(n.target.id, n.value)
            elif isinstance(n, (ast.For, ast.AsyncFor)):
                self._bind_loop(n.target, n.iter, scope.give)
            elif isinstance(n, ast.withitem) and n.optional_vars is not None:
                self._bind(n.optional_vars, None, scope)
            elif isinstance(n, (ast.Import, ast.ImportFrom)):
                pass  # an imported name is judged where it is defined (module_names)
            elif isinstance(n, ast.ExceptHandler) and n.name:
                scope.give(n.name, None)
            elif (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in _LIST_METHODS
                  and isinstance(n.func.value, ast.Name)):
                for arg in n.args[-1:]:
                    scope.give(n.func.value.id, arg)
            elif isinstance(n, ast.NamedExpr):
                scope.give(n.target.id, n.value)

    def _own_nodes(self, stmt: ast.AST, scope: _Scope):
        """The nodes of ``stmt`` in this scope; a nested function or class is a scope of its own."""
        todo = [stmt]
        while todo:
            n = todo.pop()
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) and n is not scope.node:
                if not isinstance(n, ast.Lambda):
                    scope.give(n.name, None)
                self._collect(n, scope)
                continue
            if isinstance(n, ast.ClassDef):
                for s in n.body:
                    self._statements(s, scope)  # a class body's names: judged with the module's
                continue
            yield n
            todo.extend(ast.iter_child_nodes(n))

    def _bind(self, target: ast.AST, value: ast.expr | None, scope: _Scope) -> None:
        if isinstance(target, ast.Name):
            scope.give(target.id, value)
        elif isinstance(target, (ast.Tuple, ast.List)):
            if isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(target.elts):
                for t, v in zip(target.elts, value.elts):
                    self._bind(t, v, scope)
                return
            for t in target.elts:
                self._bind(t, value, scope)  # unpacked: each part is what the whole is
        elif isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
            scope.give(target.value.id, value)
        elif isinstance(target, ast.Starred):
            self._bind(target.value, value, scope)

    @staticmethod
    def _bind_loop(target: ast.AST, it: ast.expr, give) -> None:
        """A loop's names: a count for ``range`` and ``enumerate``'s index, else what it iterates."""
        call = it if isinstance(it, ast.Call) and isinstance(it.func, ast.Name) else None
        if call is not None and call.func.id == "range":
            it = _COUNTED
        elif call is not None and call.func.id == "zip" and isinstance(target, ast.Tuple) and len(target.elts) == len(call.args):
            for t, a in zip(target.elts, call.args):
                SqlText._bind_loop(t, a, give)
            return
        elif call is not None and call.func.id == "enumerate" and isinstance(target, ast.Tuple) and len(target.elts) == 2:
            for n in ast.walk(target.elts[0]):
                if isinstance(n, ast.Name):
                    give(n.id, _COUNTED)
            target, it = target.elts[1], call.args[0]
        for n in ast.walk(target):
            if isinstance(n, ast.Name):
                give(n.id, it)

    def _solve(self) -> None:
        """Greatest fixpoint: a name is SQL text while every value it is given is."""
        for s in self.scopes:
            s.safe = {n: True for n in s.sources}
        changed = True
        while changed:
            changed = False
            for s in self.scopes:
                for name, given in s.sources.items():
                    ok = all(v is _COUNTED or (v is not None and self.is_sql(v, s)) for v in given)
                    if s.safe[name] and not ok:
                        s.safe[name], changed = False, True

    def _name(self, name: str, scope: _Scope | None, local: dict[str, bool]) -> bool:
        if name in local:
            return local[name]
        s: _Scope | None = scope
        while s is not None:
            if name in s.trusted:
                return True
            if name in s.sources:
                return s.safe[name]
            s = s.parent
        defined = self.module_names.get(name, [])  # imported: judged where defined
        return bool(defined) and all(name in d.trusted or d.safe.get(name, False) for d in defined)

    # ------------------------------------------------------------------ is an expression SQL text?
    def is_sql(self, e: ast.expr, scope: _Scope, local: dict[str, bool] | None = None) -> bool:
        local = local or {}
        ok = lambda x: self.is_sql(x, scope, local)  # noqa: E731
        if isinstance(e, ast.Constant):
            return True
        if isinstance(e, ast.JoinedStr):
            return all(ok(v.value) for v in e.values if isinstance(v, ast.FormattedValue))
        if isinstance(e, ast.Name):
            return self._name(e.id, scope, local)
        if isinstance(e, ast.Attribute):  # a field declared Sql, or a constant of a class (self._ORDER)
            return e.attr in self.attrs or (_CONSTANT.fullmatch(e.attr) is not None and self._name(e.attr, None, {}))
        if isinstance(e, ast.Call):
            f = e.func
            name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
            if self._sql_call(e):
                return True
            if isinstance(f, ast.Attribute) and name == "join":
                return ok(f.value) and all(ok(a) for a in e.args)
            if isinstance(f, ast.Attribute) and name == "sub":  # pattern.sub(template, text): the pattern only finds
                return all(ok(a) for a in e.args)
            if isinstance(f, ast.Attribute) and name in (*_SAME_TEXT, "get", "format"):
                args = e.args[1:] if name == "get" else e.args  # a default, not the key looked up
                return ok(f.value) and all(ok(a) for a in [*args, *(k.value for k in e.keywords)])
            if isinstance(f, ast.Name) and name in _SAME_ITEMS:
                return all(ok(a) for a in e.args)
            return False
        if isinstance(e, ast.Subscript):
            return ok(e.value)
        if isinstance(e, ast.IfExp):
            return ok(e.body) and ok(e.orelse)
        if isinstance(e, ast.BoolOp):
            return all(ok(v) for v in e.values)
        if isinstance(e, ast.BinOp):
            if isinstance(e.op, ast.Mult):  # '?' * n: a literal repeated
                return (isinstance(e.left, ast.Constant) and isinstance(e.left.value, str)) or ok(e.left) and ok(e.right)
            return ok(e.left) and ok(e.right)
        if isinstance(e, (ast.Tuple, ast.List, ast.Set)):
            return all(ok(x) for x in e.elts)
        if isinstance(e, ast.Dict):
            return all(ok(x) for x in e.values)
        if isinstance(e, ast.Starred):
            return ok(e.value)
        if isinstance(e, (ast.GeneratorExp, ast.ListComp, ast.SetComp)):
            return self.is_sql(e.elt, scope, self._comprehension(e, scope, local))
        return False

    def _comprehension(self, e: ast.expr, scope: _Scope, local: dict[str, bool]) -> dict[str, bool]:
        """The names a comprehension binds, each SQL text or not, over those around it."""
        inner = dict(local)
        for g in e.generators:
            bound: dict[str, bool] = {}
            self._bind_loop(g.target, g.iter, lambda n, v, b=bound: b.__setitem__(
                n, b.get(n, True) and (v is _COUNTED or self.is_sql(v, scope, inner))))
            inner.update(bound)
        return inner

    # ------------------------------------------------------------------ the findings
    def findings(self) -> list[str]:
        out = []
        for rel, tree in self.modules.items():
            if rel == HELPERS:
                continue
            for s in self.scopes:
                if self._module_of(s) is not tree:
                    continue
                sql_function = (isinstance(s.node, (ast.FunctionDef, ast.AsyncFunctionDef)) and s.node.returns is not None
                                and _PLAIN_SQL.fullmatch(ast.unparse(s.node.returns)) is not None)
                body = s.node.body if isinstance(s.node.body, list) else [s.node.body]
                # What a SQL function is given to make SQL of (quote_ident's name) is not SQL yet.
                given = {id(x) for stmt in body for n, _ in self._nodes(stmt, s) if isinstance(n, ast.Call) and self._sql_call(n)
                         for a in [*n.args, *(k.value for k in n.keywords)] for x in ast.walk(a)}
                for stmt in body:
                    for n, local in self._nodes(stmt, s):
                        out += [f"{rel}:{n.lineno}: {why}" for why in self._judge(n, s, local, sql_function and id(n) not in given)]
        return out

    def _collection(self, e: ast.expr, scope: _Scope) -> bool:
        """A list, tuple, set or dict (by its display, a call that makes one, or a name only given those)."""
        if isinstance(e, (ast.List, ast.Tuple, ast.Set, ast.Dict, ast.ListComp, ast.SetComp, ast.DictComp)):
            return True
        if isinstance(e, ast.Call) and isinstance(e.func, ast.Name) and e.func.id in _COLLECTIONS:
            return True
        if isinstance(e, ast.Name):
            s: _Scope | None = scope
            while s is not None and e.id not in s.sources:
                s = s.parent
            given = s.sources[e.id] if s else [v for d in self.module_names.get(e.id, []) for v in d.sources.get(e.id, [])]
            return bool(given) and all(isinstance(v, ast.expr) and not isinstance(v, ast.Name) and self._collection(v, scope)
                                       for v in given)
        return False

    def _sql_call(self, e: ast.Call) -> bool:
        f = e.func
        return (isinstance(f, ast.Name) and f.id in self.funcs) or (isinstance(f, ast.Attribute) and f.attr in self.funcs | self.attrs)

    def _module_of(self, s: _Scope) -> ast.AST:
        while s.parent is not None:
            s = s.parent
        return s.node

    def _nodes(self, stmt: ast.AST, scope: _Scope):
        """The nodes of a scope's statement, each with the names comprehensions around it bind."""
        todo: list[tuple[ast.AST, dict[str, bool]]] = [(stmt, {})]
        while todo:
            n, local = todo.pop()
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                continue
            if isinstance(n, (ast.GeneratorExp, ast.ListComp, ast.SetComp, ast.DictComp)):
                local = self._comprehension(n, scope, local)
            yield n, local
            todo.extend((c, local) for c in ast.iter_child_nodes(n))

    def _judge(self, n: ast.AST, s: _Scope, local: dict[str, bool], sql_function: bool) -> list[str]:
        why = []
        if isinstance(n, ast.JoinedStr) and (sql_function or _is_sql_literal(n)):
            text = ""
            for v in n.values:
                if isinstance(v, ast.Constant):
                    text = v.value
                    continue
                src = ast.unparse(v.value)
                if self._collection(v.value, s):
                    why.append(f"{{{src}}} is a collection written as Python writes it: bind it")
                elif not self.is_sql(v.value, s, local):
                    why.append(f"{{{src}}} is not SQL text: bind it, or quote a name with quote_ident")
                elif text.endswith(("'", '"')):
                    why.append(f"{{{src}}} is quoted by hand: use quote_ident or bind the value")
                text = ""
        elif isinstance(n, ast.Return) and sql_function and n.value is not None and not self.is_sql(n.value, s, local):
            why.append(f"returns {ast.unparse(n.value)[:60]}, which is not SQL text")
        elif isinstance(n, ast.BinOp) and isinstance(n.op, (ast.Add, ast.Mod)) and (
                _is_sql_literal(n.left) or _is_sql_literal(n.right)):
            why += [f"{ast.unparse(x)[:60]} is added to SQL text" for x in (n.left, n.right) if not self.is_sql(x, s, local)]
        elif (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in ("format", "replace")
              and _is_sql_literal(n.func.value)):
            why += [f"{ast.unparse(a)[:60]} is formatted into SQL text" for a in [*n.args, *[k.value for k in n.keywords]]
                    if not self.is_sql(a, s, local)]
        return why


def _python_files() -> list[Path]:
    return sorted(p for top in SOURCES for p in (ROOT / top).rglob("*.py"))


def _modules(replace: dict[str, tuple[str, str]] | None = None) -> dict[str, ast.Module]:
    """Every module of the sources, parsed (``replace``: a module's text with one string changed)."""
    out = {}
    for p in _python_files():
        rel, text = p.relative_to(ROOT).as_posix(), p.read_text(encoding="utf-8")
        if replace and rel in replace:
            old, new = replace[rel]
            assert old in text, f"{rel} no longer holds {old!r}"
            text = text.replace(old, new)
        out[rel] = ast.parse(text)
    return out


def test_no_value_is_spliced_into_sql_text() -> None:
    """A value enters SQL as a bound parameter; SQL text holds the code's own words, names
    through quote_ident and placeholders (SqlText says exactly what may be interpolated)."""
    found = SqlText(_modules()).findings()
    assert not found, "values spliced into SQL text:\n" + "\n".join(found)


PLANTED = {
    "a number, unquoted": ("def f(con, bit):\n    con.execute(f'UPDATE checked SET problems = problems | {int(bit)}')\n",
                           "{int(bit)} is not SQL text"),
    "a date, quoted": ("def f(con, day):\n    con.execute(f\"SELECT * FROM t WHERE d = DATE '{day}'\")\n", "{day} is not SQL text"),
    "a name, quoted by hand": ("from warehouse.storage.sql import Sql\ndef f(con, c: Sql):\n    con.execute(f'SELECT \"{c}\" FROM t')\n",
                               "quoted by hand"),
    "a value added": ("def f(con, path):\n    con.execute('SELECT * FROM read_csv(' + path + ')')\n", "added to SQL text"),
    "a value formatted": ("def f(con, n):\n    con.execute('SELECT * FROM t LIMIT {}'.format(n))\n", "formatted into SQL text"),
    "a list as Python writes it": ("P = ('a', 'b')\ndef f(con):\n    con.execute(f'SELECT list_position({list(P)}, x) FROM t')\n",
                                   "a collection written as Python writes it"),
    "a local made of a value": ("def f(con, day):\n    cond = f'd = {day}'\n    con.execute(f'SELECT * FROM t WHERE {cond}')\n",
                                "is not SQL text"),
    "a SQL function returning a value": ("from warehouse.storage.sql import Sql\ndef f(day) -> Sql:\n    return str(day)\n",
                                         "which is not SQL text"),
}


def _beside_the_helpers(source: str) -> dict[str, ast.Module]:
    return {"planted.py": ast.parse(source), HELPERS: ast.parse((ROOT / HELPERS).read_text(encoding="utf-8"))}


@pytest.mark.parametrize("source, finding", PLANTED.values(), ids=PLANTED.keys())
def test_the_rule_fails_on_a_planted_splice(source: str, finding: str) -> None:
    found = SqlText(_beside_the_helpers(source)).findings()
    assert found and any(finding in f for f in found), found


def _line_of(rel: str, text: str) -> int:
    """The line of the f-string that holds ``text`` (an f-string reports its first line)."""
    tree = ast.parse((ROOT / rel).read_text(encoding="utf-8"))
    return next(n.lineno for n in ast.walk(tree) if isinstance(n, ast.JoinedStr)
                and any(isinstance(v, ast.Constant) and text in v.value for v in n.values))


def test_the_rule_fails_on_a_splice_planted_in_the_ingestion() -> None:
    """The duplicate bit of the ingestion, bound today, spliced back as the code once had it."""
    rel = "warehouse/ingest/deliveries.py"
    planted = _modules({rel: ("problems | $dup_bit", "problems | {int(dup_bit)}")})
    line = _line_of(rel, "problems | $dup_bit")
    assert SqlText(planted).findings() == [f"{rel}:{line}: {{int(dup_bit)}} is not SQL text: bind it, or quote a name with quote_ident"]


def test_names_built_by_the_helpers_and_bound_values_pass() -> None:
    source = '''
from warehouse.storage.sql import Sql, placeholder, quote_ident

def f(con, feed, columns: list[Sql], day) -> None:
    cols = ", ".join(quote_ident(c.name) for c in feed.columns)
    rows = [f"v[{i + 1}] AS {quote_ident(f'c{i}')}" for i in range(len(columns))]
    con.execute(f"SELECT {cols}, {', '.join(rows)} FROM {quote_ident('staging', feed.name)} WHERE d > {placeholder('day')}",
                {"day": day})
'''
    assert SqlText(_beside_the_helpers(source)).findings() == []


def test_identifiers_are_quoted_by_one_helper() -> None:
    """No hand-built identifier quoting outside warehouse.storage.sql."""
    found = [f"{p.relative_to(ROOT)}:{n}" for p in _python_files() if p.relative_to(ROOT).as_posix() != HELPERS
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             if ".replace('\"', '\"\"')" in line or '\'"\' +' in line or "chr(34)" in line]
    assert not found, found
    assert quote_ident("staging", 'a"b') == '"staging"."a""b"'
    assert placeholder("bit_3") == "$bit_3"
    with pytest.raises(ValueError):
        placeholder("x; DROP TABLE t")
