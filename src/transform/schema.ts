/**
 * JSON Schema of `inputs[].transforms` (part of src/config/schema.ts). The
 * schema checks shapes; what depends on the log format (field names,
 * expressions, regexes, the secret) is checked by src/transform/compile.ts
 * at start-up.
 */
const fieldList = { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', minLength: 1 } } as const;
const expression = { type: 'string', minLength: 1 } as const;

export const transformsSchema = {
  type: 'object',
  additionalProperties: false,
  description: 'Per-record transforms, applied in this order whatever the order in the file: filter, sample, privacy, enrich, fields.',
  properties: {
    filter: {
      type: 'object',
      additionalProperties: false,
      description: 'Drop records by a condition on their fields (an expression: ==, !=, <, <=, >, >=, ~, ~*, in [...], and, or, not).',
      // One of the two, checked by src/transform/compile.ts (a schema oneOf reads badly in an error).
      properties: {
        drop_when: { ...expression, description: 'Records for which this is true are dropped (counted; their offsets still advance the checkpoint).' },
        keep_when: { ...expression, description: 'Only records for which this is true are kept (instead of drop_when).' },
      },
    },
    sample: {
      type: 'object',
      additionalProperties: false,
      required: ['rate'],
      description: 'Keep 1 record in `rate`, chosen by a hash of `key` (all records with the same key are kept or dropped together).',
      properties: {
        rate: { type: 'integer', minimum: 1, description: 'Keep 1 in this many.' },
        key: { type: 'string', minLength: 1, description: 'The field whose value decides (e.g. remote_addr, request_id); none: every rate-th record.' },
        always_keep: { ...expression, description: 'Records for which this is true are kept whatever the sampling (e.g. status >= 500).' },
      },
    },
    privacy: {
      type: 'object',
      additionalProperties: false,
      properties: {
        secret_env: { type: 'string', minLength: 1, description: 'Environment variable holding the key of the keyed hashes (HMAC-SHA256).' },
        secret_file: { type: 'string', minLength: 1, description: 'File holding the key of the keyed hashes (trailing newline ignored).' },
        ip: {
          type: 'object',
          additionalProperties: false,
          properties: {
            fields: { ...fieldList, description: 'Fields holding addresses or lists of them (default: remote_addr, http_x_forwarded_for, realip_remote_addr, http_x_real_ip, those the format has).' },
            mode: { enum: ['truncate', 'hash'], default: 'truncate', description: 'truncate: keep the network prefix; hash: a keyed hash (needs secret_env or secret_file).' },
            ipv4_prefix: { type: 'integer', minimum: 0, maximum: 32, default: 24 },
            ipv6_prefix: { type: 'integer', minimum: 0, maximum: 128, default: 48 },
          },
        },
        redact_query: {
          type: 'object',
          additionalProperties: false,
          properties: {
            params: { ...fieldList, description: 'Query parameter names whose values are replaced (case-insensitive, URL-encoded names too); replaces the default list.' },
            fields: { ...fieldList, description: 'Fields holding URLs or query strings (default: request, request_uri, request_query, args, query_string, http_referer, those the format has).' },
            replacement: { type: 'string', default: 'REDACTED' },
          },
        },
        headers: {
          type: 'object',
          additionalProperties: false,
          properties: {
            drop: { ...fieldList, description: 'Fields (e.g. http_cookie, http_authorization) left out of the record.' },
            hash: { ...fieldList, description: 'Fields replaced by their keyed hash (needs secret_env or secret_file).' },
          },
        },
        dead_letter_raw: {
          enum: ['redact', 'omit'],
          default: 'redact',
          description: "A line that did not parse: shipped with its query parameters and IP addresses redacted, or without its text (header values cannot be found in a line that did not parse).",
        },
      },
    },
    enrich: {
      type: 'object',
      additionalProperties: false,
      properties: {
        user_agent: { type: 'boolean', default: false, description: 'Add ua_browser, ua_browser_version, ua_os, ua_os_version, ua_device, read from the User-Agent.' },
        user_agent_field: { type: 'string', minLength: 1, default: 'http_user_agent', description: 'The field holding the User-Agent (a JSON log with its own keys: e.g. ua).' },
      },
    },
    fields: {
      type: 'object',
      additionalProperties: false,
      properties: {
        keep: { ...fieldList, description: 'Only these fields are shipped (instead of drop).' },
        drop: { ...fieldList, description: 'These fields are left out.' },
        rename: { type: 'object', additionalProperties: { type: 'string', minLength: 1 }, description: 'old name: new name.' },
        add: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] }, description: 'Static fields (${ENV} is read at start-up), e.g. datacenter: ${DC}.' },
        source: { enum: ['body', 'headers', 'both'], default: 'both', description: "Where the file's source (host, path, input, pod) goes: the record, Kafka headers (logship-host, ...), or both." },
      },
    },
  },
} as const;
