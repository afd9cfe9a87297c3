/**
 * Checks answers against /openapi.json: the schema the document gives an operation's
 * status, compiled by ajv (draft 2020-12, what OpenAPI 3.1 uses), so a test proves the
 * document says what the server really answers.
 */
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { expect } from "vitest";

type Operation = { operationId?: string; responses?: Record<string, { content?: Record<string, { schema?: object }> }> };

export interface DocumentCheck {
  /** the operation ids in the document */
  operations: string[];
  /** assert `body` is what the document says `operationId` answers with `status` */
  check(operationId: string, status: number, body: unknown): void;
}

export function documentCheck(doc: Record<string, unknown>): DocumentCheck {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  const byId = new Map<string, Operation>();
  for (const methods of Object.values(doc.paths as Record<string, Record<string, Operation>>)) {
    for (const op of Object.values(methods)) if (op.operationId) byId.set(op.operationId, op);
  }
  return {
    operations: [...byId.keys()],
    check(operationId, status, body) {
      const op = byId.get(operationId);
      expect(op, `operation ${operationId} in the document`).toBeDefined();
      const responses = op!.responses ?? {};
      const response = responses[String(status)] ?? responses[`${String(status)[0]}XX`] ?? responses[`${String(status)[0]}xx`];
      expect(response, `${operationId} documents ${status}`).toBeDefined();
      const schema = response!.content?.["application/json"]?.schema;
      if (status === 204) return expect(body).toBeUndefined();
      expect(schema, `${operationId} ${status} has a JSON schema`).toBeDefined();
      const validate = ajv.compile(schema!);
      const ok = validate(body);
      expect(ok ? [] : validate.errors, `${operationId} ${status} answer matches the document`).toEqual([]);
    },
  };
}
