/**
 * JSON schemas of the sensor's API responses (fastify serializes with them, and they are the
 * API's documentation: README "API"). A field added to a response must be added here too, or
 * fastify leaves it out.
 */
const str = { type: 'string' } as const;
const strOrNull = { type: ['string', 'null'] } as const;
const int = { type: 'integer' } as const;
const num = { type: 'number' } as const;
const bool = { type: 'boolean' } as const;
const strings = { type: 'array', items: str } as const;

export const clientSchema = {
  $id: 'client',
  type: 'object',
  properties: {
    client: str,
    observer: str,
    first_seen: str,
    last_seen: str,
    first_after_cutoff: strOrNull,
    last_after_cutoff: strOrNull,
    before_cutoff: int,
    after_cutoff: int,
    severity: str,
    severity_after_cutoff: strOrNull,
    categories: {
      type: 'array',
      items: { type: 'object', properties: { category: str, before: int, after: int, first_after: strOrNull, last_after: strOrNull } },
    },
    names: {
      type: 'array',
      items: {
        type: 'object',
        properties: { name: str, category: str, rule: str, before: int, after: int, evidence: strings, destinations: strings, addresses: strings },
      },
    },
    evidence: strings,
    findings: {
      type: 'array',
      items: { type: 'object', properties: { finding: str, severity: str, before: int, after: int, first_after: strOrNull, last_after: strOrNull } },
    },
    update_paths: strings,
    resolver_bypass: strings,
    ja4: strings,
    public_dns_fallback: strings,
    ech_seen: bool,
    appliance: bool,
    alerts: int,
  },
} as const;

export const clientsSchema = {
  type: 'object',
  properties: {
    total: int,
    offset: int,
    limit: int,
    clients: { type: 'array', items: { $ref: 'client#' } },
  },
} as const;

export const clientsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
    offset: { type: 'integer', minimum: 0, default: 0 },
    after_cutoff: { type: 'boolean' },
  },
} as const;

export const alertsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
} as const;

/** Alert events are ECS documents (README "Alerts"): passed through as they are. */
export const alertsSchema = {
  type: 'object',
  properties: { total: int, alerts: { type: 'array', items: { type: 'object', additionalProperties: true } } },
} as const;

const sink = {
  type: 'object',
  properties: {
    name: str,
    kind: str,
    up: bool,
    delivered: int,
    rejected: int,
    dropped: int,
    retries: { type: 'object', properties: { connection: int, timeout: int, server_error: int, too_many_requests: int } },
    queued: int,
    queue_capacity: int,
    spool_bytes: int,
    spool_limit_bytes: int,
    firing: { type: ['integer', 'null'] },
    last_success: strOrNull,
    last_error: strOrNull,
  },
} as const;

export const statusSchema = {
  type: 'object',
  properties: {
    version: str,
    observer: str,
    started_at: str,
    uptime_seconds: num,
    ready: bool,
    not_ready_because: strings,
    config: {
      type: 'object',
      properties: { files: strings, rules_sha256: str, cutoff: str, reloads_success: int, reloads_failure: int, last_reload_error: strOrNull },
    },
    capture: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          interface: str,
          up: bool,
          pid: { type: ['integer', 'null'] },
          since: strOrNull,
          restarts: int,
          received: int,
          dropped_kernel: int,
          dropped_interface: int,
          last_error: strOrNull,
        },
      },
    },
    filter: str,
    input: {
      type: ['object', 'null'],
      properties: { path: str, state: str, frames: { type: ['integer', 'null'] }, error: strOrNull },
    },
    packets: int,
    last_packet_at: strOrNull,
    network_time: strOrNull,
    clients: int,
    clients_after_cutoff: int,
    tables: {
      type: 'object',
      additionalProperties: { type: 'object', properties: { bytes: int, budget: int } },
    },
    errors: { type: 'object', properties: { analysis: int, output: int, first: strOrNull } },
    checkpoint: {
      type: 'object',
      properties: { state_dir: strOrNull, last_at: strOrNull, clients: { type: ['integer', 'null'] }, bytes: { type: ['integer', 'null'] }, error: strOrNull },
    },
    sinks: { type: 'array', items: sink },
  },
} as const;
