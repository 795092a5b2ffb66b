/**
 * zod schemas to the JSON Schema (draft 2020-12) that OpenAPI 3.1 embeds, with zod 4's own
 * converter. Requests are described by what the API accepts (`io: 'input'`: defaults make a field
 * optional), responses by what it sends (`io: 'output'`). Checks JSON Schema cannot express
 * (`.refine`, e.g. "pinned by digest") are left out (`unrepresentable: 'any'`); the 400 names them.
 */
import { z } from 'zod';
import type { JsonSchema, Parameter } from './types';

export function toJsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const converted: JsonSchema = { ...z.toJSONSchema(schema, { io, target: 'draft-2020-12', unrepresentable: 'any' }) };
  // The document's dialect is OpenAPI 3.1's (2020-12); a `$schema` inside a component is noise.
  delete converted.$schema;
  return converted;
}

/**
 * The query parameters of an object schema (what `parseQuery` validates with), one parameter per
 * property. `descriptions` adds a sentence per parameter for the reference page.
 */
export function queryParameters(schema: z.ZodType, descriptions: Record<string, string> = {}): Parameter[] {
  const json = toJsonSchema(schema, 'input');
  const properties = (json.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set(Array.isArray(json.required) ? (json.required as string[]) : []);
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: 'query',
    required: required.has(name),
    ...(descriptions[name] ? { description: descriptions[name] } : {}),
    schema: property,
  }));
}
