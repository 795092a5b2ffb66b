/**
 * The Handlebars environment skeletons render with: an isolated instance (no global registrations
 * leak between callers), the shared partials of `templates/_partials/`, and no custom helpers.
 */
import Handlebars from 'handlebars';

export const COMPILE_OPTIONS: CompileOptions = {
  // A plain `{{name}}` the data lacks throws instead of rendering an empty string.
  strict: true,
  // Only the built-in helpers (if, unless, each, with): a typo in a helper name fails at compile time.
  knownHelpersOnly: true,
  // The outputs are code, YAML, shell and Markdown, never HTML: `&` must stay `&`.
  noEscape: true,
};

export type Engine = typeof Handlebars;

export function createEngine(partials: Readonly<Record<string, string>>): Engine {
  const engine = Handlebars.create();
  for (const [name, source] of Object.entries(partials)) engine.registerPartial(name, source);
  return engine;
}
