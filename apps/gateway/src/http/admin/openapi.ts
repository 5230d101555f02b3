import type { ErrorCode, GroupState } from '@rooms-kit/core';
import { ERROR_CODES, GROUP_ID_PATTERN, MAX_GROUP_ID_LENGTH } from '@rooms-kit/core';

/** A JSON Schema (draft 2020-12, the dialect of OpenAPI 3.1), as plain data. */
export type JsonSchema = Readonly<Record<string, unknown>>;

/** A response of an operation: its body's schema (every admin answer is JSON) and headers. */
export interface OpenApiResponse {
  readonly description: string;
  readonly headers?: Readonly<Record<string, { readonly description: string; readonly schema: JsonSchema }>>;
  readonly content: { readonly 'application/json': { readonly schema: JsonSchema } };
}

/** One operation (a method of a path). */
export interface OpenApiOperation {
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  /** `[]`: no token needed; absent: the document's `security` (the admin token). */
  readonly security?: readonly never[];
  readonly requestBody?: { readonly required: boolean; readonly description: string; readonly content: OpenApiResponse['content'] };
  readonly responses: Readonly<Record<string, OpenApiResponse>>;
}

/** The methods of one path, with the path parameters they share. */
export interface OpenApiPathItem {
  readonly parameters?: readonly Readonly<Record<string, unknown>>[];
  readonly get?: OpenApiOperation;
  readonly post?: OpenApiOperation;
  readonly delete?: OpenApiOperation;
}

/** The parts of an OpenAPI 3.1 document this API uses. */
export interface OpenApiDocument {
  readonly openapi: '3.1.0';
  readonly info: { readonly title: string; readonly version: string; readonly description: string };
  readonly security: readonly Readonly<Record<string, readonly never[]>>[];
  readonly paths: Readonly<Record<string, OpenApiPathItem>>;
  readonly components: {
    readonly securitySchemes: Readonly<Record<string, Readonly<Record<string, string>>>>;
    readonly schemas: Readonly<Record<string, JsonSchema>>;
    readonly responses: Readonly<Record<string, OpenApiResponse>>;
  };
}

/** The states a group reports (the kernel's `GroupState`; the check below fails to compile when one is missing). */
const GROUP_STATES = ['created', 'active', 'empty-grace'] as const satisfies readonly GroupState[];
const _everyGroupState: [Exclude<GroupState, (typeof GROUP_STATES)[number]>] extends [never] ? true : never = true;

const schema = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });

/** An object with exactly `properties` (all of them required but `optional`). */
function record(properties: Record<string, JsonSchema>, optional: readonly string[] = []): JsonSchema {
  const required = Object.keys(properties).filter((key) => !optional.includes(key));
  return { type: 'object', required, additionalProperties: false, properties };
}

/** `schema` or null. */
function nullable(schema: JsonSchema): JsonSchema {
  return { anyOf: [schema, { type: 'null' }] };
}

function json(description: string, body: JsonSchema): OpenApiResponse {
  return { description, content: { 'application/json': { schema: body } } };
}

/** An error answer whose `code` is one of `codes`. */
function failure(description: string, codes: readonly ErrorCode[]): OpenApiResponse {
  const narrowed = { type: 'object', properties: { error: { type: 'object', properties: { code: { enum: codes } } } } };
  return json(description, { allOf: [schema('ErrorBody'), narrowed] });
}

const unauthorized = (): OpenApiResponse => failure('No `Authorization: Bearer <ROOMS_ADMIN_TOKEN>`, or a wrong one.', ['FORBIDDEN']);
const internal = (): OpenApiResponse => failure('A failure of the server itself (logged).', ['INTERNAL']);
const unavailable = (): OpenApiResponse =>
  failure('The shared store cannot be reached, or the node is closing; retrying later may succeed.', ['UNAVAILABLE', 'NODE_DRAINING']);
const groupNotFound = (): OpenApiResponse => failure('No such group.', ['GROUP_NOT_FOUND']);
const sessionNotFound = (): OpenApiResponse => failure('No such session on any node.', ['SESSION_NOT_FOUND']);
const badGroupPath = (): OpenApiResponse =>
  failure('The id is not a valid group id, or the path has a malformed percent-encoding.', ['BAD_REQUEST']);

const groupIdParameter = {
  name: 'id',
  in: 'path',
  required: true,
  description: 'The group id, percent-encoded (`/` as `%2F`).',
  schema: schema('GroupId'),
};

/**
 * The OpenAPI 3.1 document of the admin API, served at `GET /admin/openapi.json` while the admin API is on. It needs
 * no token: it holds no data and no secret (only the API's shape, the same on every deployment and in this repo),
 * the API's existence is already visible (401, not 404, under `/admin`), and API tools fetch a document without
 * credentials. Requests no operation covers are described by `components.responses`: `Unauthorized` (401, before
 * anything else without the token), `MethodNotAllowed` (405, a method a path does not have) and `NotFound` (404, a
 * path the document does not list). Bodies are exact: no property beyond those listed.
 */
export const ADMIN_OPENAPI: OpenApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'rooms admin API',
    version: '1',
    description:
      'The admin HTTP API of a rooms node, on when ROOMS_ADMIN_TOKEN is set (else every path under /admin is 404). ' +
      'Every operation but this document needs `Authorization: Bearer <ROOMS_ADMIN_TOKEN>`; without it any request ' +
      'under /admin is 401. A method a path does not list is 405 with `Allow`; a path the document does not list is 404.',
  },
  security: [{ adminToken: [] }],
  paths: {
    '/admin/openapi.json': {
      get: {
        operationId: 'getOpenApiDocument',
        summary: 'This document',
        security: [],
        responses: { '200': json('The OpenAPI document of the admin API.', schema('OpenApiDocument')) },
      },
    },
    '/admin/groups': {
      get: {
        operationId: 'listGroups',
        summary: 'Every group of the cluster',
        responses: {
          '200': json('Every group, in no particular order.', schema('GroupList')),
          '401': unauthorized(),
          '500': internal(),
          '503': unavailable(),
        },
      },
    },
    '/admin/groups/{id}': {
      parameters: [groupIdParameter],
      get: {
        operationId: 'describeGroup',
        summary: "A group: the `group` op's result plus its members",
        responses: {
          '200': json('The group.', schema('GroupDetail')),
          '400': badGroupPath(),
          '401': unauthorized(),
          '404': groupNotFound(),
          '500': internal(),
          '503': unavailable(),
        },
      },
      delete: {
        operationId: 'discardGroup',
        summary: 'Discard a group',
        description: 'Its members get `discarded` with reason `admin`.',
        responses: {
          '200': json('The group was discarded.', record({ group: schema('GroupId') })),
          '400': badGroupPath(),
          '401': unauthorized(),
          '403': failure('A static group (ROOMS_STATIC_GROUPS) cannot be discarded.', ['FORBIDDEN']),
          '404': groupNotFound(),
          '500': internal(),
          '503': unavailable(),
        },
      },
    },
    '/admin/groups/{id}/announce': {
      parameters: [groupIdParameter],
      post: {
        operationId: 'announce',
        summary: 'Send a message to every member, with `from` null',
        requestBody: {
          required: true,
          description: 'Any JSON value: the message data. At most ROOMS_MAX_PAYLOAD bytes.',
          content: { 'application/json': { schema: {} } },
        },
        responses: {
          '200': json('The message was published.', schema('AnnounceResult')),
          '400': failure('The body is not JSON, the id is not a valid group id, or the path is malformed.', ['BAD_REQUEST']),
          '401': unauthorized(),
          '404': groupNotFound(),
          '413': failure('The body exceeds ROOMS_MAX_PAYLOAD bytes (the connection is then closed).', ['PAYLOAD_TOO_LARGE']),
          '500': internal(),
          '503': unavailable(),
        },
      },
    },
    '/admin/sessions/{id}': {
      parameters: [{ name: 'id', in: 'path', required: true, description: 'The session id.', schema: { type: 'string' } }],
      get: {
        operationId: 'describeSession',
        summary: 'A session, wherever it is held',
        description:
          'Cluster-wide: the node holding the session is asked. `connected` is false while the session is suspended ' +
          '(its connection dropped, its resume window running) or when its node is dead (it may still be resumed).',
        responses: {
          '200': json('The session.', schema('SessionDetail')),
          '400': failure('The path has a malformed percent-encoding.', ['BAD_REQUEST']),
          '401': unauthorized(),
          '404': sessionNotFound(),
          '500': internal(),
          '503': unavailable(),
        },
      },
      delete: {
        operationId: 'kickSession',
        summary: 'Kick a session, wherever it is held',
        description:
          'Cluster-wide: members get `left` with reason `kicked`, the node holding the session closes its connection ' +
          'with 4003, and the session cannot be resumed. Works for suspended sessions too.',
        responses: {
          '200': json('The session was kicked.', record({ session: { type: 'string' } })),
          '400': failure('The path has a malformed percent-encoding.', ['BAD_REQUEST']),
          '401': unauthorized(),
          '404': sessionNotFound(),
          '500': internal(),
          '503': unavailable(),
        },
      },
    },
    '/admin/nodes': {
      get: {
        operationId: 'listNodes',
        summary: 'Every live node of the cluster',
        description:
          'This node first (`self` true). The other nodes are asked for their figures with a bounded wait (2 s); one ' +
          'that does not answer in time shows `connections` and `groups` null.',
        responses: {
          '200': json('Every live node.', schema('NodeList')),
          '401': unauthorized(),
          '500': internal(),
          '503': unavailable(),
        },
      },
    },
  },
  components: {
    securitySchemes: { adminToken: { type: 'http', scheme: 'bearer', description: 'The value of ROOMS_ADMIN_TOKEN.' } },
    schemas: {
      ErrorBody: record({
        error: record({ code: { enum: ERROR_CODES }, message: { type: 'string' }, temporary: { type: 'boolean' } }),
      }),
      GroupId: { type: 'string', minLength: 1, maxLength: MAX_GROUP_ID_LENGTH, pattern: GROUP_ID_PATTERN.source },
      GroupState: { enum: GROUP_STATES },
      GroupList: record({
        groups: {
          type: 'array',
          items: record({ id: schema('GroupId'), state: schema('GroupState'), size: { type: 'integer', minimum: 0 }, static: { type: 'boolean' } }),
        },
      }),
      Member: record({ id: { type: 'string' }, node: { type: 'string' }, user: { type: 'string' }, data: { description: 'Any JSON value.' } }, ['user', 'data']),
      GroupDetail: record({
        group: schema('GroupId'),
        state: schema('GroupState'),
        size: { type: 'integer', minimum: 0 },
        nodes: { type: 'array', items: { type: 'string' } },
        meta: { type: 'object' },
        static: { type: 'boolean' },
        members: { type: 'array', items: schema('Member') },
      }),
      SessionDetail: record({
        session: { type: 'string' },
        user: { ...nullable({ type: 'string' }), description: 'Null without a user (auth off).' },
        node: { type: 'string', description: 'The node that holds the session.' },
        connected: { type: 'boolean' },
        transport: { enum: ['websocket', 'sse', 'poll'] },
        groups: { type: 'array', items: schema('GroupId') },
      }),
      NodeList: record({
        nodes: {
          type: 'array',
          items: record({
            id: { type: 'string' },
            self: { type: 'boolean' },
            connections: { ...nullable({ type: 'integer', minimum: 0 }), description: 'Sessions the node holds, connected or suspended (as rooms_sessions).' },
            groups: { ...nullable({ type: 'integer', minimum: 0 }), description: 'Groups with a replica on the node, in every state (as rooms_groups).' },
          }),
        },
      }),
      AnnounceResult: record({ recipients: { type: 'integer', minimum: 0 }, offset: { type: 'integer', minimum: 1 } }),
      OpenApiDocument: {
        type: 'object',
        required: ['openapi', 'info', 'paths'],
        properties: {
          openapi: { const: '3.1.0' },
          info: { type: 'object', required: ['title', 'version'], properties: { title: { type: 'string' }, version: { type: 'string' } } },
          paths: { type: 'object' },
        },
      },
    },
    responses: {
      Unauthorized: unauthorized(),
      MethodNotAllowed: {
        ...failure('The path exists, without this method.', ['BAD_REQUEST']),
        headers: { Allow: { description: "The path's methods, comma-separated.", schema: { type: 'string' } } },
      },
      NotFound: failure('No such admin endpoint.', ['BAD_REQUEST']),
    },
  },
};
