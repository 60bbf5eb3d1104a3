import fc from 'fast-check';

// Generators of hostile request bodies for the collection API, built as JSON *text* so they can hold what a
// JavaScript object cannot: duplicate keys (in messages, objects inside them and the batch itself), and escapes
// of lone surrogates in any string or key. Values reach every place a message has: ids, names, properties,
// traits, context (with its traits), integrations, unknown top-level fields, batch-level context and sentAt.

export type JsonObject = Record<string, unknown>;

export const PROBE_EVENT = 'Fuzz Probe';

export interface GeneratedRequest {
  readonly url: string;
  readonly text: string;
  /** Every messageId the text holds, duplicates included (the stored set must be a subset). */
  readonly ids: readonly string[];
  /** Personal values (emails) the text holds, which must never be stored in clear. */
  readonly markers: readonly string[];
}

let counter = 0;
const nextId = () => `fz-${++counter}`;

const json = (value: unknown) => JSON.stringify(value);

// Mostly ordinary characters, with the ones that break parsers: quotes, escapes, controls, line and paragraph
// separators, combining marks, emoji, a byte-order mark, formula starters, and lone UTF-16 surrogates.
const hostileChar = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('a', 'b', 'Z', '0', ' ', '-', '_', '.', ':') },
  {
    weight: 2,
    arbitrary: fc.constantFrom('"', '\\', '/', '\n', '\t', '\u0000', '\u2028', '\u2029', '\u007f'),
  },
  { weight: 2, arbitrary: fc.constantFrom('é', 'ß', '中', '😀', '\u0301', '\ufeff', '\ufffd') },
  { weight: 1, arbitrary: fc.constantFrom('=', '+', '@', '\r') },
  { weight: 1, arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map((unit) => String.fromCharCode(unit)) },
);
const hostileString = fc.array(hostileChar, { maxLength: 10 }).map((chars) => chars.join(''));

// Number texts JSON allows but engines read differently: overflow, underflow, negative zero, more digits than a
// double holds, exponents.
const numberText = fc.oneof(
  fc.constantFrom(
    '0',
    '-0',
    '5',
    '-5',
    '42.5',
    '1e400',
    '-1e400',
    '1e-400',
    '12345678901234567890',
    '1E2',
    '0.1',
  ),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((value) => json(value)),
  fc.integer().map(String),
);

const scalarText = fc.oneof(
  { weight: 4, arbitrary: hostileString.map(json) },
  { weight: 3, arbitrary: numberText },
  { weight: 1, arbitrary: fc.constantFrom('true', 'false', 'null') },
);

const keyText = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('a', 'b', 'plan', 'sku', 'total', 'qty', 'nested').map(json) },
  { weight: 2, arbitrary: hostileString.map(json) },
  { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', '', 'Email').map(json) },
);

const objectText = (members: readonly (readonly [string, string])[]) =>
  `{${members.map(([key, value]) => `${key}:${value}`).join(',')}}`;

const { value: valueText } = fc.letrec<{ value: string; array: string; object: string }>((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalarText, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 4 }).map((items) => `[${items.join(',')}]`),
  object: fc.array(fc.tuple(keyText, tie('value')), { maxLength: 5 }).map(objectText),
}));

// Deeper than the default limit (32) or just under it, and wide objects with many (possibly repeated) keys.
const deepText = fc
  .integer({ min: 20, max: 40 })
  .map((depth) => `${'{"n":'.repeat(depth)}1${'}'.repeat(depth)}`);
const wideText = fc
  .integer({ min: 50, max: 600 })
  .map((width) =>
    objectText(Array.from({ length: width }, (_, i) => [json(`k${i % 400}`), String(i)] as const)),
  );

// Where a personal value goes; replaced by a fresh marker per message (see withMarker).
const MARKER_SLOT = '"@marker@"';

/** A `properties`/`traits` object: ordinary members, sometimes a personal field, sometimes an order total. */
function payloadObject(personalNames: readonly string[]) {
  return fc
    .record({
      members: fc.array(fc.tuple(keyText, valueText), { maxLength: 4 }),
      total: fc.option(numberText, { nil: undefined }),
      personal: fc.option(fc.constantFrom(...personalNames), { nil: undefined }),
      odd: fc.option(fc.oneof(deepText, wideText), { nil: undefined, freq: 6 }),
    })
    .map(({ members, total, personal, odd }) => {
      const all: [string, string][] = members.map(([key, value]) => [key, value]);
      if (total !== undefined) all.push([json('total'), total]);
      if (personal !== undefined) all.push([json(personal), MARKER_SLOT]);
      if (odd !== undefined) all.push([json('odd'), odd]);
      return { text: objectText(all), personal: personal !== undefined };
    });
}

const TOP_LEVEL_DUPLICABLE = [
  'userId',
  'anonymousId',
  'event',
  'messageId',
  'properties',
  'traits',
  'context',
  'type',
];

interface MessageParts {
  readonly text: string;
  readonly ids: string[];
  readonly markers: string[];
}

function messageText(withType: boolean) {
  return fc
    .record({
      type: fc.constantFrom('track', 'track', 'identify', 'page', 'screen', 'group', 'alias', 'bogus'),
      event: fc.oneof(
        fc.constantFrom('Order Completed', 'Product Viewed').map(json),
        hostileString.map(json),
      ),
      userId: fc.oneof(
        fc.constantFrom('"u1"', '"u2"', '"gone"', '123', '""', 'null'),
        hostileString.map(json),
      ),
      anonymousId: fc.option(fc.oneof(fc.constantFrom('"d1"', '"gone"'), hostileString.map(json)), {
        nil: undefined,
      }),
      // `name` is personal in traits but not in properties (a product's name), so it is only a marker in traits.
      properties: fc.option(payloadObject(['email', 'phone', 'EMAIL']), { nil: undefined }),
      traits: fc.option(payloadObject(['email', 'name', 'phone', 'EMAIL']), { nil: undefined }),
      contextTraits: fc.boolean(),
      contextExtra: fc.option(valueText, { nil: undefined }),
      unknownField: fc.option(fc.tuple(keyText, valueText), { nil: undefined, freq: 3 }),
      timestamp: fc.option(fc.oneof(hostileString.map(json), fc.constant('"2026-03-29T01:30:00+01:00"')), {
        nil: undefined,
      }),
      duplicates: fc.array(
        fc.tuple(fc.constantFrom(...TOP_LEVEL_DUPLICABLE), valueText, fc.boolean(), fc.boolean()),
        { maxLength: 3 },
      ),
    })
    .map((parts): MessageParts => {
      const id = nextId();
      const ids = [id];
      const markers: string[] = [];
      const marker = () => {
        const value = `pm${counter}x${markers.length}@example.org`;
        markers.push(value);
        return value;
      };
      const members: [string, string][] = [];
      if (withType) members.push([json('type'), json(parts.type)]);
      members.push([json('messageId'), json(id)]);
      members.push([json('event'), parts.event]);
      members.push([json('userId'), parts.userId]);
      if (parts.anonymousId !== undefined) members.push([json('anonymousId'), parts.anonymousId]);
      if (parts.properties) {
        members.push([json('properties'), withMarker(parts.properties, marker)]);
      }
      if (parts.traits) members.push([json('traits'), withMarker(parts.traits, marker)]);
      const context: [string, string][] = [];
      if (parts.contextTraits) context.push([json('traits'), objectText([[json('email'), json(marker())]])]);
      if (parts.contextExtra !== undefined) context.push([json('page'), parts.contextExtra]);
      if (context.length > 0) members.push([json('context'), objectText(context)]);
      if (parts.unknownField) members.push(parts.unknownField);
      if (parts.timestamp !== undefined) members.push([json('timestamp'), parts.timestamp]);
      // Repeated keys, before or after the first: JavaScript keeps the last, some engines the first.
      for (const [key, value, before, asId] of parts.duplicates) {
        let text = value;
        if (key === 'messageId' && asId) {
          const other = `${id}-dup${ids.length}`;
          ids.push(other);
          text = json(other);
        } else if ((key === 'traits' || key === 'properties') && asId) {
          text = objectText([[json('email'), json(marker())]]);
        }
        if (before) members.unshift([json(key), text]);
        else members.push([json(key), text]);
      }
      return { text: objectText(members), ids, markers };
    });
}

function withMarker(payload: { text: string; personal: boolean }, marker: () => string): string {
  return payload.personal ? payload.text.replace(MARKER_SLOT, json(marker())) : payload.text;
}

/** One request to the collection API: a batch, or a single track or identify call. */
export function hostileRequest(): fc.Arbitrary<GeneratedRequest> {
  const batch = fc
    .record({
      messages: fc.array(messageText(true), { minLength: 1, maxLength: 6 }),
      context: fc.option(valueText, { nil: undefined, freq: 3 }),
      sentAt: fc.option(hostileString.map(json), { nil: undefined, freq: 4 }),
      repeatBatch: fc.option(messageText(true), { nil: undefined, freq: 8 }),
    })
    .map(({ messages, context, sentAt, repeatBatch }): GeneratedRequest => {
      const members: [string, string][] = [[json('batch'), `[${messages.map((m) => m.text).join(',')}]`]];
      if (context !== undefined) members.push([json('context'), context]);
      if (sentAt !== undefined) members.push([json('sentAt'), sentAt]);
      const all = [...messages];
      // A second `batch` key: JavaScript reads this one, an engine keeping the first would read the other.
      if (repeatBatch) {
        members.push([json('batch'), `[${repeatBatch.text}]`]);
        all.push(repeatBatch);
      }
      return {
        url: '/v1/batch',
        text: objectText(members),
        ids: all.flatMap((m) => m.ids),
        markers: all.flatMap((m) => m.markers),
      };
    });
  const single = fc
    .tuple(fc.constantFrom('/v1/track', '/v1/identify'), messageText(false))
    .map(
      ([url, message]): GeneratedRequest => ({
        url,
        text: message.text,
        ids: message.ids,
        markers: message.markers,
      }),
    );
  return fc.oneof({ weight: 3, arbitrary: batch }, { weight: 2, arbitrary: single });
}

/** The messages of a request as JavaScript reads its text. */
export function messagesOf(request: GeneratedRequest): unknown[] {
  const body = JSON.parse(request.text) as unknown;
  if (request.url !== '/v1/batch') return [body];
  const batch = (body as JsonObject | null)?.batch;
  return Array.isArray(batch) ? batch : [];
}
