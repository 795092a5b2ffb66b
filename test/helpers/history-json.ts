/**
 * Workflow histories to and from proto JSON (the format of `temporal workflow show --output json`
 * and of the replay fixtures), for the replay suite and the script that records its histories.
 *
 * The SDK's `historyFromJSON` / `historyToJSON` (`@temporalio/common/lib/proto-utils`) throw
 * "type must be a Type" where npm nests one protobufjs copy under @temporalio/common and another
 * under @temporalio/proto (as in this project's lockfile, because @grpc/proto-loader keeps
 * protobufjs 7 at the top): they then convert with the copy that did not build the History type.
 * The same conversion with the copy that built it.
 */
import { createRequire } from 'node:module';
import { historyFromJSON, historyToJSON, type History } from '@temporalio/common/lib/proto-utils';
import * as proto from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root';

interface ProtoJson {
  fromJson(type: unknown, json: unknown, options: { ignoreUnknownFields: boolean }): History | null;
  toJson(type: unknown, message: unknown): unknown;
}

function isProtobufCopyMismatch(error: unknown): boolean {
  return error instanceof TypeError && error.message === 'type must be a Type';
}

/** protojson and the History type, both from the protobufjs copy @temporalio/proto uses. */
function protoJson(): { json: ProtoJson; historyType: unknown } {
  const json = createRequire(require.resolve('@temporalio/proto'))('protobufjs/ext/protojson') as ProtoJson;
  const root = patchProtobufRoot(proto as unknown as Record<string, unknown>) as unknown as { lookupType(name: string): unknown };
  return { json, historyType: root.lookupType('temporal.api.history.v1.History') };
}

/** A history from its proto JSON. */
export function loadHistory(json: unknown): History {
  try {
    return historyFromJSON(json);
  } catch (error) {
    if (!isProtobufCopyMismatch(error)) throw error;
  }
  const { json: converter, historyType } = protoJson();
  const history = converter.fromJson(historyType, json, { ignoreUnknownFields: true });
  if (!history) throw new TypeError('invalid history');
  return history;
}

/** A history as proto JSON text (two-space indent), as `historyToJSON` writes it. */
export function historyJsonText(history: History): string {
  try {
    return historyToJSON(history);
  } catch (error) {
    if (!isProtobufCopyMismatch(error)) throw error;
  }
  const { json: converter, historyType } = protoJson();
  return JSON.stringify(converter.toJson(historyType, proto.temporal.api.history.v1.History.fromObject(history)), null, 2);
}
