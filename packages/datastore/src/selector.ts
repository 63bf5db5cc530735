/**
 * Calico-style label selectors: `role == 'rr'`, `has(zone)`, `!has(x)`, `env in {'a','b'}`,
 * `env not in {...}`, `name contains 'x'`, `starts with`, `ends with`, `all()`, `&&`, `||`,
 * `!` and parentheses. Parsed once into a tree, evaluated against a label map.
 */
export type Labels = Readonly<Record<string, string>>;

export type SelectorNode =
  | { op: 'all' }
  | { op: 'has'; label: string }
  | { op: '==' | '!=' | 'contains' | 'starts with' | 'ends with'; label: string; value: string }
  | { op: 'in' | 'not in'; label: string; values: string[] }
  | { op: 'not'; arg: SelectorNode }
  | { op: 'and' | 'or'; args: SelectorNode[] };

export class SelectorError extends Error {
  override readonly name = 'SelectorError';
}

type Token = { t: 'word' | 'str' | 'sym'; v: string; at: number };

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'" || c === '"') {
      const end = src.indexOf(c, i + 1);
      if (end < 0) throw new SelectorError(`unterminated string at ${i}`);
      out.push({ t: 'str', v: src.slice(i + 1, end), at: i });
      i = end + 1;
    } else if (/[A-Za-z0-9_./-]/.test(c)) {
      let j = i;
      while (j < src.length && /[A-Za-z0-9_./-]/.test(src[j]!)) j++;
      out.push({ t: 'word', v: src.slice(i, j), at: i });
      i = j;
    } else {
      const two = src.slice(i, i + 2);
      if (['==', '!=', '&&', '||'].includes(two)) {
        out.push({ t: 'sym', v: two, at: i });
        i += 2;
      } else if ('!(){},'.includes(c)) {
        out.push({ t: 'sym', v: c, at: i });
        i++;
      } else {
        throw new SelectorError(`unexpected ${JSON.stringify(c)} at ${i}`);
      }
    }
  }
  return out;
}

export function parseSelector(src: string): SelectorNode {
  if (src.trim() === '') return { op: 'all' };
  const toks = tokenize(src);
  let pos = 0;
  const peek = () => toks[pos];
  const where = () => (toks[pos] ? `at ${toks[pos]!.at}` : 'at end');
  const expect = (v: string) => {
    const t = toks[pos];
    if (!t || t.v !== v || t.t === 'str') throw new SelectorError(`expected '${v}' ${where()}`);
    pos++;
  };
  const word = () => {
    const t = toks[pos];
    if (t?.t !== 'word') throw new SelectorError(`expected a label name ${where()}`);
    pos++;
    return t.v;
  };
  const str = () => {
    const t = toks[pos];
    if (t?.t !== 'str') throw new SelectorError(`expected a quoted value ${where()}`);
    pos++;
    return t.v;
  };
  const isSym = (v: string) => peek()?.t === 'sym' && peek()!.v === v;
  const isWord = (v: string) => peek()?.t === 'word' && peek()!.v === v;

  function values(): string[] {
    expect('{');
    const vs: string[] = [];
    if (!isSym('}')) {
      vs.push(str());
      while (isSym(',')) {
        pos++;
        vs.push(str());
      }
    }
    expect('}');
    return vs;
  }

  function primary(): SelectorNode {
    if (isSym('(')) {
      pos++;
      const e = or();
      expect(')');
      return e;
    }
    if (isSym('!')) {
      pos++;
      return { op: 'not', arg: primary() };
    }
    if (isWord('all') && toks[pos + 1]?.v === '(') {
      pos++;
      expect('(');
      expect(')');
      return { op: 'all' };
    }
    if (isWord('has') && toks[pos + 1]?.v === '(') {
      pos++;
      expect('(');
      const label = word();
      expect(')');
      return { op: 'has', label };
    }
    const label = word();
    if (isSym('==') || isSym('!=')) {
      const op = toks[pos++]!.v as '==' | '!=';
      return { op, label, value: str() };
    }
    if (isWord('in')) {
      pos++;
      return { op: 'in', label, values: values() };
    }
    if (isWord('not') && toks[pos + 1]?.v === 'in') {
      pos += 2;
      return { op: 'not in', label, values: values() };
    }
    if (isWord('contains')) {
      pos++;
      return { op: 'contains', label, value: str() };
    }
    if ((isWord('starts') || isWord('ends')) && toks[pos + 1]?.v === 'with') {
      const op = toks[pos]!.v === 'starts' ? 'starts with' : 'ends with';
      pos += 2;
      return { op, label, value: str() };
    }
    throw new SelectorError(`expected an operator after '${label}' ${where()}`);
  }

  function and(): SelectorNode {
    const args = [primary()];
    while (isSym('&&')) {
      pos++;
      args.push(primary());
    }
    return args.length === 1 ? args[0]! : { op: 'and', args };
  }

  function or(): SelectorNode {
    const args = [and()];
    while (isSym('||')) {
      pos++;
      args.push(and());
    }
    return args.length === 1 ? args[0]! : { op: 'or', args };
  }

  const tree = or();
  if (pos !== toks.length) throw new SelectorError(`unexpected '${toks[pos]!.v}' ${where()}`);
  return tree;
}

export function matches(node: SelectorNode, labels: Labels): boolean {
  switch (node.op) {
    case 'all':
      return true;
    case 'has':
      return Object.hasOwn(labels, node.label);
    case '==':
      return labels[node.label] === node.value;
    case '!=':
      return labels[node.label] !== node.value;
    case 'contains':
      return labels[node.label]?.includes(node.value) ?? false;
    case 'starts with':
      return labels[node.label]?.startsWith(node.value) ?? false;
    case 'ends with':
      return labels[node.label]?.endsWith(node.value) ?? false;
    case 'in':
      return Object.hasOwn(labels, node.label) && node.values.includes(labels[node.label]!);
    case 'not in':
      return !Object.hasOwn(labels, node.label) || !node.values.includes(labels[node.label]!);
    case 'not':
      return !matches(node.arg, labels);
    case 'and':
      return node.args.every((a) => matches(a, labels));
    case 'or':
      return node.args.some((a) => matches(a, labels));
  }
}

/** Compiles a selector string into a predicate; throws SelectorError when it does not parse. */
export function compileSelector(src: string): (labels: Labels) => boolean {
  const tree = parseSelector(src);
  return (labels) => matches(tree, labels);
}

/** The parse error text of a selector, or undefined when it is valid (for field validation). */
export function selectorProblem(src: string): string | undefined {
  try {
    parseSelector(src);
    return undefined;
  } catch (e) {
    return `is not a valid selector: ${(e as Error).message}`;
  }
}
