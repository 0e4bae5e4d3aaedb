/**
 * The path syntax of helm-unittest's assertions (its fork of vmware-labs/yaml-jsonpath, v0.4.0):
 * an optional `$`, an undotted first child, `.child`, `.*`, `..child`, `['a', "b"]`, `[*]`,
 * `[0]`, `[-1]`, `[0,2]`, `[1:3]`, `[::2]`, and filters `[?(@.name == 'x' && !@.b)]` with
 * == != < <= > >= =~ /re/. `find` returns every match, in document order; none is an empty list.
 */
import { RE2 } from "re2-wasm";

type Node = unknown;
type Step = (node: Node, root: Node) => Node[];

const isMapping = (node: Node): node is Record<string, Node> => typeof node === "object" && node !== null && !Array.isArray(node);

/** Characters that end a dotted child name (lexer.go). */
const NAME_END = new Set([".", "[", "]", ")", " ", "&", "|", "=", "!", ">", "<", "~"]);

function child(names: readonly string[]): Step {
  return (node) => (isMapping(node) ? names.filter((name) => Object.hasOwn(node, name)).map((name) => node[name]) : []);
}

const allChildren: Step = (node) => (Array.isArray(node) ? [...node] : isMapping(node) ? Object.values(node) : []);

function descendants(node: Node): Node[] {
  return [node, ...allChildren(node, node).flatMap(descendants)];
}

function subscript(text: string): Step {
  if (text === "*") return allChildren;
  return (node) => {
    if (!Array.isArray(node)) return [];
    return text
      .split(",")
      .flatMap((part) => indexes(part.trim(), node.length))
      .map((i) => node[i]);
  };
}

function indexes(part: string, length: number): number[] {
  const range = part.match(/^(-?\d*):(-?\d*)(?::(-?\d+))?$/);
  if (!range) {
    if (!/^-?\d+$/.test(part)) throw new Error(`invalid array index ${JSON.stringify(part)}`);
    const i = Number(part) < 0 ? length + Number(part) : Number(part);
    return i >= 0 && i < length ? [i] : [];
  }
  const step = range[3] === undefined ? 1 : Number(range[3]);
  if (step === 0) throw new Error("array slice step must not be 0");
  const bound = (text: string | undefined, fallback: number) => {
    if (text === undefined || text === "") return fallback;
    const n = Number(text);
    return Math.min(Math.max(n < 0 ? length + n : n, -1), length);
  };
  const start = bound(range[1], step > 0 ? 0 : length - 1);
  const end = bound(range[2], step > 0 ? length : -1);
  const out: number[] = [];
  for (let i = start; step > 0 ? i < end : i > end; i += step) if (i >= 0 && i < length) out.push(i);
  return out;
}

class PathParser {
  private pos = 0;
  constructor(private readonly text: string) {}

  private fail(message: string): never {
    throw new Error(`path ${JSON.stringify(this.text)}: ${message} at position ${this.pos}`);
  }
  private peek(s: string): boolean {
    return this.text.startsWith(s, this.pos);
  }
  private eat(s: string): boolean {
    if (!this.peek(s)) return false;
    this.pos += s.length;
    return true;
  }
  private skipSpaces(): void {
    while (this.text[this.pos] === " ") this.pos++;
  }
  private eatSpaced(s: string): boolean {
    this.skipSpaces();
    return this.eat(s);
  }
  private name(): string {
    const start = this.pos;
    while (this.pos < this.text.length && !NAME_END.has(this.text[this.pos] as string)) this.pos++;
    if (this.pos === start) this.fail("child name missing");
    return this.text.slice(start, this.pos);
  }
  private quoted(): string {
    const quote = this.text[this.pos] as string;
    this.pos++;
    let out = "";
    while (this.pos < this.text.length && this.text[this.pos] !== quote) {
      if (this.text[this.pos] === "\\") this.pos++;
      out += this.text[this.pos] ?? "";
      this.pos++;
    }
    if (!this.eat(quote)) this.fail(`missing ${quote}`);
    return out;
  }

  /** A whole path; `stop` ends a sub-path inside a filter. */
  steps(stop: (parser: PathParser) => boolean = () => false): Step[] {
    const steps: Step[] = [];
    if (!this.eat("$") && this.pos < this.text.length && !this.peek(".") && !this.peek("[") && !stop(this)) {
      steps.push(this.eat("*") ? allChildren : child([this.name()]));
    }
    while (this.pos < this.text.length && !stop(this)) {
      if (this.eat("..")) {
        const rest = this.eat("*") ? allChildren : this.peek("[") ? this.bracket() : child([this.name()]);
        steps.push((node, root) => descendants(node).flatMap((d) => rest(d, root)));
      } else if (this.eat(".")) {
        steps.push(this.eat("*") ? allChildren : child([this.name()]));
      } else if (this.peek("[")) {
        steps.push(this.bracket());
      } else if (this.peek("~")) {
        this.fail("the property name operator ~ is not supported by the local evaluator");
      } else {
        this.fail("invalid path syntax");
      }
    }
    return steps;
  }

  private bracket(): Step {
    this.eat("[");
    this.skipSpaces();
    if (this.eat("?(")) {
      const filter = this.disjunction();
      this.skipSpaces();
      if (!this.eat(")]")) this.fail('missing ")]" after filter');
      return (node, root) => (Array.isArray(node) ? node.filter((c) => filter(c, root)) : filter(node, root) ? [node] : []);
    }
    if (this.peek("'") || this.peek('"')) {
      const names = [this.quoted()];
      this.skipSpaces();
      while (this.eat(",")) {
        this.skipSpaces();
        names.push(this.quoted());
        this.skipSpaces();
      }
      if (!this.eat("]")) this.fail('missing "]"');
      return child(names);
    }
    const end = this.text.indexOf("]", this.pos);
    if (end < 0) this.fail('unmatched "["');
    const inner = this.text.slice(this.pos, end).replaceAll(" ", "");
    this.pos = end + 1;
    if (inner === "") this.fail("subscript missing");
    return subscript(inner);
  }

  private disjunction(): (node: Node, root: Node) => boolean {
    const terms = [this.conjunction()];
    while (this.eatSpaced("||")) terms.push(this.conjunction());
    return (node, root) => terms.some((t) => t(node, root));
  }
  private conjunction(): (node: Node, root: Node) => boolean {
    const terms = [this.basic()];
    while (this.eatSpaced("&&")) terms.push(this.basic());
    return (node, root) => terms.every((t) => t(node, root));
  }
  private basic(): (node: Node, root: Node) => boolean {
    this.skipSpaces();
    if (this.eat("!")) {
      const inner = this.basic();
      return (node, root) => !inner(node, root);
    }
    if (this.eat("(")) {
      const inner = this.disjunction();
      this.skipSpaces();
      if (!this.eat(")")) this.fail('missing ")"');
      return inner;
    }
    const left = this.term();
    this.skipSpaces();
    const operator = ["==", "!=", "<=", ">=", "<", ">", "=~"].find((o) => this.eat(o));
    if (operator === undefined) return (node, root) => left(node, root).length > 0;
    this.skipSpaces();
    if (operator === "=~") {
      if (!this.eat("/")) this.fail("=~ needs a /regular expression/");
      let source = "";
      while (this.pos < this.text.length && !this.peek("/")) {
        if (this.eat("\\/")) source += "/";
        else source += this.text[this.pos++];
      }
      if (!this.eat("/")) this.fail("unterminated regular expression");
      const re = new RE2(source, "u");
      return (node, root) => {
        const values = left(node, root);
        return values.length > 0 && values.every((v) => typeof v === "string" && re.test(v));
      };
    }
    const right = this.term();
    return (node, root) => {
      const a = left(node, root);
      const b = right(node, root);
      return a.length > 0 && b.length > 0 && a.every((x) => b.every((y) => compare(x, operator, y)));
    };
  }
  private term(): (node: Node, root: Node) => Node[] {
    const endOfTerm = (p: PathParser) => p.peekAny([" ", ")", "&&", "||", "==", "!=", "<", ">", "=~"]);
    if (this.eat("@")) {
      const steps = this.steps(endOfTerm);
      return (node, root) => run(steps, node, root);
    }
    if (this.eat("$")) {
      const steps = this.steps(endOfTerm);
      return (_node, root) => run(steps, root, root);
    }
    if (this.peek("'")) {
      const value = this.quoted();
      return () => [value];
    }
    const literal = this.text.slice(this.pos).match(/^(-?\d+(\.\d+)?([eE][-+]?\d+)?|true|false|null)/);
    if (!literal) this.fail("invalid filter term");
    this.pos += literal[0].length;
    const value = JSON.parse(literal[0]) as Node;
    return () => [value];
  }
  peekAny(prefixes: readonly string[]): boolean {
    return prefixes.some((p) => this.peek(p));
  }
}

function compare(a: Node, operator: string, b: Node): boolean {
  if (operator === "==") return Bun.deepEquals(a, b);
  if (operator === "!=") return !Bun.deepEquals(a, b);
  if (typeof a !== "number" || typeof b !== "number") return false;
  return operator === "<" ? a < b : operator === "<=" ? a <= b : operator === ">" ? a > b : a >= b;
}

function run(steps: readonly Step[], start: Node, root: Node): Node[] {
  return steps.reduce<Node[]>((nodes, step) => nodes.flatMap((n) => step(n, root)), [start]);
}

const compiled = new Map<string, Step[]>();

/** Every value at `path` in `document`; the document itself for the empty path. Throws on a malformed path. */
export function find(document: Node, path: string): Node[] {
  let steps = compiled.get(path);
  if (!steps) {
    const parser = new PathParser(path);
    steps = parser.steps();
    compiled.set(path, steps);
  }
  return run(steps, document, document);
}
