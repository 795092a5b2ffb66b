/**
 * Every response the tests receive from the API, checked against the OpenAPI document: its status
 * must be documented for the operation, its content type too, and its body must match the
 * documented schema (ajv, JSON Schema 2020-12). `TestPlatform.http()` calls `check` after each
 * request to the API, so any test that provokes an undocumented answer fails, naming it.
 */
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
// A dependency of @seriousme/openapi-schema-validator (and of @kubernetes-models/validate), not of
// this package: the rules forbid editing package.json. It knows the `format`s zod writes (email).
import addFormats from 'ajv-formats';
import type { PlatformConfig } from '../../shared/config';
import { openApiDocument, operationsOf } from '../../api/openapi/document';
import type { JsonSchema, OpenApiDocument, Operation } from '../../api/openapi/types';

/** Where the document's components live for ajv; `#/components/schemas/X` refs are pointed here. */
const COMPONENTS_ID = 'https://deploy-platform.invalid/openapi/components.json';
const COMPONENT_REF = '#/components/schemas/';

/** A copy of `schema` whose component refs point into the components schema ajv holds. */
function pointRefs(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(pointRefs);
  if (typeof schema !== 'object' || schema === null) return schema;
  return Object.fromEntries(
    Object.entries(schema).map(([key, value]) => [
      key,
      key === '$ref' && typeof value === 'string' && value.startsWith(COMPONENT_REF) ? `${COMPONENTS_ID}#/$defs/${value.slice(COMPONENT_REF.length)}` : pointRefs(value),
    ]),
  );
}

/** `/v1/deployments/{id}` matches `/v1/deployments/<anything but a slash>`. */
function templatePattern(template: string): RegExp {
  const source = template
    .split(/(\{[^}]+\})/)
    .map((part) => (part.startsWith('{') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`);
}

const excerpt = (body: unknown): string => {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return text === undefined ? '(no body)' : text.length > 600 ? `${text.slice(0, 600)}…` : text;
};

export class DocumentedResponses {
  private readonly ajv: Ajv2020;
  private readonly operations: { method: string; template: string; pattern: RegExp; operation: Operation }[];
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(document: OpenApiDocument) {
    this.ajv = new Ajv2020({ allErrors: true, strict: true });
    addFormats(this.ajv);
    // `$defs` is where JSON Schema keeps definitions; `pointRefs` sends every component ref there.
    this.ajv.addSchema({ $id: COMPONENTS_ID, $defs: pointRefs(document.components.schemas) as Record<string, JsonSchema> });
    this.operations = operationsOf(document).map(({ method, path, operation }) => ({ method: method.toUpperCase(), template: path, pattern: templatePattern(path), operation }));
  }

  /** Throws an Error naming the request and what does not match; returns quietly otherwise. */
  check(method: string, pathAndQuery: string, status: number, contentType: string | null, body: unknown): void {
    const path = new URL(pathAndQuery, 'http://api.invalid').pathname.replace(/(.)\/$/, '$1');
    const verb = method.toUpperCase();
    const found = this.operations.find((o) => o.method === verb && o.pattern.test(path));
    const fail = (what: string): never => {
      throw new Error(`OpenAPI: ${verb} ${path} answered ${status}${found ? ` (documented as ${verb} ${found.template})` : ''}: ${what}; body: ${excerpt(body)}`);
    };
    if (!found) {
      // The app's own answers to a request no route takes: 404 "no route", or 401 first under /v1.
      if (status === 404 || (status === 401 && path.startsWith('/v1/'))) {
        this.validate('(no route)', { $ref: `${COMPONENT_REF}Problem` }, body, fail);
        return;
      }
      return fail('no documented operation');
    }
    const { operation, template } = found;
    const response = operation.responses[String(status)];
    if (!response) return fail(`status ${status} is not documented (documented: ${Object.keys(operation.responses).join(', ')})`);
    const content = response.content;
    if (!content) {
      if (body !== undefined && body !== '') fail('a body where none is documented');
      return;
    }
    const mediaType = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    const media = content[mediaType];
    if (!media) return fail(`content type "${mediaType}" is not documented (documented: ${Object.keys(content).join(', ')})`);
    this.validate(`${verb} ${template} ${status} ${mediaType}`, media.schema, body, fail);
  }

  private validate(key: string, schema: JsonSchema, body: unknown, fail: (what: string) => never): void {
    let validate = this.validators.get(key);
    if (!validate) {
      validate = this.ajv.compile(pointRefs(schema) as JsonSchema);
      this.validators.set(key, validate);
    }
    if (!validate(body)) fail(`the body does not match the documented schema: ${this.ajv.errorsText(validate.errors, { separator: '; ' })}`);
  }
}

const byConfig = new WeakMap<PlatformConfig, DocumentedResponses>();

/** The checker for a platform's document (built once per platform). */
export function documentedResponses(config: PlatformConfig): DocumentedResponses {
  let checker = byConfig.get(config);
  if (!checker) {
    checker = new DocumentedResponses(openApiDocument(config));
    byConfig.set(config, checker);
  }
  return checker;
}
