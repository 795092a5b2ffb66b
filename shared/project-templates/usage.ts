/**
 * Which top-level variables a template uses, read from the Handlebars syntax tree. Strict mode only
 * catches a missing variable in a plain `{{name}}`; a block's parameter (`{{#each enviroments}}`)
 * is looked up leniently and would render nothing. Comparing this list with the manifest's
 * `parameters` when a template loads closes that gap.
 */
import Handlebars from 'handlebars';

type Node = hbs.AST.Node;

/** Block helpers that render their body with a new context (`{{name}}` inside refers to the item). */
const CONTEXT_CHANGING = new Set(['each', 'with']);

/** A depth no path has: inside a partial given some other context, only `@root.x` reaches the root. */
const NOT_ROOT = Number.NEGATIVE_INFINITY;

function isRootPath(node: Node): boolean {
  const path = node as hbs.AST.PathExpression;
  return node.type === 'PathExpression' && path.data && path.parts.length === 1 && path.parts[0] === 'root';
}

export interface TemplateUsage {
  variables: Set<string>;
  partials: Set<string>;
}

export function templateUsage(source: string, partials: Readonly<Record<string, string>>): TemplateUsage {
  const usage: TemplateUsage = { variables: new Set(), partials: new Set() };
  visit(Handlebars.parse(source), 0, usage, partials, new Set());
  return usage;
}

/** `depth` counts the context-changing blocks around a node: a path reaches the root context when its `../` count equals it. */
function visit(node: Node | null | undefined, depth: number, usage: TemplateUsage, partials: Readonly<Record<string, string>>, seen: Set<string>): void {
  if (!node) return;
  const recurse = (child: Node | null | undefined, childDepth = depth): void => visit(child, childDepth, usage, partials, seen);
  switch (node.type) {
    case 'Program':
      (node as hbs.AST.Program).body.forEach((statement) => recurse(statement));
      return;
    case 'MustacheStatement':
    case 'SubExpression': {
      const call = node as hbs.AST.MustacheStatement | hbs.AST.SubExpression;
      // `{{name}}` is a lookup; `{{helper arg}}` names a helper, whose arguments are lookups.
      if (call.params.length > 0 || call.hash) {
        call.params.forEach((param) => recurse(param));
        call.hash?.pairs.forEach((pair) => recurse(pair.value));
      } else recurse(call.path);
      return;
    }
    case 'BlockStatement': {
      const block = node as hbs.AST.BlockStatement;
      block.params.forEach((param) => recurse(param));
      block.hash?.pairs.forEach((pair) => recurse(pair.value));
      const helper = block.path.original;
      recurse(block.program, CONTEXT_CHANGING.has(helper) ? depth + 1 : depth);
      recurse(block.inverse);
      return;
    }
    case 'PartialStatement': {
      const partial = node as hbs.AST.PartialStatement;
      const name = partial.name.type === 'PathExpression' ? (partial.name as hbs.AST.PathExpression).original : undefined;
      if (name === undefined) throw new Error('dynamic partial names are not supported');
      if (partial.hash) throw new Error(`partial "${name}": hash arguments are not supported; pass @root or nothing`);
      usage.partials.add(name);
      const source = partials[name];
      if (source === undefined) throw new Error(`unknown partial "${name}"`);
      if (seen.has(name)) throw new Error(`partial "${name}" includes itself`);
      partial.params.forEach((param) => recurse(param));
      // A partial renders with the caller's context, or with the one passed to it (`{{> name @root}}`).
      const [contextArg] = partial.params;
      const partialDepth = contextArg === undefined ? depth : isRootPath(contextArg) ? 0 : NOT_ROOT;
      visit(Handlebars.parse(source), partialDepth, usage, partials, new Set([...seen, name]));
      return;
    }
    case 'PathExpression': {
      const path = node as hbs.AST.PathExpression;
      const [first, second] = path.parts;
      if (path.data) {
        if (first === 'root' && second !== undefined) usage.variables.add(second);
      } else if (path.depth === depth && first !== undefined) usage.variables.add(first);
      return;
    }
    default:
      // Content, comments and literals use no variables.
      return;
  }
}
