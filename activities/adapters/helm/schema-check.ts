/**
 * Validates rendered objects against the Kubernetes OpenAPI and Istio CRD schemas shipped by
 * kubernetes-models. Those schemas check types, required fields and enums; they do not reject
 * unknown fields, name formats or port ranges (chart-model.ts checks what matters of those).
 */
import { Deployment } from 'kubernetes-models/apps/v1';
import { Service, ServiceAccount } from 'kubernetes-models/v1';
import { DestinationRule, VirtualService } from '@kubernetes-models/istio/networking.istio.io/v1beta1';
import { manifestInvalid } from './failures';
import type { PlatformObject } from './manifests';

/** The model classes take the object without apiVersion/kind; they add their own. */
function withoutTypeMeta<T extends { apiVersion: string; kind: string }>(object: T): Omit<T, 'apiVersion' | 'kind'> {
  const { apiVersion: _apiVersion, kind: _kind, ...data } = object;
  return data;
}

function modelOf(object: PlatformObject): { validate(): void } {
  switch (object.kind) {
    case 'Deployment':
      return new Deployment(withoutTypeMeta(object));
    case 'Service':
      return new Service(withoutTypeMeta(object));
    case 'ServiceAccount':
      return new ServiceAccount(withoutTypeMeta(object));
    case 'VirtualService':
      return new VirtualService(withoutTypeMeta(object));
    case 'DestinationRule':
      return new DestinationRule(withoutTypeMeta(object));
  }
}

/** Throws ManifestInvalid naming the object and the schema's complaint. */
export function assertValid(object: PlatformObject): void {
  try {
    modelOf(object).validate();
  } catch (error) {
    const namespace = object.metadata?.namespace ? ` in namespace ${object.metadata.namespace}` : '';
    // The validator reports paths as `data/spec/...`; `data` is the object itself.
    const detail = (error instanceof Error ? error.message : String(error)).replace(/\bdata\//g, '');
    throw manifestInvalid(`${object.kind} ${object.metadata?.name ?? '(unnamed)'}${namespace} does not match its schema: ${detail}`);
  }
}
